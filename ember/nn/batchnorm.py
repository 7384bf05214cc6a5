"""Batch normalization layers (the maths and its fused backward are in ember.ops.norm).

Training normalises with the batch's statistics and updates the running ones (momentum 0.1, unbiased
running variance, as PyTorch); evaluation normalises with the running statistics.
"""

from .. import backend
from ..backend import xp
from ..ops.norm import batch_norm
from ..ops.validate import ShapeError, same_dtype, size, tensor_input
from ..tensor import Tensor
from .module import Module
from .parameter import Parameter


class _BatchNorm(Module):
    expected_dims = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None,
                 *, bias=True):
        super().__init__()
        num_features = size(num_features, "num_features", type(self).__name__)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dtype = backend.default_dtype if dtype is None else dtype
        if affine:
            self.weight = Parameter(xp.ones(num_features, dtype=dtype))  # γ
        else:
            self.register_parameter("weight", None)
        if affine and bias:
            self.bias = Parameter(xp.zeros(num_features, dtype=dtype))  # β
        else:
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(xp.zeros(num_features, dtype=dtype)))
            self.register_buffer("running_var", Tensor(xp.ones(num_features, dtype=dtype)))
            self.register_buffer("num_batches_tracked", Tensor(xp.zeros((), dtype=xp.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        if device is not None:  # torch's factory keyword: build here, then place (raises for a missing GPU)
            self.to(device)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.array[...] = 0
            self.running_var.array[...] = 1
            self.num_batches_tracked.array[...] = 0

    def reset_parameters(self):
        self.reset_running_stats()
        if self.weight is not None:
            self.weight.array[...] = 1
        if self.bias is not None:
            self.bias.array[...] = 0

    def forward(self, x):
        tensor_input(x, self)
        if x.ndim not in self.expected_dims:
            raise ShapeError(
                f"{self}: expected a {' or '.join(f'{d}-D' for d in self.expected_dims)} input "
                f"({self.layout}), got shape {tuple(x.shape)}"
            )
        if x.shape[1] != self.num_features:  # checked here too: without weight and running stats nothing else would
            raise ShapeError(
                f"{self}: expected an input with {self.num_features} channels, got {x.shape[1]} channels "
                f"(input shape {tuple(x.shape)}); check num_features or the previous layer's output"
            )
        same_dtype(x, self.weight if self.weight is not None else self.running_mean, self)
        use_batch_stats = self.training or self.running_mean is None
        return batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, use_batch_stats,
                          self._count_batch(), self.eps, layer=self)

    def _count_batch(self):
        """Count this batch when training with running statistics, and return the momentum of this step's
        running-statistics update: ``momentum``, or 1/batches seen (a cumulative average) when it is None."""
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.array += 1
            if self.momentum is None:
                momentum = 1.0 / float(self.num_batches_tracked.array)
        return momentum

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) features or (N, C, L) sequences: one γ, β per feature C."""

    expected_dims = (2, 3)
    layout = "N, C) or (N, C, L"


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W) feature maps: statistics per channel over N, H and W."""

    expected_dims = (4,)
    layout = "N, C, H, W"


class BatchNorm3d(_BatchNorm):
    """Batch norm over (N, C, D, H, W) volumes: statistics per channel over N, D, H and W."""

    expected_dims = (5,)
    layout = "N, C, D, H, W"
