"""Resampling against torch: F.interpolate and nn.Upsample, modes 'nearest' (torch's legacy nearest) and
'bilinear' (align_corners False and True), forward and backward, float64 and float32, over sizes and scale
factors: integer up-sampling (the strided-slice backward), non-integer factors (where the given factor, not the
ratio of the sizes, maps the coordinates), down-sampling, the identity, 1×1, every output size for small
inputs (nearest's float32 index arithmetic must pick torch's very index); recompute_scale_factor; strided
inputs; errors and repr; gradcheck of every Function in resample.py."""

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import ember
import ember.nn as enn
import ember.nn.functional as F
from ember.ops import resample
from helpers import check_module, check_op, function_classes, gradcheck, random_array

DTYPES = ["float64", "float32"]
MODES = [("nearest", None), ("bilinear", False), ("bilinear", True)]
MODE_IDS = ["nearest", "bilinear", "bilinear-corners"]

# (input shape, keyword arguments of interpolate)
CASES = {
    "x2": ((2, 3, 4, 5), dict(scale_factor=2)),
    "x3": ((1, 2, 3, 4), dict(scale_factor=3)),
    "(2, 3)": ((1, 2, 3, 4), dict(scale_factor=(2, 3))),
    "x1.5": ((2, 2, 5, 4), dict(scale_factor=1.5)),  # 5 -> 7: the factor maps, not 5/7
    "x2.5": ((1, 2, 3, 5), dict(scale_factor=2.5)),
    "x1.7 x0.6": ((1, 2, 6, 5), dict(scale_factor=(1.7, 0.6))),
    "x0.5": ((2, 2, 6, 8), dict(scale_factor=0.5)),
    "x0.4": ((1, 2, 7, 6), dict(scale_factor=0.4)),
    "x1.2 stays 3 (identity)": ((1, 2, 3, 3), dict(scale_factor=1.2)),
    "x1 identity": ((1, 2, 3, 4), dict(scale_factor=1)),
    "size int": ((2, 2, 3, 4), dict(size=6)),
    "size up (7, 5)": ((1, 3, 4, 3), dict(size=(7, 5))),
    "size down (3, 2)": ((1, 2, 7, 5), dict(size=(3, 2))),
    "size mixed (2, 9)": ((1, 2, 5, 4), dict(size=(2, 9))),
    "size 1x1": ((2, 2, 4, 3), dict(size=1)),
    "from 1x1": ((2, 2, 1, 1), dict(size=(3, 2))),
    "size = input": ((1, 2, 3, 4), dict(size=(3, 4))),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
@pytest.mark.parametrize("case", list(CASES))
def test_interpolate_matches_torch(case, mode, dtype):
    shape, kwargs = CASES[case]
    kw = dict(kwargs, mode=mode[0], align_corners=mode[1])
    (out,) = check_op(lambda x: F.interpolate(x, **kw), lambda x: TF.interpolate(x, **kw), shapes=[shape], dtype=dtype)
    assert out.dtype == np.dtype(dtype)


@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
def test_every_output_size_of_small_inputs(mode):
    # Every pair n ≤ 6 -> m ≤ 13 on one axis, forward and backward: up, down, identity, 1.
    kw = dict(mode=mode[0], align_corners=mode[1])
    for n in range(1, 7):
        for m in range(1, 14):
            check_op(lambda x, m=m: F.interpolate(x, size=(m, 2), **kw),
                     lambda x, m=m: TF.interpolate(x, size=(m, 2), **kw), shapes=[(1, 1, n, 2)])


@pytest.mark.parametrize("dtype", DTYPES)
def test_nearest_index_is_torchs_float32_arithmetic(dtype):
    # torch computes nearest's src = ⌊i · s⌋ with s and the product in float32; in float64 these sizes
    # and factors would pick a neighbouring row for some outputs (26 -> 22: output row 11 reads row 12 in
    # float32, as torch, but row 13 = 11 · 26/22 exactly in float64).
    for n, kw in [(6, dict(size=(74, 1))), (26, dict(size=(22, 1))), (30, dict(size=(22, 1))), (39, dict(size=(33, 1))),
                  (2, dict(scale_factor=(2.2, 1))), (3, dict(scale_factor=(2.2, 1))), (4, dict(scale_factor=(2.2, 1)))]:
        check_op(lambda x, kw=kw: F.interpolate(x, **kw), lambda x, kw=kw: TF.interpolate(x, **kw),
                 shapes=[(1, 1, n, 1)], dtype=dtype)


@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
def test_non_integer_scale_factors(mode):
    kw = dict(mode=mode[0], align_corners=mode[1])
    for n in (1, 3, 5, 7, 10):
        for s in (0.3, 0.7, 1.3, 1.9, 2.2, 3.3, 1 / 3):
            if int(n * s) < 1:
                continue
            check_op(lambda x, s=s: F.interpolate(x, scale_factor=(s, 1), **kw),
                     lambda x, s=s: TF.interpolate(x, scale_factor=(s, 1), **kw), shapes=[(1, 1, n, 2)])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
def test_recompute_scale_factor(mode, dtype):
    kw = dict(scale_factor=(1.5, 2.7), mode=mode[0], align_corners=mode[1], recompute_scale_factor=True)
    check_op(lambda x: F.interpolate(x, **kw), lambda x: TF.interpolate(x, **kw), shapes=[(1, 2, 5, 3)], dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
def test_noncontiguous_input(mode, dtype):
    x = random_array((5, 4, 3, 2), dtype, np.random.default_rng(4)).transpose(3, 2, 1, 0)  # (2, 3, 4, 5), strided
    for kw in (dict(scale_factor=2), dict(size=(3, 7))):
        kw = dict(kw, mode=mode[0], align_corners=mode[1])
        check_op(lambda t, kw=kw: F.interpolate(t, **kw), lambda t, kw=kw: TF.interpolate(t, **kw), arrays=[x],
                 dtype=dtype, noncontiguous=True)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs", [dict(scale_factor=2), dict(scale_factor=2, mode="bilinear"),
                                    dict(scale_factor=(1.5, 2.0), mode="bilinear", align_corners=True),
                                    dict(size=(5, 3)), dict(size=4, mode="bilinear", align_corners=False)], ids=str)
