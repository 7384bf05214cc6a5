"""More of torch's factories: ``asarray``, ``frombuffer``, ``empty_strided`` and ``as_strided``."""

from . import backend
from .backend import xp
from .ops.shape import getitem, reshape
from .tensor import Tensor, as_array


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    """A tensor from ``obj`` sharing its memory when it can (a tensor or an array of the same dtype) unless
    ``copy=True``; ``copy=False`` refuses to copy."""
    if isinstance(obj, Tensor):
        array = obj.array
        same = dtype is None or xp.dtype(dtype) == array.dtype
        if copy or not same:
            if copy is False:
                raise ValueError("asarray(): can't alias the tensor with a different dtype; pass copy=None or True")
            array = array.astype(dtype or array.dtype, copy=True)
        out = Tensor(array) if array is not obj.array or not requires_grad else obj.detach()
        if requires_grad:
            out.requires_grad_(True)
        return out if array is not obj.array or requires_grad else obj
    if isinstance(obj, xp.ndarray) and not copy and (dtype is None or xp.dtype(dtype) == obj.dtype):
        return Tensor(obj, requires_grad=requires_grad)
    array = as_array(obj, dtype)
    if copy and array is obj:
        array = array.copy()
    return Tensor(array, requires_grad=requires_grad)


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-D tensor viewing the bytes of ``buffer`` (anything with the buffer protocol) as ``dtype``."""
    return Tensor(xp.frombuffer(buffer, dtype=dtype, count=count, offset=offset), requires_grad=requires_grad)


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """A tensor of ``size`` (uninitialised in torch; zeros here). NumPy chooses the memory layout."""
    return Tensor(xp.zeros(tuple(size), dtype=dtype or backend.default_dtype), requires_grad=requires_grad)


def as_strided(input, size, stride, storage_offset=0):
    """The view of ``input``'s elements (read in row-major order, as its storage) with the given ``size`` and
    element ``stride``: element [i, j, ...] is flat[storage_offset + i·stride[0] + j·stride[1] + ...]."""
    flat_index = xp.full(tuple(size), storage_offset, dtype=xp.int64)
    for axis, (n, s) in enumerate(zip(size, stride)):
        shape = [1] * len(size)
        shape[axis] = n
        flat_index = flat_index + (xp.arange(n) * s).reshape(shape)
    if flat_index.size and flat_index.max() >= input.numel():
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {storage_offset} "
                           f"reach element {int(flat_index.max())}, but the storage has {input.numel()} elements")
    return getitem(reshape(input, -1), flat_index)
