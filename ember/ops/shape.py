"""Shape operations: they move numbers around without changing them, so each backward moves the gradient back.

Reshape undoes a reshape, a permutation is undone by its inverse, concatenation by slicing, and indexing
by scattering the gradient back into a zero array of the input's shape.
"""

from ..autograd.function import Function
from ..backend import host, xp
from ..tensor import Tensor
from .reduce import normalize_dims, numpy_names
from .validate import ArgumentError, ShapeError, dim as check_dim


class Reshape(Function):
    """z = a viewed with another shape (the same numbers in the same row-major order)."""

    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        return a.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape)


class Permute(Function):
    """z = a with its axes reordered; the inverse permutation brings the gradient back."""

    @staticmethod
    def forward(ctx, a, axes):
        ctx.axes = axes
        return a.transpose(axes)

    @staticmethod
    def backward(ctx, grad):
        return grad.transpose(tuple(int(i) for i in host.argsort(ctx.axes)))


class Expand(Function):
    """z = a broadcast to a larger shape (a view, no copy); the engine sums the gradient back."""

    @staticmethod
    def forward(ctx, a, shape):
        return xp.broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad


class Cat(Function):
    """z = the inputs joined along ``axis``; each input's gradient is its slice of the output's."""

    @staticmethod
    def forward(ctx, axis, *arrays):
        ctx.axis = axis
        ctx.bounds = host.cumsum([0] + [a.shape[axis] for a in arrays])  # sizes: host bookkeeping
        return xp.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        index = [slice(None)] * grad.ndim
        grads = []
        for start, stop, needed in zip(ctx.bounds[:-1], ctx.bounds[1:], ctx.needs_input_grad[1:]):
            index[ctx.axis] = slice(int(start), int(stop))
            grads.append(grad[tuple(index)] if needed else None)
        return (None, *grads)


class Stack(Function):
    """z = the inputs stacked along a new ``axis``; input i's gradient is z's gradient at position i."""

    @staticmethod
    def forward(ctx, axis, *arrays):
        ctx.axis = axis
        return xp.stack(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        parts = xp.moveaxis(grad, ctx.axis, 0)
        return (None, *(p if needed else None for p, needed in zip(parts, ctx.needs_input_grad[1:])))


class GetItem(Function):
    """z = a[index] for basic (ints, slices, None, ...) and advanced (integer or bool arrays) indices.

    Backward scatters the gradient into zeros of a's shape. With advanced indices the same element can be
    picked twice, so the scatter must add: every picked element's flat position is found by indexing a
    table of positions with the same index, and ``bincount`` sums the gradient per position.
    """

    @staticmethod
    def forward(ctx, a, index):
        ctx.shape, ctx.dtype, ctx.index = a.shape, a.dtype, index
        return a[index]

    @staticmethod
    def backward(ctx, grad):
        out = xp.zeros(ctx.shape, dtype=ctx.dtype)
        if not _is_advanced(ctx.index):
            out[ctx.index] = grad  # basic indexing picks each element at most once
            return out, None
        size = out.size
        positions = xp.arange(size).reshape(ctx.shape)[ctx.index]
        summed = xp.bincount(positions.ravel(), weights=grad.ravel(), minlength=size)
        return summed.reshape(ctx.shape).astype(ctx.dtype, copy=False), None


def _is_advanced(index):
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, (xp.ndarray, list)) for p in parts)


# ----------------------------------------------------------------------------------------------------
# The functional API.


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def reshape(a, *shape):
    shape = _shape_arg(shape)
    if shape == a.shape:
        return a
    for i, s in enumerate(shape):
        if s < -1 or (s == -1 and -1 in shape[:i]):  # NumPy would read any negative size as -1
            what = "only one dimension can be inferred" if s == -1 else f"invalid shape dimension {s} at index {i}"
            raise RuntimeError(f"reshape/view: {what} of shape {list(shape)}; sizes are >= 0, with at most one -1")
    try:
        return Reshape.apply(a, shape)
    except ValueError:
        raise RuntimeError(f"shape {list(shape)} is invalid for input of size {a.array.size}") from None


