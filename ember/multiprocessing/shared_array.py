"""Arrays in memory that several processes map at once: what ``Tensor.share_memory_()`` moves a tensor into.

The memory is a file in /dev/shm (RAM; the temp directory where there is none) mapped with MAP_SHARED.
A forked child inherits the mapping; a spawned child gets the array by reference when it is pickled
(``SharedArray.__reduce__`` sends the file's path, not the bytes) and maps the same file. So an in-place
update in one process (``param -= lr * grad``, as every optimizer does) is seen by all: Hogwild training.

The results of arithmetic on a shared array are ordinary private arrays (``__array_ufunc__`` and
``__array_function__`` unwrap), so only the tensor that was shared is shared. The process that created the
file deletes it when its array is garbage-collected or at exit; processes that already mapped it keep
their mapping.
"""

import mmap
import os
import tempfile
import weakref

import numpy as np


def _directory():
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def _unlink(path, owner_pid):
    if os.getpid() == owner_pid:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def _plain(value):
    return value.view(np.ndarray) if isinstance(value, SharedArray) else value


class SharedArray(np.ndarray):
    """An ndarray over a shared file mapping; pickles as a reference to the file while it is the whole block."""

    def __array_finalize__(self, obj):
        self._shared_block = getattr(obj, "_shared_block", None)  # (path, data address, nbytes) of the mapping

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        if out is not None:
            kwargs["out"] = tuple(_plain(o) for o in out)
        result = getattr(ufunc, method)(*(_plain(x) for x in inputs), **kwargs)
        if out is not None:  # an in-place update: hand back the shared array that was written
            return out[0] if len(out) == 1 else out
        return result

    def __array_function__(self, func, types, args, kwargs):
        def unwrap(value):
            if isinstance(value, (list, tuple)):
                return type(value)(unwrap(v) for v in value)
            return _plain(value)

        return func(*unwrap(args), **{k: unwrap(v) for k, v in kwargs.items()})

    def copy(self, order="C"):
        return self.view(np.ndarray).copy(order)  # a copy is new, private memory

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        return self.copy()

    def _is_whole_block(self):
        block = self._shared_block
        return (block is not None and self.flags.c_contiguous
                and self.__array_interface__["data"][0] == block[1] and self.nbytes == block[2])

    def __reduce__(self):
        if self._is_whole_block():
            return attach, (self._shared_block[0], self.dtype.str, self.shape)
        return self.view(np.ndarray).copy().__reduce__()  # a view of part of the block travels as a copy


def _map(path, nbytes, shape, dtype):
    with open(path, "r+b") as f:
        buffer = mmap.mmap(f.fileno(), max(nbytes, 1))
    array = np.ndarray(shape, dtype, buffer=buffer).view(SharedArray)
    array._shared_block = (path, array.__array_interface__["data"][0], array.nbytes)
    return array


def shareable(array):
    """Whether ``array`` is host (NumPy) memory, which ``share`` can move into a shared mapping."""
    return isinstance(array, np.ndarray)


def share(array):
    """A SharedArray holding a copy of ``array`` (a NumPy array), in a new shared mapping."""
    array = np.asarray(array)
    fd, path = tempfile.mkstemp(prefix="ember_shm_", dir=_directory())
    try:
        os.ftruncate(fd, max(array.nbytes, 1))
    finally:
        os.close(fd)
    shared = _map(path, array.nbytes, array.shape, array.dtype)
    shared[...] = array
    weakref.finalize(shared.base if shared.base is not None else shared, _unlink, path, os.getpid())
    return shared


def attach(path, dtype, shape):
    """Map the shared array another process created at ``path`` (how a pickled SharedArray is rebuilt)."""
    dtype = np.dtype(dtype)
    return _map(path, int(np.prod(shape, dtype=np.int64)) * dtype.itemsize, tuple(shape), dtype)
