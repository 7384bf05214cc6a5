"""More element-wise maths: fmod, hypot, logaddexp, xlogy, sinc, logit, copysign, the inverse hyperbolic
functions, nan_to_num, the special functions, and torch's compositions of the basic gates (lerp, addcmul,
addcdiv, float_power, deg2rad, kron, ...), which take their gradients from the gates they are built of.
"""

import math

from .. import backend
from ..autograd.function import Function
from ..backend import errstate, xp
from ..tensor import Tensor
from . import elementwise as ew
from .elementwise import _operands, cast
from .special_more import Digamma, Erfinv, I0, Lgamma
from .unary import _floating


class Fmod(Function):
    """z = a - trunc(a / b)·b (the C remainder: the sign of a);  da = g,  db = -g·trunc(a / b)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save(a, b)
        return xp.fmod(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        db = -grad * xp.trunc(a / b) if ctx.needs_input_grad[1] else None
        return grad, db


class Hypot(Function):
    """z = √(a² + b²);  da = g·a/z,  db = g·b/z."""

    @staticmethod
    def forward(ctx, a, b):
        z = xp.hypot(a, b)
        ctx.save(a, b, z)
        return z

    @staticmethod
    def backward(ctx, grad):
        a, b, z = ctx.saved
        return grad * a / z, grad * b / z


class LogAddExp(Function):
    """z = log(eᵃ + eᵇ) (base 2: log₂(2ᵃ + 2ᵇ));  da = g·e^{a-z},  db = g·e^{b-z} (2^{a-z}, 2^{b-z})."""

    @staticmethod
    def forward(ctx, a, b, base2=False):
        z = xp.logaddexp2(a, b) if base2 else xp.logaddexp(a, b)
        ctx.save(a, b, z)
        ctx.base2 = base2
        return z

    @staticmethod
    def backward(ctx, grad):
        a, b, z = ctx.saved
        power = xp.exp2 if ctx.base2 else xp.exp
        return grad * power(a - z), grad * power(b - z)


class Xlogy(Function):
    """z = x·log y, and 0 where x = 0 (unless y is nan);  dx = g·log y (0 where x = 0),  dy = g·x / y."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save(x, y)
        with errstate(divide="ignore", invalid="ignore"):
            return xp.where((x == 0) & ~xp.isnan(y), 0, x * xp.log(y)).astype(xp.result_type(x, y), copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved
        with errstate(divide="ignore", invalid="ignore"):
            dx = xp.where((x == 0) & ~xp.isnan(y), 0, grad * xp.log(y)) if ctx.needs_input_grad[0] else None
            dy = grad * x / y if ctx.needs_input_grad[1] else None
        return dx, dy


class Sinc(Function):
    """z = sin(πx)/(πx), 1 at x = 0;  dz/dx = (cos(πx) - z)/x, 0 at x = 0."""

    @staticmethod
    def forward(ctx, x):
        z = xp.sinc(x)
        ctx.save(x, z)
        return z

    @staticmethod
    def backward(ctx, grad):
        x, z = ctx.saved
        with errstate(divide="ignore", invalid="ignore"):
            local = xp.where(x == 0, 0, (xp.cos(math.pi * x) - z) / x)
        return (grad * local).astype(x.dtype, copy=False)


class Logit(Function):
    """z = log(x / (1 - x)) of x clamped to [eps, 1 - eps] when eps is given;  dz/dx = 1/(x(1 - x)),
    0 outside the clamp (where x was moved)."""

    @staticmethod
    def forward(ctx, x, eps=None):
        ctx.save(x)
        ctx.eps = eps
        c = x if eps is None else xp.clip(x, eps, 1 - eps)
        with errstate(divide="ignore", invalid="ignore"):
            return xp.log(c / (1 - c))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        with errstate(divide="ignore", invalid="ignore"):
            local = grad / (x * (1 - x))
        if ctx.eps is not None:
            local = xp.where((x < ctx.eps) | (x > 1 - ctx.eps), 0, local)
        return local.astype(x.dtype, copy=False)


class Copysign(Function):
    """z = |a|·sign(b);  da = g·sign(a)·sign(b) (0 at a = 0),  db = 0."""

    @staticmethod
    def forward(ctx, a, b):
        z = xp.copysign(a, b)
        ctx.save(a, z)
        ctx.b_shape = b.shape
        return z

    @staticmethod
    def backward(ctx, grad):
        a, z = ctx.saved
        with errstate(divide="ignore", invalid="ignore"):
            da = xp.where(a == 0, 0, grad * (z / a))
        db = xp.zeros(ctx.b_shape, dtype=grad.dtype) if ctx.needs_input_grad[1] else None  # torch gives zeros
        return da.astype(grad.dtype, copy=False), db


class InverseHyperbolic(Function):
    """asinh: 1/√(x² + 1);  acosh: 1/√(x² - 1);  atanh: 1/(1 - x²)."""

    @staticmethod
    def forward(ctx, x, name):
        ctx.save(x)
        ctx.name = name
        with errstate(invalid="ignore", divide="ignore"):
            return getattr(xp, "arc" + name[1:])(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        with errstate(invalid="ignore", divide="ignore"):
            if ctx.name == "asinh":
                return grad / xp.sqrt(x * x + 1)
            if ctx.name == "acosh":
                return grad / xp.sqrt(x * x - 1)
            return grad / (1 - x * x)


class NanToNum(Function):
    """nan → nan, +inf → posinf, -inf → neginf (the dtype's largest values by default);  the gradient passes
    where x was finite and is 0 where it was replaced."""

    @staticmethod
    def forward(ctx, x, nan=0.0, posinf=None, neginf=None):
        ctx.save(xp.isfinite(x))
        return xp.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, grad):
        (finite,) = ctx.saved
        return xp.where(finite, grad, 0).astype(grad.dtype, copy=False)


# ----------------------------------------------------------------------------------------------------
# The functional API.


def _pair(a, b):
    a, b = _operands(a, b)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError("expected at least one tensor argument")
    if not isinstance(a, Tensor):
        a = Tensor(xp.asarray(a, dtype=b.dtype))
    if not isinstance(b, Tensor):
        b = Tensor(xp.asarray(b, dtype=a.dtype))
    return a, b


def _float_pair(a, b, name):
    a, b = _pair(a, b)
    if a.dtype.kind != "f":
        a = _floating(a, name)
    if b.dtype.kind != "f":
        b = cast(b, a.dtype)
    if a.dtype != b.dtype:
        common = xp.promote_types(a.dtype, b.dtype)
        a, b = cast(a, common), cast(b, common)
    return a, b


def fmod(input, other):
    a, b = _pair(input, other)
    if a.dtype.kind != "f" and b.dtype.kind != "f":
        return Tensor(xp.fmod(a.array, b.array))
    return Fmod.apply(*_float_pair(a, b, "fmod"))


def hypot(input, other):
    return Hypot.apply(*_float_pair(input, other, "hypot"))


def logaddexp(input, other):
    return LogAddExp.apply(*_float_pair(input, other, "logaddexp"))


def logaddexp2(input, other):
    return LogAddExp.apply(*_float_pair(input, other, "logaddexp2"), base2=True)


def xlogy(input, other):
    return Xlogy.apply(*_float_pair(input, other, "xlogy"))


def sinc(input):
    return Sinc.apply(_floating(input, "sinc"))


def logit(input, eps=None):
    return Logit.apply(_floating(input, "logit"), eps=eps)


def copysign(input, other):
    return Copysign.apply(*_float_pair(input, other, "copysign"))


def asinh(input):
    return InverseHyperbolic.apply(_floating(input, "asinh"), name="asinh")


def acosh(input):
    return InverseHyperbolic.apply(_floating(input, "acosh"), name="acosh")


def atanh(input):
    return InverseHyperbolic.apply(_floating(input, "atanh"), name="atanh")


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    if input.dtype.kind != "f":
        return Tensor(input.array.copy())
    return NanToNum.apply(input, nan=nan, posinf=posinf, neginf=neginf)


def lgamma(input):
    return Lgamma.apply(_floating(input, "lgamma"))


def digamma(input):
    return Digamma.apply(_floating(input, "digamma"))


def erfinv(input):
    return Erfinv.apply(_floating(input, "erfinv"))


def i0(input):
    return I0.apply(_floating(input, "i0"))


def signbit(input):
    return Tensor(xp.signbit(input.array))


def heaviside(input, values):
    """0 where x < 0, ``values`` where x = 0, 1 where x > 0 (no gradient, as in torch)."""
    values = values.array if isinstance(values, Tensor) else values
    if input.dtype != getattr(values, "dtype", input.dtype):
        raise RuntimeError(f"heaviside is not yet implemented for tensors with different dtypes ({input.dtype} "
                           f"and {values.dtype}); convert one of them")
    return Tensor(xp.heaviside(input.array, values).astype(input.dtype, copy=False))


def fmax(input, other):
    """max(a, b) element-wise, ignoring a nan when the other value is a number."""
    a, b = _pair(input, other)
    take_a = xp.isnan(b.array) | (a.array >= b.array)
    return ew.where(Tensor(take_a), a, b)


def fmin(input, other):
    """min(a, b) element-wise, ignoring a nan when the other value is a number."""
    a, b = _pair(input, other)
    take_a = xp.isnan(b.array) | (a.array <= b.array)
    return ew.where(Tensor(take_a), a, b)


def lerp(input, end, weight):
    """start + weight·(end - start)."""
    return ew.add(input, ew.mul(weight, ew.sub(end, input)))


def addcmul(input, tensor1, tensor2, *, value=1):
    """input + value·tensor1·tensor2."""
    product = ew.mul(tensor1, tensor2)
    return ew.add(input, product if value == 1 else ew.mul(product, value))


def addcdiv(input, tensor1, tensor2, *, value=1):
    """input + value·tensor1/tensor2 (integer tensor1 and tensor2 are refused, as in torch)."""
    if tensor1.dtype.kind in "iub" and tensor2.dtype.kind in "iub":
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a future release addcdiv "
                           "will perform a true division of tensor1 and tensor2. Use true_divide or floor_divide.")
    quotient = ew.div(tensor1, tensor2)
    return ew.add(input, quotient if value == 1 else ew.mul(quotient, value))


