"""Pooling layers (the maths is in ember.ops.pool). They have no parameters."""

from ..ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from ..ops.pool import (adaptive_avg_pool1d, adaptive_max_pool1d, adaptive_max_pool2d, avg_pool1d,
                         max_pool1d)
from .module import Module


class _MaxPoolNd(Module):
    """The arguments and repr every max-pooling layer shares (stride defaults to kernel_size)."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool2d(_MaxPoolNd):
    """Max over kernel_size windows (stride defaults to kernel_size: non-overlapping windows)."""

    def forward(self, x):
        return max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                          self.return_indices, layer=self)


class AvgPool2d(Module):
    """Mean over kernel_size windows (``count_include_pad``: whether padded zeros count in the mean)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, x):
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                          self.divisor_override, layer=self)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AdaptiveAvgPoolNd(Module):
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """Average-pool to a fixed ``output_size`` whatever the input size; 1 gives global average pooling."""

    def forward(self, x):
        return adaptive_avg_pool2d(x, self.output_size, layer=self)


class MaxPool1d(_MaxPoolNd):
    """Max over kernel_size windows of (N, C, L) sequences (the 2-D pooling of height-1 images)."""

    def forward(self, x):
        return max_pool1d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                          self.return_indices, layer=self)


def _single(value):
    return (value,) if isinstance(value, int) else tuple(value)


class AvgPool1d(Module):
    """Mean over kernel_size windows of (N, C, L) sequences."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__()
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, x):
        return avg_pool1d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                          layer=self)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AdaptiveMaxPoolNd(Module):
    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Max-pool to a fixed ``output_size`` whatever the input size (``return_indices`` for max_unpool2d)."""

    def forward(self, x):
        return adaptive_max_pool2d(x, self.output_size, self.return_indices, layer=self)


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Max-pool (N, C, L) sequences to a fixed length ``output_size``."""

    def forward(self, x):
        return adaptive_max_pool1d(x, self.output_size, self.return_indices, layer=self)


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """Average-pool (N, C, L) sequences to a fixed length ``output_size``."""

    def forward(self, x):
        return adaptive_avg_pool1d(x, self.output_size, layer=self)
