"""More index-based writes and reads: scatter_add / scatter_reduce, index_add / index_copy / index_fill /
index_put, masked_select / masked_scatter, take / take_along_dim / put, select.

A write at positions chosen by an index is one Function, ``IndexPut``: forward writes (or, accumulating,
adds with ``bincount`` over the flat positions, so repeated positions add up), backward gives the written
values the gradient read back from where they landed, and the original tensor the gradient everywhere it
was not overwritten. ``index_copy``, ``index_fill``, ``index_add`` and ``put`` are ``IndexPut`` with an
index built from theirs.
"""

from ..autograd.function import Function
from ..backend import errstate, xp
from ..tensor import Tensor
from . import elementwise as ew
from .index import _index_array, _leading, _numel, _prefix
from .reduce import normalize_dims
from .shape import expand, getitem, reshape


def _positions(shape, index):
    """The flat position of every element that ``index`` picks from an array of ``shape``."""
    return xp.arange(_numel(shape)).reshape(shape)[index]


class IndexPut(Function):
    """z = a with z[index] = values (accumulate: z[index] += values, repeats adding up);
    da = g, zeroed where values overwrote a;  dvalues = g[index]."""

    @staticmethod
    def forward(ctx, a, values, index, accumulate=False):
        ctx.index, ctx.accumulate = index, accumulate
        z = a.copy()
        if accumulate:
            positions = _positions(a.shape, index)
            added = xp.broadcast_to(values, positions.shape)
            z += xp.bincount(positions.ravel(), weights=added.ravel(), minlength=a.size).reshape(a.shape).astype(a.dtype)
        else:
            z[index] = values
        return z

    @staticmethod
    def backward(ctx, grad):
        da = dvalues = None
        if ctx.needs_input_grad[0]:
            da = grad
            if not ctx.accumulate:
                da = grad.copy()
                da[ctx.index] = 0
        if ctx.needs_input_grad[1]:
            dvalues = grad[ctx.index]
        return da, dvalues, None, None


class ScatterAdd(Function):
    """z = a with z[index[i][j]][j] += src[i][j] (for dim 0);  da = g,  dsrc = g gathered at index."""

    @staticmethod
    def forward(ctx, a, index, src, axis):
        ctx.axis, ctx.src_shape = axis, src.shape
        ctx.save(index)
        table = xp.arange(a.size).reshape(a.shape)
        positions = xp.take_along_axis(_prefix(table, index.shape, axis), index, axis=axis)
        added = xp.bincount(positions.ravel(), weights=src[_leading(index.shape)].ravel(), minlength=a.size)
        return a + added.reshape(a.shape).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved
        dsrc = None
        if ctx.needs_input_grad[2]:
            dsrc = xp.zeros(ctx.src_shape, dtype=grad.dtype)
            dsrc[_leading(index.shape)] = xp.take_along_axis(_prefix(grad, index.shape, ctx.axis), index, axis=ctx.axis)
        return grad, None, dsrc, None


_IDENTITY = {"sum": 0, "mean": 0, "prod": 1, "amax": -xp.inf, "amin": xp.inf}
_UFUNC = {"sum": xp.add, "mean": xp.add, "prod": xp.multiply, "amax": xp.maximum, "amin": xp.minimum}


class ScatterReduce(Function):
    """z = a with each src[i][j] combined into z[index[i][j]][j] by sum, prod, mean, amax or amin
    (``include_self=False`` leaves a's value out where something was scattered).

    Backward: sum passes g to both sides; mean divides it by the count per position; prod gives each factor
    g·z / factor; amax / amin share g equally among the elements equal to the result (torch's rule).
    """

    @staticmethod
    def forward(ctx, a, index, src, axis, reduce, include_self):
        src = src[_leading(index.shape)]
        table = xp.arange(a.size).reshape(a.shape)
        positions = xp.take_along_axis(_prefix(table, index.shape, axis), index, axis=axis).ravel()
        hit = xp.zeros(a.size, dtype=bool)
        hit[positions] = True
        flat = a.ravel().copy()
        if not include_self:
            flat[hit] = _IDENTITY[reduce]
        _UFUNC[reduce].at(flat, positions, src.ravel())
        counts = xp.bincount(positions, minlength=a.size) + (1 if include_self else 0)
        if reduce == "mean":
            flat = flat / xp.maximum(counts, 1)
            if a.dtype.kind in "iu":
                flat = xp.floor(flat)
        z = flat.astype(a.dtype, copy=False).reshape(a.shape)
        ctx.save(a, src, positions, hit, counts, z)
        ctx.axis, ctx.reduce, ctx.include_self, ctx.index_shape = axis, reduce, include_self, index.shape
        ctx.src_shape = src.shape
        return z

    @staticmethod
    def backward(ctx, grad):
        a, src, positions, hit, counts, z = ctx.saved
        g, zf, af, sf = grad.ravel(), z.ravel(), a.ravel(), src.ravel()
        self_kept = ~hit | ctx.include_self
        reduce = ctx.reduce
        with errstate(divide="ignore", invalid="ignore"):
            if reduce == "sum":
                da, ds = g * self_kept, g[positions]
            elif reduce == "mean":
                share = g / xp.maximum(counts, 1)
                da, ds = xp.where(self_kept, share, 0), share[positions]
            elif reduce == "prod":
                da = xp.where(self_kept, g * zf / af, 0)
                ds = g[positions] * zf[positions] / sf
            else:
                winners = xp.bincount(positions, weights=(sf == zf[positions]), minlength=a.size)
                winners = winners + (self_kept & (af == zf))
                share = g / xp.maximum(winners, 1)
                da = xp.where(self_kept & (af == zf), share, 0)
                ds = xp.where(sf == zf[positions], share[positions], 0)
        da = da.reshape(a.shape).astype(grad.dtype, copy=False)
        ds = ds.reshape(ctx.src_shape).astype(grad.dtype, copy=False)
        return da, None, ds, None, None, None