def flatten(a, start_dim=0, end_dim=-1):
    start, end = check_dim(start_dim, a.ndim, "flatten"), check_dim(end_dim, a.ndim, "flatten")
    if a.ndim == 0:
        return reshape(a, 1)
    if start > end:
        raise RuntimeError(f"flatten() has invalid args: start_dim cannot come after end_dim (start_dim={start_dim}, "
                           f"end_dim={end_dim} for an input with {a.ndim} dimensions); swap them")
    shape = a.shape[:start] + (-1,) + a.shape[end + 1 :]
    if start == end:
        return a
    return reshape(a, shape)


def permute(a, *axes):
    axes = normalize_axes_order(_shape_arg(axes), a.ndim)
    return Permute.apply(a, axes)


def normalize_axes_order(axes, ndim):
    if sorted(d % ndim for d in axes) != list(range(ndim)):
        raise ArgumentError(f"permute(): {axes} is not a permutation of the {ndim} dims (each dim exactly once, no "
                            "duplicates)")
    return tuple(d % ndim for d in axes)


def transpose(a, dim0, dim1):
    if a.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return a
    axes = list(range(a.ndim))
    d0, d1 = normalize_dims(dim0, a.ndim)[0], normalize_dims(dim1, a.ndim)[0]
    axes[d0], axes[d1] = axes[d1], axes[d0]
    return Permute.apply(a, tuple(axes))


@numpy_names
def squeeze(a, dim=None):
    if dim is None:
        shape = tuple(n for n in a.shape if n != 1)
    else:
        dims = normalize_dims(dim, a.ndim)
        shape = tuple(n for i, n in enumerate(a.shape) if not (i in dims and n == 1))
    return reshape(a, shape)


@numpy_names
def unsqueeze(a, dim):
    dim = check_dim(dim, a.ndim + 1, "unsqueeze")
    return reshape(a, a.shape[:dim] + (1,) + a.shape[dim:])


def expand(a, *shape):
    shape = _shape_arg(shape)
    lead = len(shape) - a.ndim
    if lead < 0:
        raise RuntimeError(f"expand(): the number of sizes given ({len(shape)}) must be greater or equal to the number "
                           f"of dimensions in the tensor ({a.ndim})")
    if any(n == -1 for n in shape[:lead]):
        raise RuntimeError(f"expand(): -1 is not allowed in a leading, non-existing dimension (sizes {list(shape)}); "
                           "give the new leading dims' sizes")
    full = tuple(a.shape[i - lead] if (n == -1 and i >= lead) else n for i, n in enumerate(shape))
    for i, n in enumerate(a.shape):
        if n != 1 and n != full[i + lead]:
            raise RuntimeError(
                f"expand(): the expanded size {full[i + lead]} must match the existing size {n} at "
                f"dimension {i}; only size-1 dims can be expanded"
            )
    return Expand.apply(a, full)


