"""More lazy layers on ember/nn/lazy.py's mechanism: LazyConv1d, LazyConvTranspose1d/2d and
LazyInstanceNorm1d/2d/3d read their channel count from the first input, then become the ordinary layer."""

from .batchnorm import BatchNorm3d
from .conv import Conv1d, ConvTranspose1d, ConvTranspose2d
from .conv3d import Conv3d
from .instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from .lazy import UninitializedParameter, _LazyConvMixin, _LazyNormMixin


class LazyConv1d(_LazyConvMixin, Conv1d):
    """``Conv1d`` whose ``in_channels`` is the channel count of the first input."""

    cls_to_become = Conv1d

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        _LazyConvMixin.__init__(self, Conv1d, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                                padding_mode, dtype)


class _LazyConvTransposeMixin(_LazyConvMixin):
    def __init__(self, conv_class, out_channels, kernel_size, stride, padding, output_padding, groups, bias, dilation,
                 padding_mode, dtype):
        conv_class.__init__(self, groups, out_channels, kernel_size, stride, padding, output_padding, groups, False,
                            dilation, padding_mode, dtype=dtype)
        self.in_channels = 0
        self.weight = UninitializedParameter(dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)


class LazyConvTranspose1d(_LazyConvTransposeMixin, ConvTranspose1d):
    """``ConvTranspose1d`` whose ``in_channels`` is the channel count of the first input."""

    cls_to_become = ConvTranspose1d

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1, bias=True,
                 dilation=1, padding_mode="zeros", device=None, dtype=None):
        _LazyConvTransposeMixin.__init__(self, ConvTranspose1d, out_channels, kernel_size, stride, padding,
                                         output_padding, groups, bias, dilation, padding_mode, dtype)


class LazyConvTranspose2d(_LazyConvTransposeMixin, ConvTranspose2d):
    """``ConvTranspose2d`` whose ``in_channels`` is the channel count of the first input."""

    cls_to_become = ConvTranspose2d

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1, bias=True,
                 dilation=1, padding_mode="zeros", device=None, dtype=None):
        _LazyConvTransposeMixin.__init__(self, ConvTranspose2d, out_channels, kernel_size, stride, padding,
                                         output_padding, groups, bias, dilation, padding_mode, dtype)


class _LazyInstanceNormMixin(_LazyNormMixin):
    def has_uninitialized_params(self):
        # Without affine parameters or running statistics there is nothing to materialise, but num_features
        # is still read from the first input (as torch does).
        return self.num_features == 0 or super().has_uninitialized_params()

    def initialize_parameters(self, x, *args, **kwargs):
        if x.ndim not in (self.no_batch_dim, self.no_batch_dim + 1):
            raise ValueError(f"expected {self.no_batch_dim}D or {self.no_batch_dim + 1}D input (got {x.ndim}D input)")
        self._materialize(x.shape[0 if x.ndim == self.no_batch_dim else 1])


class LazyInstanceNorm1d(_LazyInstanceNormMixin, InstanceNorm1d):
    """``InstanceNorm1d`` whose ``num_features`` is read from the first input."""

    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyInstanceNormMixin, InstanceNorm2d):
    """``InstanceNorm2d`` whose ``num_features`` is read from the first input."""

    cls_to_become = InstanceNorm2d


class LazyInstanceNorm3d(_LazyInstanceNormMixin, InstanceNorm3d):
    """``InstanceNorm3d`` whose ``num_features`` is read from the first input."""

    cls_to_become = InstanceNorm3d


class LazyBatchNorm3d(_LazyNormMixin, BatchNorm3d):
    """``BatchNorm3d`` whose ``num_features`` is read from the first input."""

    cls_to_become = BatchNorm3d


class LazyConv3d(_LazyConvMixin, Conv3d):
    """``Conv3d`` whose ``in_channels`` is the channel count of the first input."""

    cls_to_become = Conv3d

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        _LazyConvMixin.__init__(self, Conv3d, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                                padding_mode, dtype)