def float_power(input, exponent):
    """input ** exponent computed in float64 (the result is float64 whatever the inputs)."""
    base = cast(input, xp.float64) if isinstance(input, Tensor) else float(input)
    power = cast(exponent, xp.float64) if isinstance(exponent, Tensor) else exponent
    if not isinstance(base, Tensor):
        base = Tensor(xp.asarray(base, dtype=xp.float64))
    return ew.pow(base, power)


def deg2rad(input):
    return ew.mul(_floating(input, "deg2rad"), math.pi / 180)


def rad2deg(input):
    return ew.mul(_floating(input, "rad2deg"), 180 / math.pi)


def positive(input):
    if input.dtype == xp.bool_:
        raise TypeError("The `+` operator, on a bool tensor is not supported.")
    return input


def clamp_min(input, min):
    return ew.clamp(input, min=min)


def clamp_max(input, max):
    return ew.clamp(input, max=max)


def kron(input, other):
    """The Kronecker product: block (i, j) of the result is input[i, j]·other (any number of dims)."""
    from .shape import reshape

    n = max(input.ndim, other.ndim)
    a = reshape(input, (1,) * (n - input.ndim) + tuple(input.shape))
    b = reshape(other, (1,) * (n - other.ndim) + tuple(other.shape))
    a_shape = [s for d in a.shape for s in (d, 1)]  # (a1, 1, a2, 1, ...)
    b_shape = [s for d in b.shape for s in (1, d)]  # (1, b1, 1, b2, ...)
    product = ew.mul(reshape(a, a_shape), reshape(b, b_shape))
    return reshape(product, tuple(x * y for x, y in zip(a.shape, b.shape)))


