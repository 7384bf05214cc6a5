"""Fractional max pooling (Graham 2014) against torch: the same _random_samples must give the same windows,
outputs, indices and gradients; the interval formula is checked on its own and by gradcheck."""

import numpy as np
import pytest
import torch

import ember
from ember import nn
from ember.nn import functional as F
from ember.ops import fractional_pool
from ember.ops.fractional_pool import generate_intervals
from tests.helpers import assert_close, check_module, function_classes, gradcheck

CASES_2D = [  # (input shape, kernel, output_size)
    ((2, 3, 11, 13), 3, (5, 7)),
    ((2, 3, 10, 10), 2, (5, 5)),
    ((3, 9, 9), (2, 3), (4, 6)),  # unbatched (C, H, W)
    ((1, 2, 25, 17), 2, (13, 9)),
    ((2, 2, 6, 6), 2, (1, 5)),  # a single output row: the one window sits at the far edge
]


def _run_both(shape, kernel, output_size, dtype, seed, d=2):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    batch = shape[0] if len(shape) == d + 2 else 1
    samples = rng.random((batch, shape[-d - 1], d)).astype(dtype)
    torch_fn = torch.nn.functional.fractional_max_pool2d if d == 2 else torch.nn.functional.fractional_max_pool3d
    ember_fn = F.fractional_max_pool2d if d == 2 else F.fractional_max_pool3d
    tx = torch.tensor(x, requires_grad=True)
    t_out, t_index = torch_fn(tx, kernel, output_size=output_size, return_indices=True,
                              _random_samples=torch.tensor(samples))
    ex = ember.tensor(x, requires_grad=True)
    e_out, e_index = ember_fn(ex, kernel, output_size=output_size, return_indices=True,
                              _random_samples=ember.tensor(samples))
    upstream = rng.standard_normal(tuple(t_out.shape)).astype(dtype)
    t_out.backward(torch.tensor(upstream))
    e_out.backward(ember.tensor(upstream))
    return (e_out, e_index, ex.grad), (t_out, t_index, tx.grad)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape, kernel, output_size", CASES_2D)
def test_forward_indices_backward_match_torch(shape, kernel, output_size, dtype):
    (e_out, e_index, e_grad), (t_out, t_index, t_grad) = _run_both(shape, kernel, output_size, dtype, seed=1)
    assert e_out.dtype == getattr(ember, dtype)
    np.testing.assert_array_equal(e_out.detach().numpy(), t_out.detach().numpy())  # a max picks, it never rounds
    np.testing.assert_array_equal(e_index.numpy(), t_index.numpy())
    assert_close(e_grad, t_grad, dtype, "input gradient")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_3d_matches_torch(dtype):
    (e_out, e_index, e_grad), (t_out, t_index, t_grad) = _run_both((2, 3, 7, 9, 8), (2, 3, 2), (4, 5, 6), dtype, 2, d=3)
    np.testing.assert_array_equal(e_out.detach().numpy(), t_out.detach().numpy())
    np.testing.assert_array_equal(e_index.numpy(), t_index.numpy())
    assert_close(e_grad, t_grad, dtype, "input gradient")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_generate_intervals_formula(dtype):
    """start_i = ⌊(i + u)α⌋ - ⌊uα⌋, α = (n - K)/(m - 1), the last start n - K, computed in the input's dtype."""
    u, n, m, k = dtype(0.37), 25, 13, 2
    alpha = dtype(n - k) / dtype(m - 1)
    expected = [int((dtype(i) + u) * alpha) - int(u * alpha) for i in range(m - 1)] + [n - k]
    assert generate_intervals(np.array([u]), n, m, k)[0].tolist() == expected
    steps = np.diff(expected)
    assert set(steps.tolist()) <= {int(np.floor(alpha)), int(np.ceil(alpha))}  # steps of ⌊α⌋ or ⌈α⌉
    assert expected[0] == 0


def test_ratio_and_module_match_torch():
    rng = np.random.default_rng(3)
    samples = rng.random((2, 3, 2))
    layer = nn.FractionalMaxPool2d(3, output_ratio=(0.5, 0.7), _random_samples=ember.tensor(samples))
    reference = torch.nn.FractionalMaxPool2d(3, output_ratio=(0.5, 0.7), _random_samples=torch.tensor(samples))
    out = check_module(layer, reference, [(2, 3, 12, 15)])
    assert out.shape == (2, 3, 6, 10)  # int(12·0.5), int(15·0.7)


