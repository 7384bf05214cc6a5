"""Padding: ``F.pad(input, pad, mode, value)`` with PyTorch's four modes.

``pad`` lists (before, after) pairs starting from the LAST axis: (left, right, top, bottom, front, back).

    constant   x surrounded by ``value`` (negative amounts crop instead)      [a b c] -> 0 0 | a b c | 0 0
    reflect    mirrored about the edge pixel, which is not repeated          [a b c] -> c b | a b c | b a
    replicate  the edge pixel repeated                                       [a b c] -> a a | a b c | c c
    circular   wrapped around, as if the signal were periodic                [a b c] -> b c | a b c | a b

Constant padding's backward crops the gradient back out. The other three are gathers along each padded
axis (out = x[..., index]); their backward is the adjoint: the centre of the gradient is copied, and the
gradient of each padded position (only a few per axis) is added onto the pixel it copied.
"""

from ..autograd.function import Function
from ..backend import xp


class ConstantPad(Function):
    """y = x placed inside a block of ``value`` (amounts per axis, negative = crop);  dx = the same window of g."""

    @staticmethod
    def forward(ctx, x, amounts, value):
        out_shape = tuple(n + before + after for n, (before, after) in zip(x.shape, amounts))
        out = xp.full(out_shape, value, dtype=x.dtype)
        src, dst = _windows(x.shape, amounts)
        out[dst] = x[src]
        ctx.geometry = (x.shape, src, dst)
        return out

    @staticmethod
    def backward(ctx, grad):
        shape, src, dst = ctx.geometry
        dx = xp.zeros(shape, dtype=grad.dtype)
        dx[src] = grad[dst]
        return dx


def _windows(shape, amounts):
    """The slices of x that survive and where they land in the output (negative amounts crop x)."""
    src, dst = [], []
    for n, (before, after) in zip(shape, amounts):
        src.append(slice(max(-before, 0), n - max(-after, 0)))
        dst.append(slice(max(before, 0), max(before, 0) + max(n - max(-before, 0) - max(-after, 0), 0)))
    return tuple(src), tuple(dst)


def pad_index(n, before, after, mode):
    """The source index of every output position along one axis of length n (reflect/replicate/circular)."""
    i = xp.arange(-before, n + after)
    if mode == "reflect":
        period = 2 * (n - 1)
        i = xp.abs(i) % period if period else xp.zeros_like(i)
        return xp.where(i >= n, period - i, i)
    if mode == "replicate":
        return xp.clip(i, 0, n - 1)
    return i % n  # circular


class IndexPad(Function):
    """y = x gathered along each padded axis (y[..., k] = x[..., index[k]]);  dx[j] = Σ_{k: index[k] = j} g[k]."""

    @staticmethod
    def forward(ctx, x, indices):
        # indices: {axis: (index array, before, after)}
        out = x
        for axis, (index, _, _) in indices.items():
            out = xp.take(out, index, axis=axis)
        ctx.geometry = (x.shape, indices)
        return out

    @staticmethod
    def backward(ctx, grad):
        shape, indices = ctx.geometry
        dx = grad
        for axis, (index, before, after) in reversed(list(indices.items())):
            n = shape[axis]
            moved = xp.moveaxis(dx, axis, -1)
            acc = moved[..., before : before + n].copy()
            for k in list(range(before)) + list(range(before + n, before + n + after)):  # the padded positions only
                acc[..., int(index[k])] += moved[..., k]
            dx = xp.moveaxis(acc, -1, axis)
        return dx


_MODES = ("constant", "reflect", "replicate", "circular")


def pad(input, pad, mode="constant", value=None):
    """``torch.nn.functional.pad``: pad the last len(pad)/2 axes (``pad`` runs from the last axis backwards)."""
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError(f"pad: Padding length must be divisible by 2, got {len(pad)} numbers {pad}")
    axes = len(pad) // 2
    if axes > input.ndim:
        raise RuntimeError(
            f"pad: Padding length should be less than or equal to two times the input dimension but got padding "
            f"length {len(pad)} and input of dimension {input.ndim}"
        )
    if mode not in _MODES:
        raise NotImplementedError(f"pad: Unrecognised padding mode {mode}; use one of {', '.join(_MODES)}")
    # (before, after) per padded axis, from the last axis backwards
    per_axis = {input.ndim - 1 - k: (pad[2 * k], pad[2 * k + 1]) for k in range(axes)}
    if mode == "constant":
        amounts = tuple(per_axis.get(a, (0, 0)) for a in range(input.ndim))
        for n, (before, after) in zip(input.shape, amounts):
            if n + before + after < 0:
                raise RuntimeError(f"pad: cropping {-before} + {-after} elements from an axis of size {n} leaves "
                                   "a negative size; use smaller negative padding")
        return ConstantPad.apply(input, amounts, 0.0 if value is None else value)
    if value is not None and value != 0:
        raise RuntimeError(f'pad: Padding mode "{mode}" doesn\'t take in value argument')
    if input.ndim not in (axes + 1, axes + 2) or axes > 3:
        raise NotImplementedError(
            f"pad: Padding size {len(pad)} is not supported for {input.ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
        )
    indices = {}
    for axis in sorted(per_axis):
        before, after = per_axis[axis]
        n = input.shape[axis]
        if before < 0 or after < 0:
            raise RuntimeError(f"pad: negative padding {(before, after)} is only supported by mode='constant'")
        if mode == "reflect" and (before >= n or after >= n):
            raise RuntimeError(
                f"pad: Padding size should be less than the corresponding input dimension, but got: padding "
                f"({before}, {after}) at dimension {axis} of input {list(input.shape)} (mode='reflect' mirrors "
                "without repeating the edge, so it needs more pixels than it pads)"
            )
        if mode == "circular" and (before > n or after > n):
            raise RuntimeError(
                f"pad: Padding value causes wrapping around more than once: padding ({before}, {after}) at "
                f"dimension {axis} of input {list(input.shape)}; circular padding can add at most the axis size"
            )
        if mode == "replicate" and n == 0 and before + after:
            raise RuntimeError(f"pad: cannot replicate-pad the empty dimension {axis} of input {list(input.shape)}")
        indices[axis] = (pad_index(n, before, after, mode), before, after)
    return IndexPad.apply(input, indices)
