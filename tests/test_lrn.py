"""Local response normalization against torch: F.local_response_norm and nn.LocalResponseNorm on 3-D, 4-D and
5-D inputs, window sizes 1..7 (even sizes, whose window is lopsided, and sizes larger than the number of
channels), several α/β/k, float64 and float32, strided inputs; the textbook formula by hand; errors and repr.
The Function itself is gradchecked in test_norm.py (its GRADCHECK table holds every Function of norm.py)."""

import numpy as np
import pytest
import torch.nn as tnn
import torch.nn.functional as TF

import ember
import ember.nn as enn
import ember.nn.functional as F
from helpers import check_module, check_op, random_array

DTYPES = ["float64", "float32"]
SHAPES = [(2, 5, 6), (2, 5, 3, 4), (1, 5, 2, 2, 3)]  # C = 5: sizes 6 and 7 span more than every channel


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("size", range(1, 8))
def test_functional_matches_torch(size, shape, dtype):
    # A strong α makes the neighbours' term (the cross-channel part of the gradient) as large as the own term.
    (out,) = check_op(lambda x: F.local_response_norm(x, size, alpha=0.8, beta=0.75, k=1.5),
                      lambda x: TF.local_response_norm(x, size, alpha=0.8, beta=0.75, k=1.5),
                      shapes=[shape], dtype=dtype)
    assert out.dtype == np.dtype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("params", [dict(), dict(alpha=1e-4, beta=0.75, k=2.0), dict(alpha=2.0, beta=1.3, k=0.5),
                                    dict(alpha=0.5, beta=0.5, k=1.0)], ids=str)
@pytest.mark.parametrize("size", [2, 5])
def test_module_matches_torch(size, params, dtype):
    # Activations of a few units, as after a ReLU-conv (AlexNet's setting is size 5, k 2).
    x = (np.abs(random_array((2, 6, 3, 3), dtype, np.random.default_rng(size))) * 3).astype(dtype)
    out = check_module(enn.LocalResponseNorm(size, **params), tnn.LocalResponseNorm(size, **params), None,
                       dtype=dtype, arrays=[x])
    assert out.dtype == np.dtype(dtype)


def test_textbook_formula_by_hand():
    # b_c = a_c / (k + α/n Σ_{c' = c - ⌊n/2⌋}^{c + ⌊(n-1)/2⌋} a_{c'}²)^β, zeros beyond the channel edges.
    x = random_array((2, 7, 3))
    for n in (1, 2, 3, 4, 9):
        alpha, beta, k = 0.7, 0.6, 1.2
        expected = np.empty_like(x)
        for c in range(7):
            lo, hi = max(c - n // 2, 0), min(c + (n - 1) // 2, 6)
            expected[:, c] = x[:, c] / (k + alpha / n * (x[:, lo : hi + 1] ** 2).sum(axis=1)) ** beta
        out = F.local_response_norm(ember.tensor(x), n, alpha, beta, k).numpy()
        np.testing.assert_allclose(out, expected, rtol=1e-13)


@pytest.mark.parametrize("dtype", DTYPES)
def test_noncontiguous_input(dtype):
    x = random_array((4, 3, 6), dtype, np.random.default_rng(3)).transpose(2, 1, 0)  # (6, 3, 4), strided
    check_op(lambda t: F.local_response_norm(t, 3, 0.5, 0.75, 1.0),
             lambda t: TF.local_response_norm(t, 3, 0.5, 0.75, 1.0), arrays=[x], dtype=dtype, noncontiguous=True)


def test_one_channel_and_large_values():
    check_op(lambda t: F.local_response_norm(t, 4, 0.3, 0.75, 1.0),
             lambda t: TF.local_response_norm(t, 4, 0.3, 0.75, 1.0), shapes=[(3, 1, 4)])
    check_op(lambda t: F.local_response_norm(t, 3, 1e-4, 0.75, 2.0),
             lambda t: TF.local_response_norm(t, 3, 1e-4, 0.75, 2.0), arrays=[random_array((2, 4, 5)) * 300])


def test_empty_input_is_returned():
    x = ember.zeros(0, 3, 4)
    assert F.local_response_norm(x, 3).shape == (0, 3, 4)


def test_no_graph_under_no_grad():
    x = ember.tensor(random_array((2, 4, 3)), requires_grad=True)
    with ember.no_grad():
        out = enn.LocalResponseNorm(3)(x)
    assert not out.requires_grad


@pytest.mark.parametrize("shape", [(4,), (2, 5)], ids=str)
def test_too_few_dims_name_the_layer_and_the_shape(shape):
    layer = enn.LocalResponseNorm(3)
    with pytest.raises(ValueError, match=r"LocalResponseNorm\(3.*at least 3 dims.*" + str(shape).replace("(", r"\(")
                       .replace(")", r"\)")):
        layer(ember.ones(*shape))
    with pytest.raises(ValueError, match="local_response_norm: expected an input of at least 3 dims"):
        F.local_response_norm(ember.ones(*shape), 3)


@pytest.mark.parametrize("size", [0, -1, 2.5, True])
def test_bad_size(size):
    with pytest.raises(ValueError, match="size"):
        enn.LocalResponseNorm(size)
    with pytest.raises(ValueError, match="size"):
        F.local_response_norm(ember.ones(1, 3, 2), size)


def test_repr_matches_torch():
    for args, kwargs in (((2,), {}), ((5,), dict(alpha=1e-4, beta=0.75, k=2.0)),
                         ((3,), dict(alpha=0.1, beta=1.0, k=0.5))):
        assert repr(enn.LocalResponseNorm(*args, **kwargs)) == repr(tnn.LocalResponseNorm(*args, **kwargs))
