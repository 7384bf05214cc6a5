"""Spatial transformers (Jaderberg et al., 2015): ``affine_grid`` turns a batch of 2×3 affine matrices into
sampling grids, and ``grid_sample`` reads an image at those (fractional) positions, with torch's coordinate
conventions: grid values in [-1, 1], x (width) first, ``align_corners`` choosing whether -1/1 are the
centres (True) or the outer edges (False) of the corner pixels.

Bilinear sampling at (ix, iy), x0 = ⌊ix⌋, wx = ix - x0 (likewise y):

    out = v00 (1-wx)(1-wy) + v01 wx (1-wy) + v10 (1-wx) wy + v11 wx wy      (vyx: the 4 neighbours)
    ∂out/∂ix = (v01 - v00)(1-wy) + (v11 - v10) wy,   ∂out/∂iy = (v10 - v00)(1-wx) + (v11 - v01) wx
    ∂input   = the upstream gradient scattered back with the same 4 weights

Out-of-range neighbours read 0 (padding_mode='zeros') or the coordinate is first clipped into the image
('border', whose clip has zero gradient outside, as torch's).
"""

import warnings

from ..autograd.function import Function
from ..backend import xp
from ..tensor import Tensor

_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. "
                  "Please specify align_corners=True if the old behavior is desired. See the documentation of "
                  "grid_sample for details.")


def _unnormalize(coord, size, align_corners):
    """[-1, 1] -> pixel index; returns the index and d index / d coord."""
    if align_corners:
        return (coord + 1) / 2 * (size - 1), (size - 1) / 2
    return ((coord + 1) * size - 1) / 2, size / 2


