"""``torch.finfo`` / ``torch.iinfo`` (the limits of a dtype) and torch's type-promotion queries
(``promote_types``, ``result_type``, ``can_cast``).

torch promotes a tensor with a Python number without letting the number widen a floating tensor
(float32 tensor + 2.5 stays float32), and a float number makes an integer tensor the default float dtype.
"""

from . import backend
from .backend import xp


def _dtype(dtype):
    return xp.dtype(dtype if dtype is not None else backend.default_dtype)


class finfo:
    """The machine limits of a floating dtype: bits, eps, max, min, tiny (= smallest_normal), resolution."""

    def __init__(self, type=None):
        dtype = _dtype(type)
        if dtype.kind != "f":
            raise TypeError(f"torch.finfo() requires a floating point input type. Use torch.iinfo to handle "
                            f"'{dtype}'")
        info = xp.finfo(dtype)
        self.dtype = dtype.name
        self.bits, self.eps, self.max, self.min = info.bits, float(info.eps), float(info.max), float(info.min)
        self.tiny = self.smallest_normal = float(info.tiny)
        self.resolution = float(info.resolution)

    def __repr__(self):
        return (f"finfo(resolution={self.resolution}, min={self.min:.6g}, max={self.max:.6g}, eps={self.eps:.6g}, "
                f"smallest_normal={self.tiny:.6g}, tiny={self.tiny:.6g}, dtype={self.dtype})")


class iinfo:
    """The limits of an integer dtype: bits, min, max."""

    def __init__(self, type):
        dtype = xp.dtype(type)
        if dtype.kind not in "iub":
            raise TypeError(f"torch.iinfo() requires an integer input type. Use torch.finfo to handle '{dtype}'")
        if dtype.kind == "b":
            self.bits, self.min, self.max = 8, 0, 1
        else:
            info = xp.iinfo(dtype)
            self.bits, self.min, self.max = info.bits, int(info.min), int(info.max)
        self.dtype = dtype.name

    def __repr__(self):
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"


def promote_types(type1, type2):
    """The smallest dtype both convert to without losing their kind (bool < integers < floats)."""
    a, b = xp.dtype(type1), xp.dtype(type2)
    if _category(a.kind) != _category(b.kind):  # int32 with float32 is float32 in torch (NumPy says float64)
        return a if _category(a.kind) > _category(b.kind) else b
    return xp.promote_types(a, b)


def _category(kind):
    return {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}[kind]


def result_type(tensor1, tensor2):
    """The dtype of an arithmetic result: tensors promote with each other, a Python number only moves the
    result to a higher category (bool < integer < float), never to a wider dtype of the same one."""
    from .tensor import Tensor

    def describe(v):
        if isinstance(v, Tensor):
            return v.dtype, v.ndim != 0
        if isinstance(v, bool):
            return xp.dtype(xp.bool_), False
        if isinstance(v, int):
            return None, "i"
        if isinstance(v, float):
            return None, "f"
        return xp.asarray(v).dtype, True

    (d1, dim1), (d2, dim2) = describe(tensor1), describe(tensor2)
    if d1 is None and d2 is None:
        return xp.dtype(backend.default_dtype) if "f" in (dim1, dim2) else xp.dtype(xp.int64)
    if d1 is None or d2 is None:
        dtype, kind = (d2, dim1) if d1 is None else (d1, dim2)
        number = {"i": 1, "f": 2}[kind]
        if number > _category(dtype.kind):
            return xp.dtype(backend.default_dtype) if number == 2 else xp.dtype(xp.int64)
        return dtype
    if dim1 != dim2:  # a dimensioned tensor wins over a 0-d one, unless the 0-d one is of a higher category
        full, zero = (d1, d2) if dim1 else (d2, d1)
        return zero if _category(zero.kind) > _category(full.kind) else full
    return promote_types(d1, d2)


def can_cast(from_, to):
    """Whether torch's casting rules allow ``from_`` → ``to`` implicitly (no float → integer, no → bool)."""
    a, b = xp.dtype(from_), xp.dtype(to)
    return _category(a.kind) <= _category(b.kind)
