"""Pooling against torch: max_pool2d (with return_indices and ties), avg_pool2d (count_include_pad,
divisor_override) and adaptive_avg_pool2d, functional and as nn layers, over kernel / stride / padding /
dilation / ceil_mode, both the exact-tiling fast path and the general path; and gradcheck of every
Function in pool.py."""


import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
import ember.nn as enn
import ember.nn.functional as F
import torch.nn as tnn
from ember.ops import pool
from helpers import check_module, check_op, function_classes, gradcheck, random_array

DTYPES = ["float64", "float32"]

# ---- max pooling ----------------------------------------------------------------------------------------

# (input shape, kernel_size, stride, padding, dilation, ceil_mode)
MAX_CASES = {
    "tiled 2x2": ((2, 3, 8, 8), 2, None, 0, 1, False),
    "tiled rect (2,3)": ((2, 2, 6, 9), (2, 3), None, 0, 1, False),
    "tiled 3x3": ((1, 2, 9, 6), 3, 3, 0, 1, False),
    "tiled, ceil_mode has nothing to add": ((1, 2, 6, 6), 2, 2, 0, 1, True),
    "floor drops the last row": ((1, 2, 7, 7), 2, None, 0, 1, False),
    "ceil partial last window": ((1, 2, 7, 7), 2, None, 0, 1, True),
    "ceil partial, k3 s2": ((2, 2, 8, 8), 3, 2, 0, 1, True),
    "ceil partial, rect": ((1, 2, 7, 10), (2, 3), (2, 3), 0, 1, True),
    "ceil, last window would start in padding": ((1, 1, 5, 5), 2, 2, 1, 1, True),
    "ceil with padding": ((1, 2, 6, 7), 3, 2, 1, 1, True),
    "overlapping k3 s2 p1": ((2, 3, 8, 8), 3, 2, 1, 1, False),
    "overlapping k3 s1": ((1, 2, 5, 6), 3, 1, 0, 1, False),
    "stride > kernel": ((1, 2, 9, 9), 2, 3, 0, 1, False),
    "kernel 1": ((1, 2, 4, 5), 1, 1, 0, 1, False),
    "kernel 1 stride 2": ((1, 2, 5, 5), 1, 2, 0, 1, False),
    "rect kernel stride padding": ((2, 2, 7, 9), (3, 2), (2, 1), (1, 1), 1, False),
    "dilation 2": ((1, 2, 9, 9), 3, 1, 0, 2, False),
    "dilation 2 with padding": ((1, 2, 8, 8), 2, 2, 1, 2, False),
    "dilation (2,1) stride 2": ((2, 1, 9, 8), 3, 2, 1, (2, 1), False),
    "dilation with ceil": ((1, 2, 10, 9), 2, 2, 0, 2, True),
    "kernel = input": ((2, 2, 4, 5), (4, 5), None, 0, 1, False),
    "global-size window with padding": ((1, 2, 3, 3), 3, 1, 1, 1, False),
}


def _max_fns(case, return_indices=False):
    _, k, s, p, d, ceil = case
    kw = dict(stride=s, padding=p, dilation=d, ceil_mode=ceil, return_indices=return_indices)
    return (lambda x: F.max_pool2d(x, k, **kw)), (lambda x: TF.max_pool2d(x, k, **kw))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(MAX_CASES))
def test_max_pool2d(name, dtype):
    case = MAX_CASES[name]
    e_fn, t_fn = _max_fns(case)
    (out,) = check_op(e_fn, t_fn, shapes=[case[0]], dtype=dtype)
    assert out.dtype == np.dtype(dtype)


@pytest.mark.parametrize("name", list(MAX_CASES))
def test_max_pool2d_return_indices(name):
    case = MAX_CASES[name]
    e_fn, t_fn = _max_fns(case, return_indices=True)
    out, indices = check_op(e_fn, t_fn, shapes=[case[0]])  # compares the int64 indices with torch's too
    assert indices.dtype == np.int64 and indices.shape == out.shape


@pytest.mark.parametrize("name", ["tiled 2x2", "floor drops the last row", "overlapping k3 s2 p1", "dilation 2"])
def test_max_pool2d_noncontiguous_and_unbatched(name):
    case = MAX_CASES[name]
    e_fn, t_fn = _max_fns(case)
    check_op(e_fn, t_fn, shapes=[case[0]], noncontiguous=True)
    check_op(e_fn, t_fn, shapes=[case[0][1:]])
    e_fn, t_fn = _max_fns(case, return_indices=True)
    check_op(e_fn, t_fn, shapes=[case[0][1:]])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["tiled 2x2", "tiled 3x3", "floor drops the last row", "ceil partial, k3 s2",
                                  "overlapping k3 s2 p1", "overlapping k3 s1", "dilation 2 with padding",
                                  "rect kernel stride padding"])
