"""im2col as a layer: ``unfold`` extracts every sliding patch as a column, ``fold`` sums columns back into an
image (its adjoint), with torch's shapes; and the sub-pixel rearrangements ``pixel_shuffle`` /
``pixel_unshuffle`` / ``channel_shuffle``.

unfold and fold are the very im2col and col2im of ember/ops/conv.py, each the other's backward:

    unfold:  x (N, C, H, W)      -> cols (N, C·KH·KW, L),  L = OH·OW patches    (im2col; backward col2im)
    fold:    cols (N, C·KH·KW, L) -> x (N, C, H, W), overlaps summed             (col2im; backward im2col)
"""

from ..autograd.function import Function
from ..backend import xp
from .conv import batch_last_padded, col2im, im2col
from .window import output_size, pair
from .validate import tensor_input


def _geometry(name, kernel_size, dilation, padding, stride):
    kernel, dilation, padding, stride = (pair(v) for v in (kernel_size, dilation, padding, stride))
    for label, value, low in (("kernel_size", kernel, 1), ("dilation", dilation, 1), ("padding", padding, 0),
                              ("stride", stride, 1)):
        if min(value) < low:
            raise RuntimeError(f"{name}: {label} should be {'greater than zero' if low else 'non-negative'}, "
                               f"but got {label}: {value}")
    return kernel, dilation, padding, stride


class Unfold(Function):
    """cols[n, (c, i, j), (y, x)] = x_pad[n, c, s·y + d·i, s·x + d·j];  backward: col2im (overlaps add up)."""

    @staticmethod
    def forward(ctx, x, kernel, dilation, padding, stride):
        n, c, h, w = x.shape
        out_hw = tuple(output_size(size, k, s, p, p, d, layer="unfold", axis=axis)
                       for size, k, s, p, d, axis in zip((h, w), kernel, stride, padding, dilation, ("height", "width")))
        pads = (padding[0], padding[0], padding[1], padding[1])
        x_pad = batch_last_padded(x, pads)                                   # (C, Hp, Wp, N)
        cols = im2col(x_pad, kernel, out_hw, stride, dilation)               # (C·KH·KW, L·N)
        ctx.save(x.shape, x_pad.shape, kernel, out_hw, stride, dilation, padding)
        return cols.reshape(cols.shape[0], -1, n).transpose(2, 0, 1)        # (N, C·KH·KW, L)

    @staticmethod
    def backward(ctx, grad):
        x_shape, padded_shape, kernel, out_hw, stride, dilation, padding = ctx.saved
        n, c, h, w = x_shape
        cols = xp.ascontiguousarray(grad.transpose(1, 2, 0)).reshape(grad.shape[1], -1)   # (C·KH·KW, L·N)
        dx = col2im(cols, padded_shape, kernel, out_hw, stride, dilation)                  # (C, Hp, Wp, N)
        top, left = padding
        return dx[:, top:top + h, left:left + w, :].transpose(3, 0, 1, 2)