def _integer_op(fn, name):
    def op(input, other):
        a = input.array
        b = other.array if isinstance(other, Tensor) else other
        if a.dtype.kind not in "iub" or getattr(b, "dtype", xp.dtype(xp.int64)).kind not in "iub":
            raise RuntimeError(f"\"{name}_cpu\" not implemented for '{a.dtype if a.dtype.kind not in 'iub' else b.dtype}'"
                               f": {name} takes integer (or bool) tensors")
        return Tensor(xp.asarray(fn(a, b)))

    op.__name__ = name
    return op


bitwise_and = _integer_op(xp.bitwise_and, "bitwise_and")
bitwise_or = _integer_op(xp.bitwise_or, "bitwise_or")
bitwise_xor = _integer_op(xp.bitwise_xor, "bitwise_xor")
bitwise_left_shift = _integer_op(xp.left_shift, "bitwise_left_shift")
bitwise_right_shift = _integer_op(xp.right_shift, "bitwise_right_shift")
gcd = _integer_op(xp.gcd, "gcd")
lcm = _integer_op(xp.lcm, "lcm")


def bitwise_not(input):
    if input.dtype.kind not in "iub":
        raise RuntimeError(f"\"bitwise_not_cpu\" not implemented for '{input.dtype}'")
    return Tensor(xp.invert(input.array))


def ldexp(input, other):
    """input · 2^other."""
    return ew.mul(input, ew.pow(2.0, other) if isinstance(other, Tensor) else 2.0 ** other)


def frexp(input):
    """(mantissa, exponent) with input = mantissa · 2^exponent, 0.5 ≤ |mantissa| < 1."""
    mantissa, exponent = xp.frexp(input.array)
    return Tensor(mantissa), Tensor(exponent.astype(xp.int32))


def nextafter(input, other):
    b = other.array if isinstance(other, Tensor) else other
    return Tensor(xp.nextafter(input.array, b).astype(input.dtype, copy=False))


def rsub(input, other, *, alpha=1):
    """other - alpha · input."""
    return ew.sub(other, input if alpha == 1 else ew.mul(input, alpha))
