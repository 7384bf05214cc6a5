"""Putting tensors together and taking them apart: broadcast_to / broadcast_tensors, ravel, unflatten,
tensor_split and h/v/dsplit, rot90, atleast_nd, h/v/d/column_stack, block_diag, diag_embed,
cartesian_prod, combinations, tril/triu_indices, vander, trapezoid, searchsorted / bucketize.

Every differentiable one is a composition of the shape gates (reshape, expand, getitem, cat, stack, flip,
transpose) and ``IndexPut``, so its gradient is theirs.
"""

import itertools

from ..backend import xp
from ..tensor import Tensor
from . import elementwise as ew
from .index_more import IndexPut
from .reduce import normalize_dims, sum
from .rearrange import flip
from .shape import cat, expand, getitem, reshape, stack, transpose


def _axis(dim, ndim):
    return normalize_dims(dim, ndim)[0] if ndim else 0


def broadcast_shapes(*shapes):
    shapes = [(s,) if isinstance(s, int) else tuple(s) for s in shapes]
    try:
        return tuple(xp.broadcast_shapes(*shapes))
    except ValueError:
        raise RuntimeError(f"Shape mismatch: objects cannot be broadcast to a single shape: {shapes}") from None


def broadcast_to(input, size):
    return expand(input, *size) if isinstance(size, (tuple, list)) else expand(input, size)


def broadcast_tensors(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shape = broadcast_shapes(*[t.shape for t in tensors])
    return tuple(t if tuple(t.shape) == shape else expand(t, shape) for t in tensors)


def ravel(input):
    return reshape(input, -1)


def unflatten(input, dim, sizes):
    """Dim ``dim`` split into ``sizes`` (one entry may be -1)."""
    axis = _axis(dim, input.ndim)
    sizes = list(sizes)
    if -1 in sizes:
        known = 1
        for s in sizes:
            known *= s if s != -1 else 1
        sizes[sizes.index(-1)] = input.shape[axis] // known
    total = 1
    for s in sizes:
        total *= s
    if total != input.shape[axis]:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
                           f"({input.shape[axis]}) in the input tensor")
    return reshape(input, tuple(input.shape[:axis]) + tuple(sizes) + tuple(input.shape[axis + 1:]))


def tensor_split(input, indices_or_sections, dim=0):
    """Split into n nearly equal parts (the first ones one longer), or at the given indices."""
    axis = _axis(dim, input.ndim)
    n = input.shape[axis]
    if isinstance(indices_or_sections, Tensor):
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, int):
        sections = indices_or_sections
        if sections <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
        size, extra = divmod(n, sections)
        bounds = [0]
        for i in range(sections):
            bounds.append(bounds[-1] + size + (1 if i < extra else 0))
    else:
        bounds = [0] + [min(max(int(i) if i >= 0 else n + int(i), 0), n) for i in indices_or_sections] + [n]
    head = (slice(None),) * axis
    return tuple(getitem(input, head + (slice(a, max(a, b)),)) for a, b in zip(bounds[:-1], bounds[1:]))


def _split_at(input, sections, axis, name):
    if isinstance(sections, int) and input.shape[axis] % sections:
        raise RuntimeError(f"torch.{name} attempted to split along dimension {axis}, but the size of the dimension "
                           f"{input.shape[axis]} is not divisible by the split_size {sections}!")
    return tensor_split(input, sections, axis)


def hsplit(input, sections):
    return _split_at(input, sections, 1 if input.ndim > 1 else 0, "hsplit")


def vsplit(input, sections):
    if input.ndim < 2:
        raise RuntimeError(f"torch.vsplit requires a tensor with at least 2 dimension, but got a tensor with {input.ndim} dimensions!")
    return _split_at(input, sections, 0, "vsplit")


