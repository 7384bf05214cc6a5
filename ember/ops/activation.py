"""Activations: the non-linearities between layers, and softmax.

Each is written so that it never overflows: sigmoid and ELU only ever exponentiate non-positive numbers,
softmax subtracts the row maximum before exponentiating. Piecewise gradients multiply by a 0/1 mask
instead of calling ``where``, which is an order of magnitude slower in NumPy.
"""

from ..autograd.function import Function
from ..backend import xp
from ..parallel import elementwise
from .elementwise import float_input
from .reduce import normalize_dims
from .validate import dim as check_dim, takes_tensor


def stable_sigmoid(x):
    """σ(x) = 1 / (1 + e⁻ˣ), computed as e^{min(x, 0)} / (1 + e^{-|x|}): equal for either sign of x, and no
    exponent is ever positive, so nothing overflows."""
    return xp.exp(xp.minimum(x, 0)) / (1 + xp.exp(-xp.abs(x)))


class ReLU(Function):
    """y = max(0, x);  dy/dx = 1 where y > 0, else 0 (the max gate against a constant 0)."""

    @staticmethod
    def forward(ctx, x):
        y = xp.empty_like(x) if x.flags.c_contiguous else None
        if y is None or not elementwise(lambda out, part: xp.maximum(part, 0, out=out), y, x):
            y = xp.maximum(x, 0)
        ctx.save(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        dx = xp.empty(y.shape, dtype=xp.result_type(grad, y))
        # In cache-sized chunks on every core: each chunk's mask is made and used while still in cache.
        if elementwise(lambda out, g, part: xp.multiply(g, part > 0, out=out), dx, grad, y):
            return dx
        return grad * (y > 0)


class LeakyReLU(Function):
    """y = x for x > 0, else slope·x: a small gradient keeps 'dead' units alive."""

    @staticmethod
    def forward(ctx, x, negative_slope=0.01):
        slope = (x > 0).astype(x.dtype)  # 1 where x > 0, else the negative slope
        slope *= 1 - negative_slope
        slope += negative_slope
        ctx.save(slope)
        return x * slope

    @staticmethod
    def backward(ctx, grad):
        (slope,) = ctx.saved
        return grad * slope


class ELU(Function):
    """y = x for x > 0, else α(eˣ - 1);  dy/dx = 1, else y + α."""

    @staticmethod
    def forward(ctx, x, alpha=1.0):
        negative = xp.minimum(x, 0)
        y = xp.maximum(x, 0) + alpha * xp.expm1(negative)  # one of the two terms is always 0
        ctx.save(x, y)
        ctx.alpha = alpha
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved
        positive = x > 0
        return grad * (positive + ~positive * (y + ctx.alpha))


class Sigmoid(Function):
    """σ(x) = 1 / (1 + e⁻ˣ);  dσ/dx = σ(1 - σ). Saves the output, not the input."""

    @staticmethod
    def forward(ctx, x):
        y = stable_sigmoid(x)
        ctx.save(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return grad * y * (1 - y)


class Tanh(Function):
    """y = tanh x;  dy/dx = 1 - y²."""

    @staticmethod
    def forward(ctx, x):
        y = xp.tanh(x)
        ctx.save(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return grad * (1 - y * y)


class Softmax(Function):
    """yᵢ = e^{xᵢ - m} / Σⱼ e^{xⱼ - m} with m = max x (the shift changes nothing but prevents overflow);
    dx = y ⊙ (g - Σ g⊙y)."""

    @staticmethod
    def forward(ctx, x, axis):
        e = xp.exp(x - x.max(axis=axis, keepdims=True))
        y = e / e.sum(axis=axis, keepdims=True)
        ctx.save(y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return y * (grad - (grad * y).sum(axis=ctx.axis, keepdims=True))


class LogSoftmax(Function):
    """yᵢ = xᵢ - m - log Σⱼ e^{xⱼ - m} (the log-sum-exp trick);  dx = g - softmax(x) · Σ g."""

    @staticmethod
    def forward(ctx, x, axis):
        y = log_softmax_array(x, axis)
        ctx.save(y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return grad - xp.exp(y) * grad.sum(axis=ctx.axis, keepdims=True)


def log_softmax_array(x, axis):
    """log softmax of an array along ``axis``, shifted by the maximum so that nothing overflows."""
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


# ----------------------------------------------------------------------------------------------------
# The functional API.


@takes_tensor
def relu(x):
    return ReLU.apply(x)


@takes_tensor
def leaky_relu(x, negative_slope=0.01):
    return LeakyReLU.apply(x, negative_slope=negative_slope)


@takes_tensor
def elu(x, alpha=1.0):
    return ELU.apply(x, alpha=alpha)


@takes_tensor
def sigmoid(x):
    return Sigmoid.apply(float_input(x))


@takes_tensor
def tanh(x):
    return Tanh.apply(float_input(x))


def implicit_softmax_dim(ndim):
    """PyTorch's legacy choice when no dim is given: 0 for 0-, 1- and 3-d inputs, else 1."""
    return 0 if ndim in (0, 1, 3) else 1


@takes_tensor
def softmax(x, dim=None):
    dim = implicit_softmax_dim(x.ndim) if dim is None else dim
    return Softmax.apply(x, check_dim(dim, x.ndim, "softmax"))


@takes_tensor
def log_softmax(x, dim=None):
    dim = implicit_softmax_dim(x.ndim) if dim is None else dim
    return LogSoftmax.apply(x, check_dim(dim, x.ndim, "log_softmax"))