def test_random_windows_without_samples_are_valid_and_seeded():
    x = ember.randn(2, 3, 14, 14)
    ember.manual_seed(0)
    a = F.fractional_max_pool2d(x, 2, output_ratio=0.5)
    ember.manual_seed(0)
    b = F.fractional_max_pool2d(x, 2, output_ratio=0.5)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert a.shape == (2, 3, 7, 7)
    # Every output is some input of its plane, and not smaller than the window's top-left pixel.
    planes = x.numpy().reshape(6, -1)
    assert all(np.isin(a.numpy().reshape(6, -1)[p], planes[p]).all() for p in range(6))


def test_nan_propagates_like_torch():
    x = np.arange(2 * 36, dtype=np.float64).reshape(1, 2, 6, 6)
    x[0, 0, 1, 1] = x[0, 1, 4, 3] = np.nan
    samples = np.full((1, 2, 2), 0.5)
    e_out, e_index = F.fractional_max_pool2d(ember.tensor(x), 2, (3, 3), return_indices=True,
                                             _random_samples=ember.tensor(samples))
    t_out, t_index = torch.nn.functional.fractional_max_pool2d(torch.tensor(x), 2, (3, 3), return_indices=True,
                                                               _random_samples=torch.tensor(samples))
    np.testing.assert_array_equal(e_out.numpy(), t_out.numpy())  # NaN compares equal in assert_array_equal
    np.testing.assert_array_equal(e_index.numpy(), t_index.numpy())


def test_gradcheck_with_overlapping_windows():
    samples = ember.tensor(np.random.default_rng(4).random((2, 2, 2)))
    # 3×3 windows at steps of 1 or 2 overlap: the shared winners' gradients must add.
    assert gradcheck(lambda x: F.fractional_max_pool2d(x, 3, (5, 6), _random_samples=samples), (2, 2, 9, 10))
    samples3 = ember.tensor(np.random.default_rng(5).random((1, 2, 3)))
    assert gradcheck(lambda x: F.fractional_max_pool3d(x, 2, (3, 4, 3), _random_samples=samples3), (1, 2, 5, 6, 5))


def test_every_function_is_gradchecked():
    assert function_classes(fractional_pool) == {"FractionalMaxPool"}


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(kernel_size=2), ValueError, "output size, or a pooling ratio"),
    (dict(kernel_size=2, output_size=3, output_ratio=0.5), ValueError, "only one"),
    (dict(kernel_size=2, output_ratio=1.5), ValueError, "between 0 and 1"),
])
def test_layer_argument_errors(kwargs, error, words):
    with pytest.raises(error, match=words):
        nn.FractionalMaxPool2d(**kwargs)


def test_input_errors_name_the_function_and_the_fix():
    with pytest.raises(RuntimeError, match=r"fractional_max_pool2d.*too large|larger than the input height"):
        F.fractional_max_pool2d(ember.randn(1, 1, 5, 5), 3, (4, 4))
    with pytest.raises(RuntimeError, match=r"_random_samples must have shape \(N, C, 2\)"):
        F.fractional_max_pool2d(ember.randn(2, 3, 8, 8), 2, (4, 4), _random_samples=ember.rand(1, 3, 2))
    with pytest.raises(RuntimeError, match="4-D"):
        F.fractional_max_pool2d(ember.randn(8, 8), 2, (4, 4))


def test_with_indices_forms():
    x = ember.randn(1, 2, 9, 9)
    samples = ember.rand(1, 2, 2)
    out, index = F.fractional_max_pool2d_with_indices(x, 2, (4, 4), _random_samples=samples)
    assert out.shape == index.shape == (1, 2, 4, 4)
    out3, index3 = F.fractional_max_pool3d_with_indices(ember.randn(1, 2, 5, 5, 5), 2, 3,
                                                        _random_samples=ember.rand(1, 2, 3))
    assert out3.shape == index3.shape == (1, 2, 3, 3, 3)