def dsplit(input, sections):
    if input.ndim < 3:
        raise RuntimeError(f"torch.dsplit requires a tensor with at least 3 dimension, but got a tensor with {input.ndim} dimensions!")
    return _split_at(input, sections, 2, "dsplit")


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90° k times in the plane of ``dims`` (from the first towards the second)."""
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    d0, d1 = (d % input.ndim for d in dims)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    k %= 4
    if k == 0:
        return ew.mul(input, 1) if input.requires_grad else Tensor(input.array.copy())
    if k == 2:
        return flip(input, (d0, d1))
    if k == 1:
        return transpose(flip(input, (d1,)), d0, d1)
    return flip(transpose(input, d0, d1), (d1,))


def _atleast(tensors, n):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(_atleast(tuple(tensors[0]), n))
    out = []
    for t in tensors:
        if t.ndim >= n:
            out.append(t)
        elif n == 3 and t.ndim == 2:
            out.append(reshape(t, tuple(t.shape) + (1,)))
        elif n == 3 and t.ndim == 1:
            out.append(reshape(t, (1, t.shape[0], 1)))
        else:
            out.append(reshape(t, (1,) * (n - t.ndim) + tuple(t.shape)))
    return out[0] if len(out) == 1 else tuple(out)


def atleast_1d(*tensors):
    return _atleast(tensors, 1)


def atleast_2d(*tensors):
    return _atleast(tensors, 2)


def atleast_3d(*tensors):
    return _atleast(tensors, 3)


def hstack(tensors):
    tensors = [atleast_1d(t) for t in tensors]
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    return cat([atleast_2d(t) for t in tensors], 0)


def dstack(tensors):
    return cat([atleast_3d(t) for t in tensors], 2)


def column_stack(tensors):
    return cat([reshape(t, (-1, 1)) if t.ndim < 2 else t for t in tensors], 1)


def block_diag(*tensors):
    """The matrices on the diagonal of one larger matrix, zeros elsewhere (vectors count as rows)."""
    tensors = [reshape(t, (1, -1)) if t.ndim == 1 else (reshape(t, (1, 1)) if t.ndim == 0 else t) for t in tensors]
    dtype = xp.result_type(*[t.dtype for t in tensors]) if tensors else xp.float32
    sum_shape = (int(xp.sum([t.shape[0] for t in tensors])), int(xp.sum([t.shape[1] for t in tensors])))
    out = Tensor(xp.zeros(sum_shape, dtype=dtype))
    r = c = 0
    for t in tensors:
        if t.dtype != dtype:
            t = ew.cast(t, dtype)
        out = IndexPut.apply(out, t, (slice(r, r + t.shape[0]), slice(c, c + t.shape[1])))
        r, c = r + t.shape[0], c + t.shape[1]
    return out


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Each last-dim vector of ``input`` placed on the ``offset`` diagonal of a matrix in dims (dim1, dim2)."""
    n = input.shape[-1]
    size = n + abs(offset)
    batch = tuple(input.shape[:-1])
    out = Tensor(xp.zeros(batch + (size, size), dtype=input.dtype))
    rows = xp.arange(n) + max(-offset, 0)
    cols = xp.arange(n) + max(offset, 0)
    out = IndexPut.apply(out, input, (Ellipsis, rows, cols))
    ndim = out.ndim
    d1, d2 = dim1 % ndim, dim2 % ndim
    if (d1, d2) == (ndim - 2, ndim - 1):
        return out
    order = [None] * ndim
    order[d1], order[d2] = ndim - 2, ndim - 1
    rest = iter(range(ndim - 2))
    order = [o if o is not None else next(rest) for o in order]
    return out.permute(*order)


def cartesian_prod(*tensors):
    """Every combination of one element from each 1-D tensor, one per row (a 1-D tensor for one input)."""
    if len(tensors) == 1:
        return tensors[0]
    sizes = [t.shape[0] for t in tensors]
    grids = []
    for i, t in enumerate(tensors):
        shape = [1] * len(tensors)
        shape[i] = sizes[i]
        grids.append(reshape(expand(reshape(t, shape), sizes), -1))
    return stack(grids, 1)