def test_upsample_module_matches_torch(kwargs, dtype):
    out = check_module(enn.Upsample(**kwargs), tnn.Upsample(**kwargs), [(2, 3, 4, 3)], dtype=dtype)
    assert out.dtype == np.dtype(dtype)


def test_upsample_in_a_model_with_a_conv():
    # The soft-mask branch's pattern: conv -> upsample -> add the trunk; gradient reaches the conv weights.
    torch.manual_seed(0)
    t_net = tnn.Sequential(tnn.Conv2d(2, 3, 3, padding=1), tnn.Upsample(scale_factor=2, mode="bilinear"))
    e_net = enn.Sequential(enn.Conv2d(2, 3, 3, padding=1), enn.Upsample(scale_factor=2, mode="bilinear"))
    check_module(e_net, t_net, [(2, 2, 3, 4)])


def test_bilinear_by_hand():
    # align_corners=True, 2 -> 3: the middle row/column is the average of its two neighbours.
    x = np.array([[[[1.0, 3.0], [5.0, 7.0]]]])
    out = F.interpolate(ember.tensor(x), size=3, mode="bilinear", align_corners=True).numpy()[0, 0]
    np.testing.assert_allclose(out, [[1, 2, 3], [3, 4, 5], [5, 6, 7]], rtol=1e-15)
    # align_corners=False, 2 -> 4: centres at -0.25, 0.25, 0.75, 1.25 of the input; the ends are clamped.
    out = F.interpolate(ember.tensor(x), size=(1, 4), mode="bilinear").numpy()[0, 0, 0]
    np.testing.assert_allclose(out, [3.0, 3.5, 4.5, 5.0], rtol=1e-15)


def test_nearest_by_hand_and_gradient_counts():
    x = ember.tensor(np.arange(6.0).reshape(1, 1, 2, 3), requires_grad=True)
    out = F.interpolate(x, scale_factor=2)
    np.testing.assert_array_equal(out.detach().numpy()[0, 0], np.repeat(np.repeat([[0, 1, 2], [3, 4, 5]], 2, 0), 2, 1))
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((1, 1, 2, 3), 4.0))  # each pixel copied 4 times


def test_no_graph_under_no_grad():
    x = ember.tensor(random_array((1, 2, 3, 3)), requires_grad=True)
    with ember.no_grad():
        for mode in ("nearest", "bilinear"):
            assert not F.interpolate(x, scale_factor=2, mode=mode).requires_grad


