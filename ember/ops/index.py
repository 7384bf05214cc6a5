"""Picking elements by index: gather, scatter, index_select, masked_fill, sort and top-k.

``gather`` is the workhorse: ``sort`` and ``topk`` find the order (no gradient: an order is discrete) and
then gather the values, so the gradient of a sorted value flows back to the element it came from. Where an
index picks the same element twice the gradients add up; the scatter-add uses ``bincount`` on flat positions
(no ``add.at``, which is slow).
"""

from collections import namedtuple

from ..autograd.function import Function
from ..backend import xp
from ..tensor import Tensor
from .reduce import normalize_dims, numpy_names
from .shape import getitem

#: What ``sort`` and ``topk`` return, as ``torch.return_types.sort``: ``values, indices = x.sort()``.
SortResult = namedtuple("sort", ["values", "indices"])
TopkResult = namedtuple("topk", ["values", "indices"])


def _scatter_add(shape, dtype, positions, values):
    """zeros(shape) with ``values`` added at the flat ``positions`` (repeated positions add up)."""
    size = 1
    for n in shape:
        size *= n
    summed = xp.bincount(positions.ravel(), weights=values.ravel(), minlength=size)
    return summed.reshape(shape).astype(dtype, copy=False)


def _prefix(array, index_shape, axis):
    """``array`` cut to ``index_shape`` in every dim but ``axis`` (torch lets an index be smaller there)."""
    return array[tuple(slice(None) if d == axis else slice(0, n) for d, n in enumerate(index_shape))]


class Gather(Function):
    """z[i][j] = a[index[i][j]][j] (for axis 0; likewise along any axis);  da = the gradient scattered
    back to the positions it was gathered from, added up where a position was picked twice."""

    @staticmethod
    def forward(ctx, a, index, axis):
        ctx.shape, ctx.dtype, ctx.axis = a.shape, a.dtype, axis
        ctx.save(index)
        return xp.take_along_axis(_prefix(a, index.shape, axis), index, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved
        positions = xp.arange(_numel(ctx.shape)).reshape(ctx.shape)
        positions = xp.take_along_axis(_prefix(positions, index.shape, ctx.axis), index, axis=ctx.axis)
        return _scatter_add(ctx.shape, ctx.dtype, positions, grad), None, None


class Scatter(Function):
    """z = a with z[index[i][j]][j] = src[i][j] (for axis 0);  da = the gradient where nothing was written,
    dsrc = the gradient gathered from where each src element landed."""

    @staticmethod
    def forward(ctx, a, index, src, axis):
        ctx.axis, ctx.src_shape = axis, getattr(src, "shape", ())
        ctx.save(index)
        z = a.copy()
        if isinstance(src, xp.ndarray) and src.ndim:
            src = src[_leading(index.shape)]  # src may be larger than index in every dim
        xp.put_along_axis(_prefix(z, index.shape, axis), index, src, axis=axis)
        return z

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved
        da = dsrc = None
        if ctx.needs_input_grad[0]:
            da = grad.copy()
            xp.put_along_axis(_prefix(da, index.shape, ctx.axis), index, 0, axis=ctx.axis)
        if ctx.needs_input_grad[2]:
            dsrc = xp.zeros(ctx.src_shape, dtype=grad.dtype)  # src elements beyond index's shape went nowhere
            dsrc[_leading(index.shape)] = xp.take_along_axis(_prefix(grad, index.shape, ctx.axis), index, axis=ctx.axis)
        return da, None, dsrc, None


def _leading(shape):
    return tuple(slice(0, n) for n in shape)


class MaskedFill(Function):
    """z = value where mask else a;  da = the gradient where the mask is False, 0 where it was filled."""

    @staticmethod
    def forward(ctx, a, mask, value):
        ctx.save(mask)
        return xp.where(mask, xp.asarray(value).astype(a.dtype), a)

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved
        return xp.where(mask, 0, grad).astype(grad.dtype, copy=False), None, None


def _numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


# ----------------------------------------------------------------------------------------------------
# The functional API.


def _axis(dim, ndim):
    return normalize_dims(dim, ndim)[0] if ndim else 0


def _index_array(index, name):
    array = index.array if isinstance(index, Tensor) else xp.asarray(index)
    if array.dtype.kind not in "iu":
        raise RuntimeError(f"{name}(): Expected dtype int64 for index, got {array.dtype}; convert it with .long()")
    return array


@numpy_names
def gather(a, dim, index):
    """``out[i][j][k] = a[index[i][j][k]][j][k]`` for ``dim=0`` (likewise for the other dims)."""
    index = _index_array(index, "gather")
    if index.ndim == 0 and a.ndim == 1:  # torch reads a 0-d index as a one-element vector; the result is 0-d
        return Gather.apply(a, index.reshape(1), 0).reshape(())
    if index.ndim != a.ndim:
        raise RuntimeError(f"gather(): Index tensor must have the same number of dimensions as input tensor "
                           f"({index.ndim} vs {a.ndim})")
    return Gather.apply(a, index, _axis(dim, a.ndim))


def scatter(a, dim, index, src=None, *, value=None):
    """A copy of ``a`` with ``out[index[i][j]][j] = src[i][j]`` for ``dim=0``; ``src`` may be a number
    (or pass ``value=``)."""
    index = _index_array(index, "scatter")
    if index.ndim == 0 and a.ndim == 1:  # torch reads a 0-d index as a one-element vector (one-hot labels)
        index = index.reshape(1)
    if index.ndim != a.ndim:
        raise RuntimeError(f"scatter(): Index tensor must have the same number of dimensions as self tensor "
                           f"({index.ndim} vs {a.ndim})")
    src = value if src is None else src
    if src is None:
        raise TypeError("scatter(): give the values to write as src (a tensor or a number) or value=")
    if not isinstance(src, Tensor):
        src = xp.asarray(src, dtype=a.dtype)
    elif src.ndim == 0 and a.ndim == 1:  # a 0-d src tensor is a one-element vector too (its gradient is 0-d)
        src = src.reshape(1)
    return Scatter.apply(a, index, src, _axis(dim, a.ndim))


@numpy_names
def index_select(a, dim, index):
    """The slices of ``a`` along ``dim`` at the positions in the 1-D ``index`` (repeats allowed)."""
    index = _index_array(index, "index_select")
    if index.ndim > 1:
        raise IndexError(f"index_select(): Index is supposed to be a vector, got {index.ndim} dims")
    axis = _axis(dim, a.ndim)
    return getitem(a, (slice(None),) * axis + (index.reshape(-1),))


def masked_fill(a, mask, value):
    """``a`` with ``value`` wherever the bool ``mask`` (broadcast to ``a``'s shape) is True."""
    mask = mask.array if isinstance(mask, Tensor) else xp.asarray(mask)
    if mask.dtype != xp.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {mask.dtype}")
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value.ndim} dimension(s).")
        value = value.item()
    try:
        xp.broadcast_shapes(mask.shape, a.shape)
    except ValueError:
        raise RuntimeError(f"masked_fill(): the mask's shape {tuple(mask.shape)} must be broadcastable to the "
                           f"tensor's shape {tuple(a.shape)}") from None
    if xp.broadcast_shapes(mask.shape, a.shape) != a.shape:
        mask = xp.broadcast_to(mask, xp.broadcast_shapes(mask.shape, a.shape))  # torch broadcasts the output
    return MaskedFill.apply(a, mask, value)


