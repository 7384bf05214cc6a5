"""Per-sample normalization layers: LayerNorm (the Transformer's) and GroupNorm (the maths is in ember.ops.norm).

Neither keeps running statistics: each sample is normalised with its own mean and variance, so training and
evaluation compute the same thing and the batch size does not matter (even a batch of one works).
"""

from numbers import Integral

from .. import backend
from ..backend import xp
from ..ops.norm import group_norm, layer_norm
from ..ops.validate import ShapeError, size
from .module import Module
from .parameter import Parameter


def register_affine(module, shape, weight, bias, dtype):
    """The per-feature scale γ (``weight``, starting at 1) and shift β (``bias``, starting at 0) of a
    normalisation layer, each registered as None when switched off; ``bias=None``: the layer has no shift."""
    dtype = backend.default_dtype if dtype is None else dtype
    module.register_parameter("weight", Parameter(xp.ones(shape, dtype=dtype)) if weight else None)
    if bias is not None:
        module.register_parameter("bias", Parameter(xp.zeros(shape, dtype=dtype)) if bias else None)


def reset_affine(module):
    """γ back to 1 and β back to 0 (those that exist)."""
    if module.weight is not None:
        module.weight.array[...] = 1
    if getattr(module, "bias", None) is not None:
        module.bias.array[...] = 0


class LayerNorm(Module):
    """y = γ ⊙ (x - μ)/√(σ² + ε) + β, with μ and σ² over the last ``len(normalized_shape)`` dims of each sample.

    γ (``weight``, ones) and β (``bias``, zeros) have ``normalized_shape``: one per normalised feature.
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(size(s, "normalized_shape", "LayerNorm") for s in normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        register_affine(self, self.normalized_shape, elementwise_affine, elementwise_affine and bias, dtype)
        if device is not None:  # torch's factory keyword: build here, then place (raises for a missing GPU)
            self.to(device)

    def reset_parameters(self):
        reset_affine(self)

    def forward(self, input):
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class GroupNorm(Module):
    """Split the channels of an (N, C, *) input into ``num_groups`` groups and normalise each group of each sample;
    then a per-channel γ (``weight``) and β (``bias``). One group is layer norm over (C, *); C groups is
    instance norm."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        size(num_channels, "num_channels", "GroupNorm")
        if size(num_groups, "num_groups", "GroupNorm") == 0:
            raise ValueError(f"GroupNorm: num_groups must be at least 1, got num_groups={num_groups}; pass a divisor "
                             f"of num_channels={num_channels}")
        if num_channels % num_groups != 0:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups ({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        register_affine(self, (num_channels,), affine, affine and bias, dtype)
        if device is not None:  # torch's factory keyword: build here, then place (raises for a missing GPU)
            self.to(device)

    def reset_parameters(self):
        reset_affine(self)

    def forward(self, input):
        if getattr(input, "ndim", 0) >= 2 and input.shape[1] != self.num_channels:
            raise ShapeError(f"{self}: expected an input with num_channels={self.num_channels} channels in dim 1, got "
                             f"{input.shape[1]} (input shape {tuple(input.shape)}); check num_channels or the previous "
                             "layer's output")
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, bias={self.bias is not None}"
