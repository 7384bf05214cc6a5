"""Fractional max pooling (Graham 2014, "Fractional Max-Pooling"): shrink each spatial axis by a factor α
between 1 and 2 — not only by the integer 2 of ordinary pooling — by placing K-wide windows at
pseudo-random, increasing starts.

Along one axis of n inputs pooled to m outputs with windows of size K, one random number u ∈ [0, 1) per
(sample, channel, axis) gives the starts (PyTorch's ``generate_intervals``, exactly):

    α = (n - K) / (m - 1)
    start_i = ⌊(i + u)·α⌋ - ⌊u·α⌋        for i = 0 .. m - 2
    start_{m-1} = n - K                  (the last window touches the far edge)

so consecutive starts differ by ⌊α⌋ or ⌈α⌉, and the windows cover the input from edge to edge. The sums
are computed in the input's own dtype (float32 for float32 inputs), as torch does, so the starts agree
with torch's bit for bit. Each output is the maximum of its window; backward routes the gradient to the
window's first maximum in row-major order (windows may overlap, so two outputs can share one input and
their gradients add).
"""

from .. import backend
from ..autograd.function import Function
from ..backend import xp
from .validate import ShapeError, tensor_input


def generate_intervals(samples, input_size, output_size, pool_size):
    """The window starts along one axis, for every plane at once.

    Inputs: samples (P,) the planes' random numbers u, in the input's dtype. Returns (P, output_size) int64.
    """
    dtype = samples.dtype.type
    starts = xp.empty(samples.shape + (output_size,), dtype=xp.int64)
    if output_size > 1:
        alpha = dtype(input_size - pool_size) / dtype(output_size - 1)  # in the input's precision, as torch
        i = xp.arange(output_size - 1).astype(samples.dtype)
        u = samples[:, None]
        starts[:, :-1] = ((i + u) * alpha).astype(xp.int64) - (u * alpha).astype(xp.int64)  # truncation = ⌊⌋
    starts[:, -1] = input_size - pool_size
    return starts


class FractionalMaxPool(Function):
    """out[p, o] = max over the window that starts at start[p, o] of size K (2-D or 3-D); indices are each
    maximum's flat position in its plane (h·W + w, or t·H·W + h·W + w); d out / d x = 1 at that position.

    Every window is gathered at once into a (P, O₁..O_d, K₁·..·K_d) array (P = N·C planes) and reduced with
    one argmax.
    """

    @staticmethod
    def forward(ctx, x, kernel, out_size, starts):
        spatial = x.shape[-len(kernel):]
        planes = x.reshape((-1,) + tuple(spatial))
        p, d = planes.shape[0], len(kernel)
        plane_strides = [int(xp.prod(xp.asarray(spatial[a + 1:]))) for a in range(d)]  # row-major, per axis
        flat = xp.zeros((p,) + tuple(out_size) + tuple(kernel), dtype=xp.int64)  # (P, O..., K...)
        for a in range(d):
            position = starts[a][:, :, None] + xp.arange(kernel[a])  # (P, O_a, K_a)
            shape = [p] + [1] * (2 * d)
            shape[1 + a], shape[1 + d + a] = out_size[a], kernel[a]
            flat += position.reshape(shape) * plane_strides[a]
        flat = flat.reshape((p,) + tuple(out_size) + (-1,))  # (P, O..., K)
        windows = xp.take_along_axis(planes.reshape(p, -1), flat.reshape(p, -1), axis=1).reshape(flat.shape)
        k = windows.argmax(axis=-1)  # the first maximum in row-major order
        nan = xp.isnan(windows)
        if nan.any():  # torch keeps the LAST NaN of a window (its loop replaces on `val > max || isnan(val)`)
            last_nan = nan.shape[-1] - 1 - nan[..., ::-1].argmax(axis=-1)
            k = xp.where(nan.any(axis=-1), last_nan, k)
        k = k[..., None]
        out = xp.take_along_axis(windows, k, axis=-1)[..., 0]  # (P, O...)
        index = xp.take_along_axis(flat, k, axis=-1)[..., 0]  # (P, O...)
        ctx.save(index)
        ctx.shape = x.shape
        batch = x.shape[: x.ndim - d]
        return out.reshape(batch + tuple(out_size)), index.reshape(batch + tuple(out_size))

    @staticmethod
    def backward(ctx, grad, _):
        (index,) = ctx.saved
        shape = ctx.shape
        p = index.shape[0]
        plane = index.size and int(xp.prod(xp.asarray(shape[-(index.ndim - 1):])))
        target = (index.reshape(p, -1) + (xp.arange(p) * plane)[:, None]).ravel()  # index into the flat x
        # Overlapping windows can share a winner: bincount adds their gradients.
        dx = xp.bincount(target, weights=grad.ravel(), minlength=p * plane)
        return dx.astype(grad.dtype, copy=False).reshape(shape)


