"""Argument checks shared by every op and layer: one place, so every layer says the same thing the same way.

Each check is O(1) (a type test, a comparison of ints, dtypes or shapes), so it can run on every call.
Each raises the exception class PyTorch raises for the same mistake, with a message that names the layer or
function (``where``), what was expected, what was got, and the fix.

Ember used to raise ValueError for shape mismatches where torch raises RuntimeError; ``ShapeError`` is both,
so code written for either keeps working.
"""

import functools
import operator

from ..tensor import Tensor


class ArgumentError(ValueError, RuntimeError):
    """A bad argument value where torch raises RuntimeError and Ember used to raise ValueError: both."""


class ShapeError(ArgumentError):
    """An input's shape or size does not fit the layer. torch raises RuntimeError; Ember's earlier
    callers catch ValueError: this is both."""


class DtypeError(TypeError, RuntimeError):
    """A tensor of the wrong dtype (float indices, say). torch raises RuntimeError; Ember's earlier callers
    catch TypeError: this is both."""


def describe(where):
    """A layer instance, a name or None, as the text that starts a message."""
    return str(where) if where is not None else "argument"


def tensor_input(x, where, argument="input"):
    """``x`` must be an ember Tensor: a NumPy array or a list is refused with the way to wrap it."""
    if isinstance(x, Tensor):
        return x
    module = type(x).__module__
    kind = type(x).__name__ if module == "builtins" else f"{module}.{type(x).__name__}"  # numpy.ndarray, list
    raise TypeError(
        f"{describe(where)}: argument '{argument}' must be Tensor, not {kind}; wrap it with ember.tensor(...) "
        "(or ember.from_numpy(array) to share a NumPy array's memory)"
    )


def takes_tensor(fn):
    """Decorator for an op whose first argument is a Tensor (the activations): a NumPy array or a list there
    raises TypeError naming the op, as torch's ``relu(): argument 'input' must be Tensor``."""
    name = fn.__name__

    @functools.wraps(fn)
    def op(*args, **kwargs):
        if args and not isinstance(args[0], Tensor):
            tensor_input(args[0], name)
        return fn(*args, **kwargs)

    return op


def names_errors(fn):
    """Decorator for an op built from other ops (the losses): an error raised deeper (``sub: shapes ... do not
    broadcast``) is prefixed with this op's name, so the message says which call the user made."""
    name = fn.__name__

    @functools.wraps(fn)
    def op(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (ValueError, RuntimeError, IndexError, TypeError) as exc:
            if exc.args and isinstance(exc.args[0], str) and not exc.args[0].startswith(name):
                exc.args = (f"{name}: {exc.args[0]}",) + exc.args[1:]
            raise

    return op


def same_dtype(x, weight, where, argument="input"):
    """torch never mixes float widths inside a layer: a float64 input into float32 parameters is refused
    (RuntimeError), not silently computed in float64."""
    if weight is not None and x.dtype != weight.dtype:
        raise RuntimeError(
            f"{describe(where)}: {argument} dtype {x.dtype} does not match the layer's parameter dtype {weight.dtype}; "
            f"convert the input with x.to(ember.{weight.dtype}) or the layer with layer.to(ember.{x.dtype})"
        )


def size(value, name, where):
    """A layer's size argument (features, channels, embeddings...): a non-negative int. torch raises
    RuntimeError for a negative size ("Trying to create tensor with negative dimension")."""
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{describe(where)}: {name} must be an int, got {value!r} "
                        f"({type(value).__name__})") from None
    if value < 0:
        raise RuntimeError(f"{describe(where)}: {name} must be non-negative (Trying to create tensor with negative "
                           f"dimension), got {name}={value}; sizes count features, channels or rows")
    return value


def positive(values, name, where):
    """Every entry of a kernel size, stride or dilation tuple must be > 0 (torch: RuntimeError
    "non-positive stride is not supported"); a zero stride would otherwise divide by zero."""
    for v in values:
        if v <= 0:
            raise RuntimeError(
                f"{describe(where)}: {name} must be positive, got {name}={_shown(values)}; use {name} >= 1"
            )
    return values


def non_negative(values, name, where):
    """Every entry of a padding tuple must be >= 0 (torch: RuntimeError "negative padding is not supported")."""
    for v in values:
        if v < 0:
            raise RuntimeError(
                f"{describe(where)}: {name} must be non-negative, got {name}={_shown(values)}; use {name} >= 0"
            )
    return values


def _shown(values):
    return values[0] if len(values) == 1 else tuple(values)


def probability(p, name, where):
    """A probability in [0, 1] (dropout's p). torch raises ValueError."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{describe(where)}: {name} probability has to be between 0 and 1, but got {p}; "
                    f"pick {name} in [0, 1]")
    return p


def dim(d, ndim, where):
    """A dim argument as a non-negative axis; out of range -> torch's IndexError "Dimension out of range"."""
    limit = ndim or 1  # a 0-d tensor accepts dim 0 and -1, as in torch
    if not -limit <= d < limit:
        raise IndexError(
            f"{describe(where)}: Dimension out of range (expected to be in range of [{-limit}, {limit - 1}], "
            f"but got {d}) for an input with {ndim} dimensions"
        )
    return d % limit


def index_range(indices, count, where, what="index", count_name="entries"):
    """Every integer in ``indices`` (an array) lies in [0, count): one min and one max, as torch checks
    Embedding and class indices (IndexError "index out of range in self")."""
    if indices.size == 0:
        return
    low, high = int(indices.min()), int(indices.max())
    if low < 0 or high >= count:
        bad = low if low < 0 else high
        raise IndexError(
            f"{describe(where)}: index out of range in self: {what} {bad} is outside [0, {count - 1}] "
            f"({count_name}={count}); negative indices are not allowed, and every {what} must be < {count}"
        )


def broadcastable(a_shape, b_shape, where):
    """torch's RuntimeError for two shapes that do not broadcast (NumPy raises a ValueError naming no op)."""
    for axis in range(1, min(len(a_shape), len(b_shape)) + 1):
        m, n = a_shape[-axis], b_shape[-axis]
        if m != n and m != 1 and n != 1:
            raise ShapeError(
                f"{describe(where)}: The size of tensor a ({m}) must match the size of tensor b ({n}) at non-singleton "
                f"dimension {max(len(a_shape), len(b_shape)) - axis}: shapes {tuple(a_shape)} and {tuple(b_shape)} "
                "do not broadcast (each dimension, from the last, must be equal or 1); reshape or unsqueeze one"
            )


def window(kernel, stride, padding, dilation, where):
    """A sliding window's arguments (tuples, one entry per spatial axis): kernel, stride and dilation
    positive, padding non-negative (torch: RuntimeError). Returns nothing; raises on the first bad one."""
    positive(kernel, "kernel_size", where)
    positive(stride, "stride", where)
    positive(dilation, "dilation", where)
    non_negative(padding, "padding", where)


def spatial_rank(x, ranks, where, layout):
    """``x.ndim`` must be one of ``ranks`` (e.g. (3, 4) for a 2-D layer that also takes unbatched input)."""
    if x.ndim not in ranks:
        wanted = " or ".join(f"{r}-D" for r in ranks)
        raise ShapeError(f"{describe(where)}: expected a {wanted} input {layout}, got shape {tuple(x.shape)}; "
                         "use the layer whose dimensionality matches the data")
