"""Element-wise operations: the gates of CS231n's computational graph.

An add gate passes its gradient unchanged to both inputs, a mul gate swaps its inputs, a max gate routes
the gradient to the larger input. Broadcasting in forward is undone by the engine's ``unbroadcast``, so
each backward below is written for equal shapes.
"""

from ..autograd.function import Function
from .. import backend
from ..backend import errstate, xp
from ..tensor import Tensor, as_array
from .validate import ArgumentError, broadcastable


class Add(Function):
    """z = a + b;  dz/da = 1, dz/db = 1."""

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Function):
    """z = a - b;  dz/da = 1, dz/db = -1."""

    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """z = a · b;  dz/da = b, dz/db = a (the mul gate swaps its inputs)."""

    @staticmethod
    def forward(ctx, a, b):
        need_a, need_b = ctx.needs_input_grad
        ctx.save(a if need_b else None, b if need_a else None)  # only what a gradient needs, as torch
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        da = grad * b if ctx.needs_input_grad[0] else None
        db = grad * a if ctx.needs_input_grad[1] else None
        return da, db


class Div(Function):
    """z = a / b;  dz/da = 1/b, dz/db = -a/b²."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save(a, b)
        return a / b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        da = grad / b if ctx.needs_input_grad[0] else None
        db = -grad * a / (b * b) if ctx.needs_input_grad[1] else None
        return da, db


class Pow(Function):
    """z = aᵇ;  dz/da = b·aᵇ⁻¹ (taken as 0 where b = 0, even at a = 0), dz/db = aᵇ·ln a (taken as 0 where
    a = 0 and b ≥ 0), as PyTorch does."""

    @staticmethod
    def forward(ctx, a, b):
        z = a**b
        ctx.save(a, b, z)
        return z

    @staticmethod
    def backward(ctx, grad):
        a, b, z = ctx.saved
        da = db = None
        if ctx.needs_input_grad[0]:
            # a⁰ = 1 is constant in a, but b·a^(b-1) is 0·inf = nan at a = 0 without the mask
            with errstate(divide="ignore", invalid="ignore"):
                da = xp.where(b == 0, 0, grad * b * a ** (b - 1))
        if ctx.needs_input_grad[1]:
            with errstate(divide="ignore", invalid="ignore"):
                db = grad * xp.where((a == 0) & (b >= 0), 0, z * xp.log(a))
        return da, db


class Neg(Function):
    """z = -a."""

    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Exp(Function):
    """z = eᵃ;  dz/da = z (saves the output)."""

    @staticmethod
    def forward(ctx, a):
        z = xp.exp(a)
        ctx.save(z)
        return z

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved
        return grad * z


class Log(Function):
    """z = ln a;  dz/da = 1/a."""

    @staticmethod
    def forward(ctx, a):
        ctx.save(a)
        return xp.log(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        return grad / a


class Sqrt(Function):
    """z = √a;  dz/da = 1 / (2√a) (saves the output)."""

    @staticmethod
    def forward(ctx, a):
        z = xp.sqrt(a)
        ctx.save(z)
        return z

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved
        return grad / (2 * z)


class Abs(Function):
    """z = |a|;  dz/da = sign(a), 0 at a = 0."""

    @staticmethod
    def forward(ctx, a):
        ctx.save(a)
        return xp.abs(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        return grad * xp.sign(a)


class Clamp(Function):
    """z = min(max(a, lo), hi);  the gradient passes where lo ≤ a ≤ hi (bounds included, as in PyTorch)."""

    @staticmethod
    def forward(ctx, a, lo=None, hi=None):
        ctx.save(a)
        ctx.lo, ctx.hi = lo, hi
        z = a
        if lo is not None:
            z = xp.maximum(z, lo)
        if hi is not None:
            z = xp.minimum(z, hi)
        return z

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        inside = xp.ones(a.shape, dtype=bool)
        if ctx.lo is not None:
            inside &= a >= ctx.lo
        if ctx.hi is not None:
            inside &= a <= ctx.hi
        return xp.where(inside, grad, 0)


class Maximum(Function):
    """z = max(a, b), element-wise: the max gate routes the gradient to the larger input; ties split it."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save(a, b)
        return xp.maximum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        return _route(ctx, grad, a > b, a < b)


