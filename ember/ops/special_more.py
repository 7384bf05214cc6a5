"""More special functions: log-gamma, digamma (ψ) and trigamma (ψ'), the inverse error function, and the
modified Bessel functions I₀ and I₁. NumPy has none of them but ``i0``, and Ember depends on NumPy alone.

    d lgamma(x)/dx = ψ(x),   dψ(x)/dx = ψ'(x),   d erfinv(y)/dy = √π/2 · e^{erfinv(y)²},   d I₀/dx = I₁

ψ and ψ' use the recurrences ψ(x) = ψ(x+1) - 1/x and ψ'(x) = ψ'(x+1) + 1/x² to move x above 10, then
their asymptotic series (error below 1e-13 there); negative arguments use the reflection formulas.
erfinv starts from M. Giles' single-precision approximation and polishes it with two Newton steps on erf.
Everything is evaluated in float64 and rounded once to the input's dtype.
"""

import math

from ..autograd.function import Function
from ..backend import errstate, xp
from .special import erf_array

_SHIFT = 10.0


def digamma_array(x):
    """ψ(x) = d/dx log Γ(x), element-wise (float64)."""
    x = xp.asarray(x, dtype=xp.float64)
    out = xp.empty_like(x)
    negative = x < 0.5
    with errstate(divide="ignore", invalid="ignore"):
        # reflection: ψ(1 - x) - ψ(x) = π cot(πx)
        reflected = xp.where(negative, 1 - x, x)
        acc = xp.zeros_like(x)
        y = reflected.copy()
        for _ in range(int(_SHIFT) + 1):
            small = y < _SHIFT
            acc = acc - xp.where(small, 1 / y, 0)
            y = xp.where(small, y + 1, y)
        inv2 = 1 / (y * y)
        series = xp.log(y) - 0.5 / y - inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 / 132))))
        psi = acc + series
        out = xp.where(negative, psi - math.pi / xp.tan(math.pi * x), psi)
        out = xp.where((x <= 0) & (x == xp.floor(x)), xp.nan, out)  # the poles of Γ
    return out


def trigamma_array(x):
    """ψ'(x), element-wise (float64)."""
    x = xp.asarray(x, dtype=xp.float64)
    negative = x < 0.5
    with errstate(divide="ignore", invalid="ignore"):
        # reflection: ψ'(1 - x) + ψ'(x) = π² / sin²(πx)
        y = xp.where(negative, 1 - x, x)
        acc = xp.zeros_like(x)
        for _ in range(int(_SHIFT) + 1):
            small = y < _SHIFT
            acc = acc + xp.where(small, 1 / (y * y), 0)
            y = xp.where(small, y + 1, y)
        inv = 1 / y
        inv2 = inv * inv
        series = inv + inv2 / 2 + inv * inv2 * (1 / 6 - inv2 * (1 / 30 - inv2 * (1 / 42 - inv2 / 30)))
        psi1 = acc + series
        return xp.where(negative, (math.pi / xp.sin(math.pi * x)) ** 2 - psi1, psi1)


def _lgamma_scalar(v):
    try:
        return math.lgamma(v)
    except ValueError:  # a pole of Γ
        return math.inf


_lgamma_vector = xp.vectorize(_lgamma_scalar, otypes=[xp.float64])


def lgamma_array(x):
    """log |Γ(x)|, element-wise (float64; Python's math.lgamma per element)."""
    x = xp.asarray(x, dtype=xp.float64)
    return _lgamma_vector(x) if x.size else x.copy()


def erfinv_array(y):
    """The inverse of erf on (-1, 1); ±inf at ±1, nan outside."""
    y = xp.asarray(y, dtype=xp.float64)
    with errstate(divide="ignore", invalid="ignore"):
        w = -xp.log((1 - y) * (1 + y))
        central = w - 2.5
        p1 = 2.81022636e-08
        for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                  -0.00417768164, 0.246640727, 1.50140941):
            p1 = c + p1 * central
        tail = xp.sqrt(w) - 3
        p2 = -0.000200214257
        for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047,
                  1.00167406, 2.83297682):
            p2 = c + p2 * tail
        z = xp.where(w < 5, p1, p2) * y
        finite = xp.abs(y) < 1
        zf = xp.where(finite, z, 0.0)
        for _ in range(2):  # Newton on erf(z) = y
            zf = zf - (erf_array(zf) - xp.where(finite, y, 0.0)) / (2 / math.sqrt(math.pi) * xp.exp(-zf * zf))
        out = xp.where(finite, zf, xp.where(xp.abs(y) == 1, xp.copysign(xp.inf, y), xp.nan))
    return out


def i1_array(x):
    """I₁(x) = Σₖ (x/2)^{2k+1} / (k! (k+1)!), summed until the terms vanish (float64)."""
    x = xp.asarray(x, dtype=xp.float64)
    half = x / 2
    term = half.copy()
    total = term.copy()
    sq = half * half
    for k in range(1, 500):
        term = term * sq / (k * (k + 1))
        total = total + term
        if not xp.any(xp.abs(term) > 1e-17 * xp.abs(total)):
            break
    return total


def _round(out, like):
    return out.astype(like.dtype, copy=False)


class Lgamma(Function):
    """z = log|Γ(x)|;  dz/dx = ψ(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return _round(lgamma_array(x), x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad * _round(digamma_array(x), x)


class Digamma(Function):
    """z = ψ(x);  dz/dx = ψ'(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return _round(digamma_array(x), x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad * _round(trigamma_array(x), x)


class Erfinv(Function):
    """z = erf⁻¹(y);  dz/dy = √π/2 · e^{z²}."""

    @staticmethod
    def forward(ctx, y):
        z = _round(erfinv_array(y), y)
        ctx.save(z)
        return z

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved
        return grad * (math.sqrt(math.pi) / 2) * xp.exp(z * z)


class I0(Function):
    """z = I₀(x);  dz/dx = I₁(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return _round(xp.i0(x.astype(xp.float64)), x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad * _round(i1_array(x), x)
