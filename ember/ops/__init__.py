"""Every differentiable operation, one family per file; this module gathers their functional forms.

``ember.ops.add(a, b)``, ``ember.ops.conv2d(x, w)``, ... take and return Tensors; each calls the
``Function.apply`` of one op class, whose forward and backward sit side by side in the family's file.
"""

from .activation import elu, leaky_relu, log_softmax, relu, sigmoid, softmax, tanh
from .elementwise import abs, add, cast, clamp, div, exp, floor_divide, log, maximum, minimum, mul, neg, pow, remainder, sqrt, sub, where
from .linalg import linear, matmul
from .reduce import amax, amin, argmax, argmin, max, mean, min, std, sum, var
from .shape import cat, expand, flatten, getitem, index_arrays, permute, reshape, squeeze, stack, transpose, unsqueeze
from .elementwise import multiply, subtract, true_divide
from .unary import (
    acos, arccos, arcsin, arctan, arctan2, asin, atan, atan2, ceil, cos, cosh, erf, erfc, exp2, expm1, fix, floor, frac, log1p,
    log2, log10, reciprocal, round, rsqrt, sgn, sign, sin, sinh, square, tan, trunc,
)
from .compare import (
    all, allclose, any, count_nonzero, eq, equal, ge, greater, greater_equal, gt, isclose, isfinite, isinf, isnan,
    isneginf, isposinf, le, less, less_equal, logical_and, logical_not, logical_or, logical_xor, lt, ne, nonzero,
    not_equal,
)
from .index import argsort, gather, index_select, masked_fill, scatter, sort, topk
from .cumulative import cumprod, cumsum, prod
from .reduce import logsumexp, norm
from .linalg import addmm, bmm, dot, ger, inner, mm, mv, outer
from .rearrange import (
    chunk, diag, diagonal, flip, fliplr, flipud, meshgrid, narrow, repeat_interleave, roll, split, tile, tril, triu,
    unbind,
)
from .shape import cat as concat, cat as concatenate
