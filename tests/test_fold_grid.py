"""F.unfold/F.fold (im2col/col2im as layers), pixel/channel shuffles, F.affine_grid/F.grid_sample against
torch: forward and every gradient in float64 and float32, the layers, float64 gradchecks, errors."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn as enn
import ember.nn.functional as F
from ember.ops import fold as fold_ops
from ember.ops import grid_sample as grid_ops
from tests.helpers import check_op, function_classes, gradcheck

GEOMETRIES = [dict(kernel_size=2), dict(kernel_size=(2, 3), stride=2, padding=1, dilation=(1, 2)),
              dict(kernel_size=3, padding=(0, 2), stride=(1, 3))]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kw", GEOMETRIES, ids=str)
def test_unfold_and_fold(kw, dtype):
    check_op(lambda a: F.unfold(a, **kw), lambda a: TF.unfold(a, **kw), [(2, 3, 6, 7)], dtype=dtype)
    check_op(lambda a: F.unfold(a, **kw), lambda a: TF.unfold(a, **kw), [(3, 6, 7)], dtype=dtype)
    length = TF.unfold(torch.zeros(1, 3, 6, 7), **kw).shape[-1]
    k = np.prod(np.broadcast_to(kw["kernel_size"], 2))
    check_op(lambda a: F.fold(a, (6, 7), **kw), lambda a: TF.fold(a, (6, 7), **kw), [(2, 3 * k, length)], dtype=dtype)
    check_op(lambda a: F.fold(a, (6, 7), **kw), lambda a: TF.fold(a, (6, 7), **kw), [(3 * k, length)], dtype=dtype)


def test_fold_of_unfold_counts_overlaps():
    x = np.random.default_rng(0).standard_normal((1, 2, 5, 5))
    e = F.fold(F.unfold(ember.tensor(x), 3, padding=1), 5, 3, padding=1)
    t = TF.fold(TF.unfold(torch.tensor(x), 3, padding=1), 5, 3, padding=1)
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-12)


def test_fold_errors():
    with pytest.raises(RuntimeError, match="sliding blocks"):
        F.fold(ember.zeros(1, 4, 5), (4, 4), 2)
    with pytest.raises(RuntimeError, match="divisible"):
        F.fold(ember.zeros(1, 5, 9), (4, 4), 2)
    with pytest.raises(RuntimeError, match="3D .* or 4D"):
        F.unfold(ember.zeros(5, 5), 2)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_shuffles(dtype):
    check_op(lambda a: F.pixel_shuffle(a, 2), lambda a: TF.pixel_shuffle(a, 2), [(2, 8, 3, 4)], dtype=dtype)
    check_op(lambda a: F.pixel_shuffle(a, 3), lambda a: TF.pixel_shuffle(a, 3), [(9, 2, 3)], dtype=dtype)
    check_op(lambda a: F.pixel_unshuffle(a, 2), lambda a: TF.pixel_unshuffle(a, 2), [(2, 2, 6, 4)], dtype=dtype)
    check_op(lambda a: F.channel_shuffle(a, 3), lambda a: TF.channel_shuffle(a, 3), [(2, 6, 3, 4)], dtype=dtype)
    with pytest.raises(RuntimeError, match="divisible"):
        F.pixel_shuffle(ember.zeros(1, 3, 2, 2), 2)


def test_layers_match_torch():
    x = np.random.default_rng(1).standard_normal((2, 8, 4, 6))
    pairs = [(enn.Unfold(2, stride=2), torch.nn.Unfold(2, stride=2)), (enn.PixelShuffle(2), torch.nn.PixelShuffle(2)),
             (enn.PixelUnshuffle(2), torch.nn.PixelUnshuffle(2)), (enn.ChannelShuffle(4), torch.nn.ChannelShuffle(4))]
    for e_layer, t_layer in pairs:
        np.testing.assert_allclose(e_layer(ember.tensor(x)).numpy(), t_layer(torch.tensor(x)).numpy(), rtol=1e-12)
        assert repr(e_layer) == repr(t_layer)
    cols = np.random.default_rng(2).standard_normal((2, 12, 6))
    e, t = enn.Fold((4, 6), 2, stride=2), torch.nn.Fold((4, 6), 2, stride=2)
    np.testing.assert_allclose(e(ember.tensor(cols)).numpy(), t(torch.tensor(cols)).numpy(), rtol=1e-12)
    assert repr(e) == repr(t)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("align_corners", [True, False])
@pytest.mark.parametrize("padding_mode", ["zeros", "border"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_grid_sample(mode, padding_mode, align_corners, dtype):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 6, 7)).astype(dtype)
    grid = rng.uniform(-1.3, 1.3, (2, 4, 5, 2)).astype(dtype)  # some points fall outside the image
    check_op(lambda a, g: F.grid_sample(a, g, mode, padding_mode, align_corners),
             lambda a, g: TF.grid_sample(a, g, mode, padding_mode, align_corners), arrays=[x, grid], dtype=dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("align_corners", [True, False])
def test_affine_grid(align_corners, dtype):
    for size in [(2, 3, 4, 5), (2, 1, 1, 3)]:
        check_op(lambda t: F.affine_grid(t, size, align_corners), lambda t: TF.affine_grid(t, size, align_corners),
                 [(2, 2, 3)], dtype=dtype)


def test_spatial_transformer_pipeline_matches_torch():
    """The tutorial's pattern: a predicted θ, affine_grid, grid_sample, a loss; gradients reach θ and the image."""
    rng = np.random.default_rng(4)
    x, theta = rng.standard_normal((2, 1, 8, 8)), np.tile([[0.87, 0.13, 0.031], [-0.11, 1.07, 0.017]], (2, 1, 1))  # no point on a pixel: a kink

    def pipeline(lib, fn, a, t):
        return fn.grid_sample(a, fn.affine_grid(t, a.size(), align_corners=False), align_corners=False).sum()

    check_op(lambda a, t: pipeline(ember, F, a, t), lambda a, t: pipeline(torch, TF, a, t), arrays=[x, theta])


def test_align_corners_default_warns_as_torch():
    with pytest.warns(UserWarning, match="align_corners=False"):
        F.affine_grid(ember.zeros(1, 2, 3), (1, 1, 2, 2))
    with pytest.raises(NotImplementedError, match="reflection"):
        F.grid_sample(ember.zeros(1, 1, 2, 2), ember.zeros(1, 2, 2, 2), padding_mode="reflection", align_corners=True)


def test_every_function_is_gradchecked():
    assert function_classes(fold_ops) == {"Unfold", "Fold"}
    assert function_classes(grid_ops) == {"GridSample"}
    assert gradcheck(lambda a: F.unfold(a, 2, padding=1, stride=2), (1, 2, 4, 5))
    assert gradcheck(lambda a: F.fold(a, (4, 5), 2, padding=1, stride=2), (1, 8, 9))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert gradcheck(lambda a, g: F.grid_sample(a * 1, g * 0.9), (1, 2, 4, 5), (1, 3, 3, 2))
        assert gradcheck(lambda a, g: F.grid_sample(a, g * 0.9, padding_mode="border", align_corners=True),
                         (1, 2, 4, 5), (1, 3, 3, 2))
