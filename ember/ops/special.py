"""Special functions: the error function erf and its complement erfc (the Gaussian CDF behind exact GELU).

    erf x  = 2/√π ∫₀ˣ e^{-t²} dt,     erfc x = 1 - erf x,     d erf/dx = 2/√π · e^{-x²}

NumPy has no erf, and Ember depends on NumPy alone, so it is computed here with W. J. Cody's rational
Chebyshev approximations (Math. Comp. 23, 1969; the CALERF routine behind many libms), vectorised: three
ranges of |x|, each a ratio of two polynomials, accurate to about one unit in the last place of a float64:

    |x| < 0.5       erf x  = x · P₁(x²) / Q₁(x²)
    0.5 ≤ |x| ≤ 4   erfc x = e^{-x²} · P₂(x) / Q₂(x)
    |x| > 4         erfc x = e^{-x²} / x · (1/√π + z · P₃(z) / Q₃(z)),  z = 1/x²

e^{-x²} is evaluated as e^{-u²} · e^{-(x-u)(x+u)} with u = x rounded down to 1/16, so that the large
exponent loses no bits. Computing erfc directly (not 1 - erf) keeps its tail exact: erfc 10 = 2.1e-45.
float32 inputs are evaluated in float64 and rounded once.
"""

import math

from ..autograd.function import Function
from ..backend import xp

_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
_ONE_OVER_SQRT_PI = 1 / math.sqrt(math.pi)

# Cody's coefficients, lowest-order term last (the Horner loops below run from the highest order).
_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02, 3.20937758913846947e03,
      1.85777706184603153e-1)
_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03)
_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01, 2.98635138197400131e02,
      8.81952221241769090e02, 1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03,
      2.15311535474403846e-8)
_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02, 1.62138957456669019e03,
      3.29079923573345963e03, 4.36261909014324716e03, 3.43936767414372164e03, 1.23033935480374942e03)
_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1, 1.60837851487422766e-2,
      6.58749161529837803e-4, 1.63153871373020978e-2)
_Q = (2.56852019228982242e00, 1.87295284992346725e00, 5.27905102951428412e-1, 6.05183413124413191e-2,
      2.33520497626869185e-3)


def _erf_small(x):
    """erf x for |x| < 0.5."""
    z = x * x
    num, den = _A[4] * z, z
    for a, b in zip(_A[:3], _B[:3]):
        num, den = (num + a) * z, (den + b) * z
    return x * (num + _A[3]) / (den + _B[3])


def _exp_minus_square(y):
    """e^{-y²} without losing the low bits of y² (y ≥ 0)."""
    u = xp.floor(y * 16) / 16
    return xp.exp(-u * u) * xp.exp(-(y - u) * (y + u))


def _erfc_middle(y):
    """erfc y for 0.5 ≤ y ≤ 4."""
    num, den = _C[8] * y, y
    for c, d in zip(_C[:7], _D[:7]):
        num, den = (num + c) * y, (den + d) * y
    return _exp_minus_square(y) * (num + _C[7]) / (den + _D[7])


def _erfc_large(y):
    """erfc y for y > 4 (0 beyond y ≈ 26.6, where it underflows)."""
    y = xp.minimum(y, 30.0)  # erfc 30 underflows to 0 already; keeps inf out of the arithmetic
    z = 1 / (y * y)
    num, den = _P[5] * z, z
    for p, q in zip(_P[:4], _Q[:4]):
        num, den = (num + p) * z, (den + q) * z
    tail = z * (num + _P[4]) / (den + _Q[4])
    return _exp_minus_square(y) * (_ONE_OVER_SQRT_PI - tail) / y


def _pieces(x):
    """(x as float64, |x|, masks of the three ranges)."""
    x = xp.asarray(x, dtype=xp.float64)
    y = xp.abs(x)
    small = y < 0.5
    large = y > 4
    middle = ~(small | large) & ~xp.isnan(x)
    return x, y, small, middle, large


def erf_array(x):
    """erf of an array (any float dtype; the result has x's dtype)."""
    dtype = x.dtype if x.dtype.kind == "f" else xp.float64
    x, y, small, middle, large = _pieces(x)
    out = xp.array(x, dtype=xp.float64, copy=True)  # keeps NaN as NaN
    out[small] = _erf_small(x[small])
    for mask, tail in ((middle, _erfc_middle), (large, _erfc_large)):
        out[mask] = xp.copysign(1 - tail(y[mask]), x[mask])  # erf x = sign(x) · (1 - erfc |x|)
    return out.astype(dtype, copy=False)


def erfc_array(x):
    """erfc of an array, accurate in the tail (erfc x for large x, 2 - erfc |x| for negative x)."""
    dtype = x.dtype if x.dtype.kind == "f" else xp.float64
    x, y, small, middle, large = _pieces(x)
    out = xp.array(x, dtype=xp.float64, copy=True)
    out[small] = 1 - _erf_small(x[small])
    for mask, tail in ((middle, _erfc_middle), (large, _erfc_large)):
        t = tail(y[mask])
        out[mask] = xp.where(x[mask] < 0, 2 - t, t)
    return out.astype(dtype, copy=False)


class Erf(Function):
    """y = erf x;  dy/dx = 2/√π · e^{-x²}."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return erf_array(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad * (_TWO_OVER_SQRT_PI * xp.exp(-x * x)).astype(grad.dtype, copy=False)


class Erfc(Function):
    """y = erfc x = 1 - erf x;  dy/dx = -2/√π · e^{-x²}."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return erfc_array(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad * (-_TWO_OVER_SQRT_PI * xp.exp(-x * x)).astype(grad.dtype, copy=False)


def erf(input):
    """``torch.erf``: the error function, element-wise."""
    return Erf.apply(input)


def erfc(input):
    """``torch.erfc``: the complementary error function 1 - erf, element-wise (accurate for large inputs)."""
    return Erfc.apply(input)
