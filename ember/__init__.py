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
from .devices import get_default_device, set_default_device
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
from .autograd import is_anomaly_check_nan_enabled, is_anomaly_enabled
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


# torch's out= keyword on the torch.* functions that take it: torch.add(x, y, out=result).
from .out_param import with_out as _with_out  # noqa: E402

for _name in (
    "abs add addmm atan2 bmm cat ceil clamp cos cosh cumprod cumsum div dot exp exp2 expm1 floor floor_divide "
    "fmod gather index_select log log10 log1p log2 logsumexp matmul maximum minimum mm mul multiply mv neg outer "
    "pow prod reciprocal remainder round rsqrt sigmoid sign sin sinh sqrt square stack sub subtract sum tan tanh "
    "true_divide trunc where concat concatenate eq ne lt le gt ge logical_and logical_or logical_not logical_xor"
).split():
    if _name in globals():
        globals()[_name] = _with_out(globals()[_name])
del _name


def __getattr__(name):
    # ``import ember`` then ``ember.optim.SGD`` works as in torch; the subpackages load on first use.
    if name in ("data", "models", "nn", "onnx", "optim", "serialization", "special", "tools", "train", "utils", "vision"):
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

# More of torch's functions (api-tensor): index writes, statistics, extra maths, contractions, assembly, sampling.
from .ops.index_more import (
    argwhere, index_add, index_copy, index_fill, index_put, masked_scatter, masked_select, scatter_add, scatter_reduce,
    select, take, take_along_dim,
)
from .ops.statistics import (
    aminmax, bincount, cummax, cummin, diff, histc, histogram, kthvalue, logcumsumexp, median, mode, nanmean,
    nanmedian, nanquantile, nansum, quantile, std_mean, unique, unique_consecutive, var_mean,
)
from .ops.pointwise_more import (
    acosh, addcdiv, addcmul, asinh, atanh, clamp_min, clamp_max, copysign, deg2rad, digamma, erfinv, float_power,
    fmax, fmin, fmod, heaviside, hypot, i0, kron, lerp, lgamma, logaddexp, logaddexp2, logit, nan_to_num, positive,
    rad2deg, signbit, sinc, xlogy,
)
from .ops.pointwise_more import acosh as arccosh, asinh as arcsinh, atanh as arctanh
from .ops.contract import cdist, cross, einsum, tensordot, trace
from .ops.assemble import (
    atleast_1d, atleast_2d, atleast_3d, block_diag, broadcast_shapes, broadcast_tensors, broadcast_to, bucketize,
    cartesian_prod, column_stack, combinations, cumulative_trapezoid, diag_embed, dsplit, hsplit, hstack, ravel,
    rot90, searchsorted, tensor_split, trapezoid, trapz, tril_indices, triu_indices, unflatten, vander, vsplit, vstack,
)
from .ops.assemble import dstack, vstack as row_stack
from .ops.sampling import bernoulli, multinomial, poisson
from .type_info import can_cast, finfo, iinfo, promote_types, result_type
from .printing import set_printoptions
from . import linalg
from .tensor_methods_more import det, inverse, logdet, matrix_exp, matrix_power, pinverse, renorm, slogdet
from .ops.elementwise import clamp as clip
from .ops import neg as negative, abs as absolute


from .ops.pointwise_more import (
    bitwise_and, bitwise_left_shift, bitwise_not, bitwise_or, bitwise_right_shift, bitwise_xor, frexp, gcd, lcm, ldexp,
    nextafter, rsub,
)
from .ops.statistics import corrcoef, cov
from .ops.linalg import addbmm, addmv, addr, baddbmm
from .ops.index_more import diagonal_scatter, index_reduce, select_scatter, slice_scatter
from .factories_more import as_strided, asarray, empty_strided, frombuffer


def _inplace_function(name):
    def function(input, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``input.{name}(...)``: the in-place ``{name[:-1]}``."
    return function


for _name in ("abs_", "relu_", "sigmoid_", "tanh_", "exp_", "ceil_", "floor_", "square_", "sqrt_", "neg_", "log_",
              "sin_", "cos_", "round_", "trunc_", "clamp_", "clip_", "fill_", "zero_", "rsqrt_", "erf_", "frac_",
              "reciprocal_", "sgn_", "detach_", "index_put_"):
    globals()[_name] = _inplace_function(_name)
del _name


def swapaxes(input, axis0, axis1):
    return input.swapaxes(axis0, axis1)


swapdims = swapaxes


def movedim(input, source, destination):
    return input.movedim(source, destination)


moveaxis = movedim


def msort(input):
    return input.msort()


def dist(input, other, p=2):
    return input.dist(other, p)


def narrow_copy(input, dim, start, length):
    return input.narrow(dim, start, length).clone()


def is_complex(input):
    return input.is_complex()


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False, **kwargs):
    """A 0-d tensor holding ``s`` (float32 by default, as in torch)."""
    from . import backend as _backend

    return Tensor(_backend.xp.asarray(s, dtype=dtype or _backend.default_dtype), requires_grad=requires_grad)


def is_nonzero(input):
    """The truth of a one-element tensor (``torch.is_nonzero``)."""
    if input.numel() != 1:
        raise RuntimeError(f"Boolean value of Tensor with {'no values' if input.numel() == 0 else 'more than one value'} "
                           "is ambiguous")
    import builtins  # this module rebinds bool to the dtype, as torch does

    return builtins.bool(input.item())


def clone(input, *, memory_format=None):
    return input.clone()


def chain_matmul(*matrices):
    return linalg.multi_dot(matrices)

# torch.profiler at torch's path; EMBER_PROFILE=1 profiles the whole program and prints the tables at exit.
from . import profiler  # noqa: E402
from .profiler.environment import start_from_environment as _start_profiling  # noqa: E402

_start_profiling()

# Post-training int8 quantisation: ember.quantization, and its dtypes at torch's place (ember.qint8).
from . import quantization  # noqa: E402
from .quantization import qint8, qint32, quint8, quantize_per_channel, quantize_per_tensor  # noqa: E402
