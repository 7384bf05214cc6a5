"""Reductions: sum, mean, max/min, variance — and their gradients, which spread back over the reduced axes.

``dim`` is an int, a tuple of ints or ``None`` (every axis), negative values counting from the end,
exactly as in PyTorch; ``keepdim`` keeps the reduced axes with size 1.
"""

import functools
from collections import namedtuple

from ..autograd.function import Function
from .. import backend
from ..backend import errstate, xp
from ..tensor import Tensor
from .elementwise import maximum, minimum, sqrt

#: What ``max(dim)`` and ``min(dim)`` return, as ``torch.return_types.max``: ``values, indices = x.max(1)``.
ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


def numpy_names(fn):
    """Let ``fn`` take NumPy's keyword names as torch does: ``axis=`` for ``dim=``, ``keepdims=`` for ``keepdim=``
    (``x.sum(axis=1, keepdims=True)`` is common in course code)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if "axis" in kwargs:
            kwargs["dim"] = kwargs.pop("axis")
        if "keepdims" in kwargs:
            kwargs["keepdim"] = kwargs.pop("keepdims")
        try:
            return fn(*args, **kwargs)
        except IndexError as exc:  # name the function in normalize_dims' message (torch's text follows)
            if exc.args and str(exc.args[0]).startswith("Dimension out of range"):
                exc.args = (f"{fn.__name__}(): {exc.args[0]}",) + exc.args[1:]
            raise

    return wrapper


def normalize_dims(dim, ndim):
    """``dim`` as a sorted tuple of non-negative axes (all of them for ``None``); checks the range."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    limit = ndim or 1  # a 0-d tensor accepts dim 0 and -1, as in torch
    out = []
    for d in dims:
        if not -limit <= d < limit:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got {d})")
        out.append(d % ndim if ndim else 0)
    return tuple(sorted(set(out)))


def reduction_axes(dim, ndim):
    """The axes a reduction runs over: ``normalize_dims``, except that an empty ``dim`` means every axis
    and a 0-d tensor has no axis to reduce (torch accepts dim 0 and -1 for it and returns the element)."""
    if dim is not None and not isinstance(dim, int) and len(dim) == 0:
        dim = None
    axes = normalize_dims(dim, ndim)
    return axes if ndim else ()


def _keepdim_shape(shape, axes):
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _count(shape, axes):
    n = 1
    for a in axes:
        n *= shape[a]
    return n


class Sum(Function):
    """z = Σ a over ``axes``;  dz/da = 1: the gradient is copied back to every summed element."""

    @staticmethod
    def forward(ctx, a, axes, keepdim):
        ctx.shape, ctx.axes = a.shape, axes
        # torch sums bool and every integer dtype into int64 (NumPy would keep uint8 sums unsigned).
        dtype = xp.int64 if a.dtype.kind in "biu" else None
        return xp.asarray(a.sum(axis=axes, keepdims=keepdim, dtype=dtype))

    @staticmethod
    def backward(ctx, grad):
        grad = grad.reshape(_keepdim_shape(ctx.shape, ctx.axes))
        return xp.broadcast_to(grad, ctx.shape)