class MaskedScatter(Function):
    """z = a with the positions where mask is True filled, in order, by the first elements of source;
    da = g where the mask is False;  dsource = g at the masked positions (0 for the unused rest)."""

    @staticmethod
    def forward(ctx, a, mask, source):
        ctx.save(mask)
        ctx.source_shape = source.shape
        z = a.copy()
        n = int(mask.sum())
        if n > source.size:
            raise RuntimeError(f"masked_scatter: expected source to have at least {n} elements (the number of True "
                               f"values in the mask), got {source.size}")
        z[mask] = source.ravel()[:n]
        return z

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved
        dsource = xp.zeros(_numel(ctx.source_shape), dtype=grad.dtype)
        picked = grad[mask]
        dsource[: picked.size] = picked
        return xp.where(mask, 0, grad).astype(grad.dtype, copy=False), None, dsource.reshape(ctx.source_shape)


# ----------------------------------------------------------------------------------------------------
# The functional API.


def _axis(dim, ndim):
    return normalize_dims(dim, ndim)[0] if ndim else 0


def _src(src, like):
    return src if isinstance(src, Tensor) else Tensor(xp.asarray(src, dtype=like.dtype))


def scatter_add(input, dim, index, src):
    """A copy of ``input`` with ``out[index[i][j]][j] += src[i][j]`` for ``dim=0`` (likewise along any dim)."""
    index = _index_array(index, "scatter_add")
    return ScatterAdd.apply(input, index, _src(src, input), _axis(dim, input.ndim))


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """``scatter`` that combines: reduce is 'sum', 'prod', 'mean', 'amax' or 'amin'."""
    if reduce not in _UFUNC:
        raise RuntimeError(f"scatter_reduce(): reduce argument must be either sum, prod, mean, amax or amin, "
                           f"got {reduce}")
    index = _index_array(index, "scatter_reduce")
    return ScatterReduce.apply(input, index, _src(src, input), _axis(dim, input.ndim), reduce, bool(include_self))


def _dim_index(dim, ndim, index):
    return (slice(None),) * dim + (index,)


def _vector_index(index, name):
    index = _index_array(index, name)
    if index.ndim > 1:
        raise IndexError(f"{name}(): index_add_(): Index is supposed to be a vector, got {index.ndim} dims")
    return index.reshape(-1)


def index_add(input, dim, index, source, *, alpha=1):
    """A copy of ``input`` with ``alpha·source`` added at ``index`` along ``dim`` (repeats add up)."""
    axis = _axis(dim, input.ndim)
    index = _vector_index(index, "index_add")
    values = _src(source, input)
    if alpha != 1:
        values = ew.mul(values, alpha)
    return IndexPut.apply(input, values, _dim_index(axis, input.ndim, index), accumulate=True)


def index_copy(input, dim, index, source):
    """A copy of ``input`` with the slices ``index`` along ``dim`` replaced by ``source``'s."""
    axis = _axis(dim, input.ndim)
    index = _vector_index(index, "index_copy")
    return IndexPut.apply(input, _src(source, input), _dim_index(axis, input.ndim, index))


def index_fill(input, dim, index, value):
    """A copy of ``input`` with the slices ``index`` along ``dim`` set to ``value`` (a number or 0-d tensor)."""
    axis = _axis(dim, input.ndim)
    index = _vector_index(index, "index_fill")
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value.ndim} dimension(s).")
    return IndexPut.apply(input, _src(value, input), _dim_index(axis, input.ndim, index))