class GridSample(Function):
    """out[n, c, h, w] = input[n, c] sampled at grid[n, h, w] = (x, y) (bilinear or nearest)."""

    @staticmethod
    def forward(ctx, x, grid, mode, padding_mode, align_corners):
        n, c, h, w = x.shape
        ix, sx = _unnormalize(grid[..., 0], w, align_corners)   # (N, Ho, Wo)
        iy, sy = _unnormalize(grid[..., 1], h, align_corners)
        gx = xp.full(ix.shape, sx, dtype=x.dtype)
        gy = xp.full(iy.shape, sy, dtype=x.dtype)
        if padding_mode == "border":
            gx = xp.where((ix > 0) & (ix < w - 1), gx, 0)  # clipped coordinates do not move
            gy = xp.where((iy > 0) & (iy < h - 1), gy, 0)
            ix, iy = xp.clip(ix, 0, w - 1), xp.clip(iy, 0, h - 1)
        batch = xp.arange(n)[:, None, None]
        if mode == "nearest":
            corners = [(xp.rint(iy).astype(xp.int64), xp.rint(ix).astype(xp.int64), None)]
        else:
            x0, y0 = xp.floor(ix), xp.floor(iy)
            wx, wy = (ix - x0).astype(x.dtype), (iy - y0).astype(x.dtype)
            x0, y0 = x0.astype(xp.int64), y0.astype(xp.int64)
            corners = [(y0, x0, (1 - wy) * (1 - wx)), (y0, x0 + 1, (1 - wy) * wx),
                       (y0 + 1, x0, wy * (1 - wx)), (y0 + 1, x0 + 1, wy * wx)]
        out = xp.zeros((n, c) + ix.shape[1:], dtype=x.dtype)
        taps = []
        for yy, xx, weight in corners:
            inside = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
            yc, xc = xp.clip(yy, 0, h - 1), xp.clip(xx, 0, w - 1)
            v = x[batch, :, yc, xc]                       # (N, Ho, Wo, C)
            v = xp.where(inside[..., None], v, 0).transpose(0, 3, 1, 2)   # (N, C, Ho, Wo)
            out += v if weight is None else v * weight[:, None]
            taps.append((yc, xc, inside, weight, v))
        ctx.save(x.shape, taps, mode, gx, gy, batch)
        return out

    @staticmethod
    def backward(ctx, grad):
        x_shape, taps, mode, gx, gy, batch = ctx.saved
        n, c, h, w = x_shape
        dx = None
        if ctx.needs_input_grad[0]:
            dx = xp.zeros((n, h, w, c), dtype=grad.dtype)
            g = grad.transpose(0, 2, 3, 1)                  # (N, Ho, Wo, C)
            for yc, xc, inside, weight, _ in taps:
                contrib = g if weight is None else g * weight[..., None]
                contrib = xp.where(inside[..., None], contrib, 0)
                xp.add.at(dx, (xp.broadcast_to(batch, yc.shape), yc, xc), contrib)
            dx = dx.transpose(0, 3, 1, 2)
        dgrid = None
        if ctx.needs_input_grad[1]:
            dgrid = xp.zeros(gx.shape + (2,), dtype=grad.dtype)
            if mode == "bilinear":
                (_, _, _, w00, v00), (_, _, _, w01, v01), (_, _, _, w10, v10), (_, _, _, w11, v11) = taps
                wy1 = w10 + w11                      # wy
                wx1 = w01 + w11                      # wx
                d_ix = ((v01 - v00) * (1 - wy1)[:, None] + (v11 - v10) * wy1[:, None])
                d_iy = ((v10 - v00) * (1 - wx1)[:, None] + (v11 - v01) * wx1[:, None])
                dgrid[..., 0] = (grad * d_ix).sum(1) * gx
                dgrid[..., 1] = (grad * d_iy).sum(1) * gy
        return dx, dgrid


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample (N, C, H, W) at the (N, Ho, Wo, 2) grid of normalised (x, y) positions -> (N, C, Ho, Wo)."""
    if mode not in ("bilinear", "nearest"):
        raise NotImplementedError(f"grid_sample: mode '{mode}' is not supported by Ember (use 'bilinear' or "
                                  "'nearest')" if mode == "bicubic" else
                                  f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or "
                                  f"'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border"):
        raise NotImplementedError(f"grid_sample: padding_mode '{padding_mode}' is not supported by Ember (use "
                                  "'zeros' or 'border')" if padding_mode == "reflection" else
                                  f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                                  f"'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, UserWarning, stacklevel=2)
        align_corners = False
    if input.ndim != 4 or grid.ndim != 4 or grid.shape[-1] != 2 or grid.shape[0] != input.shape[0]:
        raise RuntimeError(f"grid_sample: expected a 4D input (N, C, H, W) and a grid (N, H_out, W_out, 2) with the "
                           f"same N, got input {tuple(input.shape)} and grid {tuple(grid.shape)}")
    return GridSample.apply(input, grid, mode, padding_mode, bool(align_corners))


def _base_grid(h, w, align_corners, dtype):
    """(H, W, 3) rows of (x, y, 1) at the pixel centres in normalised coordinates."""
    def line(size):
        if size <= 1:
            return xp.zeros(max(size, 0), dtype=dtype)
        v = xp.linspace(-1, 1, size, dtype=dtype)
        return v if align_corners else v * (size - 1) / size
    base = xp.ones((h, w, 3), dtype=dtype)
    base[..., 0] = line(w)[None, :]
    base[..., 1] = line(h)[:, None]
    return base


def affine_grid(theta, size, align_corners=None):
    """The (N, H, W, 2) sampling grid of the affine maps θ (N, 2, 3) for an output of ``size`` (N, C, H, W):
    grid[n, h, w] = θ_n · (x_w, y_h, 1)."""
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, UserWarning, stacklevel=2)
        align_corners = False
    size = tuple(int(s) for s in size)
    if len(size) != 4:
        raise NotImplementedError(f"affine_grid only supports 4D sizes, for 2D affine transformations; got size "
                                  f"{size}" + (" (3D/5D grids are not supported by Ember)" if len(size) == 5 else ""))
    n, _, h, w = size
    if theta.ndim != 3 or tuple(theta.shape[1:]) != (2, 3) or theta.shape[0] != n:
        raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {size}. Got "
                         f"{tuple(theta.shape)}.")
    base = Tensor(_base_grid(h, w, align_corners, theta.dtype).reshape(1, h * w, 3))
    return (base @ theta.transpose(1, 2)).reshape(n, h, w, 2)          # (N, H·W, 3) @ (N, 3, 2)
