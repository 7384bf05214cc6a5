"""Gradient clipping against torch.nn.utils: the returned total norm and the clipped gradients."""

import numpy as np
import pytest
import torch

import ember
from ember.nn import Parameter
from ember.nn.utils import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm

SHAPES = [(4, 3), (5,), (2, 3, 2), ()]


def pair(dtype="float64", seed=0, scale=1.0, missing=()):
    """The same parameters with the same gradients in torch and Ember; ``missing`` indices get no gradient."""
    rng = np.random.default_rng(seed)
    t_params, e_params = [], []
    for i, shape in enumerate(SHAPES):
        tp = torch.nn.Parameter(torch.zeros(shape, dtype=getattr(torch, dtype)))
        ep = Parameter(np.zeros(shape, dtype=dtype))
        if i not in missing:
            g = (scale * rng.standard_normal(shape)).astype(dtype)
            tp.grad, ep.grad = torch.tensor(g), ember.Tensor(g.copy())
        t_params.append(tp)
        e_params.append(ep)
    return t_params, e_params


def assert_grads_match(e_params, t_params, dtype):
    tol = dict(rtol=1e-9, atol=1e-12) if dtype == "float64" else dict(rtol=1e-4, atol=1e-5)
    for i, (ep, tp) in enumerate(zip(e_params, t_params)):
        if tp.grad is None:
            assert ep.grad is None
            continue
        assert ep.grad.dtype == np.dtype(dtype), f"gradient {i} became {ep.grad.dtype}"
        np.testing.assert_allclose(ep.grad.numpy(), tp.grad.numpy(), err_msg=f"gradient {i}", **tol)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, 0.5, float("inf"), "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])  # clipping, and a bound the gradients stay under
def test_clip_grad_norm_matches_torch(norm_type, max_norm, dtype):
    t_params, e_params = pair(dtype, scale=2.0, missing=(1,))
    before = [None if p.grad is None else p.grad.array for p in e_params]
    t_norm = torch.nn.utils.clip_grad_norm_(t_params, max_norm, norm_type=norm_type)
    e_norm = clip_grad_norm_(e_params, max_norm, norm_type=norm_type)
    assert isinstance(e_norm, ember.Tensor) and e_norm.shape == () and e_norm.dtype == np.dtype(dtype)
    np.testing.assert_allclose(e_norm.item(), t_norm.item(), rtol=1e-9 if dtype == "float64" else 1e-5)
    assert_grads_match(e_params, t_params, dtype)
    for p, b in zip(e_params, before):  # in place: the same arrays
        assert b is None or p.grad.array is b
    if max_norm == 0.5:  # the clipped gradients really have the bound as their norm
        assert get_total_norm([p.grad for p in e_params if p.grad is not None], norm_type).item() == \
            pytest.approx(0.5, rel=1e-4)


def test_clip_grad_norm_accepts_one_tensor_a_generator_and_nothing():
    t_params, e_params = pair(scale=3.0)
    np.testing.assert_allclose(clip_grad_norm_(e_params[0], 1.0).item(),
                               torch.nn.utils.clip_grad_norm_(t_params[0], 1.0).item(), rtol=1e-12)
    assert_grads_match(e_params, t_params, "float64")
    t_params, e_params = pair(seed=1, scale=3.0)
    clip_grad_norm_((p for p in e_params), 1.0)
    torch.nn.utils.clip_grad_norm_((p for p in t_params), 1.0)
    assert_grads_match(e_params, t_params, "float64")
    with pytest.warns(UserWarning, match="empty generator"):
        assert clip_grad_norm_((p for p in []), 1.0).item() == 0.0
    _, none = pair(missing=range(len(SHAPES)))
    assert clip_grad_norm_(none, 1.0).item() == 0.0 and all(p.grad is None for p in none)


def test_zero_gradients_stay_finite():
    p = Parameter(np.zeros(3))
    p.grad = ember.Tensor(np.zeros(3))
    assert clip_grad_norm_([p], 1.0).item() == 0.0
    assert np.all(p.grad.numpy() == 0)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_norm(bad):
    t_params, e_params = pair()
    e_params[0].grad.array[0, 0] = bad
    t_params[0].grad[0, 0] = bad
    with pytest.raises(RuntimeError, match="is non-finite, so it cannot be clipped"):
        clip_grad_norm_(e_params, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError):
        torch.nn.utils.clip_grad_norm_(t_params, 1.0, error_if_nonfinite=True)
    # Without the check, the gradients are scaled as torch scales them (by 0 for inf, to NaN for NaN).
    e_norm = clip_grad_norm_(e_params, 1.0)
    t_norm = torch.nn.utils.clip_grad_norm_(t_params, 1.0)
    np.testing.assert_equal(e_norm.item(), t_norm.item())
    for ep, tp in zip(e_params, t_params):
        np.testing.assert_equal(ep.grad.numpy(), tp.grad.numpy())


def test_clip_grads_with_norm_uses_the_given_norm():
    t_params, e_params = pair(scale=2.0)
    clip_grads_with_norm_(e_params, 1.0, ember.tensor(10.0, dtype=ember.float64))
    torch.nn.utils.clip_grads_with_norm_(t_params, 1.0, torch.tensor(10.0, dtype=torch.float64))
    assert_grads_match(e_params, t_params, "float64")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_clip_grad_value_matches_torch(dtype):
    t_params, e_params = pair(dtype, scale=2.0, missing=(2,))
    before = [None if p.grad is None else p.grad.array for p in e_params]
    assert clip_grad_value_(e_params, 0.7) is None
    torch.nn.utils.clip_grad_value_(t_params, 0.7)
    assert_grads_match(e_params, t_params, dtype)
    assert max(np.abs(p.grad.numpy()).max() for p in e_params if p.grad is not None) == pytest.approx(0.7)
    for p, b in zip(e_params, before):
        assert b is None or p.grad.array is b


def test_read_only_gradients_are_replaced_not_written():
    p = Parameter(np.zeros(4))
    g = np.full(4, 3.0)
    g.flags.writeable = False
    p.grad = ember.Tensor(g)
    clip_grad_value_([p], 1.0)
    np.testing.assert_array_equal(p.grad.numpy(), 1.0)
    p.grad = ember.Tensor(g)
    clip_grad_norm_([p], 1.0)
    np.testing.assert_allclose(np.linalg.norm(p.grad.numpy()), 1.0, rtol=1e-5)
    assert np.all(g == 3.0)
