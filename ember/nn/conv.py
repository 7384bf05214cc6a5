"""Convolution layers (the maths — im2col and one GEMM — is in ember.ops.conv)."""

from .. import backend
from ..backend import xp
from ..ops.conv import conv2d
from ..ops.window import pair
from . import init
from .module import Module
from .parameter import Parameter


class Conv2d(Module):
    """2-D convolution: ``out_channels`` filters of shape (in_channels/groups, kH, kW) slide over the input.

    Local connectivity and weight sharing: each output pixel sees one kernel-sized patch, and every
    position uses the same filter, so the layer has only out·(in/groups)·kH·kW + out parameters.
    ``padding`` is an int, a pair, 'valid' (none) or 'same' (output size = input size, stride 1).
    Initialised as PyTorch does: W and b uniform on ±1/√fan_in, fan_in = in/groups·kH·kW.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", dtype=None):
        super().__init__()
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"Conv2d: in_channels ({in_channels}) and out_channels ({out_channels}) must both be divisible "
                f"by groups ({groups})"
            )
        if padding_mode != "zeros":
            raise ValueError(f"Conv2d: only padding_mode='zeros' is implemented, got '{padding_mode}'")
        if isinstance(padding, str) and padding not in ("same", "valid"):
            raise ValueError(f"Conv2d: padding must be an int, a pair, 'same' or 'valid', got '{padding}'")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.stride, self.dilation = pair(stride, "stride"), pair(dilation, "dilation")
        if padding == "same" and self.stride != (1, 1):
            raise ValueError("Conv2d: padding='same' is not supported for strided convolutions")
        self.padding = padding if isinstance(padding, str) else pair(padding, "padding")
        self.groups, self.padding_mode = groups, padding_mode
        dtype = backend.default_dtype if dtype is None else dtype
        self.weight = Parameter(xp.empty((out_channels, in_channels // groups, *self.kernel_size), dtype=dtype))
        if bias:
            self.bias = Parameter(xp.empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, x):
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups, layer=self)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s
