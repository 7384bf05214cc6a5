"""Dropout and Dropout2d: evaluation is the identity; training drops a fraction ≈ p (checked against the
binomial standard deviation for the sample size), scales the survivors by exactly 1/(1 - p), backpropagates
through the same mask, drops whole channels for Dropout2d; p = 0 and p = 1; seeding; invalid p. torch's
masks come from another generator, so the properties are checked, and torch confirms the edge cases."""

import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn as enn
import ember.nn.functional as F
import torch.nn as tnn
from ember.ops import dropout as dropout_ops
from helpers import function_classes, gradcheck, random_array

DTYPES = ["float64", "float32"]


def _positive(shape, dtype, seed=0):
    """Inputs in [1, 2): a dropped element is exactly the zeros of the output."""
    return np.random.default_rng(seed).uniform(1.0, 2.0, size=shape).astype(dtype)


def _assert_fraction(dropped, total, p):
    # Binomial: the dropped count has standard deviation sqrt(n p (1 - p)); 5 sigma fails by chance < 1e-6.
    sigma = math.sqrt(p * (1 - p) / total)
    assert abs(dropped / total - p) <= 5 * sigma + 1e-12, f"dropped {dropped / total:.4f}, expected {p} ± {5 * sigma:.4f}"


# ---- evaluation ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [0.0, 0.3, 1.0])
def test_eval_is_the_identity(p):
    x = ember.tensor(_positive((4, 3, 2, 2), "float32"), requires_grad=True)
    for layer in (enn.Dropout(p), enn.Dropout2d(p)):
        layer.eval()
        out = layer(x)
        assert out is x or np.array_equal(out.detach().numpy(), x.detach().numpy())
    for fn in (F.dropout, F.dropout2d):
        out = fn(x, p, training=False)
        assert out is x or np.array_equal(out.detach().numpy(), x.detach().numpy())
        t_out = getattr(TF, fn.__name__)(torch.tensor(x.detach().numpy()), p, training=False)
        np.testing.assert_array_equal(out.detach().numpy(), t_out.numpy())


def test_eval_mode_through_a_container():
    net = enn.Sequential(enn.Linear(5, 5), enn.Dropout(0.9))
    x = ember.randn(3, 5)
    net.eval()
    a, b = net(x).detach().numpy(), net(x).detach().numpy()
    np.testing.assert_array_equal(a, b)
    net.train()
    assert net[1].training
    assert np.count_nonzero(net(x).detach().numpy() == 0) > 0  # p = 0.9 over 15 values: some are dropped


# ---- training ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_fraction_scale_and_gradient(p, dtype):
    ember.manual_seed(1)
    shape = (200, 250)
    x_data = _positive(shape, dtype)
    x = ember.tensor(x_data, requires_grad=True)
    out = F.dropout(x, p, training=True)
    assert out.dtype == np.dtype(dtype) and out.shape == shape
    y = out.detach().numpy()
    kept = y != 0
    _assert_fraction(np.count_nonzero(~kept), y.size, p)
    # Survivors scaled by 1/(1 - p), as torch does (tolerance: a rounding or two of the scale factor).
    scale = 1 / (1 - p)
    t_scaled = (torch.tensor(x_data) * scale).numpy()
    np.testing.assert_allclose(y[kept], t_scaled[kept], rtol=4 * np.finfo(dtype).eps, atol=0)
    # Backward multiplies the upstream gradient by the same mask.
    u = random_array(shape, dtype, np.random.default_rng(2))
    out.backward(u)
    assert x.grad.dtype == np.dtype(dtype)
    expected = np.where(kept, u * np.asarray(scale, dtype), 0)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=4 * np.finfo(dtype).eps, atol=0)


def test_dropout_module_matches_functional_and_gradient_is_the_mask():
    ember.manual_seed(3)
    layer = enn.Dropout(0.25)
    x = ember.tensor(_positive((50, 40), "float64"), requires_grad=True)
    out = layer(x)
    out.sum().backward()
    mask = out.detach().numpy() / x.detach().numpy()
    assert set(np.unique(np.round(mask, 12))) <= {0.0, round(1 / 0.75, 12)}
    np.testing.assert_allclose(x.grad.numpy(), mask, rtol=1e-15)
    _assert_fraction(np.count_nonzero(mask == 0), mask.size, 0.25)


def test_a_new_mask_every_call():
    ember.manual_seed(4)
    x = ember.ones(100, 100)
    a = F.dropout(x, 0.5).numpy()
    b = F.dropout(x, 0.5).numpy()
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("fn", [F.dropout, F.dropout2d], ids=["dropout", "dropout2d"])
def test_reproducible_with_manual_seed(fn):
    x = ember.tensor(_positive((8, 16, 3, 3), "float32"))
    ember.manual_seed(123)
    a = fn(x, 0.5, training=True).numpy()
    ember.manual_seed(123)
    b = fn(x, 0.5, training=True).numpy()
    ember.manual_seed(124)
    c = fn(x, 0.5, training=True).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [0.2, 0.5, 0.7])
