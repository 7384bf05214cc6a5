"""Every differentiable operation, one family per file; this module gathers their functional forms.

``ember.ops.add(a, b)``, ``ember.ops.conv2d(x, w)``, ... take and return Tensors; each calls the
``Function.apply`` of one op class, whose forward and backward sit side by side in the family's file.
"""

from .activation import elu, leaky_relu, log_softmax, relu, sigmoid, softmax, tanh
from .elementwise import abs, add, cast, clamp, div, exp, floor_divide, log, maximum, minimum, mul, neg, pow, remainder, sqrt, sub, where
from .linalg import linear, matmul
from .reduce import amax, amin, argmax, argmin, max, mean, min, std, sum, var
from .shape import cat, expand, flatten, getitem, index_arrays, permute, reshape, squeeze, stack, transpose, unsqueeze
from .special import erf, erfc
