"""RMSNorm (at torch.nn.modules.normalization)."""

from ..ops.rms_norm import rms_norm
from .module import Module
from .normalization import register_affine, reset_affine


class RMSNorm(Module):
    """y = x / √(mean(x²) + ε) · weight over the last dims ``normalized_shape``; weight starts at 1."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None, dtype=None):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.eps, self.elementwise_affine = shape, eps, elementwise_affine
        register_affine(self, shape, elementwise_affine, None, dtype)  # a scale, no shift

    def reset_parameters(self):
        reset_affine(self)

    def forward(self, x):
        return rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
