"""ResNets (torchvision's and the CIFAR ones), SE blocks, stochastic depth, the residual attention module and
loading torchvision weights: parity with torch re-implementations written here (float64, forward and
backward), parameter totals against torchvision's and the paper's, state_dict keys, one SGD step each."""

import sys

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as tF
from helpers import check_module

import ember
import ember.optim
from ember import models
from ember.models.attention import AttentionModule, SEBlock, SqueezeExcitation
from ember.models.resnet import BasicBlock, Bottleneck, ResNet, conv1x1

CIFAR_RESNETS = ["resnet20", "resnet32", "resnet44", "resnet56", "resnet110"]


# ---- torch twins (torchvision's code, re-typed; torchvision is not a dependency) -----------------------


class TBasicBlock(tnn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, se=False):
        super().__init__()
        self.conv1 = tnn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.relu = tnn.ReLU(inplace=True)
        self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.se = TSE(planes, max(planes // 16, 4)) if se else None
        self.downsample = downsample

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        if self.se is not None:
            out = self.se(out)
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class TBottleneck(tnn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, se=False):
        super().__init__()
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = tnn.Conv2d(inplanes, width, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(width)
        self.conv2 = tnn.Conv2d(width, width, 3, stride, 1, groups=groups, bias=False)
        self.bn2 = tnn.BatchNorm2d(width)
        self.conv3 = tnn.Conv2d(width, planes * 4, 1, bias=False)
        self.bn3 = tnn.BatchNorm2d(planes * 4)
        self.relu = tnn.ReLU(inplace=True)
        self.se = TSE(planes * 4, max(planes * 4 // 16, 4)) if se else None
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.se is not None:
            out = self.se(out)
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class TSE(tnn.Module):  # torchvision.ops.SqueezeExcitation
    def __init__(self, channels, squeeze):
        super().__init__()
        self.avgpool = tnn.AdaptiveAvgPool2d(1)
        self.fc1 = tnn.Conv2d(channels, squeeze, 1)
        self.fc2 = tnn.Conv2d(squeeze, channels, 1)
        self.activation = tnn.ReLU()
        self.scale_activation = tnn.Sigmoid()

    def forward(self, x):
        return x * self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x)))))


