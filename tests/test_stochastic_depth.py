"""Stochastic depth (torchvision.ops.stochastic_depth's semantics; torchvision is not a test dependency, so the
definition is checked property by property): p is the probability to drop; mode 'row' keeps or drops each
sample's whole branch (fraction ≈ p within 5 binomial sigmas), 'batch' the whole batch; survivors scaled by
exactly 1/(1 - p); backward multiplies by the same mask; evaluation and p = 0 are the identity; p = 1 gives
zeros; reproducible with ember.manual_seed; errors and repr. The Function (dropout.py's Dropout, with a
per-sample mask) is gradchecked here and in test_dropout.py."""

import math
import warnings

import numpy as np
import pytest

import ember
import ember.nn as enn
import ember.nn.functional as F
from ember.ops.dropout import stochastic_depth
from helpers import gradcheck, random_array

DTYPES = ["float64", "float32"]


def _positive(shape, dtype, seed=0):
    """Inputs in [1, 2): a dropped sample is exactly the zeros of the output."""
    return np.random.default_rng(seed).uniform(1.0, 2.0, size=shape).astype(dtype)


def _assert_fraction(dropped, total, p):
    # Binomial: the dropped count has standard deviation sqrt(n p (1 - p)); 5 sigma fails by chance < 1e-6.
    sigma = math.sqrt(p * (1 - p) / total)
    assert abs(dropped / total - p) <= 5 * sigma + 1e-12, \
        f"dropped {dropped / total:.4f}, expected {p} ± {5 * sigma:.4f}"


def test_functional_is_the_same_function():
    assert F.stochastic_depth is stochastic_depth


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_row_mode_drops_whole_samples(p, dtype):
    ember.manual_seed(1)
    shape = (2000, 3, 2, 2)
    x_data = _positive(shape, dtype)
    x = ember.tensor(x_data, requires_grad=True)
    out = stochastic_depth(x, p, "row", training=True)
    assert out.dtype == np.dtype(dtype) and out.shape == shape
    y = out.detach().numpy()
    kept = y != 0
    per_sample = kept.reshape(shape[0], -1)
    assert np.all(per_sample.all(axis=1) | ~per_sample.any(axis=1)), "a sample is partly dropped"
    _assert_fraction(np.count_nonzero(~per_sample[:, 0]), shape[0], p)
    # Survivors scaled by exactly 1/(1 - p) (tolerance: a rounding or two of the scale factor).
    scale = 1 / (1 - p)
    np.testing.assert_allclose(y[kept], (x_data * np.asarray(scale, dtype))[kept], rtol=4 * np.finfo(dtype).eps, atol=0)
    # Backward multiplies the upstream gradient by the same mask.
    u = random_array(shape, dtype, np.random.default_rng(2))
    out.backward(u)
    assert x.grad.dtype == np.dtype(dtype)
    np.testing.assert_allclose(x.grad.numpy(), np.where(kept, u * np.asarray(scale, dtype), 0),
                               rtol=4 * np.finfo(dtype).eps, atol=0)


@pytest.mark.parametrize("shape", [(3000, 4), (3000, 2, 3)], ids=str)
def test_row_mode_on_other_ranks(shape):
    # (N, D) tokens or (N, L, D) sequences: one decision per sample, whatever the rank.
    ember.manual_seed(2)
    y = stochastic_depth(ember.ones(*shape), 0.3, "row").numpy().reshape(shape[0], -1)
    assert np.all((y == 0).all(axis=1) | (y == np.float32(1 / 0.7)).all(axis=1))
    _assert_fraction(np.count_nonzero(y[:, 0] == 0), shape[0], 0.3)


@pytest.mark.parametrize("p", [0.2, 0.6])
def test_batch_mode_drops_the_whole_batch(p):
    ember.manual_seed(3)
    x = ember.tensor(_positive((4, 3, 2, 2), "float64"))
    dropped = 0
    calls = 1000
    for _ in range(calls):
        y = stochastic_depth(x, p, "batch").numpy()
        if np.all(y == 0):
            dropped += 1
        else:
            np.testing.assert_allclose(y, x.numpy() / (1 - p), rtol=1e-15)
    _assert_fraction(dropped, calls, p)


