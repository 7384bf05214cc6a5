"""The arguments of ``.to()``: PyTorch's overloads, parsed once for ``Tensor.to`` and ``Module.to``, and the
legacy type names of ``Tensor.type()`` ('torch.FloatTensor')."""

from . import devices as _device
from .backend import xp

TYPE_NAMES = {"float16": "HalfTensor", "float32": "FloatTensor", "float64": "DoubleTensor", "int8": "CharTensor",
              "uint8": "ByteTensor", "int16": "ShortTensor", "int32": "IntTensor", "int64": "LongTensor",
              "bool": "BoolTensor"}


def dtype_of_type_name(name):
    """The dtype behind a legacy type name: 'torch.FloatTensor', 'ember.LongTensor' or 'FloatTensor'."""
    short = name.rsplit(".", 1)[-1]
    if ".cuda." in name:
        raise RuntimeError(f"type({name!r}): use .to('cuda', dtype) to move a tensor to a GPU")
    for dtype_name, type_name in TYPE_NAMES.items():
        if short == type_name:
            return xp.dtype(dtype_name)
    raise ValueError(f"invalid type: {name!r} (expected a dtype such as ember.float64 or a name such as "
                     "'torch.DoubleTensor')")


def _is_dtype(value):
    """A dtype argument: ``ember.float32`` (a NumPy dtype), a NumPy scalar type, or Python's float/int/bool."""
    return isinstance(value, xp.dtype) or isinstance(value, type) and (
        value in (float, int, bool) or issubclass(value, xp.generic))


def _dtype_name(text):
    """The dtype a string names when it is not a device string ('float64' -> float64), else None."""
    try:
        _device.device(text)
        return None
    except RuntimeError:
        pass
    try:
        return xp.dtype(text)
    except TypeError:
        return None


def parse_to(where, args, kwargs):
    """``(device, dtype, non_blocking, copy)`` from torch's ``.to()`` overloads: ``to(dtype, non_blocking,
    copy)``, ``to(device=None, dtype=None, non_blocking, copy)`` and ``to(tensor, non_blocking, copy)``.
    The device comes back unchecked (a string, a device or None), the dtype as a NumPy dtype or None."""
    from .tensor import Tensor  # at call time: tensor.py imports this module

    def invalid(why):
        return TypeError(f"{where}() received an invalid combination of arguments ({why}); expected "
                         "to(dtype), to(device=None, dtype=None, non_blocking=False, copy=False) or to(tensor)")

    unknown = set(kwargs) - {"device", "dtype", "non_blocking", "copy", "memory_format"}
    if unknown:
        raise invalid(f"unexpected keyword {sorted(unknown)[0]!r}")
    args = list(args)
    if args and isinstance(args[0], str) and _dtype_name(args[0]) is not None:
        args[0] = _dtype_name(args[0])  # an Ember extension: to('float64'), where torch wants torch.float64
    device, dtype = kwargs.get("device"), kwargs.get("dtype")
    if args and (isinstance(args[0], Tensor) or _is_dtype(args[0])):
        if "device" in kwargs or "dtype" in kwargs:
            raise invalid("a dtype or tensor given both positionally and with device=/dtype=")
        first = args.pop(0)
        if isinstance(first, Tensor):
            device, dtype = first.device, first.dtype
        else:
            dtype = first
    elif args:
        if "device" in kwargs:
            raise invalid("device given twice")
        device = args.pop(0)
        if args and (args[0] is None or _is_dtype(args[0])):
            if "dtype" in kwargs:
                raise invalid("dtype given twice")
            dtype = args.pop(0)
    if len(args) > 2 or any(not isinstance(a, bool) for a in args):
        raise invalid(f"got extra positional arguments {tuple(args)}; after the device and dtype come "
                      "non_blocking and copy, both bools")
    non_blocking = args[0] if args else kwargs.get("non_blocking", False)
    copy = args[1] if len(args) > 1 else kwargs.get("copy", False)
    if dtype is not None and not _is_dtype(dtype):
        raise invalid(f"dtype must be a dtype such as ember.float64, got {dtype!r}")
    return device, None if dtype is None else xp.dtype(dtype), non_blocking, copy
