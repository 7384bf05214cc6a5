"""The array-module handle, the dtypes and the random generator: the only door from Ember to NumPy.

Every op reaches arrays through ``xp`` (Chainer's ``get_array_module`` idea) and never imports NumPy
itself, so another module with NumPy's API (CuPy on a GPU) can be chosen at start-up with the
environment variable ``EMBER_BACKEND=cupy`` without rewriting a single op.

Random numbers are always drawn on the host, by NumPy (``host``), and moved to the device where they are
used (``xp.asarray``, free when the device is the host): a seed then gives the same weights, masks and
batches on every backend, and the generator's state stays a plain dict that checkpoints can hold.
"""

import contextlib
import ctypes
import importlib
import os
import sys

xp = importlib.import_module(os.environ.get("EMBER_BACKEND", "numpy"))
host = importlib.import_module("numpy")  # where random numbers are drawn and results are read back


def to_host(array):
    """The array as a NumPy array (a copy from the GPU on CuPy; the same object on NumPy)."""
    return array if xp is host or isinstance(array, host.ndarray) else xp.asnumpy(array)


def writeable(array):
    """Whether ``array`` may be written in place: NumPy's flag (False for broadcast and read-only views);
    backends without the flag (CuPy) count only an array that owns its memory."""
    flag = getattr(array.flags, "writeable", None)
    return flag if flag is not None else array.base is None


def errstate(**kwargs):
    """``numpy.errstate`` (silence 0/0 warnings in a block); backends without floating-point warnings
    (CuPy) get a block that does nothing."""
    state = getattr(xp, "errstate", None)
    return state(**kwargs) if state is not None else contextlib.nullcontext()


def as_strided(array, shape, strides, writeable=False):
    """A strided view of ``array``, read-only unless asked (``numpy.lib.stride_tricks.as_strided``; CuPy's
    takes no ``writeable`` flag)."""
    if xp is host:
        return host.lib.stride_tricks.as_strided(array, shape=shape, strides=strides, writeable=writeable)
    return xp.lib.stride_tricks.as_strided(array, shape=shape, strides=strides)

float16 = xp.dtype("float16")
float32 = xp.dtype("float32")
float64 = xp.dtype("float64")
int8 = xp.dtype("int8")
uint8 = xp.dtype("uint8")
int32 = xp.dtype("int32")
int64 = xp.dtype("int64")
bool_ = xp.dtype("bool")

#: dtype of tensors made from Python floats and of every factory that is not told otherwise.
default_dtype = float32

_generator = host.random.default_rng()


def _keep_freed_memory():
    """Let glibc's malloc keep freed blocks for reuse instead of handing them back to the kernel.

    NumPy takes every temporary larger than malloc's mmap threshold (128 KiB to start with) straight from
    the kernel and returns it on free, so every forward and backward pass pays page faults on fresh pages
    for its activations and im2col buffers: a third of a LeNet-5 training step on a CPU. Serving blocks
    up to 32 MiB from the heap and not trimming it below 1 GiB is the CPU version of a caching allocator.
    Set ``EMBER_MALLOC_TUNING=0`` to leave malloc alone; other C libraries (musl, macOS) are left alone.
    """
    if os.environ.get("EMBER_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(mallopt(m_mmap_threshold, 32 << 20) and mallopt(m_trim_threshold, 1 << 30))


malloc_tuned = _keep_freed_memory()


def manual_seed(seed):
    """Seed the generator behind every random factory, initialiser and dropout mask."""
    global _generator
    _generator = host.random.default_rng(int(seed))
    return _generator


def generator():
    """The current random generator (a ``numpy.random.Generator``)."""
    return _generator


def get_rng_state():
    """The generator's state as a JSON-friendly dict (saved in checkpoints)."""
    return _generator.bit_generator.state


def set_rng_state(state):
    _generator.bit_generator.state = state


def is_floating(dtype):
    return xp.dtype(dtype).kind == "f"


def as_dtype(dtype):
    """Accept ``ember.float32``, ``numpy.float32``, ``'float32'`` or ``None`` (stays ``None``)."""
    return None if dtype is None else xp.dtype(dtype)
