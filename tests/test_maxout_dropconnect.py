"""Maxout (Goodfellow 2013), DropConnect (Wan 2013), vanilla (non-inverted) dropout and the L1 / elastic-net
penalties: hand-computed values, torch where torch has the same computation, gradchecks with fixed masks."""

import numpy as np
import pytest
import torch

import ember
from ember import nn
from ember.nn import functional as F
from ember.nn.utils import elastic_net_penalty, l1_penalty, l2_penalty
from ember.ops import dropout_variants, maxout as maxout_ops
from tests.helpers import assert_close, function_classes, gradcheck


# ---------------------------------------------------------------------------------------------- Maxout


def test_maxout_by_hand():
    x = ember.tensor([[1.0, 3.0, -2.0, 0.0, 5.0, 4.0]], requires_grad=True)
    y = nn.Maxout(2)(x)  # groups (1, 3), (-2, 0), (5, 4)
    np.testing.assert_array_equal(y.detach().numpy(), [[3.0, 0.0, 5.0]])
    y.backward(ember.tensor([[10.0, 20.0, 30.0]]))
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 10.0, 0.0, 20.0, 30.0, 0.0]])  # to each group's max


def test_maxout_ties_go_to_the_first_piece():
    x = ember.tensor([[2.0, 2.0, 2.0]], requires_grad=True)
    nn.Maxout(3)(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0, 0.0, 0.0]])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape, k, dim", [((4, 12), 3, 1), ((2, 6, 5, 5), 2, 1), ((3, 4, 8), 4, -1)])