# ---- errors -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(3, 4, 4), (2, 3, 4), (1, 2, 3, 4, 5)], ids=str)
def test_wrong_ndim_names_the_layer_and_the_shape(shape):
    layer = enn.Upsample(scale_factor=2)
    pattern = str(shape).replace("(", r"\(").replace(")", r"\)")
    with pytest.raises(ValueError, match=r"Upsample\(scale_factor=2.0, mode='nearest'\): expected a 4-D input .*"
                       + pattern):
        layer(ember.ones(*shape))
    with pytest.raises(ValueError, match="interpolate: expected a 4-D input"):
        F.interpolate(ember.ones(*shape), size=3, mode="bilinear")


def test_size_and_scale_factor():
    x = ember.ones(1, 1, 2, 2)
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        F.interpolate(x, size=4, scale_factor=2)
    with pytest.raises(ValueError, match="Upsample: only one of size or scale_factor"):
        enn.Upsample(size=4, scale_factor=2)
    with pytest.raises(ValueError, match="either size or scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="Upsample: either size or scale_factor"):
        enn.Upsample()
    with pytest.raises(ValueError, match="pair"):
        F.interpolate(x, size=(2, 3, 4))
    with pytest.raises(ValueError, match="pair"):
        F.interpolate(x, scale_factor=[2])
    with pytest.raises(ValueError, match="size must be an int"):
        F.interpolate(x, size=2.5)
    with pytest.raises(ValueError, match="scale_factor must be a positive number"):
        F.interpolate(x, scale_factor=-2)
    with pytest.raises(ValueError, match="greater than 0"):
        F.interpolate(x, scale_factor=0.3)  # ⌊2 · 0.3⌋ = 0
    with pytest.raises(ValueError, match="recompute_scale_factor is not meaningful"):
        F.interpolate(x, size=4, recompute_scale_factor=True)


@pytest.mark.parametrize("mode", ["bicubic", "area", "nearest-exact", "linear", "Bilinear"])
def test_unsupported_mode(mode):
    with pytest.raises(ValueError, match=f"mode '{mode}' is not supported"):
        F.interpolate(ember.ones(1, 1, 2, 2), scale_factor=2, mode=mode)
    with pytest.raises(ValueError, match=f"Upsample: mode '{mode}' is not supported"):
        enn.Upsample(scale_factor=2, mode=mode)


def test_align_corners_only_with_bilinear():
    for ac in (True, False):
        with pytest.raises(ValueError, match="align_corners"):
            F.interpolate(ember.ones(1, 1, 2, 2), scale_factor=2, align_corners=ac)
        with pytest.raises(ValueError, match="align_corners"):
            TF.interpolate(torch.ones(1, 1, 2, 2), scale_factor=2, align_corners=ac)  # torch agrees
        with pytest.raises(ValueError, match="align_corners"):
            enn.Upsample(scale_factor=2, mode="nearest", align_corners=ac)


def test_repr_matches_torch():
    for kwargs in (dict(scale_factor=2), dict(scale_factor=1.5, mode="bilinear"), dict(size=(4, 5)),
                   dict(size=7, mode="bilinear", align_corners=True), dict(scale_factor=(2, 3))):
        assert repr(enn.Upsample(**kwargs)) == repr(tnn.Upsample(**kwargs))


# ---- gradcheck of every Function in resample.py ----------------------------------------------------------


GRADCHECK = {
    "UpsampleNearest2d": [
        (lambda x: F.interpolate(x, scale_factor=2), (1, 2, 2, 3)),  # integer factor: the strided-slice backward
        (lambda x: F.interpolate(x, scale_factor=(1.5, 0.7)), (2, 1, 3, 4)),  # the one-hot matrix backward
        (lambda x: F.interpolate(x, size=(2, 5)), (1, 1, 4, 3)),
    ],
    "UpsampleBilinear2d": [
        (lambda x: F.interpolate(x, scale_factor=2, mode="bilinear"), (1, 2, 2, 3)),
        (lambda x: F.interpolate(x, size=(5, 2), mode="bilinear", align_corners=True), (2, 1, 3, 4)),
        (lambda x: F.interpolate(x, scale_factor=(0.6, 1.7), mode="bilinear"), (1, 1, 5, 2)),
    ],
}


@pytest.mark.parametrize("name", list(GRADCHECK))
def test_gradcheck(name):
    for fn, shape in GRADCHECK[name]:
        assert gradcheck(fn, shape)


def test_every_resample_function_is_gradchecked():
    assert function_classes(resample) == set(GRADCHECK)