class Mean(Function):
    """z = (1/n) Σ a over ``axes``;  dz/da = 1/n."""

    @staticmethod
    def forward(ctx, a, axes, keepdim):
        ctx.shape, ctx.axes = a.shape, axes
        return xp.asarray(a.mean(axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx, grad):
        grad = grad.reshape(_keepdim_shape(ctx.shape, ctx.axes)) / _count(ctx.shape, ctx.axes)
        return xp.broadcast_to(grad, ctx.shape)


class Amax(Function):
    """z = max (or min) of a over ``axes``; the gradient is shared evenly among the elements that tie for it."""

    @staticmethod
    def forward(ctx, a, axes, keepdim, largest=True):
        z = a.max(axis=axes, keepdims=True) if largest else a.min(axis=axes, keepdims=True)
        ctx.save(a, z)
        ctx.axes = axes
        return z if keepdim else z.reshape(tuple(n for i, n in enumerate(a.shape) if i not in axes))

    @staticmethod
    def backward(ctx, grad):
        a, z = ctx.saved
        winners = a == z
        share = grad.reshape(z.shape) / winners.sum(axis=ctx.axes, keepdims=True)
        return xp.where(winners, share, 0).astype(a.dtype, copy=False)


class MaxDim(Function):
    """(values, indices) of the max (or min) along one axis; the gradient goes to the index returned."""

    @staticmethod
    def forward(ctx, a, axis, keepdim, largest=True):
        ctx.shape, ctx.axis, ctx.dtype = a.shape, axis, a.dtype
        a = a.reshape(a.shape or (1,))  # torch reduces a 0-d tensor along dim 0 as a single element
        index = xp.argmax(a, axis=axis, keepdims=True) if largest else xp.argmin(a, axis=axis, keepdims=True)
        values = xp.take_along_axis(a, index, axis=axis)
        ctx.save(index)
        if not keepdim or not ctx.shape:
            values, index = values.squeeze(axis), index.squeeze(axis)
        return values, index

    @staticmethod
    def backward(ctx, grad, _grad_index):
        (index,) = ctx.saved
        out = xp.zeros(ctx.shape or (1,), dtype=ctx.dtype)
        xp.put_along_axis(out, index, grad.reshape(index.shape), axis=ctx.axis)
        return out.reshape(ctx.shape)


class Var(Function):
    """z = Σ (a - ā)² / (n - correction);  dz/da = 2 (a - ā) / (n - correction).

    ``correction=1`` is the unbiased (Bessel) estimate and PyTorch's default; ``correction=0`` the biased one.
    """

    @staticmethod
    def forward(ctx, a, axes, correction, keepdim):
        centered = a - a.mean(axis=axes, keepdims=True)
        denom = _count(a.shape, axes) - correction
        denom = denom if denom > 0 else 0
        with errstate(divide="ignore", invalid="ignore"):
            z = (centered * centered).sum(axis=axes, keepdims=keepdim) / denom
        ctx.save(centered)
        ctx.axes, ctx.denom = axes, denom
        return xp.asarray(z)

    @staticmethod
    def backward(ctx, grad):
        (centered,) = ctx.saved
        grad = grad.reshape(_keepdim_shape(centered.shape, ctx.axes))
        with errstate(divide="ignore", invalid="ignore"):
            return grad * centered * (2 / ctx.denom if ctx.denom else xp.inf)


class LogSumExp(Function):
    """z = ln Σ eᵃ over ``axes``, computed as m + ln Σ e^(a - m) with m = max a (no overflow);
    dz/da = e^(a - z), the softmax of a."""

    @staticmethod
    def forward(ctx, a, axes, keepdim):
        m = a.max(axis=axes, keepdims=True) if a.size else xp.zeros((1,) * a.ndim, dtype=a.dtype)
        m = xp.where(xp.isfinite(m), m, 0)  # all -inf (or an inf) would give inf - inf = nan
        with errstate(divide="ignore"):
            z = m + xp.log(xp.exp(a - m).sum(axis=axes, keepdims=True))
        ctx.save(a, z)
        ctx.axes = axes
        return z if keepdim else z.reshape(tuple(n for i, n in enumerate(a.shape) if i not in axes))

    @staticmethod
    def backward(ctx, grad):
        a, z = ctx.saved
        return grad.reshape(z.shape) * xp.exp(a - z)


class Norm2(Function):
    """z = ‖a‖₂ = √Σ a² over ``axes``;  dz/da = a / z, taken as 0 where z = 0 (a subgradient, as torch)."""

    @staticmethod
    def forward(ctx, a, axes, keepdim):
        z = xp.sqrt((a * a).sum(axis=axes, keepdims=True))
        ctx.save(a, z)
        ctx.axes = axes
        return z if keepdim else z.reshape(tuple(n for i, n in enumerate(a.shape) if i not in axes))

    @staticmethod
    def backward(ctx, grad):
        a, z = ctx.saved
        with errstate(divide="ignore", invalid="ignore"):
            return xp.where(z == 0, 0, grad.reshape(z.shape) * a / z).astype(a.dtype, copy=False)


# ----------------------------------------------------------------------------------------------------
# The functional API.


@numpy_names
def sum(a, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        a = _cast(a, dtype)
    return Sum.apply(a, reduction_axes(dim, a.ndim), keepdim)


@numpy_names
def mean(a, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        a = _cast(a, dtype)
    if not a.dtype.kind == "f":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. "
            f"Got: {a.dtype} (convert it first with .float(), or pass dtype=ember.float32)"
        )
    return Mean.apply(a, reduction_axes(dim, a.ndim), keepdim)


def _cast(a, dtype):
    from .elementwise import cast

    return cast(a, xp.dtype(dtype))


def _extreme(a, dim, keepdim, largest):
    if isinstance(dim, Tensor):  # x.max(other) is the element-wise maximum, as in torch
        return maximum(a, dim) if largest else minimum(a, dim)
    if a.array.size == 0:
        raise RuntimeError("max()/min(): the tensor is empty, so it has no maximum or minimum")
    if dim is None:
        return Amax.apply(a, normalize_dims(None, a.ndim), False, largest)
    if not isinstance(dim, int):
        raise TypeError("max(dim)/min(dim) take one int dim (use amax/amin for several)")
    (axis,) = normalize_dims(dim, a.ndim)
    values, indices = MaxDim.apply(a, axis, keepdim, largest)
    return ValuesIndices(values, indices)


@numpy_names
def max(a, dim=None, keepdim=False):
    """``max(a)``: the largest element. ``max(a, dim)``: ``(values, indices)`` along ``dim``, as in torch."""
    return _extreme(a, dim, keepdim, True)


@numpy_names
def min(a, dim=None, keepdim=False):
    """``min(a)``: the smallest element. ``min(a, dim)``: ``(values, indices)`` along ``dim``, as in torch."""
    return _extreme(a, dim, keepdim, False)


@numpy_names
def amax(a, dim=None, keepdim=False):
    return Amax.apply(a, reduction_axes(dim, a.ndim), keepdim, True)


@numpy_names
def amin(a, dim=None, keepdim=False):
    return Amax.apply(a, reduction_axes(dim, a.ndim), keepdim, False)


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


@numpy_names
def var(a, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance; unbiased (divides by n - 1) unless ``unbiased=False`` or ``correction=0``."""
    return Var.apply(a, reduction_axes(dim, a.ndim), _correction(unbiased, correction), keepdim)


@numpy_names
def std(a, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation: √var, with ``var``'s arguments."""
    return sqrt(var(a, dim, unbiased, keepdim, correction=correction))


@numpy_names
def argmax(a, dim=None, keepdim=False):
    """Index of the largest element (of the flattened tensor when ``dim`` is None); the first one on ties."""
    return _arg_extreme(xp.argmax, a, dim, keepdim)


@numpy_names
def argmin(a, dim=None, keepdim=False):
    """Index of the smallest element (of the flattened tensor when ``dim`` is None); the first one on ties."""
    return _arg_extreme(xp.argmin, a, dim, keepdim)


def _arg_extreme(arg, a, dim, keepdim):
    if dim is None:
        index = xp.asarray(arg(a.array))
        # keepdim without a dim keeps every axis with size 1, as in torch
        return Tensor(index.reshape((1,) * a.ndim) if keepdim else index)
    (axis,) = normalize_dims(dim, a.ndim)
    data = a.array.reshape(a.shape or (1,))  # a 0-d tensor has one element along dim 0
    return Tensor(arg(data, axis=axis, keepdims=keepdim and a.ndim > 0))


@numpy_names
def logsumexp(a, dim, keepdim=False):
    """ln Σ exp(a) along ``dim``, without overflow (the log-partition function of a softmax)."""
    if a.dtype.kind != "f":
        a = _cast(a, backend.default_dtype)
    return LogSumExp.apply(a, reduction_axes(dim, a.ndim), keepdim)


@numpy_names
def norm(a, p="fro", dim=None, keepdim=False, dtype=None):
    """The vector p-norm (p = 2 or 'fro', 1, inf, -inf, 0 or any number) over ``dim`` (every element when None).

    ``'fro'`` on a matrix is the 2-norm of all its elements; 'nuc' (the nuclear norm) is not supported.
    """
    from .elementwise import abs, pow

    if dtype is not None:
        a = _cast(a, dtype)
    if a.dtype.kind != "f":
        raise RuntimeError(f"norm(): input dtype should be floating point, but got {a.dtype}; convert it with .float()")
    axes = reduction_axes(dim, a.ndim)
    if p in ("fro", 2, 2.0, None):
        return Norm2.apply(a, axes, keepdim)
    if p == "nuc":
        raise NotImplementedError("norm(): the nuclear norm (p='nuc') is not supported")
    if p == float("inf"):
        return Amax.apply(abs(a), axes, keepdim, True)
    if p == -float("inf"):
        return Amax.apply(abs(a), axes, keepdim, False)
    if p == 0:
        return Sum.apply(Tensor((a.array != 0).astype(a.dtype)), axes, keepdim)
    if p == 1:
        return Sum.apply(abs(a), axes, keepdim)
    return pow(Sum.apply(pow(abs(a), p), axes, keepdim), 1.0 / p)
