"""conv2d against torch: F.conv2d and nn.Conv2d over stride / padding ('same', 'valid', ints, pairs) /
dilation / groups, rectangular kernels and inputs, depthwise and 1×1 convolutions, with and without bias,
unbatched and non-contiguous inputs, in float32 and float64; and gradcheck of every Function in conv.py."""


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
from ember.ops import conv
from helpers import check_module, check_op, function_classes, gradcheck, random_array

DTYPES = ["float64", "float32"]

# torch's own note that it copies the input for 'same' with an even kernel; not about Ember.
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")

# (input shape, out_channels, kernel, stride, padding, dilation, groups)
CASES = {
    "plain 3x3": ((2, 3, 7, 7), 4, 3, 1, 0, 1, 1),
    "stride 2 pad 1": ((2, 3, 8, 6), 4, 3, 2, 1, 1, 1),
    "stride 2 pad 1 odd size": ((2, 2, 9, 7), 3, 3, 2, 1, 1, 1),
    "stride 3 not dividing": ((1, 2, 10, 11), 2, 3, 3, 0, 1, 1),
    "rectangular kernel": ((1, 2, 9, 7), 3, (3, 2), (2, 1), (1, 0), 1, 1),
    "kernel 1x5": ((2, 2, 4, 9), 3, (1, 5), 1, (0, 2), 1, 1),
    "kernel 5x1": ((2, 2, 9, 4), 3, (5, 1), (2, 1), 0, 1, 1),
    "tuple padding": ((1, 3, 5, 6), 2, 3, 1, (2, 0), 1, 1),
    "asymmetric stride": ((2, 2, 8, 9), 3, 3, (1, 3), (1, 1), 1, 1),
    "dilation 2": ((2, 2, 9, 9), 3, 3, 1, 0, 2, 1),
    "dilation 2 pad 2": ((1, 3, 7, 8), 2, 3, 1, 2, 2, 1),
    "dilation (1,3)": ((1, 2, 6, 10), 2, 3, 1, (1, 0), (1, 3), 1),
    "dilation and stride": ((2, 2, 11, 10), 3, 3, 2, 1, 2, 1),
    "groups 2": ((2, 4, 7, 8), 6, 3, 1, 1, 1, 2),
    "groups 2 dilated": ((2, 4, 7, 8), 6, 3, 1, 2, 2, 2),
    "groups 3 strided": ((1, 6, 8, 8), 3, (2, 3), 2, 1, 1, 3),
    "depthwise": ((2, 4, 6, 6), 4, 3, 1, 1, 1, 4),
    "depthwise multiplier 2": ((1, 3, 5, 5), 6, 3, 1, 1, 1, 3),
    "depthwise strided": ((2, 3, 9, 8), 3, 3, 2, 1, 1, 3),
    "1x1": ((2, 5, 4, 3), 3, 1, 1, 0, 1, 1),
    "1x1 strided": ((2, 5, 5, 5), 3, 1, 2, 0, 1, 1),
    "1x1 padded": ((1, 2, 3, 3), 2, 1, 1, 1, 1, 1),
    "1x1 grouped": ((2, 4, 3, 5), 6, 1, 1, 0, 1, 2),
    "kernel = input": ((2, 3, 5, 4), 2, (5, 4), 1, 0, 1, 1),
    "kernel > input, padded": ((1, 2, 2, 2), 2, 3, 1, 1, 1, 1),
    "same k3": ((2, 3, 6, 5), 4, 3, 1, "same", 1, 1),
    "same k5": ((1, 2, 7, 6), 2, 5, 1, "same", 1, 1),
    "same even k2": ((2, 2, 5, 6), 3, 2, 1, "same", 1, 1),
    "same even k4": ((1, 2, 6, 7), 2, 4, 1, "same", 1, 1),
    "same rect (2,3)": ((2, 2, 5, 5), 3, (2, 3), 1, "same", 1, 1),
    "same k3 dilation 2": ((1, 2, 7, 7), 2, 3, 1, "same", 2, 1),
    "same even k2 dilation 3": ((1, 2, 8, 7), 2, 2, 1, "same", 3, 1),
    "same (4,2) dilation (1,2)": ((2, 2, 7, 8), 2, (4, 2), 1, "same", (1, 2), 1),
    "same grouped": ((1, 4, 5, 5), 4, 4, 1, "same", 1, 2),
    "valid": ((2, 3, 6, 7), 2, 3, 1, "valid", 1, 1),
    "valid strided dilated": ((1, 2, 9, 9), 2, 2, 2, "valid", 2, 1),
    "non-square input": ((3, 2, 4, 11), 2, 3, 1, 1, 1, 1),
    "batch 1 channel 1": ((1, 1, 5, 5), 1, 3, 1, 0, 1, 1),
}


