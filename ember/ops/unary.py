"""Mathematical functions of one element: trigonometry, logarithms and powers, rounding.

Each is a gate with one input: its backward multiplies the incoming gradient by the local derivative.
Integer and bool inputs follow PyTorch: a smooth function (sin, log1p, rsqrt, ...) first converts them to
the default float dtype; rounding and sign keep the integer dtype (they are exact there); ``square`` stays
integer as ``x * x`` does. Rounding is piecewise constant, so its gradient is zero, as in torch.
"""

import math

from .. import backend
from ..autograd.function import Function
from .special import Erf, Erfc
from ..backend import errstate, xp
from ..tensor import Tensor
from .elementwise import _operands, cast


class Sin(Function):
    """z = sin a;  dz/da = cos a."""

    @staticmethod
    def forward(ctx, a):
        ctx.save(a)
        return xp.sin(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        return grad * xp.cos(a)


class Cos(Function):
    """z = cos a;  dz/da = -sin a."""

    @staticmethod
    def forward(ctx, a):
        ctx.save(a)
        return xp.cos(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        return -grad * xp.sin(a)


class Tan(Function):
    """z = tan a;  dz/da = 1 + tan² a = 1 + z² (saves the output)."""

    @staticmethod
    def forward(ctx, a):
        z = xp.tan(a)
        ctx.save(z)
        return z

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved
        return grad * (1 + z * z)


class Sinh(Function):
    """z = sinh a;  dz/da = cosh a."""

    @staticmethod
    def forward(ctx, a):
        ctx.save(a)
        return xp.sinh(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        return grad * xp.cosh(a)


class Cosh(Function):
    """z = cosh a;  dz/da = sinh a."""

    @staticmethod
    def forward(ctx, a):
        ctx.save(a)
        return xp.cosh(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        return grad * xp.sinh(a)


class Asin(Function):
    """z = arcsin a;  dz/da = 1 / √(1 - a²)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save(a)
        return xp.arcsin(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        with errstate(divide="ignore", invalid="ignore"):
            return grad / xp.sqrt(1 - a * a)


class Acos(Function):
    """z = arccos a;  dz/da = -1 / √(1 - a²)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save(a)
        return xp.arccos(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        with errstate(divide="ignore", invalid="ignore"):
            return -grad / xp.sqrt(1 - a * a)


class Atan(Function):
    """z = arctan a;  dz/da = 1 / (1 + a²)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save(a)
        return xp.arctan(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        return grad / (1 + a * a)


class Atan2(Function):
    """z = atan2(y, x), the angle of the point (x, y);  dz/dy = x / (x² + y²),  dz/dx = -y / (x² + y²)."""

    @staticmethod
    def forward(ctx, y, x):
        ctx.save(y, x)
        return xp.arctan2(y, x)

    @staticmethod
    def backward(ctx, grad):
        y, x = ctx.saved
        with errstate(divide="ignore", invalid="ignore"):
            scale = grad / (x * x + y * y)
        return (scale * x if ctx.needs_input_grad[0] else None), (-scale * y if ctx.needs_input_grad[1] else None)


class Log1p(Function):
    """z = ln(1 + a), accurate for tiny a;  dz/da = 1 / (1 + a)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save(a)
        return xp.log1p(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        return grad / (1 + a)


class Expm1(Function):
    """z = eᵃ - 1, accurate for tiny a;  dz/da = eᵃ = z + 1 (saves the output)."""

    @staticmethod
    def forward(ctx, a):
        z = xp.expm1(a)
        ctx.save(z)
        return z

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved
        return grad * (z + 1)


class LogBase(Function):
    """z = log_base a = ln a / ln base (base 2 or 10);  dz/da = 1 / (a ln base)."""

    @staticmethod
    def forward(ctx, a, base):
        ctx.save(a)
        ctx.log_base = math.log(base)
        with errstate(divide="ignore", invalid="ignore"):  # log 0 = -inf and log(-1) = nan, as in torch
            return xp.log2(a) if base == 2 else xp.log10(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        return grad / (a * ctx.log_base)


class Exp2(Function):
    """z = 2ᵃ;  dz/da = 2ᵃ ln 2 = z ln 2 (saves the output)."""

    @staticmethod
    def forward(ctx, a):
        z = xp.exp2(a)
        ctx.save(z)
        return z

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved
        return grad * z * math.log(2)


class Rsqrt(Function):
    """z = 1 / √a;  dz/da = -½ a^(-3/2) = -½ z³ (saves the output)."""

    @staticmethod
    def forward(ctx, a):
        with errstate(divide="ignore"):
            z = 1 / xp.sqrt(a)
        ctx.save(z)
        return z.astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved
        return -0.5 * grad * z * z * z


class Reciprocal(Function):
    """z = 1 / a;  dz/da = -1 / a² = -z² (saves the output)."""

    @staticmethod
    def forward(ctx, a):
        with errstate(divide="ignore"):
            z = xp.reciprocal(a)
        ctx.save(z)
        return z

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved
        return -grad * z * z


class Square(Function):
    """z = a²;  dz/da = 2a."""

    @staticmethod
    def forward(ctx, a):
        ctx.save(a)
        return a * a

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        return 2 * grad * a


class Frac(Function):
    """z = a - trunc(a), the fractional part with a's sign;  dz/da = 1 (trunc is piecewise constant)."""

    @staticmethod
    def forward(ctx, a):
        return a - xp.trunc(a)

    @staticmethod
    def backward(ctx, grad):
        return grad


class Rounding(Function):
    """z = floor, ceil, round, trunc or sign of a: piecewise constant, so dz/da = 0 almost everywhere
    (PyTorch returns zeros there rather than no gradient, and so does this)."""

    @staticmethod
    def forward(ctx, a, fn):
        return fn(a)

    @staticmethod
    def backward(ctx, grad):
        return xp.zeros_like(grad)


# ----------------------------------------------------------------------------------------------------
# The functional API.


def _floating(a, name):
    """``a`` itself if it is a floating tensor; an integer or bool one converted to the default dtype."""
    if not isinstance(a, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(a).__name__}")
    if a.dtype.kind == "f":
        return a
    return cast(a, backend.default_dtype)


def sin(a):
    return Sin.apply(_floating(a, "sin"))


def cos(a):
    return Cos.apply(_floating(a, "cos"))


def tan(a):
    return Tan.apply(_floating(a, "tan"))


def sinh(a):
    return Sinh.apply(_floating(a, "sinh"))


def cosh(a):
    return Cosh.apply(_floating(a, "cosh"))


def asin(a):
    return Asin.apply(_floating(a, "asin"))


def acos(a):
    return Acos.apply(_floating(a, "acos"))


def atan(a):
    return Atan.apply(_floating(a, "atan"))


def atan2(y, x):
    """The angle of (x, y) in (-π, π]; note the argument order: y first, as ``torch.atan2``."""
    y, x = _operands(y, x, true_division=True)  # integers become floats, as in torch
    return Atan2.apply(y, x)


def log1p(a):
    return Log1p.apply(_floating(a, "log1p"))


def expm1(a):
    return Expm1.apply(_floating(a, "expm1"))


def log2(a):
    return LogBase.apply(_floating(a, "log2"), 2)


def log10(a):
    return LogBase.apply(_floating(a, "log10"), 10)


def erf(a):
    return Erf.apply(_floating(a, "erf"))


def erfc(a):
    return Erfc.apply(_floating(a, "erfc"))


def exp2(a):
    return Exp2.apply(_floating(a, "exp2"))


def rsqrt(a):
    return Rsqrt.apply(_floating(a, "rsqrt"))


def reciprocal(a):
    return Reciprocal.apply(_floating(a, "reciprocal"))


def square(a):
    if a.dtype == xp.bool_:
        a = Tensor(a.array.astype(xp.int64))  # torch: a bool squared is an int64
    return Square.apply(a)


def _rounding(a, fn, name):
    if a.dtype == xp.bool_:
        raise NotImplementedError(f'{name}(): not implemented for bool tensors ("{name}" not implemented for \'Bool\')')
    if a.dtype.kind in "iu":
        return Tensor(a.array.copy())  # an integer is already whole
    return Rounding.apply(a, fn)


def floor(a):
    return _rounding(a, xp.floor, "floor")


def ceil(a):
    return _rounding(a, xp.ceil, "ceil")


def trunc(a):
    return _rounding(a, xp.trunc, "trunc")


def round(a, *, decimals=0):
    """Round half to even (0.5 -> 0, 1.5 -> 2), as torch; ``decimals`` rounds to that many decimal places."""
    if decimals == 0:
        return _rounding(a, xp.round, "round")
    if a.dtype.kind != "f":
        raise NotImplementedError(f"round(): decimals={decimals} needs a floating tensor, got {a.dtype}")
    return Rounding.apply(a, lambda x: xp.round(x, decimals))


def frac(a):
    if a.dtype.kind != "f":
        raise NotImplementedError(f"frac(): needs a floating tensor, got {a.dtype}; convert it first with .float()")
    return Frac.apply(a)


def sign(a):
    """-1, 0 or +1 by the sign of each element (bool stays bool; integers stay integers)."""
    if a.dtype.kind in "iub":
        return Tensor(xp.sign(a.array) if a.dtype != xp.bool_ else a.array.copy())
    return Rounding.apply(a, xp.sign)


def sgn(a):
    """For real tensors, ``sign`` (torch's sgn differs only for complex numbers, which Ember does not have)."""
    return sign(a)


fix = trunc
arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2