class Minimum(Function):
    """z = min(a, b), element-wise: the gradient goes to the smaller input; ties split it."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save(a, b)
        return xp.minimum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        return _route(ctx, grad, a < b, a > b)


def _route(ctx, grad, a_wins, b_wins):
    half = grad / 2
    da = xp.where(a_wins, grad, xp.where(b_wins, 0, half)) if ctx.needs_input_grad[0] else None
    db = xp.where(b_wins, grad, xp.where(a_wins, 0, half)) if ctx.needs_input_grad[1] else None
    return da, db


class Remainder(Function):
    """z = a mod b with the sign of b (Python's and torch.remainder's);  dz/da = 1, dz/db = -⌊a/b⌋."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save(a, b)
        return xp.remainder(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        db = -grad * xp.floor_divide(a, b) if ctx.needs_input_grad[1] else None
        return grad, db


class Where(Function):
    """z = a where cond else b;  the gradient goes to whichever input was chosen."""

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save(cond)
        return xp.where(cond, a, b)

    @staticmethod
    def backward(ctx, grad):
        (cond,) = ctx.saved
        da = xp.where(cond, grad, 0) if ctx.needs_input_grad[1] else None
        db = xp.where(cond, 0, grad) if ctx.needs_input_grad[2] else None
        return None, da, db


class Cast(Function):
    """z = a converted to ``dtype``; the gradient is converted back to the input's dtype."""

    @staticmethod
    def forward(ctx, a, dtype):
        ctx.input_dtype = a.dtype
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad.astype(ctx.input_dtype), None


# ----------------------------------------------------------------------------------------------------
# The functional API. PyTorch's type promotion, on top of NumPy's: Python and NumPy scalars stay scalars
# (NumPy then keeps the tensor's dtype); an integer tensor meeting a Python float becomes float32 and one
# meeting a float tensor takes that tensor's dtype; integer division gives float32; and a 0-d float tensor
# (a loss, x.mean()) does not widen a float tensor with dimensions: float32 x * float64 0-d is float32.


def _operand(v):
    if isinstance(v, xp.generic):
        return v.item()
    if isinstance(v, (list, tuple)):
        return Tensor(as_array(v))
    return v


def _is_integer(v):
    if isinstance(v, Tensor):
        return v.dtype.kind in "iub"
    if isinstance(v, xp.ndarray):
        return v.dtype.kind in "iub"
    return isinstance(v, (int, bool))


def _to_float(v, dtype=None):
    dtype = backend.default_dtype if dtype is None else dtype
    if isinstance(v, Tensor):
        return cast(v, dtype)
    if isinstance(v, xp.ndarray):
        return v.astype(dtype)
    return float(v)


def _float_dtype(v):
    """The dtype an integer operand meeting ``v`` becomes: ``v``'s if it is a float array, else float32."""
    dtype = getattr(v, "dtype", None)
    return dtype if dtype is not None and dtype.kind == "f" else backend.default_dtype


def _operands(a, b, true_division=False, name="elementwise op"):
    a, b = _operand(a), _operand(b)
    a_shape, b_shape = getattr(a, "shape", ()), getattr(b, "shape", ())
    if a_shape != b_shape and a_shape and b_shape:
        broadcastable(a_shape, b_shape, name)
    a_int, b_int = _is_integer(a), _is_integer(b)
    if (a_int and not b_int) or (true_division and a_int):
        a = _to_float(a, _float_dtype(b))
    if (b_int and not a_int) or (true_division and b_int):
        b = _to_float(b, _float_dtype(a))
    if not (a_int or b_int):
        a, b = _zero_dim_follows(a, b), _zero_dim_follows(b, a)
    return a, b


def _zero_dim_follows(v, other):
    """``v`` cast to ``other``'s float dtype when ``v`` is a 0-d float array and ``other`` is not 0-d."""
    v_dtype, o_dtype = getattr(v, "dtype", None), getattr(other, "dtype", None)
    if v_dtype is None or o_dtype is None or v_dtype == o_dtype or v.ndim != 0 or other.ndim == 0:
        return v
    if v_dtype.kind != "f" or o_dtype.kind != "f":
        return v
    return _to_float(v, o_dtype)


def cast(a, dtype):
    if a.dtype == dtype:
        return a
    return Cast.apply(a, xp.dtype(dtype))


def _alpha_first(name, alpha, rest):
    """(other, alpha) from torch's deprecated ``add(input, alpha, other)`` / ``x.add_(alpha, other)`` (old
    tutorials update weights with ``p.data.add_(-lr, p.grad.data)``); torch still runs it, with a warning."""
    import warnings

    if len(rest) != 1 or isinstance(alpha, Tensor) or not isinstance(rest[0], Tensor):
        raise TypeError(f"{name}() takes input, other and the keyword alpha: {name}(input, other, *, alpha=1); "
                        f"got {2 + len(rest)} positional arguments")
    warnings.warn(f"This overload of {name} is deprecated:\n\t{name}(Number alpha, Tensor other)\nConsider using "
                  f"one of the following signatures instead:\n\t{name}(Tensor other, *, Number alpha = 1)",
                  UserWarning, stacklevel=3)
    return rest[0], alpha


def add(a, b, *deprecated, alpha=1):
    """a + alpha·b (``alpha`` scales the second operand, as in ``torch.add``)."""
    if deprecated:
        b, alpha = _alpha_first("add", b, deprecated)
    return Add.apply(*_operands(a, b if alpha == 1 else mul(b, alpha), name="add"))


def sub(a, b, *deprecated, alpha=1):
    """a - alpha·b."""
    if deprecated:
        b, alpha = _alpha_first("sub", b, deprecated)
    return Sub.apply(*_operands(a, b if alpha == 1 else mul(b, alpha), name="sub"))


def mul(a, b):
    return Mul.apply(*_operands(a, b, name="mul"))


def div(a, b, *, rounding_mode=None):
    """a / b; ``rounding_mode='floor'`` rounds toward -∞ (Python's //), ``'trunc'`` toward 0 (C's /). The
    rounded quotients are piecewise constant: they have no gradient, and integers stay integers."""
    if rounding_mode is None:
        return Div.apply(*_operands(a, b, true_division=True, name="div"))
    if rounding_mode == "floor":
        return floor_divide(a, b)
    if rounding_mode == "trunc":
        a, b = _operands(a, b)
        x, y = getattr(a, "array", a), getattr(b, "array", b)
        q = _trunc_int(x, y) if _is_integer(a) and _is_integer(b) else xp.trunc(x / y)
        return Tensor(xp.asarray(q).astype(xp.result_type(x, y), copy=False))
    raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'")


def _trunc_int(x, y):
    q = xp.floor_divide(x, y)  # floor; step back toward zero where the signs differ and it was not exact
    return q + ((xp.remainder(x, y) != 0) & ((x < 0) != (y < 0)))


true_divide, multiply, subtract = div, mul, sub


def pow(a, b):
    return Pow.apply(*_operands(a, b, name="pow"))


def neg(a):
    return Neg.apply(a)


def float_input(a):
    """``a``, with an integer or bool tensor converted to the default float dtype first: torch's exp, log,
    sqrt, tanh and sigmoid of ``torch.tensor([1, 2])`` are float32, not NumPy's float64."""
    if isinstance(a, Tensor) and a.dtype.kind in "iub":
        return cast(a, backend.default_dtype)
    return a


def exp(a):
    return Exp.apply(float_input(a))


def log(a):
    return Log.apply(float_input(a))


def sqrt(a):
    return Sqrt.apply(float_input(a))


def abs(a):
    return Abs.apply(a)


def clamp(a, min=None, max=None):
    if min is None and max is None:
        raise ArgumentError("clamp(): At least one of 'min' or 'max' must not be None; give min=, max= or both")
    lo, hi = _operand(min), _operand(max)
    if _is_integer(a) and (isinstance(lo, float) or isinstance(hi, float)):
        a = _to_float(a)  # torch: an integer tensor clamped to a float bound becomes float32
    return Clamp.apply(a, lo=lo, hi=hi)


def remainder(a, b):
    return Remainder.apply(*_operands(a, b, name="remainder"))


def floor_divide(a, b):
    """⌊a / b⌋ element-wise (rounding toward -∞, as Python's //); piecewise constant, so no gradient."""
    a, b = _operands(a, b)
    return Tensor(xp.floor_divide(a.array if isinstance(a, Tensor) else a, b.array if isinstance(b, Tensor) else b))


def maximum(a, b):
    return Maximum.apply(*_operands(a, b, name="maximum"))


def minimum(a, b):
    return Minimum.apply(*_operands(a, b, name="minimum"))


def where(condition, a=None, b=None):
    """Elements of ``a`` where ``condition`` holds, else of ``b`` (``condition`` is a bool tensor or array).
    ``where(condition)`` alone is ``nonzero(condition, as_tuple=True)``: one index tensor per dim."""
    cond = condition.array if isinstance(condition, Tensor) else xp.asarray(condition)
    if a is None and b is None:
        return tuple(Tensor(i.astype(xp.int64)) for i in xp.nonzero(cond))
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):  # two Python scalars: float32 or int64
        a, b = Tensor(as_array(_operand(a))), Tensor(as_array(_operand(b)))
    a, b = _operands(a, b, name="where")
    return Where.apply(cond.astype(bool, copy=False), a, b)