def test_max_pool2d_ties_go_to_the_first_maximum(name, dtype):
    # Few distinct values: most windows hold several equal maxima. torch gives the whole gradient to the
    # first one in row-major window order (and reports its index); overlapping windows add up.
    case = MAX_CASES[name]
    rng = np.random.default_rng(5)
    x = rng.integers(0, 3, size=case[0]).astype(dtype)
    for e_fn, t_fn in (_max_fns(case), _max_fns(case, return_indices=True)):
        check_op(e_fn, t_fn, arrays=[x], dtype=dtype)


def test_max_pool2d_all_equal_window_gradient_on_first_element():
    x = ember.ones(1, 1, 4, 4, requires_grad=True)
    out, idx = F.max_pool2d(x, 2, return_indices=True)
    out.sum().backward()
    expected = np.zeros((4, 4))
    expected[::2, ::2] = 1
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], expected)
    assert idx.numpy()[0, 0].tolist() == [[0, 2], [8, 10]]


def test_max_pool2d_negative_inputs_with_padding():
    # The padding must never win: every value is negative, so a zero pad would.
    x = -np.abs(random_array((1, 2, 5, 5))) - 1
    for e_fn, t_fn in (_max_fns(MAX_CASES["overlapping k3 s2 p1"], True), _max_fns(MAX_CASES["ceil with padding"], True)):
        check_op(e_fn, t_fn, arrays=[x])


@settings(max_examples=40, deadline=None)
@given(
    k=st.integers(1, 4), s=st.integers(1, 4), p=st.integers(0, 2), d=st.integers(1, 2), ceil=st.booleans(),
    extra_h=st.integers(0, 5), extra_w=st.integers(0, 5), ties=st.booleans(),
)
def test_max_pool2d_random_geometry(k, s, p, d, ceil, extra_h, extra_w, ties):
    p = min(p, k // 2)  # torch: padding at most half the kernel
    size = d * (k - 1) + 1
    shape = (2, 2, size + extra_h, size + extra_w)
    rng = np.random.default_rng(k * 100 + s * 10 + p)
    x = rng.integers(0, 3, size=shape).astype("float64") if ties else rng.standard_normal(shape)
    e_fn, t_fn = _max_fns((shape, k, s, p, d, ceil), return_indices=True)
    check_op(e_fn, t_fn, arrays=[x])


# ---- average pooling ------------------------------------------------------------------------------------

# (input shape, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)
AVG_CASES = {
    "tiled 2x2": ((2, 3, 8, 8), 2, None, 0, False, True, None),
    "tiled rect": ((1, 2, 6, 9), (3, 3), None, 0, False, True, None),
    "tiled divisor_override": ((2, 2, 4, 6), 2, None, 0, False, True, 3),
    "floor": ((1, 2, 7, 7), 2, None, 0, False, True, None),
    "overlapping k3 s1": ((1, 2, 5, 6), 3, 1, 0, False, True, None),
    "k3 s2 p1 include pad": ((2, 2, 7, 8), 3, 2, 1, False, True, None),
    "k3 s2 p1 exclude pad": ((2, 2, 7, 8), 3, 2, 1, False, False, None),
    "k2 s1 p1 exclude pad": ((1, 2, 4, 5), 2, 1, 1, False, False, None),
    "ceil partial include pad": ((1, 2, 7, 7), 2, None, 0, True, True, None),
    "ceil partial exclude pad": ((1, 2, 7, 7), 2, None, 0, True, False, None),
    "ceil with padding include pad": ((1, 2, 6, 7), 3, 2, 1, True, True, None),
    "ceil with padding exclude pad": ((1, 2, 6, 7), 3, 2, 1, True, False, None),
    "ceil, last window would start in padding": ((1, 1, 5, 5), 2, 2, 1, True, True, None),
    "rect kernel stride padding": ((2, 2, 7, 9), (3, 2), (2, 1), (1, 1), False, True, None),
    "rect exclude pad": ((2, 2, 7, 9), (3, 2), (2, 1), (1, 0), False, False, None),
    "divisor_override with padding": ((1, 2, 5, 5), 3, 2, 1, False, True, 4),
    "divisor_override ceil exclude pad": ((1, 2, 7, 7), 3, 2, 1, True, False, 2),
    "stride > kernel": ((1, 2, 9, 9), 2, 3, 0, False, True, None),
    "kernel = input": ((2, 2, 4, 5), (4, 5), None, 0, False, True, None),
}


def _avg_fns(case):
    _, k, s, p, ceil, cip, div = case
    kw = dict(stride=s, padding=p, ceil_mode=ceil, count_include_pad=cip, divisor_override=div)
    return (lambda x: F.avg_pool2d(x, k, **kw)), (lambda x: TF.avg_pool2d(x, k, **kw))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(AVG_CASES))