def _tuple(value, d, name, where):
    if isinstance(value, int):
        return (value,) * d
    value = tuple(value)
    if len(value) != d or not all(isinstance(v, int) for v in value):
        raise ValueError(f"{where}: {name} must be an int or a tuple of {d} ints, got {value}")
    return value


def _fractional_max_pool(x, kernel_size, output_size, output_ratio, return_indices, _random_samples, d, where):
    """The checks and the output size shared by the 2-D and 3-D functions (d = 2 or 3)."""
    tensor_input(x, where)
    if x.ndim not in (d + 1, d + 2):
        layout = "(C, H, W) or (N, C, H, W)" if d == 2 else "(C, T, H, W) or (N, C, T, H, W)"
        raise ShapeError(f"{where}: expected a {d + 1}-D or {d + 2}-D input {layout}, got shape {list(x.shape)}")
    kernel = _tuple(kernel_size, d, "kernel_size", where)
    spatial = x.shape[-d:]
    if output_size is None and output_ratio is None:
        raise ValueError(f"{where} requires specifying either an output_size or an output_ratio")
    if output_size is None:
        ratio = (output_ratio,) * d if isinstance(output_ratio, (int, float)) else tuple(output_ratio)
        if len(ratio) != d:
            raise ValueError(f"{where}: output_ratio must be a number or a tuple of {d} numbers, got {output_ratio}")
        out_size = tuple(int(n * r) for n, r in zip(spatial, ratio))  # torch truncates the same way
    else:
        out_size = _tuple(output_size, d, "output_size", where)
    axes = ("time", "height", "width")[-d:]
    for n, m, k, axis in zip(spatial, out_size, kernel, axes):
        if k <= 0 or m <= 0:
            raise ShapeError(f"{where}: kernel_size and output_size must be positive, got {kernel} and {out_size}")
        if m + k - 1 > n:
            raise ShapeError(f"{where}: output {axis} {m} + pool {axis} {k} - 1 is larger than the input {axis} "
                             f"{n}: use a smaller kernel_size or output_size")
    batch = x.shape[0] if x.ndim == d + 2 else 1
    channels = x.shape[-d - 1]
    if _random_samples is None:
        samples = xp.asarray(backend.generator().random((batch, channels, d))).astype(x.dtype)
    else:
        samples = _random_samples.array if hasattr(_random_samples, "array") else xp.asarray(_random_samples)
        if tuple(samples.shape) != (batch, channels, d):
            raise ShapeError(f"{where}: _random_samples must have shape (N, C, {d}) = {(batch, channels, d)}, "
                             f"got {tuple(samples.shape)}")
        samples = samples.astype(x.dtype, copy=False)
    samples = samples.reshape(batch * channels, d)
    # torch's sample order: 2-D uses u[0] for the width and u[1] for the height; 3-D uses u[0..2] for T, H, W.
    order = (1, 0) if d == 2 else (0, 1, 2)
    starts = [generate_intervals(samples[:, order[a]], spatial[a], out_size[a], kernel[a]) for a in range(d)]
    out, index = FractionalMaxPool.apply(x, kernel, out_size, starts)
    return (out, index) if return_indices else out


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None, layer=None):
    """2-D fractional max pooling over (N, C, H, W) or (C, H, W); ``_random_samples`` (N, C, 2) in [0, 1)
    fixes the windows (for reproducibility), else they are drawn from Ember's generator."""
    where = str(layer) if layer is not None else "fractional_max_pool2d"
    return _fractional_max_pool(input, kernel_size, output_size, output_ratio, return_indices, _random_samples,
                                2, where)


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None, layer=None):
    """3-D fractional max pooling over (N, C, T, H, W) or (C, T, H, W); ``_random_samples`` is (N, C, 3)."""
    where = str(layer) if layer is not None else "fractional_max_pool3d"
    return _fractional_max_pool(input, kernel_size, output_size, output_ratio, return_indices, _random_samples,
                                3, where)


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                                       _random_samples=None):
    """torch's name for the form that always returns (output, indices)."""
    return fractional_max_pool2d(input, kernel_size, output_size, output_ratio, True, _random_samples)


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                                       _random_samples=None):
    """torch's name for the form that always returns (output, indices)."""
    return fractional_max_pool3d(input, kernel_size, output_size, output_ratio, True, _random_samples)
