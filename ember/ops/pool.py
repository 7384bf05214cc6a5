"""Pooling: max and average over K×K windows, per channel (it down-samples in space, never in depth).

Max pooling keeps, for each window, the largest value — the most strongly activated neuron — and its
backward routes the gradient to that one input (the max gate). Average pooling spreads the gradient
evenly over the window.

Windows are visited one kernel offset (tap) at a time: each tap is a strided view of the input, so the
maximum is K² - 1 element-wise ``maximum`` calls. Backward finds, tap by tap, the windows whose first
maximum sits at that tap (the first one on ties, as PyTorch) and routes their gradient there.
Where windows tile the input exactly (stride = kernel, no padding, sizes divisible) the input is simply
viewed as (N, C, OH, KH, OW, KW): no padding copy, and backward writes each tap's gradient without
accumulating (windows cannot overlap).
"""

from ..autograd.function import Function
from ..backend import as_strided, xp
from ..parallel import per_shard, run, shards
from ..tensor import Tensor
from .validate import ShapeError, spatial_rank, tensor_input, window
from .window import output_size, padded, pair, single as _single, tap


def pool_geometry(x_shape, kernel, stride, padding, dilation, ceil_mode, layer=None):
    """Output size, the (top, bottom, left, right) padding that makes every window fit, and whether the
    windows tile the input exactly."""
    h, w = x_shape[-2:]
    window(kernel, stride, padding, dilation, layer or "pool2d")
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    for k, p, axis in ((kh, ph, "height"), (kw, pw, "width")):
        if p > k // 2:  # PyTorch's rule, whatever the dilation
            raise ShapeError(
                f"{layer or 'pool2d'}: padding {p} in {axis} should be at most half of the kernel size {k}; "
                "use less padding or a larger kernel"
            )
    oh = output_size(h, kh, sh, ph, ph, dh, ceil_mode, layer, "height")
    ow = output_size(w, kw, sw, pw, pw, dw, ceil_mode, layer, "width")
    # ceil_mode can need a partial last window: pad the far side so that every window is in bounds.
    extra_h = max((oh - 1) * sh + dh * (kh - 1) + 1 - (h + 2 * ph), 0)
    extra_w = max((ow - 1) * sw + dw * (kw - 1) + 1 - (w + 2 * pw), 0)
    pads = (ph, ph + extra_h, pw, pw + extra_w)
    tiled = (kh, kw) == (sh, sw) and (dh, dw) == (1, 1) and not any(pads) and (oh * kh, ow * kw) == (h, w)
    return (oh, ow), pads, tiled


def _windows(x, kernel, out_hw):
    """The tiled windows of x (..., OH·KH, OW·KW) as a (..., OH, KH, OW, KW) view (any memory layout)."""
    (kh, kw), (oh, ow) = kernel, out_hw
    s_h, s_w = x.strides[-2:]
    # Writeable: the backward pass scatters gradients through the same view of its zero array.
    return as_strided(x, x.shape[:-2] + (oh, kh, ow, kw), x.strides[:-2] + (s_h * kh, s_h, s_w * kw, s_w),
                      writeable=True)


def _taps(x, kernel, out_hw, stride, dilation, tiled):
    """Yield (i, j, view of the input read by kernel offset (i, j) for every output pixel)."""
    kh, kw = kernel
    windows = _windows(x, kernel, out_hw) if tiled else None
    for i in range(kh):
        for j in range(kw):
            yield i, j, (windows[..., i, :, j] if tiled else tap(x, i, j, out_hw, stride, dilation))


def _scatter(grads_per_tap, like, pads, kernel, out_hw, stride, dilation, tiled):
    """Put each tap's gradient back where that tap read from, in an array shaped and laid out like the
    padded input ``like``: plain writes when tiled (windows cannot overlap), strided adds otherwise."""
    if tiled:
        dx = xp.empty_like(like)
        windows = _windows(dx, kernel, out_hw)
        for i, j, g in grads_per_tap:
            windows[..., i, :, j] = g
        return dx
    dx = xp.zeros_like(like)
    for i, j, g in grads_per_tap:
        tap(dx, i, j, out_hw, stride, dilation)[...] += g
    top, bottom, left, right = pads
    return dx[..., top : dx.shape[-2] - bottom, left : dx.shape[-1] - right]