def _weight_shape(case):
    x_shape, out, kernel, _, _, _, groups = case
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    return (out, x_shape[1] // groups, kh, kw)


def _fns(case, bias):
    _, _, _, stride, padding, dilation, groups = case
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    if bias:
        return (lambda x, w, b: F.conv2d(x, w, b, **kw)), (lambda x, w, b: TF.conv2d(x, w, b, **kw))
    return (lambda x, w: F.conv2d(x, w, **kw)), (lambda x, w: TF.conv2d(x, w, **kw))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no bias"])
@pytest.mark.parametrize("name", list(CASES))
def test_functional_conv2d(name, bias, dtype):
    case = CASES[name]
    w_shape = _weight_shape(case)
    shapes = [case[0], w_shape] + ([(w_shape[0],)] if bias else [])
    e_fn, t_fn = _fns(case, bias)
    (out,) = check_op(e_fn, t_fn, shapes=shapes, dtype=dtype)
    assert out.dtype == np.dtype(dtype)  # float32 in, float32 out (no silent upcast in the GEMM or bias add)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["plain 3x3", "stride 2 pad 1", "groups 2 dilated", "depthwise", "1x1", "same even k4",
                                  "rectangular kernel"])
def test_functional_conv2d_noncontiguous(name, dtype):
    case = CASES[name]
    w_shape = _weight_shape(case)
    e_fn, t_fn = _fns(case, True)
    check_op(e_fn, t_fn, shapes=[case[0], w_shape, (w_shape[0],)], dtype=dtype, noncontiguous=True)


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv2d_on_sliced_and_permuted_views(dtype):
    # An NHWC array viewed as NCHW and a strided slice: im2col must follow the strides it is given.
    rng = np.random.default_rng(4)
    nhwc = random_array((2, 9, 8, 3), dtype, rng)
    w = random_array((4, 3, 3, 3), dtype, rng)
    for view in (nhwc.transpose(0, 3, 1, 2), nhwc.transpose(0, 3, 1, 2)[:, :, ::2, 1:], nhwc.transpose(0, 3, 2, 1)):
        assert not view.flags.c_contiguous
        for padding in (0, 1):  # without padding im2col reads the view itself
            check_op(lambda x, k: F.conv2d(x, k, padding=padding), lambda x, k: TF.conv2d(x, k, padding=padding),
                     arrays=[view, w], dtype=dtype, noncontiguous=True)  # passed as they are, not copied


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["plain 3x3", "stride 2 pad 1", "groups 2", "same even k2", "rectangular kernel"])
def test_functional_conv2d_unbatched(name, dtype):
    case = CASES[name]
    w_shape = _weight_shape(case)
    e_fn, t_fn = _fns(case, True)
    (out,) = check_op(e_fn, t_fn, shapes=[case[0][1:], w_shape, (w_shape[0],)], dtype=dtype)
    assert out.ndim == 3


def test_conv2d_only_weight_needs_grad_and_only_input_needs_grad():
    rng = np.random.default_rng(2)
    x, w, b = random_array((2, 3, 6, 6), rng=rng), random_array((4, 3, 3, 3), rng=rng), random_array((4,), rng=rng)
    for wanted in ((False, True, True), (True, False, False), (False, False, True)):
        e = [ember.Tensor(a, requires_grad=r) for a, r in zip((x, w, b), wanted)]
        t = [torch.tensor(a, requires_grad=r) for a, r in zip((x, w, b), wanted)]
        e_out = F.conv2d(*e, stride=2, padding=1)
        t_out = TF.conv2d(*t, stride=2, padding=1)
        np.testing.assert_allclose(e_out.detach().numpy(), t_out.detach().numpy(), rtol=1e-9, atol=1e-12)
        e_out.sum().backward()
        t_out.sum().backward()
        for et, tt in zip(e, t):
            if tt.requires_grad:
                np.testing.assert_allclose(et.grad.numpy(), tt.grad.numpy(), rtol=1e-9, atol=1e-12)
            else:
                assert et.grad is None


# ---- nn.Conv2d --------------------------------------------------------------------------------------------

MODULE_CASES = ["plain 3x3", "stride 2 pad 1", "rectangular kernel", "tuple padding", "dilation (1,3)", "groups 2 dilated",
                "depthwise", "depthwise multiplier 2", "1x1", "1x1 grouped", "same k3", "same even k4",
                "same (4,2) dilation (1,2)", "valid", "kernel > input, padded"]


def _layers(case, bias):
    x_shape, out, kernel, stride, padding, dilation, groups = case
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups, bias=bias)
    return enn.Conv2d(x_shape[1], out, kernel, **kw), tnn.Conv2d(x_shape[1], out, kernel, **kw)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no bias"])