class Fold(Function):
    """x[n, c, s·y + d·i - p, s·x + d·j - p] += cols[n, (c, i, j), (y, x)]  (col2im);  backward: im2col."""

    @staticmethod
    def forward(ctx, cols, output_hw, kernel, dilation, padding, stride):
        n, ckk, length = cols.shape
        c = ckk // (kernel[0] * kernel[1])
        h, w = output_hw
        padded_shape = (c, h + 2 * padding[0], w + 2 * padding[1], n)
        out_hw = tuple(output_size(size, k, s, p, p, d, layer="fold", axis=axis)
                       for size, k, s, p, d, axis in zip((h, w), kernel, stride, padding, dilation, ("height", "width")))
        if out_hw[0] * out_hw[1] != length:
            raise RuntimeError(f"fold: expected input's size at dim 2 to match the calculated number of sliding "
                               f"blocks {out_hw[0]} * {out_hw[1]} = {out_hw[0] * out_hw[1]}, but got {length}")
        flat = xp.ascontiguousarray(cols.transpose(1, 2, 0)).reshape(ckk, -1)             # (C·KH·KW, L·N)
        padded = col2im(flat, padded_shape, kernel, out_hw, stride, dilation)             # (C, Hp, Wp, N)
        ctx.save(padded_shape, kernel, out_hw, stride, dilation)
        return padded[:, padding[0]:padding[0] + h, padding[1]:padding[1] + w, :].transpose(3, 0, 1, 2)

    @staticmethod
    def backward(ctx, grad):
        padded_shape, kernel, out_hw, stride, dilation = ctx.saved
        c, hp, wp, n = padded_shape
        top, left = (hp - grad.shape[2]) // 2, (wp - grad.shape[3]) // 2
        g_pad = batch_last_padded(grad, (top, top, left, left))
        cols = im2col(g_pad, kernel, out_hw, stride, dilation)
        return cols.reshape(cols.shape[0], -1, n).transpose(2, 0, 1), None


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Every sliding (KH, KW) patch of (N, C, H, W) (or (C, H, W)) as a column: (N, C·KH·KW, L)."""
    geometry = _geometry("unfold", kernel_size, dilation, padding, stride)
    if input.ndim not in (3, 4):
        raise RuntimeError(f"unfold: expected a 3D (unbatched) or 4D (batched) input, got {input.ndim}D "
                           f"of shape {tuple(input.shape)}")
    if input.ndim == 3:
        return Unfold.apply(input.unsqueeze(0), *geometry).squeeze(0)
    return Unfold.apply(input, *geometry)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The adjoint of unfold: sum columns (N, C·KH·KW, L) (or (C·KH·KW, L)) back into (N, C, H, W)."""
    kernel, dilation, padding, stride = _geometry("fold", kernel_size, dilation, padding, stride)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"fold: expected a 2D (unbatched) or 3D (batched) input, got {input.ndim}D "
                           f"of shape {tuple(input.shape)}")
    ckk = input.shape[-2]
    if ckk % (kernel[0] * kernel[1]):
        raise RuntimeError(f"fold: expected size of input's dimension 1 to be divisible by the product of "
                           f"kernel_size, but got input.size(1)={ckk} and kernel_size={kernel}")
    out = pair(output_size)
    if input.ndim == 2:
        return Fold.apply(input.unsqueeze(0), out, kernel, dilation, padding, stride).squeeze(0)
    return Fold.apply(input, out, kernel, dilation, padding, stride)


def pixel_shuffle(input, upscale_factor):
    """(*, C·r², H, W) -> (*, C, H·r, W·r): out[c, h·r + i, w·r + j] = in[c·r² + i·r + j, h, w] (sub-pixel conv)."""
    r = int(upscale_factor)
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got upscale_factor={upscale_factor}")
    if tensor_input(input, "pixel_shuffle").ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions (*, C, H, W), but got input of "
                           f"shape {tuple(input.shape)}")
    *batch, c, h, w = input.shape
    if input.ndim < 3 or c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={c if input.ndim >= 3 else None} is not divisible by "
                           f"{r * r}")
    k = len(batch)
    x = input.reshape(*batch, c // (r * r), r, r, h, w)
    x = x.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)                  # (*, C, H, r, W, r)
    return x.reshape(*batch, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H·r, W·r) -> (*, C·r², H, W): the inverse of pixel_shuffle."""
    r = int(downscale_factor)
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got downscale_factor="
                           f"{downscale_factor}")
    if tensor_input(input, "pixel_unshuffle").ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions (*, C, H, W), but got input "
                           f"of shape {tuple(input.shape)}")
    *batch, c, h, w = input.shape
    if h % r or w % r:
        raise RuntimeError(f"pixel_unshuffle expects height ({h}) and width ({w}) to be divisible by "
                           f"downscale_factor ({r})")
    k = len(batch)
    x = input.reshape(*batch, c, h // r, r, w // r, r)
    x = x.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)                  # (*, C, r, r, H, W)
    return x.reshape(*batch, c * r * r, h // r, w // r)


def channel_shuffle(input, groups):
    """(N, g·k, *) -> (N, k·g, *): channel (i, j) goes to (j, i), mixing the groups of a grouped conv (ShuffleNet)."""
    if groups <= 0:
        raise RuntimeError(f"channel_shuffle: Number of groups to divide channels in must be positive, got "
                           f"groups={groups}")
    n, c, *rest = input.shape
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels and {groups} groups.")
    x = input.reshape(n, groups, c // groups, *rest)
    return x.transpose(1, 2).reshape(n, c, *rest)