def test_maxout_matches_torch_reshape_max(shape, k, dim, dtype):
    """Maxout is torch's x.unflatten(dim, (C/k, k)).max(dim + 1): forward and gradient."""
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    tx, ex = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    d = dim % len(shape)
    t_out = tx.unflatten(d, (shape[d] // k, k)).max(d + 1).values
    e_out = F.maxout(ex, k, dim)
    assert_close(e_out, t_out, dtype)
    assert e_out.dtype == getattr(ember, dtype)
    u = np.random.default_rng(1).standard_normal(tuple(t_out.shape)).astype(dtype)
    t_out.backward(torch.tensor(u))
    e_out.backward(ember.tensor(u))
    assert_close(ex.grad, tx.grad, dtype, "input gradient")


def test_maxout_gradcheck_and_network():
    assert gradcheck(lambda x: F.maxout(x, 3, 1), (3, 9, 2, 2))
    net = nn.Sequential(nn.Linear(5, 4 * 3), nn.Maxout(3), nn.Linear(4, 2))  # 4 maxout units of 3 pieces
    net.double()
    assert net(ember.randn(7, 5, dtype=ember.float64)).shape == (7, 2)


def test_maxout_errors():
    with pytest.raises(RuntimeError, match="divisible by pool_size 4"):
        nn.Maxout(4)(ember.randn(2, 6))
    with pytest.raises(ValueError, match="pool_size must be a positive int"):
        nn.Maxout(0)


# ---------------------------------------------------------------------------------------------- DropConnect


def test_dropconnect_linear_uses_the_masked_weight():
    ember.manual_seed(0)
    layer = nn.DropConnect(nn.Linear(6, 4).double(), p=0.5)
    x = ember.randn(3, 6, dtype=ember.float64)
    y = layer(x)
    mask = layer.last_mask.numpy()
    assert set(np.unique(mask)) <= {0.0, 2.0}  # kept weights scaled by 1/(1 - p) = 2
    w, b = layer.module.weight.detach().numpy(), layer.module.bias.detach().numpy()
    np.testing.assert_allclose(y.detach().numpy(), x.numpy() @ (w * mask).T + b, rtol=1e-12)
    y.sum().backward()
    # dL/dW = (dL/dy)ᵀ x ⊙ mask: dropped weights receive no gradient.
    np.testing.assert_allclose(layer.module.weight.grad.numpy(), (np.ones((3, 4)).T @ x.numpy()) * mask, rtol=1e-12)


def test_dropconnect_new_mask_each_pass_and_identity_in_eval():
    ember.manual_seed(1)
    layer = nn.DropConnect(nn.Linear(20, 20), p=0.5)
    x = ember.randn(2, 20)
    layer(x)
    first = layer.last_mask.numpy().copy()
    layer(x)
    assert not np.array_equal(first, layer.last_mask.numpy())
    assert 0.35 < (first == 0).mean() < 0.65  # about p of the 400 weights dropped
    layer.eval()
    np.testing.assert_array_equal(layer(x).detach().numpy(), layer.module(x).detach().numpy())


def test_dropconnect_is_unbiased_on_average():
    """E[W ⊙ M / (1 - p)] = W: the average of many training outputs approaches the eval output."""
    ember.manual_seed(2)
    layer = nn.DropConnect(nn.Linear(8, 3).double(), p=0.3)
    x = ember.randn(1, 8, dtype=ember.float64)
    with ember.no_grad():
        mean = np.mean([layer(x).numpy() for _ in range(4000)], axis=0)
        layer.eval()
        exact = layer(x).numpy()
    np.testing.assert_allclose(mean, exact, atol=0.05)


def test_dropconnect_conv2d_gradcheck_with_a_fixed_mask():
    ember.manual_seed(3)
    layer = nn.DropConnect(nn.Conv2d(2, 3, 3, padding=1).double(), p=0.4)
    mask = layer.sample_mask()
    x = ember.randn(2, 2, 5, 5, dtype=ember.float64, requires_grad=True)
    weight, bias = layer.module.weight, layer.module.bias
    # gradcheck perturbs the parameters in place: the layer reads them, so their gradients are checked too.
    assert ember.autograd.gradcheck(lambda x, w, b: layer.forward_with_mask(x, mask), (x, weight, bias))
    # And it equals torch's conv2d with the masked weight.
    t_out = torch.nn.functional.conv2d(torch.tensor(x.detach().numpy()),
                                       torch.tensor(weight.detach().numpy() * mask.numpy()),
                                       torch.tensor(bias.detach().numpy()), padding=1)
    assert_close(layer.forward_with_mask(x, mask), t_out, "float64")


def test_dropconnect_linear_gradcheck_and_state_dict():
    layer = nn.DropConnect(nn.Linear(4, 3).double(), p=0.5)
    mask = layer.sample_mask()
    x = ember.randn(2, 4, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda x, w, b: layer.forward_with_mask(x, mask),
                                    (x, layer.module.weight, layer.module.bias))
    assert sorted(layer.state_dict()) == ["module.bias", "module.weight"]


def test_dropconnect_refuses_other_layers():
    with pytest.raises(TypeError, match="Linear, Conv1d or Conv2d"):
        nn.DropConnect(nn.ReLU())
    with pytest.raises(ValueError):
        nn.DropConnect(nn.Linear(2, 2), p=1.5)


# ---------------------------------------------------------------------------------------------- vanilla dropout


def test_vanilla_dropout_masks_without_scaling_and_scales_in_eval():
    ember.manual_seed(4)
    layer = nn.VanillaDropout(0.25)
    x = ember.ones(1000, dtype=ember.float64, requires_grad=True)
    y = layer(x)
    values = set(np.unique(y.detach().numpy()).tolist())
    assert values == {0.0, 1.0}  # the mask only: no 1/(1 - p)
    assert 0.2 < (y.detach().numpy() == 0).mean() < 0.3
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())  # dy/dx = mask
    layer.eval()
    np.testing.assert_allclose(layer(ember.full((3,), 2.0)).detach().numpy(), [1.5, 1.5, 1.5])  # (1 - p)·x


def test_vanilla_dropout_gradcheck_and_default_dropout_untouched():
    def fixed(x):
        ember.manual_seed(5)  # the same mask on every call of the check
        return F.vanilla_dropout(x, 0.5, training=True)

    assert gradcheck(fixed, (4, 5))
    ember.manual_seed(6)
    y = nn.Dropout(0.5)(ember.ones(100))
    assert set(np.unique(y.numpy()).tolist()) == {0.0, 2.0}  # torch's inverted dropout, as before


def test_every_function_is_gradchecked():
    assert function_classes(maxout_ops) == {"Maxout"}
    assert function_classes(dropout_variants) == {"VanillaDropout"}


# ---------------------------------------------------------------------------------------------- penalties


def _model():
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2), nn.Linear(2, 1)).double()
    with ember.no_grad():
        model[0].weight.copy_(ember.tensor([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]], dtype=ember.float64))
        model[2].weight.copy_(ember.tensor([[-4.0, 2.0]], dtype=ember.float64))
    return model


def test_l1_and_l2_penalties_by_hand_exclude_biases():
    model = _model()
    assert float(l1_penalty(model)) == pytest.approx(1 + 2 + 0.5 + 0 + 3 + 1 + 4 + 2)
    assert float(l2_penalty(model)) == pytest.approx(1 + 4 + 0.25 + 0 + 9 + 1 + 16 + 4)
    with_bias = sum(float(np.abs(p.detach().numpy()).sum()) for p in model.parameters())
    assert float(l1_penalty(model.parameters(), include_bias=True)) == pytest.approx(with_bias)
    assert float(l1_penalty(model.named_parameters())) == pytest.approx(13.5)


def test_elastic_net_value_and_gradient():
    model = _model()
    penalty = elastic_net_penalty(model, l1=0.1, l2=0.01)
    assert float(penalty) == pytest.approx(0.1 * 13.5 + 0.01 * 35.25)
    penalty.backward()
    w = model[0].weight.detach().numpy()
    np.testing.assert_allclose(model[0].weight.grad.numpy(), 0.1 * np.sign(w) + 0.02 * w)
    assert model[0].bias.grad is None  # biases are not penalised
    with pytest.raises(ValueError, match="l1 and l2 must be >= 0"):
        elastic_net_penalty(model, l1=-1.0)


def test_penalty_of_no_weights_is_zero():
    assert float(l1_penalty(nn.BatchNorm1d(3))) == 0.0
