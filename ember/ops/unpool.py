"""Max-unpooling (the partial inverse of max-pooling: each value goes back to where its maximum came from,
zeros elsewhere) and power-average (Lp) pooling, with torch's signatures."""

from ..autograd.function import Function
from ..backend import xp
from .activation import relu
from .pool import avg_pool1d, avg_pool2d, max_pool2d
from .window import pair


class MaxUnpool(Function):
    """out[n, c].flat[indices[n, c, k]] = x[n, c, k];  backward: gather the gradient at those positions."""

    @staticmethod
    def forward(ctx, x, indices, out_plane):
        n, c = x.shape[:2]
        flat_x, flat_i = x.reshape(n, c, -1), indices.reshape(n, c, -1)
        size = 1
        for s in out_plane:
            size *= s
        if flat_i.size and (flat_i.min() < 0 or flat_i.max() >= size):
            raise RuntimeError(f"max_unpool2d: found an invalid max index {int(flat_i.max())} (output volume of size "
                               f"{'x'.join(map(str, out_plane))})")
        out = xp.zeros((n, c, size), dtype=x.dtype)
        xp.put_along_axis(out, flat_i, flat_x, axis=2)
        ctx.save(flat_i, x.shape)
        return out.reshape((n, c) + tuple(out_plane))

    @staticmethod
    def backward(ctx, grad):
        flat_i, x_shape = ctx.saved
        g = grad.reshape(grad.shape[0], grad.shape[1], -1)
        return xp.take_along_axis(g, flat_i, axis=2).reshape(x_shape), None


def _unpool_output_size(input, kernel, stride, padding, output_size, name):
    default = [(input.shape[-2 + d] - 1) * stride[d] - 2 * padding[d] + kernel[d] for d in range(2)]
    if output_size is None:
        return tuple(default)
    output_size = tuple(output_size)[-2:]
    for d in range(2):
        low, high = default[d] - stride[d], default[d] + stride[d]
        if not low < output_size[d] < high:
            raise ValueError(f"{name}: invalid output_size {tuple(output_size)} (dim {d} must be between {low + 1} "
                             f"and {high - 1})")
    return output_size


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Put each value of (N, C, H, W) at its max_pool2d index in a zero (N, C, H_out, W_out) plane."""
    kernel = pair(kernel_size)
    stride = kernel if stride is None else pair(stride)
    padding = pair(padding)
    squeeze = input.ndim == 3
    if squeeze:
        input, indices = input.unsqueeze(0), indices.unsqueeze(0)
    plane = _unpool_output_size(input, kernel, stride, padding, output_size, "max_unpool2d")
    idx = indices.array if hasattr(indices, "array") else xp.asarray(indices)
    out = MaxUnpool.apply(input, idx.astype(xp.int64, copy=False), plane)
    return out.squeeze(0) if squeeze else out


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(Σ_window x^p)^(1/p) (p = ``norm_type``): p = 1 is sum pooling, p → ∞ max pooling."""
    kh, kw = pair(kernel_size)
    out = avg_pool2d(input ** norm_type, (kh, kw), stride, 0, ceil_mode)
    return (out.sign() * relu(out.abs())).mul(kh * kw) ** (1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(Σ_window x^p)^(1/p) over windows of the last dim."""
    out = avg_pool1d(input ** norm_type, kernel_size, stride, 0, ceil_mode)
    return (out.sign() * relu(out.abs())).mul(kernel_size) ** (1.0 / norm_type)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """max_unpool2d over (N, C, L) as (N, C, 1, L)."""
    k = kernel_size if isinstance(kernel_size, int) else kernel_size[0]
    s = k if stride is None else (stride if isinstance(stride, int) else stride[0])
    p = padding if isinstance(padding, int) else padding[0]
    size = None if output_size is None else (1, tuple(output_size)[-1])
    squeeze = input.ndim == 2
    if squeeze:
        input, indices = input.unsqueeze(0), indices.unsqueeze(0)
    out = max_unpool2d(input.unsqueeze(2), indices.unsqueeze(2), (1, k), (1, s), (0, p), size).squeeze(2)
    return out.squeeze(0) if squeeze else out


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    from .pool import max_pool1d
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=True):
    from .pool import adaptive_max_pool1d
    return adaptive_max_pool1d(input, output_size, return_indices=True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=True):
    from .pool import adaptive_max_pool2d
    return adaptive_max_pool2d(input, output_size, return_indices=True)
