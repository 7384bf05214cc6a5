"""Activation layers: thin wrappers around ember.ops.activation (the non-linearity between layers)."""

from ..ops.activation import elu, leaky_relu, log_softmax, relu, sigmoid, softmax, tanh
from .module import Module


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
