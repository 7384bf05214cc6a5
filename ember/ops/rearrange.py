"""Cutting, copying and rearranging tensors: split and chunk, flip and roll, repeat and tile, triangles and
diagonals, meshgrid.

Most are built on indexing (``getitem``), whose backward already scatters the gradient back (adding where
an element was picked twice); ``repeat`` and ``diag`` have Functions of their own, because the sum over
copies (or the diagonal's placement) is one reshape, not a scatter.
"""

import warnings

from ..autograd.function import Function
from ..backend import xp
from ..tensor import Tensor
from .reduce import normalize_dims
from .shape import expand, getitem, reshape


class Repeat(Function):
    """z = a tiled ``reps`` times along each dim (``torch.Tensor.repeat``); the gradient of a is the sum of
    the gradients of its copies: view dz as (r0, n0, r1, n1, ...) and sum over the r axes."""

    @staticmethod
    def forward(ctx, a, reps):
        a = a.reshape((1,) * (len(reps) - a.ndim) + a.shape)  # new leading dims of size 1
        ctx.shape, ctx.reps, ctx.lead = a.shape, reps, len(reps) - a.ndim
        return xp.tile(a, reps)

    @staticmethod
    def backward(ctx, grad):
        split = [size for pair in zip(ctx.reps, ctx.shape) for size in pair]  # (r0, n0, r1, n1, ...)
        summed = grad.reshape(split).sum(axis=tuple(range(0, len(split), 2)))
        return summed.reshape(summed.shape[ctx.lead:]), None


class Diag(Function):
    """z = the ``k``-th diagonal of a matrix a, or the square matrix with vector a on its ``k``-th diagonal;
    the gradient moves the other way (onto or off the diagonal)."""

    @staticmethod
    def forward(ctx, a, k):
        ctx.shape, ctx.k = a.shape, k
        return xp.diag(a, k).copy()  # NumPy's diagonal is a read-only view

    @staticmethod
    def backward(ctx, grad):
        if len(ctx.shape) == 1:
            return xp.diag(grad, ctx.k), None
        out = xp.zeros(ctx.shape, dtype=grad.dtype)
        rows, cols = _diagonal_positions(len(grad), ctx.k)
        out[rows, cols] = grad
        return out, None


def _diagonal_positions(n, k):
    i = xp.arange(n)
    return i + max(-k, 0), i + max(k, 0)


# ----------------------------------------------------------------------------------------------------
# The functional API.


def _axis(dim, ndim):
    return normalize_dims(dim, ndim)[0]


def narrow(a, dim, start, length):
    """The ``length`` slices of ``a`` from ``start`` along ``dim`` (shares the data, like a slice)."""
    axis = _axis(dim, a.ndim)
    start = int(start) % a.shape[axis] if int(start) < 0 else int(start)
    if start + length > a.shape[axis]:
        raise RuntimeError(f"narrow(): start ({start}) + length ({length}) exceeds dimension size ({a.shape[axis]}).")
    return getitem(a, (slice(None),) * axis + (slice(start, start + length),))


def split(a, split_size_or_sections, dim=0):
    """Pieces of ``a`` along ``dim``: of ``split_size`` each (the last may be smaller), or of the sizes listed."""
    axis = _axis(dim, a.ndim)
    n = a.shape[axis]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size <= 0 and n:
            raise RuntimeError(f"split(): split_size can only be 0 if dimension size is 0, but got {size}")
        sizes = [min(size, n - s) for s in range(0, n, size)] if n else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at "
                               f"dimension {dim}), but got split_sizes={sizes}")
    pieces, start = [], 0
    for s in sizes:
        pieces.append(getitem(a, (slice(None),) * axis + (slice(start, start + s),)))
        start += s
    return tuple(pieces)