def index_put(input, indices, values, accumulate=False):
    """A copy of ``input`` with ``out[indices] = values`` (``+=`` with ``accumulate=True``); ``indices`` is a
    tuple of index tensors, as in ``x[i, j]``."""
    from .shape import index_arrays

    index = index_arrays(tuple(indices))
    return IndexPut.apply(input, _src(values, input), index, accumulate=bool(accumulate))


def masked_select(input, mask):
    """The elements of ``input`` where ``mask`` is True, as a 1-D tensor (the two broadcast together)."""
    mask = mask.array if isinstance(mask, Tensor) else xp.asarray(mask)
    if mask.dtype != xp.bool_:
        raise RuntimeError(f"masked_select: expected BoolTensor for mask, got {mask.dtype}")
    shape = xp.broadcast_shapes(tuple(input.shape), mask.shape)
    if tuple(input.shape) != shape:
        input = expand(input, shape)
    return getitem(input, xp.broadcast_to(mask, shape))


def masked_scatter(input, mask, source):
    mask = mask.array if isinstance(mask, Tensor) else xp.asarray(mask)
    if mask.dtype != xp.bool_:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype {mask.dtype}")
    return MaskedScatter.apply(input, xp.broadcast_to(mask, tuple(input.shape)), source)


def take(input, index):
    """``input`` read as 1-D at ``index`` (the result has the index's shape)."""
    return getitem(reshape(input, -1), _index_array(index, "take"))


def take_along_dim(input, indices, dim=None):
    """``gather`` with input and indices broadcast to each other in every dim but ``dim`` (flattened when None)."""
    from .index import gather

    indices = _index_array(indices, "take_along_dim")
    if dim is None:
        return getitem(reshape(input, -1), indices.reshape(-1))
    axis = _axis(dim, input.ndim)
    shape_in, shape_ix = list(input.shape), list(indices.shape)
    shape_in[axis] = shape_ix[axis] = 1
    common = xp.broadcast_shapes(tuple(shape_in), tuple(shape_ix))
    target_in = list(common)
    target_in[axis] = input.shape[axis]
    target_ix = list(common)
    target_ix[axis] = indices.shape[axis]
    if tuple(input.shape) != tuple(target_in):
        input = expand(input, tuple(target_in))
    return gather(input, axis, Tensor(xp.broadcast_to(indices, tuple(target_ix))))


def put(input, index, source, accumulate=False):
    """A copy of ``input`` with ``flat[index] = source`` (``+=`` with accumulate), ``input`` read as 1-D."""
    index = _index_array(index, "put").reshape(-1)
    flat = IndexPut.apply(reshape(input, -1), reshape(_src(source, input), -1), index, accumulate=bool(accumulate))
    return reshape(flat, tuple(input.shape))


def select(input, dim, index):
    """``input`` indexed by ``index`` along ``dim`` (that dim goes away)."""
    axis = _axis(dim, input.ndim)
    n = input.shape[axis]
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input.shape)} at "
                         f"dimension {dim}")
    return getitem(input, (slice(None),) * axis + (index,))


def argwhere(input):
    """The indices of the non-zero elements, one row per element (``nonzero``)."""
    return Tensor(xp.argwhere(input.array).astype(xp.int64))


def select_scatter(input, src, dim, index):
    """A copy of ``input`` with ``src`` written where ``input.select(dim, index)`` reads."""
    axis = _axis(dim, input.ndim)
    return IndexPut.apply(input, _src(src, input), (slice(None),) * axis + (index,))


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """A copy of ``input`` with ``src`` written into the slice start:end:step of ``dim``."""
    axis = _axis(dim, input.ndim)
    return IndexPut.apply(input, _src(src, input), (slice(None),) * axis + (slice(start, end, step),))


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """A copy of ``input`` with ``src`` written on its ``offset`` diagonal in dims (dim1, dim2)."""
    d1, d2 = dim1 % input.ndim, dim2 % input.ndim
    moved = input.movedim((d1, d2), (-2, -1))
    rows_n, cols_n = moved.shape[-2], moved.shape[-1]
    n = max(0, min(rows_n - max(-offset, 0), cols_n - max(offset, 0)))
    rows = xp.arange(n) + max(-offset, 0)
    cols = xp.arange(n) + max(offset, 0)
    out = IndexPut.apply(moved, _src(src, input), (Ellipsis, rows, cols))
    return out.movedim((-2, -1), (d1, d2))


def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """``index_add`` that combines with 'prod', 'mean', 'amax' or 'amin' (``scatter_reduce`` along ``dim``)."""
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}.")
    axis = _axis(dim, input.ndim)
    index = _vector_index(index, "index_reduce")
    source = _src(source, input)
    shape = [1] * source.ndim
    shape[axis] = index.size
    full_index = xp.broadcast_to(index.reshape(shape), tuple(source.shape)).copy()
    return ScatterReduce.apply(input, full_index, source, axis, reduce, bool(include_self))
