"""Conv1d, ConvTranspose2d and ConvTranspose1d against torch (forward, input/weight/bias gradients, every
argument: stride, padding, output_padding, dilation, groups, bias, unbatched input, float32/float64), the
layers with copied weights (padding_mode included), ``forward(x, output_size)``, gradcheck and errors."""

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import ember
import ember.nn as enn
import ember.nn.functional as F
from helpers import check_module, check_op, gradcheck

DTYPES = ["float64", "float32"]


def _with_bias(e_fn, t_fn, bias):
    """(ember, torch) functions of (x, w[, b]) — the bias is an input only when there is one."""
    if bias:
        return e_fn, t_fn
    return (lambda x, w: e_fn(x, w, None)), (lambda x, w: t_fn(x, w, None))


# (in, out, groups, kernel, stride, padding, dilation)
CONV1D = [
    (3, 4, 1, 3, 1, 0, 1),
    (3, 4, 1, 3, 2, 1, 1),
    (4, 6, 2, 3, 1, 2, 2),
    (4, 4, 4, 1, 1, 0, 1),  # depthwise 1×1
    (2, 6, 2, 5, 3, 2, 1),
    (3, 5, 1, 4, 1, "same", 2),
    (3, 5, 1, 3, 2, "valid", 1),
    (3, 2, 1, (3,), (2,), (1,), (1,)),  # 1-tuples, as torch's layers store them
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("case", CONV1D, ids=str)
def test_conv1d_matches_torch(case, bias, dtype):
    cin, cout, g, k, s, p, d = case
    kk = k if isinstance(k, int) else k[0]
    e_fn, t_fn = _with_bias(lambda x, w, b: F.conv1d(x, w, b, s, p, d, g),
                            lambda x, w, b: TF.conv1d(x, w, b, s, p, d, g), bias)
    shapes = [(2, cin, 11), (cout, cin // g, kk)] + ([(cout,)] if bias else [])
    (out,) = check_op(e_fn, t_fn, shapes=shapes, dtype=dtype)
    assert out.dtype == np.dtype(dtype)
    shapes[0] = (cin, 11)  # unbatched (C, L)
    check_op(e_fn, t_fn, shapes=shapes, dtype=dtype)


# (in, out, groups, kernel, stride, padding, output_padding, dilation)
TRANSPOSED = [
    (4, 6, 1, 3, 1, 0, 0, 1),
    (4, 6, 1, 4, 2, 1, 0, 1),  # the DCGAN / U-Net up-sampling block
    (4, 6, 2, 3, 2, 1, 1, 1),
    (3, 2, 1, (3, 2), (2, 3), (1, 0), (1, 2), 1),
    (2, 3, 1, 3, 2, 1, 0, 2),
    (2, 3, 1, 3, 1, 1, 1, 2),  # output_padding < dilation with stride 1
    (6, 4, 2, 4, 3, 2, 2, 1),
    (4, 4, 4, 3, 2, 1, 1, 2),  # depthwise
    (3, 5, 1, 1, 1, 0, 0, 1),  # 1×1
    (3, 5, 1, 2, 2, 0, 0, 1),  # stride = kernel: non-overlapping taps
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("case", TRANSPOSED, ids=str)
def test_conv_transpose2d_matches_torch(case, bias, dtype):
    cin, cout, g, k, s, p, op, d = case
    kh, kw = (k, k) if isinstance(k, int) else k
    e_fn, t_fn = _with_bias(lambda x, w, b: F.conv_transpose2d(x, w, b, s, p, op, g, d),
                            lambda x, w, b: TF.conv_transpose2d(x, w, b, s, p, op, g, d), bias)
    shapes = [(2, cin, 5, 4), (cin, cout // g, kh, kw)] + ([(cout,)] if bias else [])
    (out,) = check_op(e_fn, t_fn, shapes=shapes, dtype=dtype)
    assert out.dtype == np.dtype(dtype)
    shapes[0] = (cin, 3, 6)  # unbatched (C, H, W)
    check_op(e_fn, t_fn, shapes=shapes, dtype=dtype)


def test_conv_transpose2d_keywords_and_noncontiguous_input():
    kwargs = dict(stride=2, padding=1, output_padding=1, groups=2, dilation=1)
    check_op(lambda x, w, b: F.conv_transpose2d(x, w, b, **kwargs),
             lambda x, w, b: TF.conv_transpose2d(x, w, b, **kwargs),
             shapes=[(3, 4, 4, 5), (4, 3, 3, 3), (6,)], noncontiguous=True)


def test_conv_transpose2d_is_the_adjoint_of_conv2d():
    # <conv2d(x, W), y> = <x, conv_transpose2d(y, W)>: the defining property, with stride, padding and groups.
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 4, 9, 8)), rng.standard_normal((6, 2, 3, 3))
    y = F.conv2d(ember.tensor(x), ember.tensor(w), stride=2, padding=1, groups=2).numpy()
    u = rng.standard_normal(y.shape)
    back = F.conv_transpose2d(ember.tensor(u), ember.tensor(w), stride=2, padding=1, output_padding=(0, 1),
                              groups=2).numpy()
    assert back.shape == x.shape
    np.testing.assert_allclose(np.sum(y * u), np.sum(x * back), rtol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", [(4, 6, 1, 3, 1, 0, 0, 1), (4, 6, 2, 4, 2, 1, 1, 1), (2, 3, 1, 3, 3, 2, 1, 2)],
                         ids=str)
def test_conv_transpose1d_matches_torch(case, dtype):
    cin, cout, g, k, s, p, op, d = case
    e_fn = lambda x, w, b: F.conv_transpose1d(x, w, b, s, p, op, g, d)  # noqa: E731
    t_fn = lambda x, w, b: TF.conv_transpose1d(x, w, b, s, p, op, g, d)  # noqa: E731
    check_op(e_fn, t_fn, shapes=[(2, cin, 7), (cin, cout // g, k), (cout,)], dtype=dtype)
    check_op(e_fn, t_fn, shapes=[(cin, 7), (cin, cout // g, k), (cout,)], dtype=dtype)


# ---- the layers, with torch's weights copied in -------------------------------------------------------

LAYERS = [
    ("Conv1d", dict(in_channels=3, out_channels=4, kernel_size=3), (2, 3, 10)),
    ("Conv1d", dict(in_channels=4, out_channels=6, kernel_size=3, stride=2, padding=2, dilation=2, groups=2,
                    bias=False), (2, 4, 12)),
    ("Conv1d", dict(in_channels=3, out_channels=2, kernel_size=4, padding="same"), (3, 9)),
    ("ConvTranspose2d", dict(in_channels=4, out_channels=3, kernel_size=4, stride=2, padding=1), (2, 4, 5, 5)),
    ("ConvTranspose2d", dict(in_channels=4, out_channels=6, kernel_size=3, stride=2, padding=1, output_padding=1,
                             groups=2, bias=False, dilation=1), (2, 4, 3, 4)),
    ("ConvTranspose2d", dict(in_channels=2, out_channels=2, kernel_size=(2, 3), stride=(1, 2), dilation=2),
     (2, 3, 3)),
    ("ConvTranspose1d", dict(in_channels=3, out_channels=5, kernel_size=4, stride=2, padding=1), (2, 3, 6)),
]
PADDING_MODES = ["reflect", "replicate", "circular"]
for _mode in PADDING_MODES:
    LAYERS += [
        ("Conv2d", dict(in_channels=3, out_channels=4, kernel_size=3, padding=1, padding_mode=_mode), (2, 3, 6, 5)),
        ("Conv2d", dict(in_channels=2, out_channels=4, kernel_size=(3, 4), padding=(2, 1), stride=2, groups=2,
                        padding_mode=_mode), (2, 2, 7, 6)),
        ("Conv2d", dict(in_channels=2, out_channels=3, kernel_size=4, padding="same", dilation=2,
                        padding_mode=_mode), (1, 2, 9, 8)),
        ("Conv1d", dict(in_channels=3, out_channels=4, kernel_size=3, padding=2, padding_mode=_mode), (2, 3, 7)),
        ("Conv1d", dict(in_channels=3, out_channels=4, kernel_size=2, padding="same", padding_mode=_mode), (3, 7)),
    ]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layer", LAYERS, ids=lambda c: f"{c[0]}-{c[1]}")
def test_layer_matches_torch(layer, dtype):
    name, kwargs, shape = layer
    e_layer, t_layer = getattr(enn, name)(**kwargs), getattr(tnn, name)(**kwargs)
    assert repr(e_layer) == repr(t_layer)
    for (en, ep), (tn, tp) in zip(e_layer.named_parameters(), t_layer.named_parameters()):
        assert en == tn and tuple(ep.shape) == tuple(tp.shape)
    check_module(e_layer, t_layer, [shape], dtype=dtype)


def test_init_follows_torch_fan_in():
    # Transposed: weight (in, out/groups, k, k), fan_in = out/groups · k², as torch computes it.
    ember.manual_seed(0)
    layer = enn.ConvTranspose2d(8, 6, 3, groups=2)
    bound = 1 / np.sqrt(3 * 9)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert w.shape == (8, 3, 3, 3) and b.shape == (6,)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert np.abs(b).max() <= bound
    assert enn.Conv1d(4, 6, 5, dtype=ember.float64).weight.dtype == np.float64


@pytest.mark.parametrize("output_size", [(9, 9), (10, 10), (9, 10), [2, 4, 10, 9]])
def test_conv_transpose2d_output_size(output_size):
    t_layer = tnn.ConvTranspose2d(4, 4, 3, stride=2, padding=1).double()
    e_layer = enn.ConvTranspose2d(4, 4, 3, stride=2, padding=1)
    e_layer.load_state_dict({k: v.numpy() for k, v in t_layer.state_dict().items()})
    e_layer.to("float64")
    x = np.random.default_rng(1).standard_normal((2, 4, 5, 5))
    expected = t_layer(torch.tensor(x), output_size=output_size)
    got = e_layer(ember.tensor(x), output_size=output_size)
    assert got.shape == tuple(expected.shape)
    np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="valid sizes range from 9 to 10"):
        e_layer(ember.tensor(x), output_size=(12, 12))


def test_conv1d_stride_is_one_image_row():
    # Conv1d is the 2-D convolution of height-1 images: the same numbers as F.conv2d with a 1×k kernel.
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 3, 9)), rng.standard_normal((4, 3, 3))
    a = F.conv1d(ember.tensor(x), ember.tensor(w), stride=2, padding=1).numpy()
    b = F.conv2d(ember.tensor(x[:, :, None]), ember.tensor(w[:, :, None]), stride=(1, 2), padding=(0, 1)).numpy()
    np.testing.assert_array_equal(a, b[:, :, 0])


# ---- gradcheck -----------------------------------------------------------------------------------------


def test_gradcheck_conv_transpose2d():
    assert gradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1, groups=2),
                     (2, 4, 3, 3), (4, 2, 3, 3), (4,))
    assert gradcheck(lambda x, w: F.conv_transpose2d(x, w, stride=(1, 2), dilation=2), (1, 2, 3, 4), (2, 3, 2, 2))
    assert gradcheck(lambda x, w, b: F.conv_transpose1d(x, w, b, stride=3, padding=1, output_padding=2),
                     (2, 2, 4), (2, 3, 3), (3,))
    assert gradcheck(lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1, dilation=2), (2, 2, 9), (3, 2, 3), (3,))


# ---- errors: torch's exception types, naming the layer and the fix --------------------------------------


def test_errors():
    x = ember.ones(1, 3, 5, 5)
    with pytest.raises(RuntimeError, match=r"ConvTranspose2d\(2, 4.*expected input\[1, 3, 5, 5\] to have 2 channels"):
        enn.ConvTranspose2d(2, 4, 3)(x)
    with pytest.raises(RuntimeError, match="output padding must be smaller than either stride or dilation"):
        F.conv_transpose2d(x, ember.ones(3, 2, 3, 3), stride=2, output_padding=2)
    with pytest.raises(RuntimeError, match="output padding must be smaller"):
        enn.ConvTranspose2d(3, 2, 3, stride=2, output_padding=2)(x)  # like torch: the layer builds, forward fails
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for ConvTranspose2d'):
        enn.ConvTranspose2d(3, 2, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        enn.Conv2d(3, 2, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        enn.Conv1d(3, 2, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="Invalid padding string 'full'"):
        enn.Conv1d(3, 2, 3, padding="full")
    with pytest.raises(RuntimeError, match=r"Conv1d\(3, 2.*Expected 2D \(unbatched\) or 3D \(batched\) input"):
        enn.Conv1d(3, 2, 3)(x)
    with pytest.raises(RuntimeError, match=r"conv1d: Given groups=1, weight of size \[4, 2, 3\].*3 channels instead"):
        F.conv1d(ember.ones(2, 3, 5), ember.ones(4, 2, 3))
    with pytest.raises(ValueError, match="divisible by groups"):
        enn.ConvTranspose2d(4, 3, 3, groups=2)
    with pytest.raises(RuntimeError, match="output height would be"):
        F.conv_transpose2d(ember.ones(1, 1, 1, 1), ember.ones(1, 1, 1, 1), padding=1)
    with pytest.raises(RuntimeError, match="reflect"):  # a reflect border needs more pixels than it pads
        enn.Conv1d(1, 1, 3, padding=3, padding_mode="reflect")(ember.ones(1, 1, 3))