@numpy_names
def cat(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat(): expected a non-empty list of tensors")
    (axis,) = normalize_dims(dim, tensors[0].ndim)
    first = tensors[0].shape
    for number, t in enumerate(tensors[1:], 1):
        if t.ndim != len(first) or any(a != b for i, (a, b) in enumerate(zip(first, t.shape)) if i != axis):
            raise ShapeError(f"cat(): Sizes of tensors must match except in dimension {axis}: tensor 0 has shape "
                             f"{tuple(first)} but tensor number {number} has shape {tuple(t.shape)}; reshape them "
                             f"or concatenate along another dim")
    return Cat.apply(axis, *_promoted(tensors))


@numpy_names
def stack(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack(): expected a non-empty list of tensors")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise ShapeError(f"stack(): expects every tensor to have the same shape, got {sorted(shapes)}")
    axis = check_dim(dim, tensors[0].ndim + 1, "stack")
    return Stack.apply(axis, *_promoted(tensors))


def _promoted(tensors):
    """The tensors cast to torch's common dtype. torch ranks categories (bool < integer < float): a float
    joined with integers keeps the float's width (int64 with float32 is float32), where NumPy would widen
    to float64; within a category the wider type wins, as in NumPy."""
    dtypes = {t.dtype for t in tensors}
    if len(dtypes) == 1:
        return tensors
    floats = [d for d in dtypes if d.kind in "fc"]
    target = xp.result_type(*(floats or dtypes))
    from .elementwise import cast  # a sibling family; imported here to keep shape free of import cycles
    return [t if t.dtype == target else cast(t, target) for t in tensors]


def index_arrays(index):
    """An index with its Tensors and lists replaced by arrays, ready for NumPy."""
    if isinstance(index, tuple):
        return tuple(index_arrays(i) for i in index)
    if isinstance(index, Tensor):
        return index.array
    if isinstance(index, list):
        # an empty list selects nothing; NumPy would read it as a float array and refuse it as an index
        return xp.asarray(index) if index else xp.zeros(0, dtype=xp.int64)
    return index


def getitem(a, index):
    if a.ndim == 0 and _is_int(index):  # old code's loss.data[0]: torch's error says what to use instead
        raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in "
                         "C++ to convert a 0-dim tensor to a number")
    index = index_arrays(index)
    split = _ints_first(index)
    if split is not None:
        a, index = GetItem.apply(a, split[0]), split[1]
    return GetItem.apply(a, index)


def setitem(data, index, value):
    """``data[index] = value`` in place, with torch's reading of ``index`` (see ``_ints_first``)."""
    index = index_arrays(index)
    split = _ints_first(index)
    if split is not None:
        data, index = data[split[0]], split[1]  # integers and slices only: a view, so the write goes through
    data[index] = value


class SetItem(Function):
    """z = a with z[index] = value: ``tensor[index] = value`` on a tensor that is part of a graph.

    The written elements no longer depend on a, so a's gradient is the incoming one with zeros there; value's
    gradient is the incoming one read back at ``index`` (the engine sums it down where value was broadcast).
    ``index`` is already in NumPy form (``index_arrays``).
    """

    @staticmethod
    def forward(ctx, a, value, index):
        ctx.index = index
        out = a.copy()
        setitem(out, index, value)
        return out

    @staticmethod
    def backward(ctx, grad):
        grad_a = grad.copy()
        setitem(grad_a, ctx.index, 0)
        grad_value = None
        if ctx.needs_input_grad[1]:
            split = _ints_first(ctx.index)
            grad_value = grad[split[0]][split[1]] if split is not None else grad[ctx.index]
        return grad_a, grad_value, None


def setitem_op(a, index, value):
    """``a`` with ``a[index] = value``, recorded for autograd (the out-of-place form of ``__setitem__``)."""
    return SetItem.apply(a, value, index_arrays(index))


def _is_int(part):
    if isinstance(part, xp.ndarray):
        return part.ndim == 0 and part.dtype.kind in "iu"
    return isinstance(part, (int, xp.integer)) and not isinstance(part, bool)


def _ints_first(index):
    """torch and NumPy disagree when an index mixes integers with index arrays: NumPy counts the integers
    as advanced indices (``x[0, :, [0, 1]]`` has shape (2, 3)), torch selects with them first and then
    indexes what is left (shape (3, 2)). For such an index, return torch's two steps: the integer selections
    (slices elsewhere), then the index without the integers. None when NumPy already agrees with torch."""
    if not isinstance(index, tuple) or not any(map(_is_int, index)):
        return None
    if not any(isinstance(p, xp.ndarray) and not _is_int(p) for p in index):
        return None
    select, rest = [], []
    for part in index:
        if _is_int(part):
            select.append(int(part))
        elif part is None:
            rest.append(None)
        elif part is Ellipsis:
            select.append(Ellipsis)
            rest.append(Ellipsis)
        else:  # a slice or an index array: it spans one dim, a bool mask one per mask dim
            span = part.ndim if isinstance(part, xp.ndarray) and part.dtype == xp.bool_ else 1
            select.extend([slice(None)] * span)
            rest.append(part)
    return tuple(select), tuple(rest)