def test_avg_pool2d(name, dtype):
    case = AVG_CASES[name]
    e_fn, t_fn = _avg_fns(case)
    (out,) = check_op(e_fn, t_fn, shapes=[case[0]], dtype=dtype)
    assert out.dtype == np.dtype(dtype)


@pytest.mark.parametrize("name", ["tiled 2x2", "k3 s2 p1 exclude pad", "ceil with padding include pad"])
def test_avg_pool2d_noncontiguous_and_unbatched(name):
    case = AVG_CASES[name]
    e_fn, t_fn = _avg_fns(case)
    check_op(e_fn, t_fn, shapes=[case[0]], noncontiguous=True)
    check_op(e_fn, t_fn, shapes=[case[0][1:]])


@settings(max_examples=40, deadline=None)
@given(
    k=st.integers(1, 4), s=st.integers(1, 4), p=st.integers(0, 2), ceil=st.booleans(), cip=st.booleans(),
    div=st.sampled_from([None, None, 3]), extra_h=st.integers(0, 5), extra_w=st.integers(0, 5),
)
def test_avg_pool2d_random_geometry(k, s, p, ceil, cip, div, extra_h, extra_w):
    p = min(p, k // 2)
    shape = (2, 2, k + extra_h, k + extra_w)
    check_op(*_avg_fns((shape, k, s, p, ceil, cip, div)), shapes=[shape])


# ---- adaptive average pooling ---------------------------------------------------------------------------

ADAPTIVE_CASES = {
    "divides (4,4)": ((2, 3, 8, 8), (4, 4)),
    "divides int": ((2, 3, 6, 6), 3),
    "does not divide (3,2)": ((2, 3, 7, 5), (3, 2)),
    "does not divide int 4": ((1, 2, 10, 7), 4),
    "global 1": ((2, 3, 5, 7), 1),
    "global (1,1)": ((2, 3, 5, 7), (1, 1)),
    "(1, n)": ((2, 2, 5, 7), (1, 3)),
    "(None, 3)": ((1, 2, 5, 7), (None, 3)),
    "(4, None)": ((1, 2, 9, 5), (4, None)),
    "identity size": ((1, 2, 5, 6), (5, 6)),
    "larger than input": ((1, 2, 3, 4), (5, 7)),
    "unbatched": ((3, 7, 5), (2, 3)),
    "unbatched global": ((3, 7, 5), 1),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(ADAPTIVE_CASES))
def test_adaptive_avg_pool2d(name, dtype):
    shape, size = ADAPTIVE_CASES[name]
    (out,) = check_op(lambda x: F.adaptive_avg_pool2d(x, size), lambda x: TF.adaptive_avg_pool2d(x, size),
                      shapes=[shape], dtype=dtype)
    assert out.dtype == np.dtype(dtype)


def test_adaptive_avg_pool2d_noncontiguous():
    for size in ((3, 2), 1):
        check_op(lambda x: F.adaptive_avg_pool2d(x, size), lambda x: TF.adaptive_avg_pool2d(x, size),
                 shapes=[(2, 3, 7, 5)], noncontiguous=True)


# ---- the nn layers -------------------------------------------------------------------------------------

LAYERS = {
    "MaxPool2d(2)": (dict(kernel_size=2), "MaxPool2d", (2, 3, 8, 8)),
    "MaxPool2d(3, 2, 1)": (dict(kernel_size=3, stride=2, padding=1), "MaxPool2d", (2, 3, 9, 8)),
    "MaxPool2d ceil dilation": (dict(kernel_size=2, stride=2, dilation=2, ceil_mode=True), "MaxPool2d", (1, 2, 10, 9)),
    "MaxPool2d rect": (dict(kernel_size=(2, 3), stride=(1, 2)), "MaxPool2d", (1, 2, 5, 7)),
    "AvgPool2d(2)": (dict(kernel_size=2), "AvgPool2d", (2, 3, 8, 8)),
    "AvgPool2d exclude pad": (dict(kernel_size=3, stride=2, padding=1, count_include_pad=False), "AvgPool2d",
                              (1, 2, 7, 6)),
    "AvgPool2d ceil": (dict(kernel_size=2, ceil_mode=True), "AvgPool2d", (1, 2, 7, 7)),
    "AvgPool2d divisor": (dict(kernel_size=3, stride=1, divisor_override=5), "AvgPool2d", (1, 2, 5, 5)),
    "AdaptiveAvgPool2d 1": (dict(output_size=1), "AdaptiveAvgPool2d", (2, 3, 5, 5)),
    "AdaptiveAvgPool2d (3,2)": (dict(output_size=(3, 2)), "AdaptiveAvgPool2d", (2, 3, 7, 5)),
    "AdaptiveAvgPool2d (None,2)": (dict(output_size=(None, 2)), "AdaptiveAvgPool2d", (2, 3, 7, 5)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(LAYERS))
def test_pool_layers(name, dtype):
    kwargs, cls, shape = LAYERS[name]
    out = check_module(getattr(enn, cls)(**kwargs), getattr(tnn, cls)(**kwargs), [shape], dtype=dtype)
    assert out.dtype == np.dtype(dtype)


def test_max_pool_layer_return_indices():
    e_layer = enn.MaxPool2d(3, stride=2, padding=1, return_indices=True)
    t_layer = tnn.MaxPool2d(3, stride=2, padding=1, return_indices=True)
    check_op(e_layer, t_layer, shapes=[(2, 2, 7, 7)])


# ---- gradcheck of every Function in pool.py ------------------------------------------------------------

GRADCHECK = {
    "MaxPool2d": [
        (lambda x: F.max_pool2d(x, 2), (1, 2, 4, 4)),  # tiled path
        (lambda x: F.max_pool2d(x, 3, 2, 1), (1, 2, 5, 4)),  # overlapping windows, padding
        (lambda x: F.max_pool2d(x, 2, 2, dilation=2, ceil_mode=True), (1, 1, 6, 7)),
    ],
    "AvgPool2d": [
        (lambda x: F.avg_pool2d(x, 2), (1, 2, 4, 4)),
        (lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False), (1, 2, 6, 5)),
        (lambda x: F.avg_pool2d(x, (2, 3), 1, divisor_override=4), (1, 1, 4, 5)),
    ],
    "AdaptiveAvgPool2d": [(lambda x: F.adaptive_avg_pool2d(x, (3, 2)), (1, 2, 5, 5))],
    "GlobalAvgPool2d": [(lambda x: F.adaptive_avg_pool2d(x, 1), (2, 2, 3, 4))],
}


@pytest.mark.parametrize("name", list(GRADCHECK))
def test_gradcheck(name):
    for fn, shape in GRADCHECK[name]:
        assert gradcheck(fn, shape)


def test_every_pool_function_is_gradchecked():
    # AdaptiveMaxPool2d is gradchecked in test_pool1d.py
    assert function_classes(pool) == set(GRADCHECK) | {"AdaptiveMaxPool2d"}


def test_max_pool2d_propagates_nan_like_torch():
    # torch treats NaN as larger than everything: the window's output is NaN, its index points at the NaN and
    # the gradient flows to it. One NaN per window, at different offsets, on the tiled and the general path.
    x = random_array((1, 2, 6, 6))
    x[0, 0, 1, 1] = x[0, 0, 2, 5] = x[0, 1, 4, 0] = np.nan
    for k, s, p in ((2, None, 0), (3, 3, 0), (3, 2, 1)):
        e_fn = lambda t: F.max_pool2d(t, k, s, p, return_indices=True)  # noqa: E731
        t_fn = lambda t: TF.max_pool2d(t, k, s, p, return_indices=True)  # noqa: E731
        e_out, e_idx = e_fn(ember.tensor(x, requires_grad=True))
        t_in = torch.tensor(x, requires_grad=True)
        t_out, t_idx = t_fn(t_in)
        np.testing.assert_array_equal(e_out.detach().numpy(), t_out.detach().numpy())  # NaN == NaN here
        np.testing.assert_array_equal(e_idx.numpy(), t_idx.numpy())
        e_x = ember.tensor(x, requires_grad=True)
        F.max_pool2d(e_x, k, s, p).sum().backward()
        TF.max_pool2d(t_in, k, s, p).backward(torch.ones_like(t_out))
        np.testing.assert_array_equal(e_x.grad.numpy(), t_in.grad.numpy())


def test_max_pool2d_windows_of_minus_inf_with_padding():
    # A window whose real inputs are all -inf (masked values) ties with the -inf padding: torch picks the first
    # real input of the window (its index, its gradient), never a padded position.
    x = random_array((1, 1, 5, 5))
    x[0, 0, :2, :2] = -np.inf
    x[0, 0, 3:, 3:] = -np.inf
    for k, s, p, d in ((3, 2, 1, 1), (2, 2, 1, 1), (3, 1, 1, 1), (2, 1, 1, 2)):
        check_op(lambda t: F.max_pool2d(t, k, s, p, d, return_indices=True),
                 lambda t: TF.max_pool2d(t, k, s, p, d, return_indices=True), arrays=[x])
