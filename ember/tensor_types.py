"""torch's legacy typed constructors: ``ember.LongTensor([1, 2])``, ``ember.FloatTensor(2, 3)``.

Each makes an ordinary ``ember.Tensor`` of its dtype, from data (a list, an array, a tensor) or from sizes
(zeros: torch leaves the memory uninitialised, Ember fills it). ``isinstance(x, ember.FloatTensor)`` is true
for a float32 tensor, as in torch.
"""

from .backend import xp
from .size import Size
from .tensor import Tensor, as_array


class _TypedTensorMeta(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype

    def __call__(cls, *args):
        if not args:
            return Tensor(xp.zeros((0,), dtype=cls.dtype))
        if len(args) == 1 and isinstance(args[0], Size):
            args = tuple(args[0])
        if all(isinstance(a, int) and not isinstance(a, bool) for a in args):
            return Tensor(xp.zeros(args, dtype=cls.dtype))  # FloatTensor(2, 3): a (2, 3) tensor
        if len(args) > 1:
            raise TypeError(f"{cls.__name__}(): give sizes (ints) or one sequence of data, got {len(args)} arguments")
        return Tensor(as_array(args[0], cls.dtype).copy())


def _typed(name, dtype):
    return _TypedTensorMeta(name, (), {"dtype": xp.dtype(dtype), "__doc__": f"A {dtype} tensor (torch.{name})."})


FloatTensor = _typed("FloatTensor", "float32")
DoubleTensor = _typed("DoubleTensor", "float64")
HalfTensor = _typed("HalfTensor", "float16")
LongTensor = _typed("LongTensor", "int64")
IntTensor = _typed("IntTensor", "int32")
ShortTensor = _typed("ShortTensor", "int16")
CharTensor = _typed("CharTensor", "int8")
ByteTensor = _typed("ByteTensor", "uint8")
BoolTensor = _typed("BoolTensor", "bool")


def is_tensor(obj):
    return isinstance(obj, Tensor)


def numel(t):
    return t.array.size


def is_floating_point(t):
    return t.dtype.kind == "f"
