"""Running sums and products, and the product of all elements.

The gradient of a running sum is a running sum run backwards: element i appears in every z_j with j ≥ i.
Products divide by nothing: the gradient of Π a with respect to a_i is the product of the *other* elements,
taken as (product of those before i) · (product of those after i), so zeros in the input are handled
exactly (dividing the product by a_i would give 0/0 there).
"""

from ..autograd.function import Function
from ..backend import xp
from ..tensor import Tensor
from .reduce import normalize_dims, numpy_names, reduction_axes


def _reverse_cumsum(x, axis):
    return xp.flip(xp.cumsum(xp.flip(x, axis), axis=axis), axis)


def _exclusive_cumprod(x, axis):
    """[1, x0, x0·x1, ...]: the product of the elements strictly before each one."""
    ones = xp.ones_like(xp.take(x, [0], axis=axis))
    return xp.cumprod(xp.concatenate([ones, xp.take(x, xp.arange(x.shape[axis] - 1), axis=axis)], axis=axis), axis=axis)


def _product_of_others(x, axis):
    """Π_{k≠i} x_k along ``axis``, for each i, with no division."""
    before = _exclusive_cumprod(x, axis)
    after = xp.flip(_exclusive_cumprod(xp.flip(x, axis), axis), axis)
    return before * after


class CumSum(Function):
    """z_j = Σ_{i≤j} a_i along ``axis``;  da_i = Σ_{j≥i} dz_j (a cumulative sum from the end)."""

    @staticmethod
    def forward(ctx, a, axis, dtype):
        ctx.axis, ctx.dtype = axis, a.dtype
        return xp.cumsum(a, axis=axis, dtype=dtype)

    @staticmethod
    def backward(ctx, grad):
        return _reverse_cumsum(grad, ctx.axis).astype(ctx.dtype, copy=False)


class CumProd(Function):
    """z_j = Π_{i≤j} a_i along ``axis``;  da_i = Σ_{j≥i} dz_j · Π_{k≤j, k≠i} a_k.

    Without zeros that is (Σ_{j≥i} dz_j z_j) / a_i. With a zero the division fails, so each i is then
    summed directly (a loop over the axis: quadratic in its length, but only for inputs holding zeros).
    """

    @staticmethod
    def forward(ctx, a, axis, dtype):
        z = xp.cumprod(a, axis=axis, dtype=dtype)
        ctx.save(a, z)
        ctx.axis = axis
        return z

    @staticmethod
    def backward(ctx, grad):
        a, z = ctx.saved
        axis = ctx.axis
        if xp.all(a != 0):
            return _reverse_cumsum(grad * z, axis) / a
        a_, g_ = xp.moveaxis(a, axis, -1), xp.moveaxis(grad, axis, -1)  # (..., n)
        before = _exclusive_cumprod(a_, -1)
        out = xp.empty_like(a_)
        n = a_.shape[-1]
        for i in range(n):
            # Π_{i<k≤j} a_k for j = i..n-1: 1 at j = i, then a running product of what follows
            after = xp.cumprod(xp.concatenate([xp.ones_like(a_[..., :1]), a_[..., i + 1:]], axis=-1), axis=-1)
            out[..., i] = before[..., i] * (g_[..., i:] * after).sum(axis=-1)
        return xp.moveaxis(out, -1, axis)


class Prod(Function):
    """z = Π a over ``axes``;  dz/da_i = Π_{k≠i} a_k (the product of the others, without dividing)."""

    @staticmethod
    def forward(ctx, a, axes, keepdim, dtype):
        ctx.save(a)
        ctx.axes = axes
        return xp.asarray(a.prod(axis=axes, keepdims=keepdim, dtype=dtype))

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        axes = ctx.axes
        rest = [i for i in range(a.ndim) if i not in axes]
        moved = a.transpose(rest + list(axes))  # (kept..., reduced...)
        kept_shape = moved.shape[: len(rest)]
        others = _product_of_others(moved.reshape(kept_shape + (-1,)), -1).reshape(moved.shape)
        grad = grad.reshape(kept_shape + (1,) * len(axes))
        inverse = [0] * a.ndim
        for position, axis in enumerate(rest + list(axes)):
            inverse[axis] = position
        return (grad * others).transpose(inverse)


# ----------------------------------------------------------------------------------------------------
# The functional API.


def _accumulator_dtype(a, dtype):
    """torch accumulates bool and integers in int64 unless told otherwise."""
    if dtype is not None:
        return xp.dtype(dtype)
    return xp.dtype(xp.int64) if a.dtype.kind in "biu" else None


@numpy_names
def cumsum(a, dim, *, dtype=None):
    """Running sum along ``dim``: z_j = a_0 + ... + a_j."""
    data_axis = normalize_dims(dim, a.ndim)[0] if a.ndim else None
    if data_axis is None:
        return Tensor(a.array.astype(_accumulator_dtype(a, dtype) or a.dtype))
    return CumSum.apply(a, data_axis, _accumulator_dtype(a, dtype))


@numpy_names
def cumprod(a, dim, *, dtype=None):
    """Running product along ``dim``: z_j = a_0 · ... · a_j."""
    if not a.ndim:
        return Tensor(a.array.astype(_accumulator_dtype(a, dtype) or a.dtype))
    return CumProd.apply(a, normalize_dims(dim, a.ndim)[0], _accumulator_dtype(a, dtype))


@numpy_names
def prod(a, dim=None, keepdim=False, *, dtype=None):
    """Product of the elements (along ``dim`` when given); bool and integers give int64, as in torch."""
    if dim is not None and not isinstance(dim, int):
        raise TypeError("prod(): dim must be one int (torch.prod reduces one dim at a time)")
    return Prod.apply(a, reduction_axes(dim, a.ndim), keepdim and dim is not None, _accumulator_dtype(a, dtype))