class MaxPool2d(Function):
    """out = max over each window; d out / d x = 1 for the first largest input of the window, else 0.

    Tiled windows use the K² taps of the window view. Overlapping or padded windows are pooled in two
    1-D passes, along the width and then along the height — the maximum of a rectangle is the maximum of
    its row maxima — which costs KW + KH instead of KW·KH operations per output (4 instead of 8 for 3×3).
    Backward undoes the two passes in reverse order, each routing the gradient to its first real maximum,
    which lands on the same pixel as PyTorch's row-major rule.
    """

    @staticmethod
    def forward(ctx, x, kernel, stride, pads, dilation, out_hw, tiled):
        x_pad = padded(x, pads, -xp.inf)
        ctx.geometry = (pads, kernel, out_hw, stride, dilation, tiled)
        if tiled:
            best = xp.empty(x_pad.shape[:-2] + tuple(out_hw), dtype=x_pad.dtype)

            def shard(span):  # in shards along the first axis, on every core (ember/parallel.py)
                taps = [v for _, _, v in _taps(x_pad[span[0] : span[1]], kernel, out_hw, stride, dilation, tiled)]
                part = best[span[0] : span[1]]
                if len(taps) == 1:
                    part[...] = taps[0]
                for v in taps[1:]:
                    xp.maximum(taps[0] if v is taps[1] else part, v, out=part)

            run(shard, _first_axis_shards(x_pad))
            ctx.save(x_pad, best)
            return best
        row_max = _max_along(x_pad, -1, kernel[1], out_hw[1], stride[1], dilation[1])
        best = _max_along(row_max, -2, kernel[0], out_hw[0], stride[0], dilation[0])
        ctx.save(x_pad, row_max, best)
        return best

    @staticmethod
    def backward(ctx, grad):
        pads, kernel, out_hw, stride, dilation, tiled = ctx.geometry
        if tiled:
            x_pad, best = ctx.saved
            dx = xp.empty(x_pad.shape, dtype=grad.dtype)

            def shard(span):
                part = slice(*span)
                winners = _first_winners(x_pad[part], best[part], kernel, out_hw, stride, dilation, tiled, pads)
                windows = _windows(dx[part], kernel, out_hw)  # the windows tile: plain writes, no adds
                for i, j, first in winners:
                    xp.multiply(grad[part], first, out=windows[..., i, :, j])

            run(shard, _first_axis_shards(x_pad))
            return dx
        x_pad, row_max, best = ctx.saved
        real_rows, real_cols = _real_lines(x_pad.shape, pads)
        masks = _winners_along(row_max, best, -2, kernel[0], out_hw[0], stride[0], dilation[0], real_rows)
        d_row_max = _spread_along(grad, masks, row_max, -2, kernel[0], out_hw[0], stride[0], dilation[0])
        masks = _winners_along(x_pad, row_max, -1, kernel[1], out_hw[1], stride[1], dilation[1], real_cols)
        dx = _spread_along(d_row_max, masks, x_pad, -1, kernel[1], out_hw[1], stride[1], dilation[1])
        top, bottom, left, right = pads
        return dx[..., top : dx.shape[-2] - bottom, left : dx.shape[-1] - right]


def _first_axis_shards(x):
    """Cache-sized pieces along the first axis (the batch of an (N, C, H, W) input)."""
    return shards(x.shape[0], per_shard(x[:1].nbytes)) if x.ndim > 2 else [(0, x.shape[0])]


def _along(axis, k, out, s, d):
    """The index of each of the k window offsets along ``axis`` (-1: width, -2: height)."""
    for t in range(k):
        line = slice(t * d, t * d + s * (out - 1) + 1, s)
        yield (Ellipsis, line) if axis == -1 else (Ellipsis, line, slice(None))