def test_dropout2d_drops_whole_channels(p, dtype):
    ember.manual_seed(5)
    shape = (100, 60, 3, 4)
    x_data = _positive(shape, dtype)
    x = ember.tensor(x_data, requires_grad=True)
    out = F.dropout2d(x, p, training=True)
    assert out.dtype == np.dtype(dtype)
    y = out.detach().numpy()
    kept = y != 0
    per_channel = kept.reshape(100, 60, -1)
    assert np.all(per_channel.all(axis=2) | ~per_channel.any(axis=2)), "a channel is partly dropped"
    _assert_fraction(np.count_nonzero(~per_channel[:, :, 0]), 100 * 60, p)
    np.testing.assert_allclose(y[kept], (x_data * (1 / (1 - p)))[kept], rtol=4 * np.finfo(dtype).eps, atol=0)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.where(kept, np.asarray(1 / (1 - p), dtype), 0),
                               rtol=4 * np.finfo(dtype).eps, atol=0)


def test_dropout2d_3d_input_is_read_as_batched_sequences_with_torchs_warning():
    # torch 2.13 reads a 3-D input to dropout2d as (N, C, L) — channel-wise 1-D dropout — and warns.
    ember.manual_seed(6)
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d and assuming that channel-wise 1D"):
        y = enn.Dropout2d(0.5)(ember.ones(40, 10, 3)).numpy()
    assert np.all((y == 0).all(axis=2) | (y == 2.0).all(axis=2)), "each (sample, channel) row is kept or dropped whole"
    _assert_fraction(np.count_nonzero(y[:, :, 0] == 0), 400, 0.5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_p_zero_and_p_one(dtype):
    x_data = _positive((6, 4, 2, 2), dtype)
    for fn, name in ((F.dropout, "dropout"), (F.dropout2d, "dropout2d")):
        x = ember.tensor(x_data, requires_grad=True)
        out = fn(x, 0.0, training=True)
        np.testing.assert_array_equal(out.detach().numpy(), x_data)
        np.testing.assert_array_equal(out.detach().numpy(), getattr(TF, name)(torch.tensor(x_data), 0.0).numpy())
        out.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), np.ones_like(x_data))

        x = ember.tensor(x_data, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no division by zero on the way
            out = fn(x, 1.0, training=True)
        assert out.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(out.detach().numpy(), getattr(TF, name)(torch.tensor(x_data), 1.0).numpy())
        assert not np.any(out.detach().numpy())
        out.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), np.zeros_like(x_data))


@pytest.mark.parametrize("p", [-0.1, 1.5, 2])
def test_invalid_p_raises(p):
    for make in (enn.Dropout, enn.Dropout2d, tnn.Dropout):
        with pytest.raises(ValueError, match="between 0 and 1"):
            make(p)
    x = ember.ones(2, 3, 4, 4)
    for fn in (F.dropout, F.dropout2d):
        with pytest.raises(ValueError, match=str(p)):
            fn(x, p)


def test_dropout2d_on_2d_input_warns_and_drops_elements_like_torch():
    # torch 2.13: a 2-D (N, C) input gets a deprecation UserWarning and element-wise dropout.
    with pytest.warns(UserWarning) as caught:
        y = F.dropout2d(ember.ones(100, 50), 0.5).numpy()
    with pytest.warns(UserWarning) as torch_caught:
        TF.dropout2d(torch.ones(100, 50), 0.5)
    assert [str(w.message) for w in caught] == [str(w.message) for w in torch_caught]
    assert "Received a 2-D input to dropout2d" in str(caught[0].message)
    _assert_fraction(np.count_nonzero(y == 0), 5000, 0.5)
    assert 0 < np.count_nonzero(y[0] == 0) < 50, "a row is not dropped as a whole"
    with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions"):
        with pytest.warns(UserWarning):
            F.dropout2d(ember.ones(5), 0.5)


def test_reprs():
    for p in (0.5, 0.2):
        assert str(enn.Dropout(p)) == str(tnn.Dropout(p))
        assert str(enn.Dropout2d(p)) == str(tnn.Dropout2d(p))


# ---- gradcheck of every Function in dropout.py ---------------------------------------------------------


def _seeded(fn, p):
    def run(x):
        ember.manual_seed(7)  # the same mask on every evaluation of the central differences
        return fn(x, p, training=True)

    return run


GRADCHECK = {
    "Dropout": [
        (_seeded(F.dropout, 0.4), (4, 5)),
        (_seeded(F.dropout2d, 0.5), (3, 4, 2, 2)),
        (_seeded(F.dropout, 0.9), (3, 3)),
        # stochastic depth is Dropout with one mask entry per sample: (N, 1, 1, 1) broadcast over the rest
        (_seeded(lambda x, p, training: F.stochastic_depth(x, p, "row", training), 0.5), (6, 2, 2, 1)),
    ],
}


@pytest.mark.parametrize("name", list(GRADCHECK))
def test_gradcheck(name):
    for fn, shape in GRADCHECK[name]:
        assert gradcheck(fn, shape)


def test_every_dropout_function_is_gradchecked():
    # AlphaDropout is gradchecked in test_dropout_nd.py
    assert function_classes(dropout_ops) == set(GRADCHECK) | {"AlphaDropout"}
