"""``torch.special``: the special functions under torch's names (each is one of Ember's differentiable ops).

    expit(x) = σ(x)          logit(p) = ln(p / (1 - p))        ndtr(x) = Φ(x) = ½ erfc(-x/√2)
    erf, erfc, erfinv        gammaln = lgamma, psi = digamma    entr(x) = -x ln x (0 at 0, -inf below 0)
"""

import math

from .ops.activation import log_softmax, softmax
from .ops.elementwise import log, mul, neg, where
from .ops.reduce import logsumexp
from .ops.unary import erf, erfc, exp2, expm1, log1p, round
from .ops.activation import sigmoid as expit
from .ops.pointwise_more import digamma, erfinv, i0, logit, sinc, xlogy
from .ops.pointwise_more import lgamma as gammaln

psi = digamma


def ndtr(input):
    """Φ(x), the standard normal CDF, as ½ erfc(-x/√2) (accurate far into the lower tail)."""
    return mul(erfc(mul(input, -1 / math.sqrt(2))), 0.5)


def log_ndtr(input):
    """ln Φ(x)."""
    return log(ndtr(input))


def entr(input):
    """-x ln x elementwise: 0 at x = 0 and -inf for x < 0, as torch.special.entr."""
    safe = where(input > 0, input, 1.0)
    value = neg(mul(input, log(safe)))
    value = where(input == 0, 0.0, value)
    return where(input < 0, -math.inf, value)


__all__ = ["digamma", "entr", "erf", "erfc", "erfinv", "exp2", "expit", "expm1", "gammaln", "i0", "log1p",
           "log_ndtr", "log_softmax", "logit", "logsumexp", "ndtr", "psi", "round", "sinc", "softmax", "xlogy"]
