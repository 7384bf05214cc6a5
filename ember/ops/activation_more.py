"""The shrinkage activations (Hardshrink, Softshrink), the randomized leaky ReLU (RReLU), the gated linear
unit (GLU) and the Gumbel-softmax, with torch's signatures and gradients (at a kink, |x| = λ, the gradient
is 0, as torch's)."""

from .. import backend
from ..autograd.function import Function
from ..backend import xp
from ..tensor import Tensor
from .activation import sigmoid, softmax
from .validate import dim as check_dim


class Hardshrink(Function):
    """y = x where |x| > λ, else 0;  dy/dx = [|x| > λ]."""

    @staticmethod
    def forward(ctx, x, lambd):
        keep = xp.abs(x) > lambd
        ctx.save(keep)
        return xp.where(keep, x, 0).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (keep,) = ctx.saved
        return xp.where(keep, grad, 0).astype(grad.dtype, copy=False)


class Softshrink(Function):
    """y = x - λ·sign(x) where |x| > λ, else 0 (the proximal step of the L1 norm);  dy/dx = [|x| > λ]."""

    @staticmethod
    def forward(ctx, x, lambd):
        keep = xp.abs(x) > lambd
        ctx.save(keep)
        return xp.where(keep, x - lambd * xp.sign(x), 0).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (keep,) = ctx.saved
        return xp.where(keep, grad, 0).astype(grad.dtype, copy=False)


class RReLU(Function):
    """y = x for x >= 0, a·x below, with a ~ U(lower, upper) drawn per element in training (Xu et al., 2015)
    and a = (lower + upper) / 2 in evaluation;  dy/dx = 1 or a (the slope used)."""

    @staticmethod
    def forward(ctx, x, lower, upper, training):
        if training:
            a = backend.generator().uniform(lower, upper, size=x.shape).astype(x.dtype)
            slope = xp.where(x <= 0, a, 1).astype(x.dtype)
        else:
            slope = xp.where(x > 0, 1, (lower + upper) / 2).astype(x.dtype)
        ctx.save(slope)
        return x * slope

    @staticmethod
    def backward(ctx, grad):
        (slope,) = ctx.saved
        return grad * slope


def hardshrink(input, lambd=0.5):
    return Hardshrink.apply(input, float(lambd))


def softshrink(input, lambd=0.5):
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return Softshrink.apply(input, float(lambd))


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    return RReLU.apply(input, float(lower), float(upper), bool(training))


def glu(input, dim=-1):
    """a ⊙ σ(b), where a and b are the two halves of ``input`` along ``dim`` (Dauphin et al., 2017)."""
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    n = input.shape[check_dim(dim, input.ndim, "glu")]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim % input.ndim} is size {n}")
    a, b = input.chunk(2, dim)
    return a * sigmoid(b)


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """softmax((logits + g) / τ) with g ~ Gumbel(0, 1) (Jang et al., 2017): a differentiable sample from
    the categorical distribution softmax(logits). ``hard=True`` returns the one-hot argmax in the forward
    pass while the gradient is the soft sample's (the straight-through estimator)."""
    gumbels = -xp.log(backend.generator().exponential(size=logits.shape)).astype(logits.dtype)
    y_soft = softmax((logits + Tensor(gumbels)) / tau, dim)
    if not hard:
        return y_soft
    index = xp.argmax(y_soft.array, axis=dim)
    y_hard = xp.zeros_like(y_soft.array)
    xp.put_along_axis(y_hard, xp.expand_dims(index, dim), 1.0, axis=dim)
    return Tensor(y_hard) - y_soft.detach() + y_soft