def _max_along(x, axis, k, out, s, d):
    """1-D max pooling of x along one axis."""
    index = list(_along(axis, k, out, s, d))
    best = xp.maximum(x[index[0]], x[index[1]]) if k > 1 else x[index[0]].copy()
    for i in index[2:]:
        xp.maximum(best, x[i], out=best)
    return best


def _real_lines(padded_shape, pads):
    """Which rows (as a column vector) and which columns of the padded plane hold real pixels."""
    top, bottom, left, right = pads
    rows, cols = xp.zeros(padded_shape[-2], dtype=bool), xp.zeros(padded_shape[-1], dtype=bool)
    rows[top : padded_shape[-2] - bottom], cols[left : padded_shape[-1] - right] = True, True
    return rows[:, None], cols


def _winners_along(x, best, axis, k, out, s, d, real):
    """For each window offset along ``axis``, the mask of the windows whose maximum PyTorch assigns to it:
    the first real maximum, or, in a window holding NaN (its maximum is then NaN), the last NaN."""
    index = list(_along(axis, k, out, s, d))
    masks, claimed = [], xp.zeros(best.shape, dtype=bool)
    for i in index:
        first = (x[i] == best) & ~claimed & real[i[1:]]  # the same line of the real-pixel mask
        claimed |= first
        masks.append(first)
    nan = xp.isnan(best)
    if nan.any():
        claimed = ~nan
        for t in reversed(range(k)):
            last = xp.isnan(x[index[t]]) & ~claimed
            claimed |= last
            masks[t] |= last
    return masks


def _spread_along(grad, masks, like, axis, k, out, s, d):
    """Add each window's gradient at its winning position (windows may overlap: strided adds)."""
    dx = xp.zeros_like(like)
    for i, mask in zip(_along(axis, k, out, s, d), masks):
        dx[i] += grad * mask
    return dx


def _first_winners(x_pad, best, kernel, out_hw, stride, dilation, tiled, pads):
    """Yield (i, j, mask of the windows whose maximum PyTorch assigns to kernel offset (i, j)) for tiled
    windows (no padding): the first maximum in row-major order, or, in a window holding NaN, the last NaN."""
    taps = list(_taps(x_pad, kernel, out_hw, stride, dilation, tiled))
    masks, claimed = [], xp.zeros(best.shape, dtype=bool)
    for _, _, v in taps:
        first = (v == best) & ~claimed
        claimed |= first
        masks.append(first)
    nan = xp.isnan(best)
    if nan.any():
        claimed = ~nan
        for k in reversed(range(len(taps))):
            last = xp.isnan(taps[k][2]) & ~claimed
            claimed |= last
            masks[k] |= last
    for (i, j, _), mask in zip(taps, masks):
        yield i, j, mask


class AvgPool2d(Function):
    """out = (Σ window) / divisor; every input of the window gets grad / divisor.

    The divisor follows PyTorch: the window size clipped to the padded input (``count_include_pad``),
    or only the real pixels in it, or ``divisor_override``.
    """

    @staticmethod
    def forward(ctx, x, kernel, stride, pads, out_hw, tiled, divisor):
        x_pad = padded(x, pads, 0)
        total = None
        for _, _, v in _taps(x_pad, kernel, out_hw, stride, (1, 1), tiled):
            total = v.astype(x.dtype, copy=True) if total is None else xp.add(total, v, out=total)
        ctx.divisor = divisor
        ctx.geometry = (x.shape, x_pad.shape, pads, kernel, out_hw, stride, (1, 1), tiled, x.dtype)
        return total / divisor

    @staticmethod
    def backward(ctx, grad):
        shape, padded_shape, pads, kernel, out_hw, stride, dilation, tiled, dtype = ctx.geometry
        share = grad / ctx.divisor
        per_tap = ((i, j, share) for i in range(kernel[0]) for j in range(kernel[1]))
        like = xp.empty(padded_shape, dtype=dtype)  # only its shape and dtype are used
        return _scatter(per_tap, like, pads, kernel, out_hw, stride, dilation, tiled)


def _avg_divisor(n, k, s, p, out, count_include_pad):
    """Per-output divisor along one axis (PyTorch's avg_pool2d rule)."""
    start = xp.arange(out) * s - p
    end = xp.minimum(start + k, n + p)
    if count_include_pad:
        return end - start
    return xp.minimum(end, n) - xp.maximum(start, 0)


