"""Resampling (up- and down-sampling) of (N, C, H, W) feature maps: nearest neighbour and bilinear.

Both modes are separable: which input rows an output row reads, and with what weights, depends on the
heights alone, and likewise for columns. One (OH × H) matrix A_h and one (OW × W) matrix A_w describe the
whole resampling of every plane, and the backward is their transpose (the adjoint of a linear map):

    out = A_h · x · A_wᵀ,        dx = A_hᵀ · g · A_w

The source coordinate of output index i along an axis of input length n and output length m is PyTorch's:

    nearest:                       src(i) = min(⌊i · s⌋, n - 1)       (A's row i is one-hot at src(i))
    bilinear, align_corners=False: src(i) = max((i + ½) · s - ½, 0)   (pixel centres line up)
    bilinear, align_corners=True:  src(i) = i · (n - 1)/(m - 1)       (corner pixels line up)

with s = 1/scale_factor when a scale factor was given (so that 2.5× means 2.5× even when m = ⌊2.5 n⌋ is
not exactly 2.5 n) and s = n/m otherwise; m = n is always the identity, as in PyTorch. Bilinear row i
holds λ₀ = 1 - λ₁ at ⌊src⌋ and λ₁ = src - ⌊src⌋ at ⌊src⌋ + 1 (clamped to n - 1).

Nearest needs no products: forward gathers rows then columns, and backward sums the gradient of the
output positions that read each input position — as f strided slices where every input position is read
by a run of f consecutive outputs (integer up-sampling), else by the one-hot matrix products above.
"""

from numbers import Integral, Real

from ..autograd.function import Function
from ..backend import xp
from .validate import ArgumentError, tensor_input

MODES = ("nearest", "bilinear")


def _nearest_source(in_size, out_size, scale_factor):
    """src(i) for i < out_size, computed as PyTorch does, in float32 (so the same index in every case)."""
    if out_size == in_size:
        return xp.arange(out_size)
    if out_size == 2 * in_size:  # PyTorch shifts instead of multiplying: no rounding can creep in
        return xp.arange(out_size) // 2
    if scale_factor:
        scale = xp.float32(1.0 / scale_factor)
    else:
        scale = xp.float32(in_size) / xp.float32(out_size)
    src = xp.floor(xp.arange(out_size, dtype=xp.float32) * scale).astype(xp.int64)
    return xp.minimum(src, in_size - 1)


def _one_hot(index, in_size, dtype):
    """The (len(index) × in_size) matrix whose row i is 1 at column index[i]."""
    return (index[:, None] == xp.arange(in_size)).astype(dtype)


def _linear_matrix(in_size, out_size, scale_factor, align_corners, dtype):
    """The (out_size × in_size) bilinear interpolation matrix along one axis (see the module docstring).

    The coordinates are computed in the input's precision (float32 for float32), as PyTorch does."""
    if out_size == in_size:
        return xp.eye(in_size, dtype=dtype)
    work = xp.result_type(dtype, xp.float32)
    dst = xp.arange(out_size, dtype=work)
    if align_corners:
        scale = work.type((in_size - 1) / (out_size - 1) if out_size > 1 else 0)
        src = dst * scale
    else:
        scale = work.type(1.0 / scale_factor if scale_factor else in_size / out_size)
        src = xp.maximum((dst + work.type(0.5)) * scale - work.type(0.5), 0)
    i0 = xp.minimum(xp.floor(src).astype(xp.int64), in_size - 1)
    lam1 = xp.clip(src - i0, 0, 1)
    i1 = xp.minimum(i0 + 1, in_size - 1)
    # Both taps land on the same column at the far edge (i0 = i1 = n - 1): the two terms add up there.
    matrix = lam1[:, None] * _one_hot(i1, in_size, work) + (1 - lam1)[:, None] * _one_hot(i0, in_size, work)
    return matrix.astype(dtype)


def _sandwich(x, a_h, a_w):
    """A_h · x · A_wᵀ for every (N, C) plane of x (matmul broadcasts the matrices over N and C).

    Measured faster than folding all planes into one GEMM with ``tensordot``, whose transposes cost copies."""
    return xp.matmul(a_h, xp.matmul(x, a_w.T))


class UpsampleBilinear2d(Function):
    """out = A_h · x · A_wᵀ with the bilinear matrices (two taps per row); dx = A_hᵀ · g · A_w."""

    @staticmethod
    def forward(ctx, x, out_hw, scale_factors, align_corners):
        (h, w), (oh, ow), (sh, sw) = x.shape[-2:], out_hw, scale_factors
        a_h = _linear_matrix(h, oh, sh, align_corners, x.dtype)
        a_w = _linear_matrix(w, ow, sw, align_corners, x.dtype)
        ctx.save(a_h, a_w)
        return _sandwich(x, a_h, a_w)

    @staticmethod
    def backward(ctx, grad):
        a_h, a_w = ctx.saved
        return _sandwich(grad, a_h.T, a_w.T)


