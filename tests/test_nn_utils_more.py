"""nn.utils additions against torch: parameters_to_vector/vector_to_parameters, weight_norm, spectral_norm
(torch's u, v copied in), conv/linear + batch-norm fusion, stateless.functional_call, skip_init, and the
deprecated nn.init names."""

import warnings

import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
from ember.nn import utils as U
from tests.helpers import assert_close, check_module, copy_weights


def test_parameters_to_vector_and_back():
    e, t = enn.Linear(3, 2), torch.nn.Linear(3, 2)
    copy_weights(t, e)
    vec = U.parameters_to_vector(e.parameters())
    np.testing.assert_allclose(vec.detach().numpy(), torch.nn.utils.parameters_to_vector(t.parameters()).detach())
    new = ember.tensor(np.arange(8, dtype="float32"))
    U.vector_to_parameters(new, e.parameters())
    np.testing.assert_array_equal(e.weight.detach().numpy(), np.arange(6).reshape(2, 3))
    np.testing.assert_array_equal(e.bias.detach().numpy(), [6, 7])
    with pytest.raises(TypeError):
        U.vector_to_parameters([1.0], e.parameters())


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_matches_torch(dim):
    t = torch.nn.utils.weight_norm(torch.nn.Conv2d(2, 3, 3), dim=dim)
    e = U.weight_norm(enn.Conv2d(2, 3, 3), dim=dim)
    assert list(e.state_dict()) == list(t.state_dict())
    check_module(e, t, [(2, 2, 5, 5)])
    U.remove_weight_norm(e)
    torch.nn.utils.remove_weight_norm(t)
    assert list(e.state_dict()) == list(t.state_dict())
    assert_close(e.weight, t.weight)


def test_weight_norm_linear_trains():
    e = U.weight_norm(enn.Linear(4, 3))
    assert sorted(n for n, _ in e.named_parameters()) == ["bias", "weight_g", "weight_v"]
    assert e.weight_g.shape == (3, 1)
    e(ember.randn(2, 4)).sum().backward()
    assert e.weight_g.grad is not None and e.weight_v.grad is not None
    with pytest.raises(RuntimeError, match="two weight_norm"):
        U.weight_norm(e)


@pytest.mark.parametrize("layer", ["linear", "conv", "convT"])
def test_spectral_norm_matches_torch(layer):
    build = {"linear": lambda m: m.Linear(5, 4), "conv": lambda m: m.Conv2d(2, 3, 3),
             "convT": lambda m: m.ConvTranspose2d(3, 2, 3)}[layer]
    shape = {"linear": (3, 5), "conv": (2, 2, 6, 6), "convT": (2, 3, 4, 4)}[layer]
    t = torch.nn.utils.spectral_norm(build(torch.nn).double(), n_power_iterations=2)
    e = U.spectral_norm(build(enn), n_power_iterations=2)
    assert sorted(e.state_dict()) == sorted(t.state_dict())
    e.to("float64")
    copy_weights(t, e)  # weight_orig and torch's random u, v
    x = np.random.default_rng(0).standard_normal(shape)
    for train in (True, True, False):  # two power-iteration steps, then evaluation (no iteration)
        e.train(train)
        t.train(train)
        ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        eo, to = e(ex), t(tx)
        assert_close(eo, to)
        eo.sum().backward()
        to.sum().backward()
        assert_close(ex.grad, tx.grad)
        assert_close(e.weight_orig.grad, t.weight_orig.grad)
        assert_close(e.weight_u, t.weight_u)
        assert_close(e.weight_v, t.weight_v)
        e.zero_grad()
        t.zero_grad()
    U.remove_spectral_norm(e)
    torch.nn.utils.remove_spectral_norm(t)
    assert sorted(e.state_dict()) == sorted(t.state_dict())
    assert_close(e.weight, t.weight)


def _trained_bn(lib, n, shape):
    bn = (lib.nn.BatchNorm2d(n) if len(shape) == 4 else lib.nn.BatchNorm1d(n))
    return bn


