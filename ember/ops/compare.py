"""Comparisons, logic and tests on values: they answer yes or no, so they have no gradient.

Every result is a bool tensor outside the graph (``torch.eq``, ``torch.isnan``, ...), except ``equal`` and
``allclose``, which answer for the whole tensor with one Python bool, and ``nonzero``, which lists indices.
"""

from ..backend import xp
from ..tensor import Tensor
from .reduce import numpy_names, reduction_axes


def _array(v):
    return v.array if isinstance(v, Tensor) else v


def _bool(fn, *args):
    return Tensor(xp.asarray(fn(*(_array(a) for a in args))))


def eq(a, b):
    return _bool(xp.equal, a, b)


def ne(a, b):
    return _bool(xp.not_equal, a, b)


def lt(a, b):
    return _bool(xp.less, a, b)


def le(a, b):
    return _bool(xp.less_equal, a, b)


def gt(a, b):
    return _bool(xp.greater, a, b)


def ge(a, b):
    return _bool(xp.greater_equal, a, b)


greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def logical_not(a):
    return _bool(xp.logical_not, a)


def logical_and(a, b):
    return _bool(xp.logical_and, a, b)


def logical_or(a, b):
    return _bool(xp.logical_or, a, b)


def logical_xor(a, b):
    return _bool(xp.logical_xor, a, b)


def isnan(a):
    return _bool(xp.isnan, a)


def isinf(a):
    return _bool(xp.isinf, a)


def isfinite(a):
    return _bool(xp.isfinite, a)


def isposinf(a):
    return _bool(xp.isposinf, a)


def isneginf(a):
    return _bool(xp.isneginf, a)


def equal(a, b):
    """True when ``a`` and ``b`` have the same shape and the same elements (one Python bool)."""
    return a.shape == b.shape and bool(xp.array_equal(a.array, b.array))


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|a - b| ≤ atol + rtol·|b|, element-wise (not symmetric in a and b, as in torch and NumPy)."""
    _same_dtype(a, b, "isclose")
    return Tensor(xp.isclose(_array(a), _array(b), rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether ``isclose`` holds for every element (one Python bool)."""
    return bool(isclose(a, b, rtol, atol, equal_nan).array.all())


def _same_dtype(a, b, name):
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a.dtype != b.dtype:
        raise RuntimeError(
            f"{name}(): {a.dtype} did not match {b.dtype}; both tensors need the same dtype (convert one with .to())"
        )


def _logical_reduce(fn, a, dim, keepdim):
    axes = reduction_axes(dim, a.ndim)
    out = xp.asarray(fn(a.array, axis=axes, keepdims=keepdim))
    # torch keeps uint8 for uint8 input (the old byte masks) and gives bool for every other dtype
    return Tensor(out.astype(xp.uint8) if a.dtype == xp.uint8 else out)


@numpy_names
def all(a, dim=None, keepdim=False):
    """Whether every element (along ``dim``) is nonzero."""
    return _logical_reduce(xp.all, a, dim, keepdim)


@numpy_names
def any(a, dim=None, keepdim=False):
    """Whether some element (along ``dim``) is nonzero."""
    return _logical_reduce(xp.any, a, dim, keepdim)


def nonzero(a, *, as_tuple=False):
    """The indices of the nonzero elements: an (n, ndim) int64 tensor, or one index tensor per dim with
    ``as_tuple=True`` (what ``x[mask]`` uses)."""
    if a.ndim == 0:  # torch: one hit with no coordinates, or none
        hits = int(bool(a.array))
        return (Tensor(xp.zeros(hits, dtype=xp.int64)),) if as_tuple else Tensor(xp.zeros((hits, 0), dtype=xp.int64))
    index = xp.nonzero(a.array)
    if as_tuple:
        return tuple(Tensor(i.astype(xp.int64)) for i in index)
    return Tensor(xp.stack(index, axis=1).astype(xp.int64))


def count_nonzero(a, dim=None):
    return Tensor(xp.asarray(xp.count_nonzero(a.array, axis=reduction_axes(dim, a.ndim) or None)).astype(xp.int64))
