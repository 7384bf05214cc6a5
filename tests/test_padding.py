"""F.pad (constant, reflect, replicate, circular) and the padding layers against torch: forward and
gradient for every mode, number of padded axes and input rank, negative (cropping) constant padding,
reprs, gradcheck of every Function in ember.ops.padding, and torch's errors."""

import numpy as np
import pytest
import torch.nn as tnn
import torch.nn.functional as TF

import ember
import ember.nn as enn
import ember.nn.functional as F
from ember.ops import padding as padding_ops
from helpers import check_module, check_op, function_classes, gradcheck

DTYPES = ["float64", "float32"]
PADS = [(1, 2), (2, 0), (0, 1, 2, 1), (1, 1, 1, 1), (2, 1, 0, 1, 1, 0)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pad", PADS, ids=str)
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_non_constant_modes_match_torch(mode, pad, dtype):
    axes = len(pad) // 2
    for ndim in (axes + 1, axes + 2):  # unbatched and batched, as torch allows
        shape = (2, 3, 4, 5, 3)[-ndim:]
        check_op(lambda x: F.pad(x, pad, mode), lambda x: TF.pad(x, pad, mode), shapes=[shape], dtype=dtype)


def test_largest_pads_each_mode_allows():
    # reflect: up to size - 1; circular: up to size; replicate: any amount.
    check_op(lambda x: F.pad(x, (3, 3), "reflect"), lambda x: TF.pad(x, (3, 3), "reflect"), shapes=[(2, 2, 4)])
    check_op(lambda x: F.pad(x, (4, 4), "circular"), lambda x: TF.pad(x, (4, 4), "circular"), shapes=[(2, 2, 4)])
    check_op(lambda x: F.pad(x, (7, 9, 5, 0), "replicate"), lambda x: TF.pad(x, (7, 9, 5, 0), "replicate"),
             shapes=[(2, 3, 4)])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pad", PADS + [(-1, 2), (1, -2, -1, 0), (1, 1, 1, 1, 1, 1, 1, 1), (0, 0, 0, 0, 2, 3)],
                         ids=str)
def test_constant_mode_matches_torch(pad, dtype):
    for value in (None, 2.5):
        check_op(lambda x: F.pad(x, pad, value=value), lambda x: TF.pad(x, pad, value=value),
                 shapes=[(2, 3, 4, 5)], dtype=dtype)
    check_op(lambda x: F.pad(x, pad, "constant", -1.0), lambda x: TF.pad(x, pad, "constant", -1.0),
             shapes=[(4, 3, 4, 5)], dtype=dtype)


def test_constant_pad_of_any_rank():
    check_op(lambda x: F.pad(x, (1, 2)), lambda x: TF.pad(x, (1, 2)), shapes=[(5,)])
    check_op(lambda x: F.pad(x, (1, 0, 0, 2, 1, 1)), lambda x: TF.pad(x, (1, 0, 0, 2, 1, 1)), shapes=[(2, 3, 4)])


LAYERS = [
    ("ZeroPad2d", (2,), (2, 3, 4, 4)),
    ("ZeroPad2d", ((1, 0, 2, -1),), (3, 4, 4)),
    ("ZeroPad1d", ((1, 3),), (2, 3, 4)),
    ("ZeroPad3d", (1,), (1, 2, 3, 3, 3)),
    ("ConstantPad2d", (1, 3.5), (2, 3, 4, 4)),
    ("ConstantPad1d", ((2, 1), -1.0), (2, 5)),
    ("ConstantPad3d", ((1, 0, 0, 1, 2, 0), 0.5), (2, 2, 3, 3)),
    ("ReflectionPad2d", ((1, 2, 3, 0),), (2, 3, 4, 4)),
    ("ReflectionPad1d", (2,), (2, 3, 5)),
    ("ReflectionPad3d", (1,), (1, 2, 3, 3, 3)),
    ("ReplicationPad2d", (3,), (2, 3, 4, 4)),
    ("ReplicationPad1d", ((0, 2),), (3, 5)),
    ("ReplicationPad3d", ((1, 0, 2, 1, 0, 1),), (2, 3, 3, 3)),
    ("CircularPad2d", (1,), (2, 3, 4, 4)),
    ("CircularPad1d", ((2, 3),), (2, 3, 5)),
    ("CircularPad3d", (1,), (1, 2, 3, 3, 3)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layer", LAYERS, ids=lambda c: f"{c[0]}{c[1]}")
def test_padding_layers_match_torch(layer, dtype):
    name, args, shape = layer
    e_layer, t_layer = getattr(enn, name)(*args), getattr(tnn, name)(*args)
    assert repr(e_layer) == repr(t_layer)
    assert e_layer.padding == t_layer.padding
    check_module(e_layer, t_layer, [shape], dtype=dtype)


def test_zero_pad_is_a_constant_pad_as_in_torch():
    assert isinstance(enn.ZeroPad2d(1), enn.ConstantPad2d) and enn.ZeroPad2d(1).value == 0.0
    assert isinstance(enn.ZeroPad1d(1), enn.ConstantPad1d)


def test_gradcheck_every_padding_function():
    assert gradcheck(lambda x: F.pad(x, (1, -1, 2, 0), value=3.0), (2, 3, 4))
    assert gradcheck(lambda x: F.pad(x, (2, 1, 1, 2), "reflect"), (2, 3, 4))
    assert gradcheck(lambda x: F.pad(x, (3, 1), "replicate"), (2, 3))
    assert gradcheck(lambda x: F.pad(x, (1, 2, 2, 1, 0, 1), "circular"), (1, 2, 3, 3))
    assert function_classes(padding_ops) == {"ConstantPad", "IndexPad"}  # the two gradchecked above


def test_errors_match_torch():
    x = ember.ones(1, 1, 3, 3)
    with pytest.raises(RuntimeError, match="Padding length must be divisible by 2"):
        F.pad(x, (1,))
    with pytest.raises(RuntimeError, match="Padding length should be less than or equal to two times the input "
                                           "dimension but got padding length 10 and input of dimension 4"):
        F.pad(x, (1, 1) * 5)
    with pytest.raises(NotImplementedError, match="Padding size 2 is not supported for 4D input tensor"):
        F.pad(x, (1, 1), mode="reflect")
    with pytest.raises(NotImplementedError, match="Unrecognised padding mode foo"):
        F.pad(x, (1, 1), mode="foo")
    with pytest.raises(RuntimeError, match='Padding mode "reflect" doesn\'t take in value argument'):
        F.pad(x, (1, 1, 1, 1), mode="reflect", value=2)
    with pytest.raises(RuntimeError, match=r"Padding size should be less than the corresponding input dimension.*"
                                           r"\(3, 3\) at dimension 3"):
        F.pad(x, (3, 3, 0, 0), mode="reflect")
    with pytest.raises(RuntimeError, match="wrapping around more than once"):
        F.pad(x, (4, 0, 0, 0), mode="circular")
    with pytest.raises(ValueError, match="ReflectionPad2d: padding must be an int or a tuple of 4 ints"):
        enn.ReflectionPad2d((1, 2))
    out = F.pad(ember.ones(2, 3), (1, 1), value=7.0)
    assert out.dtype == np.float32 and out.numpy()[0, 0] == 7.0
