"""Fully connected layers: y = x Wᵀ + b, and the identity."""

from .. import backend
from ..backend import xp
from ..ops import linear
from ..ops.validate import ShapeError, size, tensor_input
from . import init
from .module import Module
from .parameter import Parameter


class Identity(Module):
    """Returns its input unchanged (a placeholder that keeps a model's structure, e.g. a removed head)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Linear(Module):
    """y = x Wᵀ + b over the last axis: every input feature connects to every output feature.

    W has shape (out_features, in_features). Initialised as PyTorch does: W and b uniform on
    ±1/√in_features (kaiming_uniform_ with a = √5).
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        in_features = size(in_features, "in_features", "Linear")
        out_features = size(out_features, "out_features", "Linear")
        self.in_features, self.out_features = in_features, out_features
        dtype = backend.default_dtype if dtype is None else dtype
        self.weight = Parameter(xp.empty((out_features, in_features), dtype=dtype))
        if bias:
            self.bias = Parameter(xp.empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        if device is not None:  # torch's factory keyword: build here, then place (raises for a missing GPU)
            self.to(device)

    def reset_parameters(self):
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, x):
        shape = tensor_input(x, self).array.shape
        if not shape or shape[-1] != self.in_features:
            raise ShapeError(
                f"{self}: expected input with {self.in_features} features in its last dimension, got "
                f"{x.shape[-1] if x.ndim else 'a scalar'} (input shape {tuple(x.shape)}); check in_features "
                "or the flattened size of the previous layer"
            )
        return linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