class AdaptiveAvgPool2d(Function):
    """Average over the windows [⌊i·H/OH⌋, ⌈(i+1)·H/OH⌉): out = P_h · x · P_wᵀ with averaging matrices,
    so forward and backward are matrix products (dx = P_hᵀ · g · P_w)."""

    @staticmethod
    def forward(ctx, x, out_hw):
        p_h = _averaging_matrix(x.shape[-2], out_hw[0], x.dtype)
        p_w = _averaging_matrix(x.shape[-1], out_hw[1], x.dtype)
        ctx.save(p_h, p_w)
        return xp.matmul(xp.matmul(p_h, x), p_w.T)

    @staticmethod
    def backward(ctx, grad):
        p_h, p_w = ctx.saved
        return xp.matmul(xp.matmul(p_h.T, grad), p_w)


class AdaptiveMaxPool2d(Function):
    """Max over the windows [⌊i·H/OH⌋, ⌈(i+1)·H/OH⌉) × [⌊j·W/OW⌋, ⌈(j+1)·W/OW⌉) (their sizes vary by at
    most one pixel); the gradient goes to each window's first maximum in row-major order.

    Every window is gathered at once into a (..., OH, OW, KH·KW) array, KH and KW the largest window sizes:
    a shorter window repeats its last pixel, which cannot change its maximum and, coming after the real
    pixels, is never the first maximum. Backward adds each window's gradient at its winner with one
    bincount (windows overlap, so two can share a winner).
    """

    @staticmethod
    def forward(ctx, x, out_hw):
        h, w = x.shape[-2:]
        rows, cols = _adaptive_window_index(h, out_hw[0]), _adaptive_window_index(w, out_hw[1])  # (OH, KH), (OW, KW)
        windows = x[..., rows[:, None, :, None], cols[None, :, None, :]]  # (..., OH, OW, KH, KW)
        windows = windows.reshape(windows.shape[:-2] + (-1,))  # (..., OH, OW, KH·KW)
        k = windows.argmax(axis=-1)[..., None]
        out = xp.take_along_axis(windows, k, axis=-1)[..., 0]  # (..., OH, OW)
        kw = cols.shape[1]
        index = rows[xp.arange(out_hw[0])[:, None], k[..., 0] // kw] * w + cols[xp.arange(out_hw[1]), k[..., 0] % kw]
        ctx.save(index)
        ctx.shape = x.shape
        return out, index

    @staticmethod
    def backward(ctx, grad, _):
        (index,) = ctx.saved
        shape = ctx.shape
        plane = shape[-2] * shape[-1]
        planes = index.size // max(index.shape[-2] * index.shape[-1], 1)
        target = (index.reshape(planes, -1) + (xp.arange(planes) * plane)[:, None]).ravel()  # index in the flat x
        dx = xp.bincount(target, weights=grad.ravel(), minlength=planes * plane)
        return dx.astype(grad.dtype, copy=False).reshape(shape)


def _adaptive_window_index(n, out):
    """(out, K) indices of adaptive pooling's windows along an axis of n; short windows repeat their last pixel."""
    i = xp.arange(out)
    start, end = (i * n) // out, -((-(i + 1) * n) // out)
    k = int((end - start).max())
    return xp.minimum(start[:, None] + xp.arange(k), end[:, None] - 1)


def _averaging_matrix(n, out, dtype):
    i = xp.arange(out)
    start, end = (i * n) // out, -((-(i + 1) * n) // out)
    cols = xp.arange(n)
    inside = (cols >= start[:, None]) & (cols < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


class GlobalAvgPool2d(Function):
    """out = mean over H and W (adaptive pooling to 1×1, the classic CNN head); dx = g / (H·W)."""

    @staticmethod
    def forward(ctx, x):
        ctx.shape = x.shape
        return x.mean(axis=(-2, -1), keepdims=True)

    @staticmethod
    def backward(ctx, grad):
        h, w = ctx.shape[-2:]
        return xp.broadcast_to(grad / (h * w), ctx.shape)


# ----------------------------------------------------------------------------------------------------
# The functional API (PyTorch's signatures; ``layer`` names the caller in error messages).


def _check_input(x, name):
    tensor_input(x, name)
    spatial_rank(x, (3, 4), name, "(C, H, W) or (N, C, H, W)")


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False, layer=None):
    name = str(layer) if layer is not None else "max_pool2d"
    _check_input(x, name)
    kernel = pair(kernel_size, "kernel_size")
    stride = kernel if stride is None or stride == [] else pair(stride, "stride")
    padding, dilation = pair(padding, "padding"), pair(dilation, "dilation")
    out_hw, pads, tiled = pool_geometry(x.shape, kernel, stride, padding, dilation, ceil_mode, name)
    out = MaxPool2d.apply(x, kernel, stride, pads, dilation, out_hw, tiled)
    if not return_indices:
        return out
    return out, Tensor(_flat_indices(x.array, out.array, kernel, stride, pads, dilation, out_hw, tiled))


def _flat_indices(x, best, kernel, stride, pads, dilation, out_hw, tiled):
    """torch's return_indices: the position h·W + w of each window's maximum in its (H, W) plane."""
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out_hw
    top, left, width = pads[0], pads[2], x.shape[-1]
    rows, cols = xp.arange(oh)[:, None] * sh - top, xp.arange(ow) * sw - left  # each window's first pixel
    if tiled:
        index = xp.zeros(best.shape, dtype=xp.int64)
        for i, j, first in _first_winners(x, best, kernel, out_hw, stride, dilation, tiled, pads):
            index += first * ((rows + i * dh) * width + cols + j * dw)
        return index
    x_pad = padded(x, pads, -xp.inf)
    real_rows, real_cols = _real_lines(x_pad.shape, pads)
    row_max = _max_along(x_pad, -1, kw, ow, sw, dw)
    column = xp.zeros(row_max.shape, dtype=xp.int64)  # the column of each row maximum
    for j, first in enumerate(_winners_along(x_pad, row_max, -1, kw, ow, sw, dw, real_cols)):
        column += first * (cols + j * dw)
    index = xp.zeros(best.shape, dtype=xp.int64)
    masks = _winners_along(row_max, best, -2, kh, oh, sh, dh, real_rows)
    for (_, line, _), first in zip(_along(-2, kh, oh, sh, dh), masks):
        row = xp.arange(x_pad.shape[-2])[line][:, None] - top
        index += first * (row * width + column[..., line, :])
    return index


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None, layer=None):
    name = str(layer) if layer is not None else "avg_pool2d"
    _check_input(x, name)
    kernel = pair(kernel_size, "kernel_size")
    stride = kernel if stride is None or stride == [] else pair(stride, "stride")
    padding = pair(padding, "padding")
    out_hw, pads, tiled = pool_geometry(x.shape, kernel, stride, padding, (1, 1), ceil_mode, name)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError(f"{name}: divisor_override must be non-zero, got divisor_override=0; pass None to divide by "
                           "the window size")
    if divisor_override:
        divisor = divisor_override
    else:
        dh = _avg_divisor(x.shape[-2], kernel[0], stride[0], padding[0], out_hw[0], count_include_pad)
        dw = _avg_divisor(x.shape[-1], kernel[1], stride[1], padding[1], out_hw[1], count_include_pad)
        divisor = (dh[:, None] * dw[None, :]).astype(x.dtype)
        if tiled:
            divisor = kernel[0] * kernel[1]
    return AvgPool2d.apply(x, kernel, stride, pads, out_hw, tiled, divisor)