def _gather_adjoint(grad, index, in_size, axis):
    """dx along ``axis`` (-1 or -2) of a gather x ↦ take(x, index, axis): dx[p] = Σ_{i: index[i] = p} g[i]."""
    out_size = index.shape[0]
    factor = out_size // in_size
    if factor * in_size == out_size and xp.array_equal(index, xp.arange(out_size) // factor):
        if factor == 1:
            return grad
        # Integer up-sampling: input p is read by outputs p·f .. p·f + f - 1, so dx is the sum of the f
        # strided slices g[i::f] (a reshape to (.., in, f) and a sum over f is several times slower in NumPy).
        tap = (lambda i: grad[..., i::factor]) if axis == -1 else (lambda i: grad[..., i::factor, :])
        dx = tap(0).copy()
        for i in range(1, factor):
            dx += tap(i)
        return dx
    one_hot = _one_hot(index, in_size, grad.dtype)  # (out, in): the adjoint of a gather is its transpose
    return xp.matmul(grad, one_hot) if axis == -1 else xp.matmul(one_hot.T, grad)


class UpsampleNearest2d(Function):
    """out[i, j] = x[src_h(i), src_w(j)];  dx[p, q] = Σ_{i: src_h(i) = p} Σ_{j: src_w(j) = q} g[i, j]."""

    @staticmethod
    def forward(ctx, x, out_hw, scale_factors):
        (h, w), (oh, ow), (sh, sw) = x.shape[-2:], out_hw, scale_factors
        rows, cols = _nearest_source(h, oh, sh), _nearest_source(w, ow, sw)
        ctx.index = (rows, cols, h, w)
        # Two single-axis gathers (rows, then columns): the separable form of x[..., src_h[:, None], src_w].
        return xp.take(xp.take(x, rows, axis=-2), cols, axis=-1)

    @staticmethod
    def backward(ctx, grad):
        rows, cols, h, w = ctx.index
        return _gather_adjoint(_gather_adjoint(grad, cols, w, -1), rows, h, -2)


# ----------------------------------------------------------------------------------------------------
# The functional API (PyTorch's signature; ``layer`` names the caller in error messages).


def _per_axis(value, what, name, x):
    """An int/float or a pair of them -> a pair, with PyTorch's length check for a 4-D input."""
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ValueError(
                f"{name}: {what} must be a number or a pair (one per spatial axis H, W), got {value!r} for an input "
                f"of shape {tuple(x.shape)}"
            )
        return tuple(value)
    return (value, value)


def check_interpolate_settings(size, scale_factor, mode, align_corners, recompute_scale_factor, name):
    """The checks that need no input, shared by ``interpolate`` and ``nn.Upsample``'s constructor."""
    if mode not in MODES:
        raise ValueError(
            f"{name}: mode {mode!r} is not supported; Ember resamples with mode='nearest' or mode='bilinear'"
        )
    if mode == "nearest" and align_corners is not None:
        raise ValueError(
            f"{name}: align_corners can only be set with an interpolating mode (bilinear), got "
            f"align_corners={align_corners} with mode='nearest'; leave it None"
        )
    if size is not None and scale_factor is not None:
        raise ValueError(
            f"{name}: only one of size or scale_factor should be defined, got size={size!r} and "
            f"scale_factor={scale_factor!r}"
        )
    if size is None and scale_factor is None:
        raise ValueError(f"{name}: either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError(f"{name}: recompute_scale_factor is not meaningful with an explicit size")


def interpolate(x, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None,
                layer=None):
    """``torch.nn.functional.interpolate`` for 4-D (N, C, H, W) inputs, modes 'nearest' and 'bilinear'.

    ``size`` (an int or (OH, OW)) or ``scale_factor`` (a number or a pair): exactly one of them. With a scale
    factor the output is ⌊H · scale_factor⌋ × ⌊W · scale_factor⌋, and the factor itself (not the ratio of the
    sizes) maps the coordinates unless ``recompute_scale_factor=True``.
    """
    name = str(layer) if layer is not None else "interpolate"
    tensor_input(x, name)
    check_interpolate_settings(size, scale_factor, mode, align_corners, recompute_scale_factor, name)
    if x.ndim != 4:
        raise ValueError(
            f"{name}: expected a 4-D input (N, C, H, W), got shape {tuple(x.shape)}"
            + ("; add the batch dimension with x.unsqueeze(0)" if x.ndim == 3 else "")
        )
    h, w = x.shape[-2:]
    if size is not None:
        out_hw = _per_axis(size, "size", name, x)
        if not all(isinstance(s, Integral) and not isinstance(s, bool) for s in out_hw):
            raise ValueError(f"{name}: size must be an int or a pair of ints, got {size!r}")
        out_hw = tuple(int(s) for s in out_hw)
        scales = (None, None)
    else:
        scales = _per_axis(scale_factor, "scale_factor", name, x)
        if not all(isinstance(s, Real) and not isinstance(s, bool) and s > 0 for s in scales):
            raise ArgumentError(f"{name}: scale_factor must be a positive number or a pair of them, got "
                                f"{scale_factor!r}")
        out_hw = (int(h * float(scales[0])), int(w * float(scales[1])))  # ⌊n · s⌋, as PyTorch's output size
        if recompute_scale_factor:
            scales = (None, None)
        else:
            scales = tuple(float(s) for s in scales)
    if min(out_hw) < 1 or min(h, w) < 1:
        raise ArgumentError(
            f"{name}: input and output sizes should be greater than 0, got input (H, W) = {(h, w)} and output "
            f"{tuple(out_hw)}; use a larger size or scale_factor"
        )
    if mode == "nearest":
        return UpsampleNearest2d.apply(x, tuple(out_hw), scales)
    return UpsampleBilinear2d.apply(x, tuple(out_hw), scales, bool(align_corners))


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """The deprecated name of ``interpolate`` (torch warns and calls it)."""
    import warnings
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """``interpolate(mode='nearest')`` under its deprecated name."""
    import warnings
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """``interpolate(mode='bilinear', align_corners=True)`` under its deprecated name."""
    import warnings
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