def _order(data, axis, descending):
    """Indices that sort ``data`` along ``axis``; equal values keep their order (a stable sort)."""
    if not descending:
        return xp.argsort(data, axis=axis, kind="stable")
    if data.dtype.kind == "b":
        data = data.astype(xp.int8)
    if data.dtype.kind == "u":
        data = data.astype(xp.int64)
    # sorting -data ascending is a stable descending sort; NaN counts as the largest value, as in torch
    key = -data if data.dtype.kind != "f" else xp.where(xp.isnan(data), -xp.inf, -data)
    return xp.argsort(key, axis=axis, kind="stable")


@numpy_names
def sort(a, dim=-1, descending=False, stable=False):
    """``(values, indices)`` sorted along ``dim``; the values carry the gradient back to where they were."""
    axis = _axis(dim, a.ndim)
    data = a.array.reshape(a.shape or (1,))
    index = _order(data, axis, descending).reshape(a.shape)
    return SortResult(Gather.apply(a, index, axis) if a.ndim else _copy(a), Tensor(index.astype(xp.int64)))


@numpy_names
def argsort(a, dim=-1, descending=False, stable=False):
    axis = _axis(dim, a.ndim)
    index = _order(a.array.reshape(a.shape or (1,)), axis, descending).reshape(a.shape)
    return Tensor(index.astype(xp.int64))


@numpy_names
def topk(a, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (or smallest) elements along ``dim`` and their indices, largest first."""
    axis = _axis(dim, a.ndim)
    n = a.shape[axis] if a.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"selected index k out of range (topk(): k={k}, but dim {dim} has {n} elements)")
    data = a.array.reshape(a.shape or (1,))
    index = _order(data, axis, largest)
    index = xp.take(index, xp.arange(k), axis=axis).reshape(a.shape[:axis] + (k,) + a.shape[axis + 1:] if a.ndim else ())
    values = Gather.apply(a, index, axis) if a.ndim else _copy(a)
    return TopkResult(values, Tensor(index.astype(xp.int64)))


def _copy(a):
    from .elementwise import mul

    return mul(a, 1)