def combinations(input, r=2, with_replacement=False):
    """The length-r combinations of a 1-D tensor's elements, one per row (itertools.combinations' order)."""
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    index = xp.asarray(list(pick(range(input.shape[0]), r)), dtype=xp.int64).reshape(-1, r)
    if r == 0 or index.size == 0:
        return Tensor(xp.zeros((0,) if r else (0,), dtype=input.dtype))
    return getitem(input, index)


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (row, column) indices of the lower triangle of a row×col matrix, as a 2×N tensor."""
    return Tensor(xp.stack(xp.tril_indices(row, offset, col)).astype(dtype or xp.int64))


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    return Tensor(xp.stack(xp.triu_indices(row, offset, col)).astype(dtype or xp.int64))


def vander(x, N=None, increasing=False):
    """Columns x^(N-1), ..., x, 1 (or increasing powers)."""
    n = x.shape[0] if N is None else N
    if x.dtype.kind == "b":
        x = ew.cast(x, xp.int64)
    columns, power = [], None
    for i in range(n):
        power = Tensor(xp.ones(x.shape, dtype=x.dtype)) if i == 0 else (x if i == 1 else ew.mul(power, x))
        columns.append(power)
    if not columns:
        return Tensor(xp.zeros((x.shape[0], 0), dtype=x.dtype))
    if not increasing:
        columns = columns[::-1]
    return stack(columns, 1)


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """∫ y along ``dim`` by the trapezoidal rule, with sample points ``x`` or spacing ``dx`` (1 by default)."""
    axis = _axis(dim, y.ndim)
    n = y.shape[axis]
    head = (slice(None),) * axis
    left, right = getitem(y, head + (slice(0, max(n - 1, 0)),)), getitem(y, head + (slice(1, n),))
    heights = ew.add(left, right)
    if x is None:
        return ew.mul(sum(heights, axis), (1.0 if dx is None else dx) / 2)
    if not isinstance(x, Tensor):
        x = Tensor(xp.asarray(x))
    if x.ndim == 1:
        shape = [1] * y.ndim
        shape[axis] = x.shape[0]
        x = reshape(x, shape)
        xaxis = axis
    else:
        xaxis = _axis(dim, x.ndim)
    m = x.shape[xaxis]
    xhead = (slice(None),) * xaxis
    widths = ew.sub(getitem(x, xhead + (slice(1, m),)), getitem(x, xhead + (slice(0, max(m - 1, 0)),)))
    return ew.mul(sum(ew.mul(heights, widths), axis), 0.5)


trapz = trapezoid


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    from .cumulative import cumsum

    axis = _axis(dim, y.ndim)
    n = y.shape[axis]
    head = (slice(None),) * axis
    heights = ew.add(getitem(y, head + (slice(0, n - 1),)), getitem(y, head + (slice(1, n),)))
    if x is None:
        return ew.mul(cumsum(heights, axis), (1.0 if dx is None else dx) / 2)
    shape = [1] * y.ndim
    shape[axis] = x.shape[0]
    x = reshape(x, shape) if x.ndim == 1 else x
    m = x.shape[axis]
    widths = ew.sub(getitem(x, head + (slice(1, m),)), getitem(x, head + (slice(0, m - 1),)))
    return ew.mul(cumsum(ew.mul(heights, widths), axis), 0.5)


def searchsorted(sorted_sequence, values, *, out_int32=False, right=False, side=None, sorter=None):
    """Where each value would be inserted to keep each row of ``sorted_sequence`` sorted (the leftmost place,
    or the rightmost with ``right=True`` / ``side='right'``)."""
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left "
                               "while right was True")
        right = side == "right"
    seq = sorted_sequence.array
    scalar = not isinstance(values, Tensor)
    vals = xp.asarray(values) if scalar else values.array
    if sorter is not None:
        seq = xp.take_along_axis(seq, sorter.array if isinstance(sorter, Tensor) else xp.asarray(sorter), axis=-1)
    how = "right" if right else "left"
    dtype = xp.int32 if out_int32 else xp.int64
    if seq.ndim == 1:
        return Tensor(xp.asarray(xp.searchsorted(seq, vals, side=how)).astype(dtype))
    if seq.shape[:-1] != vals.shape[:-1]:
        raise RuntimeError(f"torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 dimensions "
                           f"of boundaries tensor and input value tensor must match, but we got boundaries tensor "
                           f"{list(seq.shape)} and input value tensor {list(vals.shape)}")
    rows_s, rows_v = seq.reshape(-1, seq.shape[-1]), vals.reshape(-1, vals.shape[-1])
    out = xp.stack([xp.searchsorted(s, v, side=how) for s, v in zip(rows_s, rows_v)]) if len(rows_s) else rows_v
    return Tensor(out.reshape(vals.shape).astype(dtype))


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each input value among the 1-D sorted ``boundaries``: i with
    boundaries[i-1] < x <= boundaries[i] (``right=True``: boundaries[i-1] <= x < boundaries[i])."""
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    vals = input.array if isinstance(input, Tensor) else xp.asarray(input)
    out = xp.searchsorted(boundaries.array, vals, side="right" if right else "left")
    return Tensor(xp.asarray(out).astype(xp.int32 if out_int32 else xp.int64))