def test_fuse_conv_bn_and_linear_bn_match_the_pair():
    rng = np.random.default_rng(1)
    conv, bn = enn.Conv2d(2, 3, 3, bias=False), enn.BatchNorm2d(3)
    bn.running_mean.array[...] = rng.standard_normal(3)
    bn.running_var.array[...] = rng.uniform(0.5, 2.0, 3)
    bn.weight.array[...] = rng.standard_normal(3)
    bn.bias.array[...] = rng.standard_normal(3)
    conv.eval()
    bn.eval()
    x = ember.tensor(rng.standard_normal((2, 2, 5, 5)).astype("float32"))
    fused = U.fuse_conv_bn_eval(conv, bn)
    np.testing.assert_allclose(fused(x).detach().numpy(), bn(conv(x)).detach().numpy(), rtol=1e-4, atol=1e-5)
    t_w, t_b = torch.nn.utils.fuse_conv_bn_weights(
        torch.tensor(conv.weight.detach().numpy()), None, *(torch.tensor(b.detach().numpy()) for b in
                                                            (bn.running_mean, bn.running_var)), bn.eps,
        torch.tensor(bn.weight.detach().numpy()), torch.tensor(bn.bias.detach().numpy()))
    np.testing.assert_allclose(fused.weight.detach().numpy(), t_w.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(fused.bias.detach().numpy(), t_b.detach().numpy(), rtol=1e-6)
    lin, bn1 = enn.Linear(4, 3).eval(), enn.BatchNorm1d(3).eval()
    bn1.running_var.array[...] = rng.uniform(0.5, 2.0, 3)
    v = ember.tensor(rng.standard_normal((5, 4)).astype("float32"))
    np.testing.assert_allclose(U.fuse_linear_bn_eval(lin, bn1)(v).detach().numpy(), bn1(lin(v)).detach().numpy(),
                               rtol=1e-4, atol=1e-5)
    with pytest.raises(AssertionError, match="eval"):
        U.fuse_conv_bn_eval(conv.train(), bn)


def test_functional_call_swaps_and_restores():
    m = enn.Sequential(enn.Linear(3, 2), enn.ReLU(), enn.Linear(2, 1))
    w = ember.tensor(np.ones((2, 3), dtype="float32"), requires_grad=True)
    before = m[0].weight
    x = ember.ones(4, 3)
    out = U.stateless.functional_call(m, {"0.weight": w}, (x,))
    expected = m[2](enn.functional.relu(x @ w.T + m[0].bias))
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy())
    out.sum().backward()
    assert w.grad is not None and m[0].weight is before and m[0].weight.grad is None
    with pytest.raises(ValueError, match="multiple"):
        U.stateless.functional_call(m, ({"0.weight": w}, {"0.weight": w}), x)


def test_skip_init_and_clip_grad_norm_alias():
    m = U.skip_init(enn.Linear, 3, 4)
    assert m.weight.shape == (4, 3)
    p = enn.Parameter(ember.ones(4))
    p.grad = ember.ones(4) * 10
    with pytest.warns(FutureWarning):
        U.clip_grad_norm([p], 1.0)
    assert abs(float(p.grad.norm()) - 1.0) < 1e-5


def test_clip_grad_value_matches_torch():
    g = np.random.default_rng(2).standard_normal((3, 4)) * 3
    e, t = enn.Parameter(ember.tensor(g)), torch.nn.Parameter(torch.tensor(g))
    e.grad, t.grad = ember.tensor(g.copy()), torch.tensor(g.copy())
    U.clip_grad_value_([e], 0.5)
    torch.nn.utils.clip_grad_value_([t], 0.5)
    assert_close(e.grad, t.grad)


def test_every_torch_init_name_exists_and_deprecated_ones_warn():
    missing = [n for n in dir(torch.nn.init) if not n.startswith("_") and callable(getattr(torch.nn.init, n))
               and n not in ("Callable", "Literal", "ParamSpec", "Tensor", "TypeVar") and not hasattr(enn.init, n)]
    assert missing == []
    w = ember.empty(3, 4)
    with pytest.warns(FutureWarning, match="normal_"):
        enn.init.xavier_normal(w)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert enn.init.constant(w, 0.5) is w and float(w.sum()) == 6.0
