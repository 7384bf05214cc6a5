"""More activations, beyond the ReLU family of ember.ops.activation: the smooth ones of modern networks
(GELU, SiLU, Mish, Softplus), the piecewise-linear "hard" ones of mobile networks (Hardtanh, ReLU6,
Hardsigmoid, Hardswish), the learnable PReLU, the scaled ELUs (CELU, SELU) and a few classics.

As in activation.py nothing overflows at |x| = 1000: exponentials only ever see non-positive numbers
(log(1 + eˣ) is written max(x, 0) + log1p(e^{-|x|})). Gradients at the kinks are PyTorch's: each
backward below states which side of a breakpoint owns the breakpoint.
"""

import math

from ..autograd.function import Function
from ..backend import xp
from .activation import softmax, stable_sigmoid
from .special import erfc_array
from .validate import same_dtype, takes_tensor

_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_ONE_OVER_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_GELU_CUBIC = 0.044715
_ONE_SIXTH_FLOAT32 = float(xp.float32(1) / xp.float32(6))
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def softplus_array(x):
    """log(1 + eˣ) = max(x, 0) + log(1 + e^{-|x|}): no overflow for large x, no underflow to 0 for small."""
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


class GELU(Function):
    """Gaussian error linear unit (Hendrycks & Gimpel 2016): y = x · Φ(x), Φ the standard normal CDF.

    exact:  Φ(x) = ½ erfc(-x/√2);  dy/dx = Φ(x) + x · φ(x),  φ(x) = e^{-x²/2} / √(2π)
    'tanh': Φ(x) ≈ ½ (1 + tanh u),  u = √(2/π) (x + 0.044715 x³);
            dy/dx = ½ (1 + t) + ½ x (1 - t²) · √(2/π) (1 + 3 · 0.044715 x²),  t = tanh u
    Φ is taken from erfc, not 1 + erf, so it keeps its relative accuracy far into the negative tail.
    """

    @staticmethod
    def forward(ctx, x, approximate="none"):
        ctx.approximate = approximate
        if approximate == "tanh":
            t = xp.tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * x * x * x))
            ctx.save(x, t)
            return 0.5 * x * (1 + t)
        cdf = 0.5 * erfc_array(-x * math.sqrt(0.5))
        ctx.save(x, cdf)
        return x * cdf

    @staticmethod
    def backward(ctx, grad):
        x, s = ctx.saved
        if ctx.approximate == "tanh":
            du = _SQRT_2_OVER_PI * (1 + 3 * _GELU_CUBIC * x * x)
            return grad * (0.5 * (1 + s) + 0.5 * x * (1 - s * s) * du)
        return grad * (s + x * _ONE_OVER_SQRT_2PI * xp.exp(-0.5 * x * x))


class SiLU(Function):
    """Sigmoid-weighted linear unit (swish): y = x · σ(x);  dy/dx = σ(x) (1 + x (1 - σ(x)))."""

    @staticmethod
    def forward(ctx, x):
        s = stable_sigmoid(x)
        ctx.save(x, s)
        return x * s

    @staticmethod
    def backward(ctx, grad):
        x, s = ctx.saved
        return grad * s * (1 + x * (1 - s))


class Mish(Function):
    """Mish (Misra 2019): y = x · tanh(softplus x);  dy/dx = t + x · σ(x) · (1 - t²),  t = tanh(softplus x)."""

    @staticmethod
    def forward(ctx, x):
        t = xp.tanh(softplus_array(x))
        ctx.save(x, t)
        return x * t

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.saved
        return grad * (t + x * stable_sigmoid(x) * (1 - t * t))


class Softplus(Function):
    """y = (1/β) log(1 + e^{βx}), and y = x where βx > threshold (there the two agree to float precision);
    dy/dx = σ(βx), and 1 above the threshold."""

    @staticmethod
    def forward(ctx, x, beta=1.0, threshold=20.0):
        bx = x * beta
        linear = bx > threshold
        ctx.save(bx, linear)
        return xp.where(linear, x, softplus_array(bx) / beta)

    @staticmethod
    def backward(ctx, grad):
        bx, linear = ctx.saved
        return xp.where(linear, grad, grad * stable_sigmoid(bx))