@pytest.mark.parametrize("mode", ["row", "batch"])
@pytest.mark.parametrize("p", [0.0, 0.4, 1.0])
def test_eval_is_the_identity(p, mode):
    x = ember.tensor(_positive((5, 3, 2, 2), "float32"), requires_grad=True)
    layer = enn.StochasticDepth(p, mode)
    layer.eval()
    for out in (layer(x), stochastic_depth(x, p, mode, training=False)):
        assert out is x or np.array_equal(out.detach().numpy(), x.detach().numpy())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["row", "batch"])
def test_p_zero_and_p_one(mode, dtype):
    x_data = _positive((6, 4, 2, 2), dtype)
    x = ember.tensor(x_data, requires_grad=True)
    out = stochastic_depth(x, 0.0, mode)
    np.testing.assert_array_equal(out.detach().numpy(), x_data)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones_like(x_data))

    x = ember.tensor(x_data, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division by zero on the way
        out = stochastic_depth(x, 1.0, mode)
    assert out.dtype == np.dtype(dtype)
    assert not np.any(out.detach().numpy())
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros_like(x_data))


def test_module_in_a_residual_block():
    # out = x + StochasticDepth(branch(x)): a dropped sample passes through unchanged while training.
    ember.manual_seed(4)
    branch = enn.Linear(3, 3)
    drop = enn.StochasticDepth(0.5, "row")
    x = ember.tensor(_positive((400, 3), "float32"))
    out = (x + drop(branch(x))).detach().numpy()
    passed = np.all(out == x.numpy(), axis=1)
    _assert_fraction(np.count_nonzero(passed), 400, 0.5)
    drop.eval()
    np.testing.assert_allclose((x + drop(branch(x))).detach().numpy(), (x + branch(x)).detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("mode", ["row", "batch"])
def test_reproducible_with_manual_seed(mode):
    x = ember.tensor(_positive((64, 2, 2, 2), "float32"))
    runs = []
    for seed in (123, 123, 124):
        ember.manual_seed(seed)
        runs.append(np.concatenate([stochastic_depth(x, 0.5, mode).numpy() for _ in range(8)]))
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


def test_a_new_mask_every_call():
    ember.manual_seed(5)
    layer = enn.StochasticDepth(0.5)
    x = ember.ones(100, 2)
    assert not np.array_equal(layer(x).numpy(), layer(x).numpy())


# ---- errors and repr -----------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_invalid_p(p):
    with pytest.raises(ValueError, match=f"StochasticDepth: drop probability .* {p}"):
        enn.StochasticDepth(p)
    with pytest.raises(ValueError, match=f"stochastic_depth: drop probability .* {p}"):
        stochastic_depth(ember.ones(2, 3), p, "row")


@pytest.mark.parametrize("mode", ["rows", "sample", None])
def test_invalid_mode(mode):
    with pytest.raises(ValueError, match="StochasticDepth: mode has to be either 'batch' or 'row'"):
        enn.StochasticDepth(0.2, mode)
    with pytest.raises(ValueError, match="mode has to be either 'batch' or 'row'"):
        stochastic_depth(ember.ones(2, 3), 0.2, mode)


def test_row_mode_needs_a_batch_axis():
    with pytest.raises(ValueError, match="0-d input"):
        stochastic_depth(ember.tensor(1.0), 0.2, "row")
    assert stochastic_depth(ember.tensor(2.0), 1.0, "batch").numpy() == 0


def test_repr_is_torchvisions():
    assert repr(enn.StochasticDepth(0.2)) == "StochasticDepth(p=0.2, mode=row)"
    assert repr(enn.StochasticDepth(0.5, "batch")) == "StochasticDepth(p=0.5, mode=batch)"


# ---- gradcheck -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["row", "batch"])
def test_gradcheck(mode):
    def run(x):
        ember.manual_seed(7)  # the same mask on every evaluation of the central differences
        return stochastic_depth(x, 0.5, mode)

    assert gradcheck(run, (6, 2, 2))
