"""Activation layers: thin wrappers around ember.ops.activation and ember.ops.activation_extra (the
non-linearity between layers; PReLU also owns its learnt slopes)."""

from .. import backend
from ..ops import activation_extra as _extra
from ..ops.activation import elu, leaky_relu, log_softmax, relu, sigmoid, softmax, tanh
from ..ops.validate import size
from .module import Module
from .parameter import Parameter


class ReLU(Module):
    """max(0, x): cheap, and its gradient does not saturate for x > 0 — the default CNN activation."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return relu(x)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """x for x > 0, else negative_slope·x."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, x):
        return leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    """x for x > 0, else α(eˣ - 1): smooth, with negative outputs that push mean activations toward 0."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, x):
        return elu(x, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Sigmoid(Module):
    """1 / (1 + e⁻ˣ): squashes to (0, 1); saturates, so rarely used inside CNNs."""

    def forward(self, x):
        return sigmoid(x)


class Tanh(Module):
    """tanh x: squashes to (-1, 1), zero-centred."""

    def forward(self, x):
        return tanh(x)


class Softmax(Module):
    """e^{x_i} / Σ_j e^{x_j} along ``dim``: turns scores into probabilities."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log softmax along ``dim`` (pair it with NLLLoss, or use CrossEntropyLoss on the logits)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return log_softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


# ----------------------------------------------------------------------------------------------------
# The activations of ember.ops.activation_extra (smooth, "hard", learnable, scaled ELUs).


def _inplace_repr(inplace):
    return "inplace=True" if inplace else ""


class GELU(Module):
    """x · Φ(x), Φ the standard normal CDF (``approximate='tanh'``: the tanh formula of BERT and GPT-2)."""

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, x):
        return _extra.gelu(x, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x · σ(x) (swish): smooth, non-monotonic near 0, unbounded above."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return _extra.silu(x)

    def extra_repr(self):
        return _inplace_repr(self.inplace)


class Mish(Module):
    """x · tanh(softplus x)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return _extra.mish(x)

    def extra_repr(self):
        return _inplace_repr(self.inplace)


class Softplus(Module):
    """(1/β) log(1 + e^{βx}), a smooth ReLU; linear where βx > threshold."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        return _extra.softplus(x, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    """clamp(x, min_val, max_val)."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, x):
        return _extra.hardtanh(x, self.min_val, self.max_val)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}" + (", inplace=True" if self.inplace else "")


class ReLU6(Hardtanh):
    """min(max(0, x), 6) (MobileNet): a ReLU whose output stays small enough for low-precision arithmetic."""

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return _inplace_repr(self.inplace)


class Hardsigmoid(Module):
    """relu6(x + 3) / 6."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return _extra.hardsigmoid(x)


class Hardswish(Module):
    """x · relu6(x + 3) / 6 (MobileNetV3)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return _extra.hardswish(x)


class Softsign(Module):
    """x / (1 + |x|)."""

    def forward(self, x):
        return _extra.softsign(x)


class Tanhshrink(Module):
    """x - tanh x."""

    def forward(self, x):
        return _extra.tanhshrink(x)


class LogSigmoid(Module):
    """log σ(x), computed without overflow."""

    def forward(self, x):
        return _extra.logsigmoid(x)


class Softmin(Module):
    """softmax(-x) along ``dim``."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return _extra.softmin(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Threshold(Module):
    """x where x > threshold, else value."""

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, x):
        return _extra.threshold(x, self.threshold, self.value)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}" + (", inplace=True" if self.inplace else "")


class CELU(Module):
    """max(0, x) + min(0, α(e^{x/α} - 1))."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, x):
        return _extra.celu(x, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class SELU(Module):
    """λ (max(0, x) + min(0, α(eˣ - 1))) with λ ≈ 1.0507, α ≈ 1.6733 (self-normalising networks)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return _extra.selu(x)

    def extra_repr(self):
        return _inplace_repr(self.inplace)


class PReLU(Module):
    """x for x > 0, else a · x with a learnt slope ``weight`` (one shared, or one per channel = dim 1),
    initialised to ``init`` (0.25)."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters, self.init = size(num_parameters, "num_parameters", "PReLU"), init
        dtype = backend.default_dtype if dtype is None else dtype
        self.weight = Parameter(backend.xp.empty(num_parameters, dtype=dtype))
        self.reset_parameters()
        if device is not None:  # torch's factory keyword: build here, then place (raises for a missing GPU)
            self.to(device)

    def reset_parameters(self):
        self.weight.array[...] = self.init

    def forward(self, x):
        return _extra.prelu(x, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"