class LogSigmoid(Function):
    """y = log σ(x) = -softplus(-x) = min(x, 0) - log(1 + e^{-|x|});  dy/dx = 1 - σ(x) = σ(-x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad * stable_sigmoid(-x)


class Hardtanh(Function):
    """y = clamp(x, min_val, max_val);  dy/dx = 1 strictly inside (min_val, max_val), else 0 (PyTorch gives
    the breakpoints themselves 0). ReLU6 is Hardtanh(0, 6)."""

    @staticmethod
    def forward(ctx, x, min_val=-1.0, max_val=1.0):
        ctx.save((x > min_val) & (x < max_val))
        return xp.clip(x, min_val, max_val).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (inside,) = ctx.saved
        return grad * inside


class Hardsigmoid(Function):
    """y = relu6(x + 3) / 6, a piecewise-linear σ;  dy/dx = 1/6 strictly inside (-3, 3), else 0."""

    @staticmethod
    def forward(ctx, x):
        ctx.save((x > -3) & (x < 3))
        return (xp.clip(x + 3, 0, 6) / 6).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (inside,) = ctx.saved
        # PyTorch's CPU kernel multiplies by the float32 constant 1.0f/6.0f even for float64 (a relative
        # 3e-8 off 1/6); the same constant here gives PyTorch's numbers.
        return grad * (inside * _ONE_SIXTH_FLOAT32).astype(grad.dtype, copy=False)


class Hardswish(Function):
    """y = x · relu6(x + 3) / 6 (MobileNetV3);  dy/dx = 0 for x ≤ -3, x/3 + 1/2 inside (-3, 3), 1 for x ≥ 3
    (PyTorch's choice at the breakpoints)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return x * xp.clip(x + 3, 0, 6) / 6

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        slope = xp.where(x <= -3, 0, xp.where(x < 3, x / 3 + 0.5, 1)).astype(grad.dtype, copy=False)
        return grad * slope


class Softsign(Function):
    """y = x / (1 + |x|);  dy/dx = 1 / (1 + |x|)²."""

    @staticmethod
    def forward(ctx, x):
        d = 1 + xp.abs(x)
        ctx.save(d)
        return x / d

    @staticmethod
    def backward(ctx, grad):
        (d,) = ctx.saved
        return grad / (d * d)


class Tanhshrink(Function):
    """y = x - tanh x;  dy/dx = tanh² x."""

    @staticmethod
    def forward(ctx, x):
        t = xp.tanh(x)
        ctx.save(t)
        return x - t

    @staticmethod
    def backward(ctx, grad):
        (t,) = ctx.saved
        return grad * t * t


class Threshold(Function):
    """y = x where x > threshold, else value;  dy/dx = 1 where x > threshold, else 0."""

    @staticmethod
    def forward(ctx, x, threshold, value):
        above = x > threshold
        ctx.save(above)
        return xp.where(above, x, xp.asarray(value, dtype=x.dtype))

    @staticmethod
    def backward(ctx, grad):
        (above,) = ctx.saved
        return grad * above


class ScaledELU(Function):
    """The ELU family: y = scale · x for x > 0, else scale · α (e^{x/s} - 1) with s the input scale;
    dy/dx = scale, else scale · α/s · e^{x/s}.

    CELU(α) is (scale 1, s = α): continuously differentiable at 0 for every α. SELU is (scale λ, α, s = 1)
    with Klambauer et al.'s λ ≈ 1.0507, α ≈ 1.6733, which keep activations self-normalising.
    """

    @staticmethod
    def forward(ctx, x, alpha=1.0, scale=1.0, input_scale=1.0, backward_input_scale=None):
        e = xp.exp(xp.minimum(x, 0) * input_scale)  # the negative branch only: never overflows
        s = input_scale if backward_input_scale is None else backward_input_scale
        ctx.save(x, e if s == input_scale else xp.exp(xp.minimum(x, 0) * s))
        ctx.coefficients = (alpha, scale, s)
        return scale * xp.where(x > 0, x, alpha * (e - 1))

    @staticmethod
    def backward(ctx, grad):
        x, e = ctx.saved
        alpha, scale, input_scale = ctx.coefficients
        return grad * xp.where(x > 0, scale, scale * alpha * input_scale * e).astype(grad.dtype, copy=False)


class PReLU(Function):
    """Parametric ReLU (He et al. 2015): y = x for x > 0, else a_c · x, with a learnt slope per channel c
    (dim 1; one slope shared by all channels when ``weight`` has one element).

    dy/dx = 1 for x > 0, else a_c;  dL/da_c = Σ over everything but the channel of g · min(x, 0).
    """

    @staticmethod
    def forward(ctx, x, weight):
        shape = [1] * x.ndim
        if weight.size > 1:
            shape[1] = weight.size
        a = weight.reshape(shape)  # (1, C, 1, ...): broadcasts over the batch and the spatial axes
        positive = x > 0
        ctx.save(x, a, positive)
        ctx.weight_shape = weight.shape
        return xp.where(positive, x, a * x)

    @staticmethod
    def backward(ctx, grad):
        x, a, positive = ctx.saved
        dx = da = None
        if ctx.needs_input_grad[0]:
            dx = xp.where(positive, grad, a * grad)
        if ctx.needs_input_grad[1]:
            contribution = xp.where(positive, 0, grad * x)
            axes = tuple(i for i in range(x.ndim) if a.shape[i] == 1)
            da = contribution.sum(axis=axes).reshape(ctx.weight_shape)
        return dx, da


# ----------------------------------------------------------------------------------------------------
# The functional API (torch.nn.functional's signatures; ``inplace`` is accepted and computes out of place).


@takes_tensor
def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"gelu: approximate argument must be either none or tanh, got {approximate!r}")
    return GELU.apply(input, approximate=approximate)