@pytest.mark.parametrize("name", MODULE_CASES)
def test_conv2d_module(name, bias, dtype):
    e_layer, t_layer = _layers(CASES[name], bias)
    out = check_module(e_layer, t_layer, [CASES[name][0]], dtype=dtype)
    assert out.dtype == np.dtype(dtype)
    assert e_layer.weight.dtype == np.dtype(dtype) and e_layer.weight.grad.dtype == np.dtype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv2d_module_unbatched(dtype):
    e_layer, t_layer = _layers(CASES["stride 2 pad 1"], True)
    check_module(e_layer, t_layer, [(3, 8, 6)], dtype=dtype)


def test_conv2d_module_float32_by_default():
    layer = enn.Conv2d(3, 4, 3, padding=1)
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    out = layer(ember.randn(2, 3, 5, 5))
    assert out.dtype == np.float32 and out.shape == (2, 4, 5, 5)


def test_conv2d_chain_of_layers_matches_torch():
    # Two convs back to back: the first conv's (transposed-view) output feeds the second conv.
    torch.manual_seed(0)
    t_net = tnn.Sequential(tnn.Conv2d(2, 4, 3, padding=1), tnn.Conv2d(4, 3, 3, stride=2, groups=1)).double()
    e_net = enn.Sequential(enn.Conv2d(2, 4, 3, padding=1), enn.Conv2d(4, 3, 3, stride=2))
    check_module(e_net, t_net, [(2, 2, 7, 7)])


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 2), groups=st.sampled_from([1, 2]), cin_per_group=st.integers(1, 2), cout_per_group=st.integers(1, 2),
    kh=st.integers(1, 3), kw=st.integers(1, 3), sh=st.integers(1, 3), sw=st.integers(1, 3),
    ph=st.integers(0, 2), pw=st.integers(0, 2), dh=st.integers(1, 2), dw=st.integers(1, 2),
    extra_h=st.integers(0, 4), extra_w=st.integers(0, 4), bias=st.booleans(), dtype=st.sampled_from(DTYPES),
)
def test_conv2d_random_geometry(n, groups, cin_per_group, cout_per_group, kh, kw, sh, sw, ph, pw, dh, dw, extra_h,
                                extra_w, bias, dtype):
    # The input is at least as large as the dilated kernel, so every geometry is valid.
    h, w = dh * (kh - 1) + 1 + extra_h, dw * (kw - 1) + 1 + extra_w
    x_shape = (n, cin_per_group * groups, h, w)
    case = (x_shape, cout_per_group * groups, (kh, kw), (sh, sw), (ph, pw), (dh, dw), groups)
    w_shape = _weight_shape(case)
    e_fn, t_fn = _fns(case, bias)
    check_op(e_fn, t_fn, shapes=[x_shape, w_shape] + ([(w_shape[0],)] if bias else []), dtype=dtype)


def test_same_padding_with_stride_is_rejected_like_torch():
    x, w = ember.randn(1, 2, 5, 5), ember.randn(2, 2, 3, 3)
    with pytest.raises(ValueError, match="same"):
        F.conv2d(x, w, stride=2, padding="same")
    with pytest.raises(ValueError, match="same"):
        enn.Conv2d(2, 2, 3, stride=2, padding="same")
    with pytest.raises(ValueError):  # torch agrees that this is an error
        tnn.Conv2d(2, 2, 3, stride=2, padding="same")


def test_conv2d_rejects_bad_padding_string_and_groups():
    with pytest.raises(ValueError, match="padding"):
        F.conv2d(ember.randn(1, 2, 5, 5), ember.randn(2, 2, 3, 3), padding="full")
    with pytest.raises(ValueError, match="divisible by groups"):
        enn.Conv2d(3, 4, 3, groups=2)


# ---- gradcheck of every Function in conv.py -------------------------------------------------------------

GRADCHECK = {
    "Conv2d": [
        (lambda x, w, b: F.conv2d(x, w, b), [(1, 2, 4, 4), (2, 2, 3, 3), (2,)]),
        (lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), [(2, 2, 5, 4), (3, 2, 3, 2), (3,)]),
        (lambda x, w: F.conv2d(x, w, padding=(2, 1), dilation=2, groups=2), [(1, 4, 5, 5), (2, 2, 2, 3)]),
        (lambda x, w, b: F.conv2d(x, w, b, padding="same"), [(1, 2, 4, 5), (2, 2, 2, 4), (2,)]),
        (lambda x, w: F.conv2d(x, w, stride=(2, 1), groups=3), [(1, 3, 5, 4), (3, 1, 1, 1)]),
    ],
}


@pytest.mark.parametrize("name", list(GRADCHECK))
def test_gradcheck(name):
    for fn, shapes in GRADCHECK[name]:
        assert gradcheck(fn, *shapes)


def test_every_conv_function_is_gradchecked():
    # ConvTranspose2d is gradchecked in test_conv1d_transpose.py
    assert function_classes(conv) == set(GRADCHECK) | {"ConvTranspose2d"}
