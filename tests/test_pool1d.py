"""1-D pooling (max, average, adaptive) and AdaptiveMaxPool2d against torch: outputs, indices and
gradients over stride/padding/dilation/ceil_mode grids, batched and unbatched, float32/float64; the
layers' reprs; MaxPool2d's return_indices and ceil_mode; gradcheck; errors."""

import numpy as np
import pytest
import torch.nn as tnn
import torch.nn.functional as TF

import ember
import ember.nn as enn
import ember.nn.functional as F
from helpers import check_module, check_op, gradcheck

DTYPES = ["float64", "float32"]

# (kernel, stride, padding, dilation, ceil_mode)
MAX_GRID = [(3, None, 0, 1, False), (3, 2, 1, 1, False), (3, 2, 1, 2, True), (2, 2, 0, 1, True),
            (4, 1, 2, 1, False), (2, None, 0, 1, False), ((3,), (2,), (1,), (1,), False), (5, 3, 2, 1, True)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", MAX_GRID, ids=str)
def test_max_pool1d_matches_torch(case, dtype):
    k, s, p, d, c = case
    for shape in [(2, 3, 11), (3, 10), (2, 2, 8)]:
        check_op(lambda x: F.max_pool1d(x, k, s, p, d, c, True), lambda x: TF.max_pool1d(x, k, s, p, d, c, True),
                 shapes=[shape], dtype=dtype)
        check_op(lambda x: F.max_pool1d(x, k, s, p, d, ceil_mode=c),
                 lambda x: TF.max_pool1d(x, k, s, p, d, ceil_mode=c), shapes=[shape], dtype=dtype)


def test_max_pool1d_ties_go_to_the_first_maximum():
    x = np.array([[[1.0, 3.0, 3.0, 0.0, 2.0, 2.0, 2.0, -1.0]]])
    check_op(lambda t: F.max_pool1d(t, 3, 1, return_indices=True),
             lambda t: TF.max_pool1d(t, 3, 1, return_indices=True), arrays=[x])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("case", [(3, None, 0, False), (3, 2, 1, False), (3, 2, 1, True), (2, 1, 1, True),
                                  (4, 3, 2, False), (2, None, 0, True)], ids=str)
def test_avg_pool1d_matches_torch(case, count_include_pad, dtype):
    k, s, p, c = case
    for shape in [(2, 3, 11), (3, 10)]:
        check_op(lambda x: F.avg_pool1d(x, k, s, p, c, count_include_pad),
                 lambda x: TF.avg_pool1d(x, k, s, p, c, count_include_pad), shapes=[shape], dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("output_size", [1, 2, 3, 4, 7, 10, (5,)], ids=str)
def test_adaptive_pool1d_matches_torch(output_size, dtype):
    for shape in [(2, 3, 10), (3, 7)]:
        check_op(lambda x: F.adaptive_avg_pool1d(x, output_size), lambda x: TF.adaptive_avg_pool1d(x, output_size),
                 shapes=[shape], dtype=dtype)
        check_op(lambda x: F.adaptive_max_pool1d(x, output_size, True),
                 lambda x: TF.adaptive_max_pool1d(x, output_size, True), shapes=[shape], dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("output_size", [1, 2, (3, 4), (5, 2), (None, 3), (7, 9), (9, 11)], ids=str)
def test_adaptive_max_pool2d_matches_torch(output_size, dtype):
    for shape in [(2, 3, 7, 9), (3, 8, 8)]:
        check_op(lambda x: F.adaptive_max_pool2d(x, output_size, return_indices=True),
                 lambda x: TF.adaptive_max_pool2d(x, output_size, return_indices=True), shapes=[shape], dtype=dtype)
        check_op(lambda x: F.adaptive_max_pool2d(x, output_size), lambda x: TF.adaptive_max_pool2d(x, output_size),
                 shapes=[shape], dtype=dtype, noncontiguous=True)


def test_adaptive_max_pool2d_overlapping_windows_share_a_winner():
    # Windows of 5 pixels pooled to 3 overlap; the single peak wins several windows and collects all
    # their gradients, and a plateau of equal values goes to the first in row-major order.
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 2, 2] = 1.0
    check_op(lambda t: F.adaptive_max_pool2d(t, 3, True), lambda t: TF.adaptive_max_pool2d(t, 3, True), arrays=[x])
    check_op(lambda t: F.adaptive_max_pool2d(t, 2, True), lambda t: TF.adaptive_max_pool2d(t, 2, True),
             arrays=[np.ones((2, 1, 5, 5))])


LAYERS = [
    ("MaxPool1d", (3,), {}), ("MaxPool1d", (3, 2, 1), {"ceil_mode": True}), ("MaxPool1d", (2,), {"dilation": 2}),
    ("AvgPool1d", (3,), {}), ("AvgPool1d", (3, 2, 1), {"count_include_pad": False, "ceil_mode": True}),
    ("AdaptiveAvgPool1d", (4,), {}), ("AdaptiveMaxPool1d", (3,), {}), ("AdaptiveMaxPool2d", ((3, 2),), {}),
    ("AdaptiveMaxPool2d", (1,), {}),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layer", LAYERS, ids=lambda c: f"{c[0]}{c[1]}{c[2]}")
def test_layers_match_torch(layer, dtype):
    name, args, kwargs = layer
    e_layer, t_layer = getattr(enn, name)(*args, **kwargs), getattr(tnn, name)(*args, **kwargs)
    assert repr(e_layer) == repr(t_layer)
    shape = (2, 3, 6, 7) if name.endswith("2d") else (2, 3, 11)
    check_module(e_layer, t_layer, [shape], dtype=dtype)


@pytest.mark.parametrize("name", ["MaxPool1d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d"])
def test_layers_return_indices(name):
    arg = 3
    shape = (2, 3, 6, 7) if name.endswith("2d") else (2, 3, 11)
    check_op(getattr(enn, name)(arg, return_indices=True), getattr(tnn, name)(arg, return_indices=True),
             shapes=[shape])


@pytest.mark.parametrize("case", [(3, 2, 1, 1, True), (2, 2, 0, 1, True), (3, 2, 0, 2, True), (3, 3, 1, 1, False)],
                         ids=str)
def test_max_pool2d_return_indices_and_ceil_mode(case):
    k, s, p, d, c = case
    check_op(enn.MaxPool2d(k, s, p, d, return_indices=True, ceil_mode=c),
             tnn.MaxPool2d(k, s, p, d, return_indices=True, ceil_mode=c), shapes=[(2, 3, 7, 8)])


def test_gradcheck_adaptive_max_pool2d():
    assert gradcheck(lambda x: F.adaptive_max_pool2d(x, (3, 2)), (2, 2, 5, 5))
    assert gradcheck(lambda x: F.adaptive_max_pool2d(x, (4, 4)), (1, 2, 6, 5))
    assert gradcheck(lambda x: F.adaptive_max_pool1d(x, 3), (2, 2, 7))
    assert gradcheck(lambda x: F.max_pool1d(x, 3, 2, 1), (2, 2, 9))
    assert gradcheck(lambda x: F.avg_pool1d(x, 3, 2, 1, count_include_pad=False), (2, 2, 9))


def test_errors():
    with pytest.raises(RuntimeError, match=r"max_pool1d: Expected 2D or 3D \(batch mode\) tensor.*\[2, 3, 5, 5\]"):
        F.max_pool1d(ember.ones(2, 3, 5, 5), 2)
    with pytest.raises(RuntimeError, match=r"MaxPool1d\(kernel_size=2.*Expected 2D or 3D"):
        enn.MaxPool1d(2)(ember.ones(2, 3, 5, 5))
    with pytest.raises(RuntimeError, match=r"adaptive_max_pool2d: Expected 3D or 4D tensor.*\[2, 3\]"):
        F.adaptive_max_pool2d(ember.ones(2, 3), 2)
    with pytest.raises(ValueError, match="avg_pool1d: padding 2 in width should be at most half of the kernel size 3"):
        F.avg_pool1d(ember.ones(1, 2, 8), 3, padding=2)
    with pytest.raises(ValueError, match="the kernel spans 5 pixels in width but the padded input has only 4"):
        F.max_pool1d(ember.ones(1, 2, 4), 5)
