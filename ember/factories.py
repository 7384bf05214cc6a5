"""Tensor factories with PyTorch's names and defaults (float32 unless told otherwise)."""

from . import backend
from .backend import default_dtype, xp
from .tensor import Tensor, as_array


def _shape(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(size[0])
    return tuple(size)


def _dtype(dtype):
    return default_dtype if dtype is None else xp.dtype(dtype)


def tensor(data, dtype=None, requires_grad=False):
    """A new tensor holding a copy of ``data``. Arrays keep their dtype (as ``torch.tensor`` does); Python
    floats and lists of them become float32, Python ints int64, bools bool; ``dtype`` overrides."""
    array = as_array(data, dtype)
    if isinstance(data, (xp.ndarray, Tensor)) and array is (data.array if isinstance(data, Tensor) else data):
        array = array.copy()
    return Tensor(array, requires_grad=requires_grad)


def from_numpy(array):
    """A tensor sharing memory with ``array`` (no copy), keeping its dtype."""
    if not isinstance(array, xp.ndarray):
        raise TypeError(f"from_numpy(): expected an ndarray, got {type(array).__name__}")
    return Tensor(array)


def zeros(*size, dtype=None, requires_grad=False):
    return Tensor(xp.zeros(_shape(size), dtype=_dtype(dtype)), requires_grad=requires_grad)


def ones(*size, dtype=None, requires_grad=False):
    return Tensor(xp.ones(_shape(size), dtype=_dtype(dtype)), requires_grad=requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False):
    if dtype is None:
        dtype = xp.int64 if isinstance(fill_value, int) and not isinstance(fill_value, bool) else default_dtype
        dtype = xp.bool_ if isinstance(fill_value, bool) else dtype
    return Tensor(xp.full(_shape((size,)), fill_value, dtype=dtype), requires_grad=requires_grad)


def zeros_like(t, dtype=None, requires_grad=False):
    return Tensor(xp.zeros(t.shape, dtype=t.dtype if dtype is None else dtype), requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    return Tensor(xp.ones(t.shape, dtype=t.dtype if dtype is None else dtype), requires_grad=requires_grad)


def full_like(t, fill_value, dtype=None, requires_grad=False):
    return Tensor(xp.full(t.shape, fill_value, dtype=t.dtype if dtype is None else dtype), requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    """Like ``torch.arange``: int64 when every argument is an int, float32 otherwise."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        dtype = xp.int64 if all(isinstance(v, int) for v in (start, end, step)) else default_dtype
    return Tensor(xp.arange(start, end, step).astype(dtype), requires_grad=requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False):
    return Tensor(xp.linspace(start, end, steps).astype(_dtype(dtype)), requires_grad=requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False):
    return Tensor(xp.eye(n, m, dtype=_dtype(dtype)), requires_grad=requires_grad)


def _float_dtype(dtype, name):
    dtype = _dtype(dtype)
    if dtype.kind != "f":  # uniform or normal samples cast to integers would be silently all zeros
        raise RuntimeError(f"{name}(): needs a floating dtype, got {dtype}; for integers use randint")
    return dtype


def rand(*size, dtype=None, requires_grad=False):
    """Uniform on [0, 1), from the generator seeded by ``ember.manual_seed``."""
    dtype = _float_dtype(dtype, "rand")
    data = xp.asarray(backend.generator().random(_shape(size), dtype=xp.float64)).astype(dtype)
    return Tensor(data, requires_grad=requires_grad)


def randn(*size, dtype=None, requires_grad=False):
    """Standard normal, from the generator seeded by ``ember.manual_seed``."""
    dtype = _float_dtype(dtype, "randn")
    data = xp.asarray(backend.generator().standard_normal(_shape(size))).astype(dtype)
    return Tensor(data, requires_grad=requires_grad)


def randint(low, high=None, size=(), dtype=None):
    if high is None:
        low, high = 0, low
    data = xp.asarray(backend.generator().integers(low, high, size=tuple(size)))
    return Tensor(data.astype(xp.int64 if dtype is None else dtype))


def randperm(n):
    return Tensor(xp.asarray(backend.generator().permutation(n)).astype(xp.int64))