def chunk(a, chunks, dim=0):
    """``chunks`` pieces of (nearly) equal size along ``dim``; fewer when the size does not allow more."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    n = a.shape[_axis(dim, a.ndim)]
    return split(a, max(-(-n // chunks), 1), dim)  # ceil(n / chunks) per piece


def unbind(a, dim=0):
    """The slices of ``a`` along ``dim``, each without that dim."""
    axis = _axis(dim, a.ndim)
    return tuple(getitem(a, (slice(None),) * axis + (i,)) for i in range(a.shape[axis]))


def flip(a, dims):
    """``a`` with the order of the elements reversed along each of ``dims``."""
    dims = normalize_dims((dims,) if isinstance(dims, int) else tuple(dims), a.ndim)
    return getitem(a, tuple(slice(None, None, -1) if d in dims else slice(None) for d in range(a.ndim)))


def fliplr(a):
    return flip(a, 1)


def flipud(a):
    return flip(a, 0)


def roll(a, shifts, dims=None):
    """Elements shifted by ``shifts`` along ``dims``, those pushed off the end coming back at the start;
    without ``dims`` the flattened tensor is rolled and the shape restored."""
    if dims is None:
        return reshape(roll(reshape(a, -1), shifts, 0), a.shape)
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll(): shifts and dimensions must align. shifts: {len(shifts)}, dims: {len(dims)}")
    for shift, dim in zip(shifts, dims):
        axis = _axis(dim, a.ndim)
        n = a.shape[axis]
        if n:
            a = getitem(a, (slice(None),) * axis + ((xp.arange(n) - shift) % n,))
    return a


def repeat(a, *sizes):
    """``a`` tiled: ``sizes[i]`` copies along dim i (more sizes than dims add leading dims)."""
    reps = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else tuple(sizes)
    if len(reps) < a.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    if any(int(r) < 0 for r in reps):
        raise RuntimeError(f"repeat(): every repeat count must be non-negative (Trying to create tensor with negative "
                           f"dimension), got {reps}")
    return Repeat.apply(a, tuple(int(r) for r in reps))


def tile(a, dims):
    """``repeat``, except that fewer ``dims`` than the tensor's are padded with 1s on the left."""
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    return repeat(a, (1,) * (a.ndim - len(dims)) + dims)


def repeat_interleave(a, repeats=None, dim=None, *, output_size=None):
    """Each element repeated ``repeats`` times in place (``[1, 2] -> [1, 1, 2, 2]``); flattened when ``dim`` is
    None. ``repeats`` is an int or a tensor of counts, one per element along ``dim``."""
    if repeats is None:  # torch.repeat_interleave(counts): each index i repeated counts[i] times
        counts = a.array
        return Tensor(xp.repeat(xp.arange(len(counts)), counts).astype(xp.int64))
    if dim is None:
        a, dim = reshape(a, -1), 0
    axis = _axis(dim, a.ndim)
    counts = repeats.array if isinstance(repeats, Tensor) else repeats
    index = xp.repeat(xp.arange(a.shape[axis]), counts)
    return getitem(a, (slice(None),) * axis + (index,))


def _triangle(a, diagonal, lower, name):
    if a.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    rows, cols = a.shape[-2:]
    mask = xp.tri(rows, cols, diagonal if lower else diagonal - 1, dtype=bool)
    mask = mask if lower else ~mask
    from .index import MaskedFill

    return MaskedFill.apply(a, ~mask, 0)


def tril(a, diagonal=0):
    """The lower triangle (on and below the ``diagonal``-th diagonal) of the last two dims; zeros above."""
    return _triangle(a, diagonal, True, "tril")


def triu(a, diagonal=0):
    """The upper triangle (on and above the ``diagonal``-th diagonal) of the last two dims; zeros below."""
    return _triangle(a, diagonal, False, "triu")


def diag(a, diagonal=0):
    """The ``diagonal``-th diagonal of a matrix, or a square matrix with a vector on that diagonal."""
    if a.ndim not in (1, 2):
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {a.ndim}D")
    return Diag.apply(a, diagonal)


def diagonal(a, offset=0, dim1=0, dim2=1):
    if a.ndim == 2 and (dim1, dim2) in ((0, 1), (-2, -1)):
        return diag(a, offset)
    raise NotImplementedError("diagonal(): only the main dims of a matrix (dim1=0, dim2=1) are supported")


def meshgrid(*tensors, indexing=None):
    """Coordinate grids: output i holds input i's values along dim i, repeated over the others.

    ``indexing='ij'`` (the default, with torch's warning when it is not given) makes dim i the i-th input;
    ``'xy'`` swaps the first two dims, as NumPy's meshgrid does (and the matrices of a 2-D plot).
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
                      UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t.ndim}D")
    sizes = [t.array.size for t in tensors]
    order = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) >= 2:
        order[0], order[1] = 1, 0
    shape = tuple(sizes[i] for i in order)
    grids = []
    for i, t in enumerate(tensors):
        view = [1] * len(tensors)
        view[order.index(i)] = sizes[i]
        grids.append(expand(reshape(t, tuple(view)), shape))
    return tuple(grids)
