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


def numeric_array(data):
    """``xp.asarray(data)`` for a tensor's data, refusing what no tensor can hold, with torch's errors: a
    ragged nested list (ValueError), strings (ValueError) and NumPy object arrays (TypeError)."""
    if isinstance(data, xp.ndarray) and data.dtype.kind in "OSUV":
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{data.dtype.type.__name__}. The only supported types are: "
            "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, uint64, uint32, uint16, "
            "uint8, and bool; convert it first (array.astype(np.float32))"
        )
    try:
        array = xp.asarray(data)
    except ValueError as error:
        if "inhomogeneous" not in str(error):
            raise
        raise ValueError(f"ember.tensor(): the nested lists have unequal lengths (a ragged list: {error}); every "
                         "row must have the same length: pad the short ones, or keep them as a list of tensors") from None
    if array.dtype.kind in "OSUV":
        raise ValueError(f"ember.tensor(): cannot make a tensor of {type(_first(data)).__name__} values like "
                         f"{_first(data)!r}; give numbers, bools, or nested lists of them")
    return array


def _first(data):
    while isinstance(data, (list, tuple)) and data:
        data = data[0]
    return data