def adaptive_avg_pool2d(x, output_size, layer=None):
    name = str(layer) if layer is not None else "adaptive_avg_pool2d"
    _check_input(x, name)
    oh, ow = _output_pair(output_size, x)
    if oh < 0 or ow < 0:
        raise RuntimeError(f"{name}: elements of output_size must be greater than or equal to 0, but got "
                           f"output_size={output_size}; pass the wanted (H, W) of the output")
    if oh == 0 or ow == 0:  # an empty output, as torch gives
        return _empty_pool(x, oh, ow)
    if (oh, ow) == (1, 1):
        return GlobalAvgPool2d.apply(x)
    return AdaptiveAvgPool2d.apply(x, (oh, ow))


def _output_pair(output_size, x):
    oh, ow = (output_size, output_size) if isinstance(output_size, int) else tuple(output_size)
    return x.shape[-2] if oh is None else oh, x.shape[-1] if ow is None else ow  # None keeps that size (torch)


def _empty_pool(x, oh, ow):
    """The (..., oh, ow) output of adaptive pooling to a zero size: no elements, and nothing to differentiate."""
    return Tensor(xp.zeros((*x.shape[:-2], oh, ow), dtype=x.dtype))


def adaptive_max_pool2d(input, output_size, return_indices=False, layer=None):
    """Max-pool to a fixed (OH, OW) whatever the input size; ``return_indices`` adds each maximum's
    position h·W + w in its plane (for ``max_unpool2d``)."""
    name = str(layer) if layer is not None else "adaptive_max_pool2d"
    if input.ndim not in (3, 4):
        raise RuntimeError(f"{name}: Expected 3D or 4D tensor (C, H, W) or (N, C, H, W), but got: {list(input.shape)}")
    tensor_input(input, name)
    out_hw = _output_pair(output_size, input)
    if min(out_hw) < 0 or min(input.shape[-2:]) <= 0:
        raise RuntimeError(f"{name}: output_size {out_hw} must be >= 0 and the input's spatial size "
                           f"{tuple(input.shape[-2:])} positive")
    if min(out_hw) == 0:  # an empty output, as torch gives
        empty = _empty_pool(input, *out_hw)
        return (empty, Tensor(xp.zeros(empty.shape, dtype=xp.int64))) if return_indices else empty
    out, index = AdaptiveMaxPool2d.apply(input, out_hw)
    return (out, index) if return_indices else out