class TResNet(tnn.Module):
    def __init__(self, block, layers, num_classes=1000, in_channels=3, small=False):
        super().__init__()
        self.inplanes = 64
        k, s, p = (3, 1, 1) if small else (7, 2, 3)
        self.conv1 = tnn.Conv2d(in_channels, 64, k, s, p, bias=False)
        self.bn1 = tnn.BatchNorm2d(64)
        self.relu = tnn.ReLU(inplace=True)
        self.maxpool = tnn.Identity() if small else tnn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], 2)
        self.layer3 = self._make_layer(block, 256, layers[2], 2)
        self.layer4 = self._make_layer(block, 512, layers[3], 2)
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.fc = tnn.Linear(512 * block.expansion, num_classes)

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = tnn.Sequential(tnn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                                        tnn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return tnn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class TPadShortcut(tnn.Module):  # option A, as in the popular CIFAR ResNet code (a LambdaLayer there)
    def __init__(self, extra):
        super().__init__()
        self.extra = extra

    def forward(self, x):
        return tF.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.extra // 2, self.extra - self.extra // 2))


class TCifarResNet(tnn.Module):
    def __init__(self, n, num_classes=10, in_channels=3, se=False):
        super().__init__()
        self.inplanes = 16
        self.conv1 = tnn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(16)
        self.relu = tnn.ReLU(inplace=True)
        self.layer1, self.layer2, self.layer3 = (self._make_layer(p, n, s, se) for p, s in ((16, 1), (32, 2), (64, 2)))
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.fc = tnn.Linear(64, num_classes)

    def _make_layer(self, planes, n, stride, se):
        down = TPadShortcut(planes - self.inplanes) if stride != 1 else None
        layers = [TBasicBlock(self.inplanes, planes, stride, down, se=se)]
        self.inplanes = planes
        return tnn.Sequential(*layers, *[TBasicBlock(planes, planes, se=se) for _ in range(1, n)])

    def forward(self, x):
        x = self.layer3(self.layer2(self.layer1(self.relu(self.bn1(self.conv1(x))))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class TUnit(tnn.Module):  # the pre-activation bottleneck ResidualUnit
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        w = cout // 4
        self.bn1, self.conv1 = tnn.BatchNorm2d(cin), tnn.Conv2d(cin, w, 1, bias=False)
        self.bn2, self.conv2 = tnn.BatchNorm2d(w), tnn.Conv2d(w, w, 3, stride, 1, bias=False)
        self.bn3, self.conv3 = tnn.BatchNorm2d(w), tnn.Conv2d(w, cout, 1, bias=False)
        self.relu = tnn.ReLU()
        self.shortcut = tnn.Conv2d(cin, cout, 1, stride, bias=False) if stride != 1 or cin != cout else None

    def forward(self, x):
        pre = self.relu(self.bn1(x))
        out = self.conv3(self.relu(self.bn3(self.conv2(self.relu(self.bn2(self.conv1(pre)))))))
        return out + (x if self.shortcut is None else self.shortcut(pre))


class TAttention(tnn.Module):
    def __init__(self, c, depth, mode, align_corners):
        super().__init__()
        self.depth, self.mode, self.align_corners = depth, mode, align_corners
        self.pre, self.trunk = tnn.Sequential(TUnit(c, c)), tnn.Sequential(TUnit(c, c), TUnit(c, c))
        self.maxpool = tnn.MaxPool2d(3, 2, 1)
        self.down = tnn.ModuleList([tnn.Sequential(*[TUnit(c, c) for _ in range(1 if i < depth - 1 else 2)])
                                    for i in range(depth)])
        self.skips = tnn.ModuleList([TUnit(c, c) for _ in range(depth - 1)])
        self.up = tnn.ModuleList([tnn.Sequential(TUnit(c, c)) for _ in range(depth - 1)])
        self.mask_head = tnn.Sequential(tnn.BatchNorm2d(c), tnn.ReLU(), tnn.Conv2d(c, c, 1, bias=False),
                                        tnn.BatchNorm2d(c), tnn.ReLU(), tnn.Conv2d(c, c, 1, bias=False), tnn.Sigmoid())
        self.post = tnn.Sequential(TUnit(c, c))

    def _up(self, x, like):
        return tF.interpolate(x, size=like.shape[-2:], mode=self.mode, align_corners=self.align_corners)

    def forward(self, x):
        x = self.pre(x)
        trunk, skips, h = self.trunk(x), [], x
        for i in range(self.depth):
            h = self.down[i](self.maxpool(h))
            if i < self.depth - 1:
                skips.append(self.skips[i](h))
        for i in reversed(range(self.depth - 1)):
            h = self.up[i](self._up(h, skips[i]) + skips[i])
        mask = self.mask_head(self._up(h, x))
        return self.post((1 + mask) * trunk)


def _ember_state_from(torch_module):
    return {k: v.detach().numpy().copy() for k, v in torch_module.state_dict().items()}


# ---- parity: forward, input gradient, parameter gradients, running statistics ---------------------------


def test_resnet18_matches_torch():
    torch.manual_seed(0)
    reference = TResNet(TBasicBlock, [2, 2, 2, 2], num_classes=10)
    # 48×48 through the 224 stem reaches layer4 at 2×2. Not 32×32: layer4 would see 1×1 maps, so its batch
    # norms would normalise N·H·W = 2 numbers to exactly ±1, and their input gradient, proportional to
    # 1 - x̂² = eps / (var + eps), is pure cancellation error in any implementation (torch's included).
    check_module(models.create("resnet18", num_classes=10), reference, [(2, 3, 48, 48)])


def test_resnet18_small_input_stem_matches_torch():
    torch.manual_seed(1)
    reference = TResNet(TBasicBlock, [2, 2, 2, 2], num_classes=5, in_channels=1, small=True)
    model = models.create("resnet18", num_classes=5, in_channels=1, input_size=12)
    assert model.conv1.kernel_size == (3, 3) and isinstance(model.maxpool, ember.nn.Identity)
    check_module(model, reference, [(2, 1, 12, 12)])  # layer4 at 2×2


@pytest.mark.parametrize("size", [28, 32])
def test_resnet20_option_a_matches_torch(size):
    torch.manual_seed(2)
    reference = TCifarResNet(3, num_classes=10, in_channels=1)
    check_module(models.create("resnet20", in_channels=1, input_size=size), reference, [(2, 1, size, size)])


def test_se_resnet20_matches_torch():
    torch.manual_seed(3)
    reference = TCifarResNet(3, num_classes=10, in_channels=3, se=True)
    check_module(models.create("se_resnet20"), reference, [(2, 3, 16, 16)])


def test_bottleneck_block_matches_torch():
    torch.manual_seed(4)
    down_t = tnn.Sequential(tnn.Conv2d(32, 64, 1, 2, bias=False), tnn.BatchNorm2d(64))
    reference = TBottleneck(32, 16, stride=2, downsample=down_t, groups=2, base_width=32, se=True)
    down_e = ember.nn.Sequential(conv1x1(32, 64, 2), ember.nn.BatchNorm2d(64))
    block = Bottleneck(32, 16, stride=2, downsample=down_e, groups=2, base_width=32, se_reduction=16)
    assert block.conv2.groups == 2 and block.conv2.stride == (2, 2)  # v1.5: the stride is on the 3×3
    check_module(block, reference, [(2, 32, 9, 9)])


def test_se_block_matches_torch_and_is_channel_attention():
    torch.manual_seed(5)
    se = SEBlock(64, reduction=16)
    assert se.fc1.out_channels == 4 and SEBlock(16).fc1.out_channels == 4  # 16 // 16 = 1 is clamped to 4
    assert isinstance(se, SqueezeExcitation)
    out = check_module(se, TSE(64, 4), [(3, 64, 5, 7)])
    # One gate per (sample, channel): the ratio out / x is constant over H and W.
    x = ember.randn(2, 64, 5, 7, dtype=ember.float64)
    with ember.no_grad():
        ratio = (se(x) / x).numpy()
    np.testing.assert_allclose(ratio, ratio[:, :, :1, :1] * np.ones_like(ratio), rtol=1e-9)
    assert out.shape == (3, 64, 5, 7)


@pytest.mark.parametrize("mode, align_corners, size", [("bilinear", False, 11), ("nearest", None, 12)])
def test_attention_module_matches_torch(mode, align_corners, size):
    torch.manual_seed(6)
    reference = TAttention(16, depth=2, mode=mode, align_corners=align_corners)
    module = AttentionModule(16, depth=2, mode=mode, align_corners=align_corners)
    check_module(module, reference, [(2, 16, size, size)])


def test_attention_output_is_one_plus_mask_times_trunk():
    module = AttentionModule(8, depth=1, p=0).double().eval()
    x = ember.randn(2, 8, 6, 6, dtype=ember.float64)
    with ember.no_grad():
        trunk, mask, out = module.trunk(x).numpy(), module.soft_mask(x).numpy(), module(x).numpy()
    assert mask.shape == x.shape and 0 < mask.min() and mask.max() < 1
    np.testing.assert_allclose(out, (1 + mask) * trunk, rtol=1e-12)


# ---- counts, keys ------------------------------------------------------------------------------------------


def _count(model):
    return sum(p.numel() for p in model.parameters())


def _one_sgd_step(model, x, name):
    opt = ember.optim.SGD(model.parameters(), lr=0.1)
    before = model.fc.weight.detach().numpy().copy()
    loss = ember.nn.functional.cross_entropy(model(x), ember.tensor([3, 7]))
    loss.backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and np.all(np.isfinite(g.numpy())) for g in grads), name
    opt.step()
    assert np.isfinite(loss.item()) and not np.array_equal(before, model.fc.weight.detach().numpy())


# The totals are torchvision's for the plain nets; SE-ResNet-50's is Hu et al.'s ~28.1 M (the other SE
# totals are this implementation's: reduction 16, fc1/fc2 with biases, as timm's SE-ResNets).
IMAGENET_TOTALS = {
    "resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032, "resnet101": 44_549_160,
    "resnet152": 60_192_808, "se_resnet18": 11_778_592, "se_resnet34": 21_958_868, "se_resnet50": 28_088_024,
    "se_resnet101": 49_326_872, "se_resnet152": 66_821_848,
}


@pytest.mark.parametrize("name", sorted(IMAGENET_TOTALS))
def test_imagenet_resnet_totals_and_one_sgd_step_of_the_small_variant(name):
    # Built once (the deep ones are slow to initialise): the small-input variant, whose only difference
    # from the 224 one is conv1's kernel, 3×3 instead of 7×7 (64·3·(49 - 9) fewer weights).
    ember.manual_seed(0)
    model = models.create(name, input_size=12)
    assert _count(model) + 64 * 3 * (7 * 7 - 3 * 3) == IMAGENET_TOTALS[name]
    _one_sgd_step(model, ember.randn(2, 3, 12, 12), name)


def test_full_size_stem():
    model = models.create("resnet18")
    assert _count(model) == IMAGENET_TOTALS["resnet18"] and model.conv1.kernel_size == (7, 7)
    assert isinstance(model.maxpool, ember.nn.MaxPool2d)


@pytest.mark.parametrize("name", CIFAR_RESNETS + ["se_" + n for n in CIFAR_RESNETS] + ["residual_attention"])
def test_one_sgd_step_on_fashion_mnist_sized_input(name):
    ember.manual_seed(0)
    model = models.create(name, num_classes=10, in_channels=1, input_size=28)
    _one_sgd_step(model, ember.randn(2, 1, 28, 28), name)


def test_cifar_parameter_totals():
    # He et al. 2016 Table 6: 0.27 M, 0.46 M, 0.66 M, 0.85 M, 1.7 M with option A (parameter-free) shortcuts.
    counts = {n: _count(models.create(n)) for n in CIFAR_RESNETS}
    assert counts == {"resnet20": 269_722, "resnet32": 464_154, "resnet44": 658_586, "resnet56": 853_018,
                      "resnet110": 1_727_962}
    # Option B adds two conv1×1 + BN projections: 16·32 + 2·32 + 32·64 + 2·64 = 2,752.
    assert _count(models.create("resnet20", shortcut="B")) == 272_474
    assert _count(models.create("resnet20", in_channels=1)) == 269_722 - 2 * 16 * 9


def test_replace_stride_with_dilation_keeps_the_resolution():
    model = ResNet(Bottleneck, [1, 1, 1, 1], num_classes=3, replace_stride_with_dilation=[False, True, True],
                   input_size=16).eval()
    assert model.layer3[0].conv2.dilation == (1, 1) and model.layer4[0].conv2.dilation == (2, 2)
    sizes = []
    model.layer4.register_forward_hook(lambda module, inputs, out: sizes.append(out.shape))
    with ember.no_grad():
        assert model(ember.randn(1, 3, 16, 16)).shape == (1, 3)
    assert sizes == [(1, 2048, 8, 8)]  # only layer2 strides: 16 → 8, then dilation instead of stride


def test_bad_options_are_clear_errors():
    with pytest.raises(ValueError, match="shortcut must be 'A'"):
        models.create("resnet20", shortcut="C")
    with pytest.raises(ValueError, match="depth >= 1"):
        AttentionModule(8, depth=0)
    with pytest.raises(TypeError, match="does not take shortcut"):
        models.create("resnet18", shortcut="A")


def _torchvision_keys(layers, bottleneck):
    bn = ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    keys = ["conv1.weight"] + [f"bn1.{b}" for b in bn]
    convs = 3 if bottleneck else 2
    for i, blocks in enumerate(layers, start=1):
        for j in range(blocks):
            head = f"layer{i}.{j}."
            for c in range(1, convs + 1):
                keys += [f"{head}conv{c}.weight"] + [f"{head}bn{c}.{b}" for b in bn]
            if j == 0 and (i > 1 or bottleneck):
                keys += [f"{head}downsample.0.weight"] + [f"{head}downsample.1.{b}" for b in bn]
    return keys + ["fc.weight", "fc.bias"]


def test_state_dict_keys_are_torchvision_keys():
    state = models.create("resnet18").state_dict()
    assert len(state) == 122
    assert list(state) == _torchvision_keys([2, 2, 2, 2], bottleneck=False)
    assert state["conv1.weight"].shape == (64, 3, 7, 7) and state["fc.weight"].shape == (1000, 512)
    assert state["layer2.0.downsample.0.weight"].shape == (128, 64, 1, 1)
    state50 = models.create("resnet50", num_classes=10, input_size=32).state_dict()
    assert list(state50) == _torchvision_keys([3, 4, 6, 3], bottleneck=True) and len(state50) == 320
    assert state50["conv1.weight"].shape == (64, 3, 3, 3) and state50["layer1.0.conv3.weight"].shape == (256, 64, 1, 1)
    # The twin written after torchvision's source has the same keys and shapes, in the same order.
    reference = TResNet(TBasicBlock, [2, 2, 2, 2]).state_dict()
    assert [(k, tuple(v.shape)) for k, v in reference.items()] == [(k, v.shape) for k, v in state.items()]


def test_torchvision_init():
    model = models.create("resnet18")
    w = model.layer3[0].conv2.weight.detach().numpy()
    std = np.sqrt(2 / (256 * 9))  # kaiming_normal_, mode fan_out, relu
    assert abs(w.std() - std) < 0.05 * std
    assert np.all(model.layer3[0].bn2.weight.detach().numpy() == 1) and np.all(model.bn1.bias.detach().numpy() == 0)
    zero = ResNet(Bottleneck, [1, 1, 1, 1], zero_init_residual=True, input_size=32)
    assert np.all(zero.layer3[0].bn3.weight.detach().numpy() == 0)
    assert np.all(zero.layer3[0].bn2.weight.detach().numpy() == 1)
    assert np.all(models.create("resnet20", zero_init_residual=True).layer2[1].bn2.weight.detach().numpy() == 0)


# ---- stochastic depth ----------------------------------------------------------------------------------------


def test_stochastic_depth_probabilities_decay_linearly():
    model = models.create("resnet110", stochastic_depth=0.5)
    blocks = [b for layer in (model.layer1, model.layer2, model.layer3) for b in layer]
    assert len(blocks) == 54
    np.testing.assert_allclose([b.stochastic_depth.p for b in blocks], [l / 54 * 0.5 for l in range(1, 55)])
    assert models.create("resnet18").layer1[0].stochastic_depth is None
    with pytest.raises(ValueError, match="survival probability"):
        models.create("resnet20", stochastic_depth=1.5)


def test_stochastic_depth_eval_is_deterministic_and_equals_plain_model():
    ember.manual_seed(0)
    plain, dropped = models.create("resnet20", in_channels=1), models.create("resnet20", in_channels=1,
                                                                             stochastic_depth=0.2)
    dropped.load_state_dict(plain.state_dict())  # stochastic depth adds no parameters or buffers
    plain.eval(), dropped.eval()
    x = ember.randn(4, 1, 28, 28)
    with ember.no_grad():
        a, b, c = plain(x).numpy(), dropped(x).numpy(), dropped(x).numpy()
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(b, c)


def test_stochastic_depth_drops_whole_branches_per_sample_in_training():
    ember.manual_seed(0)
    block = BasicBlock(8, 8, drop_prob=0.5).double()
    x = ember.randn(200, 8, 4, 4, dtype=ember.float64)
    with ember.no_grad():
        y = block(x).numpy()
    shortcut_only = np.maximum(x.numpy(), 0)
    dropped = np.all(y == shortcut_only, axis=(1, 2, 3))
    assert 60 < dropped.sum() < 140  # Binomial(200, 0.5): mean 100, sd 7
    # the kept samples carry branch / (1 - p): the same block with the branch doubled, nothing dropped
    with ember.no_grad():
        branch = block.branch(x).numpy()
    np.testing.assert_allclose(y[~dropped], np.maximum(2 * branch + x.numpy(), 0)[~dropped], rtol=1e-9, atol=1e-12)
    # A whole model with a small p_L: two training passes on the same input differ.
    model = models.create("resnet20", in_channels=1, stochastic_depth=0.1)
    x = ember.randn(8, 1, 12, 12)
    assert not np.array_equal(model(x).detach().numpy(), model(x).detach().numpy())


# ---- torchvision weights -----------------------------------------------------------------------------------


def _reference_and_model():
    torch.manual_seed(7)
    reference = TResNet(TBasicBlock, [2, 2, 2, 2], num_classes=10).eval()
    with torch.no_grad():  # non-trivial running statistics, so the buffers matter
        for m in reference.modules():
            if isinstance(m, tnn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    return reference, models.create("resnet18", num_classes=10).eval()


def _assert_same_outputs(model, reference):
    x = np.random.default_rng(0).standard_normal((2, 3, 32, 32)).astype(np.float32)
    with torch.no_grad():
        expected = reference(torch.tensor(x)).numpy()
    with ember.no_grad():
        np.testing.assert_allclose(model(ember.tensor(x)).numpy(), expected, rtol=1e-4, atol=1e-5)


def test_load_torchvision_weights_npz(tmp_path):
    reference, model = _reference_and_model()
    path = tmp_path / "resnet18.npz"
    np.savez(path, **{k: v.numpy() for k, v in reference.state_dict().items()})  # the docstring's one-liner
    assert models.load_torchvision_weights(model, path) is model
    _assert_same_outputs(model, reference)
    with pytest.raises(RuntimeError, match="size mismatch for fc.weight"):
        models.load_torchvision_weights(models.create("resnet18"), path)  # 1000 classes
    with pytest.raises(RuntimeError, match="Missing key"):
        models.load_torchvision_weights(models.create("resnet34", num_classes=10), path)
    with pytest.raises(ValueError, match="pickle"):
        models.load_torchvision_weights(model, tmp_path / "resnet18.pth")


def test_load_torchvision_weights_safetensors(tmp_path, monkeypatch):
    reference, model = _reference_and_model()
    path = tmp_path / "resnet18.safetensors"
    try:
        from safetensors.numpy import save_file
    except ImportError:
        save_file = None
    if save_file is not None:
        save_file({k: v.numpy() for k, v in reference.state_dict().items()}, str(path))
        models.load_torchvision_weights(model, path)
        _assert_same_outputs(model, reference)
    else:
        path.write_bytes(b"")
    # Without the optional package, the error says how to install it.
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ImportError, match="pip install safetensors"):
        models.load_torchvision_weights(model, path)
