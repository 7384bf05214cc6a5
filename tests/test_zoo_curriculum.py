"""The curriculum's zoo additions: d2l's sigmoid LeNet-5 and BN-Inception (Ioffe & Szegedy 2015)."""

import numpy as np
import torch

import ember
from ember import models, nn
from ember.cli import main
from ember.models.curriculum import BN_INCEPTION_BLOCKS
from ember.tools import summary
from tests.helpers import check_module


def _d2l_lenet_in_torch():
    """d2l §6.6's network, written with torch as the book does."""
    t = torch.nn
    return t.Sequential(
        t.Conv2d(1, 6, kernel_size=5, padding=2), t.Sigmoid(), t.AvgPool2d(kernel_size=2, stride=2),
        t.Conv2d(6, 16, kernel_size=5), t.Sigmoid(), t.AvgPool2d(kernel_size=2, stride=2),
        t.Flatten(), t.Linear(16 * 5 * 5, 120), t.Sigmoid(), t.Linear(120, 84), t.Sigmoid(), t.Linear(84, 10))


def test_lenet5_d2l_is_the_books_network():
    model = models.create("lenet5_d2l")
    kinds = [type(m).__name__ for m in model.net]
    assert kinds == ["Conv2d", "Sigmoid", "AvgPool2d", "Conv2d", "Sigmoid", "AvgPool2d", "Flatten", "Linear",
                     "Sigmoid", "Linear", "Sigmoid", "Linear"]
    # Same numbers as the book's torch network with the same weights (the keys match: net.0.weight ↔ 0.weight).
    reference = _d2l_lenet_in_torch()
    state = {f"net.{k}": v.detach().numpy().copy() for k, v in reference.double().state_dict().items()}
    model.double().load_state_dict(state)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 1, 28, 28))
    e_out, t_out = model(ember.tensor(x)), reference(torch.tensor(x))
    np.testing.assert_allclose(e_out.detach().numpy(), t_out.detach().numpy(), rtol=1e-9, atol=1e-12)


def test_lenet5_d2l_summary_counts_and_training_hint():
    s = summary(models.create("lenet5_d2l"), (1, 28, 28))
    assert s.total_params == 61_706  # 156 + 2,416 + 48,120 + 10,164 + 850
    assert s.macs == 416_520  # 117,600 + 240,000 (convs) + 48,000 + 10,080 + 840 (fcs)
    assert s.row("net.5").output_shape == (1, 16, 5, 5)
    assert models.training_hints("lenet5_d2l") == {"lr": 0.9}  # d2l trains it with SGD at lr 0.9


def test_lenet5_d2l_uses_xavier_weights():
    ember.manual_seed(0)
    fc = models.create("lenet5_d2l").net[7]  # 400 → 120: Xavier bound √(6 / (400 + 120)) ≈ 0.107
    bound = np.sqrt(6 / 520)
    w = fc.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound


def test_lenet5_d2l_cli_summary(capsys):
    assert main(["summary", "lenet5_d2l"]) == 0
    assert "Params: 61,706 (61,706 trainable, 0 frozen)" in capsys.readouterr().out


def test_inception_bn_follows_the_papers_table():
    model = models.create("inception_bn")
    s = summary(model, (3, 224, 224), dry_run=True)
    assert s.total_params == s.trainable_params == 11_285_224
    assert s.macs == 2_032_600_064
    assert [b.out_channels for b in model.blocks] == [256, 320, 576, 576, 576, 608, 608, 1056, 1024, 1024]
    assert s.row("stem.4").output_shape == (1, 192, 28, 28)
    assert s.row("blocks.inception3c.branch3x3.1.conv").output_shape == (1, 160, 14, 14)  # stride-2 block
    assert s.row("blocks.inception4e.branch_pool").output_shape == (1, 608, 7, 7)  # max-pool pass-through
    assert s.row("avgpool").output_shape == (1, 1024, 1, 1)
    assert s.row("fc").output_shape == (1, 1000)
    assert [name for name, *_ in BN_INCEPTION_BLOCKS] == [f"inception{b}" for b in
                                                          ("3a", "3b", "3c", "4a", "4b", "4c", "4d", "4e", "5a", "5b")]


def test_inception_bn_has_batch_norm_after_every_conv_and_no_dropout():
    model = models.create("inception_bn")
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(convs) == len(bns) == 3 + 8 * 7 + 2 * 5  # stem 3; 7 convs per block, 5 in the reductions 3c, 4e
    assert all(c.bias is None for c in convs)  # BN's β replaces the bias
    assert not any(isinstance(m, nn.Dropout) for m in model.modules())
    assert not any(isinstance(m, nn.Conv2d) and m.kernel_size == (5, 5) for m in model.modules())  # 3×3 pairs


def test_inception_bn_runs_forward_and_backward_on_a_small_input():
    ember.manual_seed(0)
    model = models.create("inception_bn", num_classes=7)
    x = ember.randn(2, 3, 64, 64)
    out = model(x)
    assert out.shape == (2, 7)
    out.sum().backward()
    assert model.stem[0].conv.weight.grad is not None
    model.eval()
    with ember.no_grad():
        assert np.isfinite(model(x).numpy()).all()


def test_inception_bn_block_matches_torch():
    """One block against the same block built with torch (branch order and concatenation)."""
    from ember.models.curriculum import InceptionBN
    t = torch.nn

    def conv_bn(i, o, k, s=1, p=0):
        return t.Sequential(t.Conv2d(i, o, k, s, p, bias=False), t.BatchNorm2d(o), t.ReLU())

    class TorchBlock(t.Module):
        def __init__(self):
            super().__init__()
            self.branch3x3 = t.Sequential(conv_bn(8, 4, 1), conv_bn(4, 6, 3, 2, 1))
            self.branch3x3dbl = t.Sequential(conv_bn(8, 3, 1), conv_bn(3, 5, 3, 1, 1), conv_bn(5, 5, 3, 2, 1))
            self.branch_pool = t.MaxPool2d(3, 2, 1)

        def forward(self, x):
            return torch.cat([self.branch3x3(x), self.branch3x3dbl(x), self.branch_pool(x)], 1)

    block = InceptionBN(8, 0, 4, 6, 3, 5, "max", 0, stride=2)
    # Ember's ConvBN names its parts conv/bn/relu; torch's Sequential numbers them 0/1/2: map the keys.
    reference = TorchBlock().double()
    state = {}
    for key, value in reference.state_dict().items():
        parts = key.split(".")
        parts[2] = {"0": "conv", "1": "bn"}[parts[2]]
        state[".".join(parts)] = value.numpy().copy()
    block.double().load_state_dict(state)
    x = np.random.default_rng(1).standard_normal((2, 8, 9, 9))
    e_out, t_out = block(ember.tensor(x)), reference(torch.tensor(x))
    assert e_out.shape == (2, 6 + 5 + 8, 5, 5)
    np.testing.assert_allclose(e_out.detach().numpy(), t_out.detach().numpy(), rtol=1e-9, atol=1e-12)
