"""Shape operations: they move numbers around without changing them, so each backward moves the gradient back.

Reshape undoes a reshape, a permutation is undone by its inverse, concatenation by slicing, and indexing
by scattering the gradient back into a zero array of the input's shape.
"""

from ..autograd.function import Function
from ..backend import xp
from ..tensor import Tensor
from .reduce import normalize_dims


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
        return grad.transpose(tuple(xp.argsort(ctx.axes)))


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
        ctx.bounds = xp.cumsum([0] + [a.shape[axis] for a in arrays])
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
    try:
        return Reshape.apply(a, shape)
    except ValueError:
        raise RuntimeError(f"shape {list(shape)} is invalid for input of size {a.data.size}") from None


def flatten(a, start_dim=0, end_dim=-1):
    if a.ndim == 0:
        return reshape(a, 1)
    start, end = start_dim % a.ndim, end_dim % a.ndim
    shape = a.shape[:start] + (-1,) + a.shape[end + 1 :]
    if start == end:
        return a
    return reshape(a, shape)


def permute(a, *axes):
    axes = normalize_axes_order(_shape_arg(axes), a.ndim)
    return Permute.apply(a, axes)


def normalize_axes_order(axes, ndim):
    if sorted(d % ndim for d in axes) != list(range(ndim)):
        raise ValueError(f"permute(): {axes} is not a permutation of the {ndim} dims")
    return tuple(d % ndim for d in axes)


def transpose(a, dim0, dim1):
    if a.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return a
    axes = list(range(a.ndim))
    d0, d1 = normalize_dims(dim0, a.ndim)[0], normalize_dims(dim1, a.ndim)[0]
    axes[d0], axes[d1] = axes[d1], axes[d0]
    return Permute.apply(a, tuple(axes))


def squeeze(a, dim=None):
    if dim is None:
        shape = tuple(n for n in a.shape if n != 1)
    else:
        dims = normalize_dims(dim, a.ndim)
        shape = tuple(n for i, n in enumerate(a.shape) if not (i in dims and n == 1))
    return reshape(a, shape)


def unsqueeze(a, dim):
    dim = dim % (a.ndim + 1)
    return reshape(a, a.shape[:dim] + (1,) + a.shape[dim:])


def expand(a, *shape):
    shape = _shape_arg(shape)
    lead = len(shape) - a.ndim
    if lead < 0:
        raise ValueError(f"expand(): the number of sizes given ({len(shape)}) is smaller than the tensor's dims ({a.ndim})")
    full = tuple(a.shape[i - lead] if (n == -1 and i >= lead) else n for i, n in enumerate(shape))
    for i, n in enumerate(a.shape):
        if n != 1 and n != full[i + lead]:
            raise ValueError(
                f"expand(): the expanded size {full[i + lead]} must match the existing size {n} at "
                f"dimension {i}; only size-1 dims can be expanded"
            )
    return Expand.apply(a, full)


def cat(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat(): expected a non-empty list of tensors")
    (axis,) = normalize_dims(dim, tensors[0].ndim)
    return Cat.apply(axis, *tensors)


def stack(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack(): expected a non-empty list of tensors")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise ValueError(f"stack(): expects every tensor to have the same shape, got {sorted(shapes)}")
    axis = dim % (tensors[0].ndim + 1)
    return Stack.apply(axis, *tensors)


def index_arrays(index):
    """An index with its Tensors and lists replaced by arrays, ready for NumPy."""
    if isinstance(index, tuple):
        return tuple(index_arrays(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return xp.asarray(index)
    return index


def getitem(a, index):
    return GetItem.apply(a, index_arrays(index))