# ----------------------------------------------------------------------------------------------------
# 1-D pooling over (N, C, L) or (C, L): the 2-D pooling of images of height 1.


def _check_1d(x, name):
    tensor_input(x, name)
    if x.ndim not in (2, 3):
        raise RuntimeError(
            f"{name}: Expected 2D or 3D (batch mode) tensor (C, L) or (N, C, L), but got: {list(x.shape)}; "
            "use the 2-D layer for images"
        )


def _squeeze_height(result):
    if isinstance(result, tuple):
        return tuple(r.squeeze(-2) for r in result)
    return result.squeeze(-2)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False,
               layer=None):
    name = str(layer) if layer is not None else "max_pool1d"
    _check_1d(input, name)
    k = _single(kernel_size, "kernel_size")
    s = k if stride is None or stride == [] or stride == () else _single(stride, "stride")
    out = max_pool2d(input.unsqueeze(-2), (1, k), (1, s), (0, _single(padding, "padding")),
                     (1, _single(dilation, "dilation")), ceil_mode, return_indices, layer=name)
    return _squeeze_height(out)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, layer=None):
    name = str(layer) if layer is not None else "avg_pool1d"
    _check_1d(input, name)
    k = _single(kernel_size, "kernel_size")
    s = k if stride is None or stride == [] or stride == () else _single(stride, "stride")
    out = avg_pool2d(input.unsqueeze(-2), (1, k), (1, s), (0, _single(padding, "padding")), ceil_mode,
                     count_include_pad, layer=name)
    return out.squeeze(-2)


def adaptive_avg_pool1d(input, output_size, layer=None):
    name = str(layer) if layer is not None else "adaptive_avg_pool1d"
    _check_1d(input, name)
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, _single(output_size, "output_size")), layer=name).squeeze(-2)


def adaptive_max_pool1d(input, output_size, return_indices=False, layer=None):
    name = str(layer) if layer is not None else "adaptive_max_pool1d"
    _check_1d(input, name)
    out = adaptive_max_pool2d(input.unsqueeze(-2), (1, _single(output_size, "output_size")), return_indices, layer=name)
    return _squeeze_height(out)
