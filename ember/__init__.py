"""Ember: a deep-learning framework written from scratch on NumPy, with PyTorch's API and PyTorch's numbers.

    import ember
    import ember.nn as nn

    x = ember.randn(8, 3, requires_grad=True)
    loss = (x * x).sum()
    loss.backward()            # x.grad == 2 * x
"""

# autograd first: its Function needs Tensor, and Tensor's methods need the ops built on Function.
from . import autograd
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .backend import bool_, float16, float32, float64, get_rng_state, int32, int64, manual_seed, set_rng_state, uint8
from .tensor import Tensor
from .backend import get_default_dtype, get_num_threads, set_default_dtype, set_num_threads
from .backend import are_deterministic_algorithms_enabled, is_deterministic_algorithms_warn_only_enabled
from .backend import use_deterministic_algorithms
from .devices import device
from .layouts import channels_last, contiguous_format, layout, memory_format, preserve_format, strided
from .random import Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from . import accelerator, backends, cuda, random  # as in torch, reachable right after `import ember`
from . import mps, xpu  # noqa: E402  (torch.xpu/torch.mps: programs probe them before picking the CPU)
from .factories import (
    arange,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from .factories import as_tensor, empty, empty_like, normal, rand_like, randint_like, randn_like
from .ops import (
    abs,
    amax,
    amin,
    argmax,
    argmin,
    cat,
    clamp,
    exp,
    flatten,
    log,
    log_softmax,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    permute,
    pow,
    relu,
    reshape,
    sigmoid,
    softmax,
    sqrt,
    squeeze,
    stack,
    std,
    sum,
    tanh,
    transpose,
    unsqueeze,
    var,
    where,
)

from .autograd import inference_mode, is_inference_mode_enabled
from .size import Size
from .tensor_types import (
    BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor, HalfTensor, IntTensor, LongTensor, ShortTensor,
    is_floating_point, is_tensor, numel,
)
from .ops import add, div, floor_divide, mul, multiply, neg, remainder, sub, subtract, true_divide
from .ops import (
    acos, arccos, arcsin, arctan, arctan2, asin, atan, atan2, ceil, cos, cosh, erf, erfc, exp2, expm1, fix, floor, frac, log1p,
    log2, log10, reciprocal, round, rsqrt, sgn, sign, sin, sinh, square, tan, trunc,
)
from .ops import (
    all, allclose, any, count_nonzero, eq, equal, ge, greater, greater_equal, gt, isclose, isfinite, isinf, isnan,
    isneginf, isposinf, le, less, less_equal, logical_and, logical_not, logical_or, logical_xor, lt, ne, nonzero,
    not_equal,
)
from .ops import concat, concatenate
from .ops import argsort, cumprod, cumsum, gather, index_select, logsumexp, masked_fill, norm, prod, scatter, sort, topk
from .ops import addmm, bmm, dot, ger, inner, mm, mv, outer
from .ops import (
    chunk, diag, diagonal, flip, fliplr, flipud, meshgrid, narrow, repeat_interleave, roll, split, tile, tril, triu,
    unbind,
)

# PyTorch's other names for the same dtypes.
half, float, double, long, int, bool = float16, float32, float64, int64, int32, bool_

__version__ = "0.1.0"

# The tools read models (they import nn and the ops), so they are imported last.
from .tools import receptive_field, summary  # noqa: E402

from .serialization import load, save  # noqa: E402


def __getattr__(name):
    # ``import ember`` then ``ember.optim.SGD`` works as in torch; the subpackages load on first use.
    if name in ("data", "models", "nn", "onnx", "optim", "serialization", "tools", "train", "utils", "vision"):
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