@takes_tensor
def silu(input, inplace=False):
    return SiLU.apply(input)


@takes_tensor
def mish(input, inplace=False):
    return Mish.apply(input)


@takes_tensor
def softplus(input, beta=1.0, threshold=20.0):
    return Softplus.apply(input, beta=beta, threshold=threshold)


@takes_tensor
def logsigmoid(input):
    return LogSigmoid.apply(input)


@takes_tensor
def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    return Hardtanh.apply(input, min_val=min_val, max_val=max_val)


@takes_tensor
def relu6(input, inplace=False):
    return Hardtanh.apply(input, min_val=0.0, max_val=6.0)


@takes_tensor
def hardsigmoid(input, inplace=False):
    return Hardsigmoid.apply(input)


@takes_tensor
def hardswish(input, inplace=False):
    return Hardswish.apply(input)


@takes_tensor
def softsign(input):
    return Softsign.apply(input)


@takes_tensor
def tanhshrink(input):
    return Tanhshrink.apply(input)


@takes_tensor
def threshold(input, threshold, value, inplace=False):
    return Threshold.apply(input, threshold, value)


@takes_tensor
def celu(input, alpha=1.0, inplace=False):
    if alpha == 0:
        raise RuntimeError("celu: ZeroDivisionError, alpha cannot be 0 (it divides the input); use alpha != 0")
    # PyTorch's derivative of celu uses 1 / float32(α) as the input scale (its derivatives.yaml reads α with
    # toFloat()): the same here, so that gradients agree to float64 precision for any α.
    return ScaledELU.apply(input, alpha=alpha, scale=1.0, input_scale=1 / alpha,
                           backward_input_scale=1 / float(xp.float32(alpha)))


@takes_tensor
def selu(input, inplace=False):
    return ScaledELU.apply(input, alpha=SELU_ALPHA, scale=SELU_SCALE, input_scale=1.0)


@takes_tensor
def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x): probabilities that favour the smallest entries (``dtype`` casts the input first)."""
    if dtype is not None:
        input = input.to(dtype)
    return softmax(-input, dim)


@takes_tensor
def prelu(input, weight):
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.numel() != 1 and weight.numel() != channels:
        raise RuntimeError(
            f"prelu: Mismatch of parameter numbers and input channel size. Found parameter numbers = "
            f"{weight.numel()} and channel size = {channels}. Use PReLU(num_parameters={channels}) or 1 shared slope."
        )
    same_dtype(input, weight, "prelu")
    return PReLU.apply(input, weight)
