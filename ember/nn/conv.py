"""Convolution layers (the maths — im2col and one GEMM — is in ember.ops.conv).

Conv1d is Conv2d over images of height 1; ConvTranspose2d is Conv2d's adjoint (its forward is Conv2d's
input gradient). They share one base class for their arguments, parameters, initialisation and repr.
"""

from .. import backend
from ..ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d
from ..ops.padding import pad
from ..ops.validate import non_negative, positive, size
from . import init
from .module import Module
from .parameter import Parameter

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _tuple(value, n, name):
    """2 -> (2,)·n; a sequence of n ints is kept."""
    if isinstance(value, int):
        return (value,) * n
    value = tuple(value)
    if len(value) != n or not all(isinstance(v, int) for v in value):
        raise ValueError(f"{name} must be an int or a tuple of {n} ints, got {name}={value}")
    return value


class _ConvNd(Module):
    """What every convolution layer shares: the checks on its arguments, ``weight`` and ``bias``, PyTorch's
    initialisation (W and b uniform on ±1/√fan_in, fan_in = weight.shape[1]·kernel taps) and the repr."""

    dims = 2
    transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                 padding_mode, output_padding=0, dtype=None, device=None):
        super().__init__()
        layer, n = type(self).__name__, self.dims
        in_channels, out_channels = size(in_channels, "in_channels", layer), size(out_channels, "out_channels", layer)
        if groups <= 0:
            raise ValueError(f"{layer}: groups must be a positive integer, got {groups}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{layer}: in_channels ({in_channels}) and out_channels ({out_channels}) must both be divisible "
                f"by groups ({groups})"
            )
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{layer}: padding_mode must be one of {set(_PADDING_MODES)}, but got "
                             f"padding_mode={padding_mode!r}")
        if self.transposed and padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {layer}, got {padding_mode!r}')
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = positive(_tuple(kernel_size, n, "kernel_size"), "kernel_size", layer)
        self.stride = positive(_tuple(stride, n, "stride"), "stride", layer)
        self.dilation = positive(_tuple(dilation, n, "dilation"), "dilation", layer)
        if isinstance(padding, str):
            if self.transposed:
                raise ValueError(f"{layer}: padding must be an int or a tuple of ints, got {padding!r}")
            if padding not in ("same", "valid"):
                raise ValueError(f"{layer}: Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{layer}: padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = non_negative(_tuple(padding, n, "padding"), "padding", layer)
        self.output_padding = non_negative(_tuple(output_padding, n, "output_padding"), "output_padding", layer)
        self.groups, self.padding_mode = groups, padding_mode
        dtype = backend.default_dtype if dtype is None else dtype
        if self.transposed:
            shape = (in_channels, out_channels // groups, *self.kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight = Parameter(backend.xp.empty(shape, dtype=dtype))
        if bias:
            self.bias = Parameter(backend.xp.empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        if device is not None:  # torch's factory keyword: build here, then place (raises for a missing GPU)
            self.to(device)

    def reset_parameters(self):
        init.default_layer_init_(self.weight, self.bias)

    def _reversed_padding_repeated_twice(self):
        """F.pad's amounts (last axis first, before and after) for a non-zeros ``padding_mode``."""
        return [amount for pair in reversed(self._padding_pairs()) for amount in pair]

    def _padding_pairs(self):
        if self.padding == "valid":
            return [(0, 0)] * self.dims
        if self.padding == "same":  # the extra pixel of an even total goes after, as in torch
            return [(d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in zip(self.kernel_size, self.dilation)]
        return [(p, p) for p in self.padding]

    def _padded_input(self, x):
        """(input, padding for the conv op): a non-zeros padding_mode pads first and convolves unpadded."""
        if self.padding_mode == "zeros":
            return x, self.padding
        return pad(x, self._reversed_padding_repeated_twice(), mode=self.padding_mode), 0

    def extra_repr(self):
        n = self.dims
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv2d(_ConvNd):
    """2-D convolution: ``out_channels`` filters of shape (in_channels/groups, kH, kW) slide over the input.

    Local connectivity and weight sharing: each output pixel sees one kernel-sized patch, and every
    position uses the same filter, so the layer has only out·(in/groups)·kH·kW + out parameters.
    ``padding`` is an int, a pair, 'valid' (none) or 'same' (output size = input size, stride 1);
    ``padding_mode`` 'zeros', 'reflect', 'replicate' or 'circular' says what the border holds.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, dtype=dtype, device=device)

    def forward(self, x):
        x, padding = self._padded_input(x)
        return conv2d(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups, layer=self)


class Conv1d(_ConvNd):
    """1-D convolution over (N, C, L) sequences (a Conv2d over images of height 1); weight (out, in/groups, k)."""

    dims = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, dtype=dtype, device=device)

    def forward(self, x):
        x, padding = self._padded_input(x)
        return conv1d(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups, layer=self)


class _ConvTransposeNd(_ConvNd):
    transposed = True

    def _output_padding(self, x, output_size):
        """torch's ``forward(input, output_size)``: the output_padding that gives the requested size."""
        if output_size is None:
            return self.output_padding
        output_size = list(output_size)[-self.dims:]
        if len(output_size) != self.dims:
            raise ValueError(f"{self}: output_size must have {self.dims} or {self.dims + 2} elements, "
                             f"got {output_size}")
        extra = []
        for size, wanted, k, s, p, d in zip(x.shape[-self.dims:], output_size, self.kernel_size, self.stride,
                                            self.padding, self.dilation):
            smallest = (size - 1) * s - 2 * p + d * (k - 1) + 1
            if not smallest <= wanted < smallest + s:
                raise ValueError(
                    f"{self}: requested an output size of {output_size}, but valid sizes range from {smallest} to "
                    f"{smallest + s - 1} (for an input of {tuple(x.shape[-self.dims:])})"
                )
            extra.append(wanted - smallest)
        return tuple(extra)


class ConvTranspose2d(_ConvTransposeNd):
    """Transposed 2-D convolution (the up-sampling layer of decoders, GAN generators and FCNs): the adjoint
    of Conv2d, mapping a Conv2d's output shape back to its input shape. weight (in, out/groups, kH, kW).

    ``forward(x, output_size=None)``: a strided Conv2d maps several input sizes onto one output size;
    ``output_size`` (or ``output_padding``) picks which one to return.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, output_padding, dtype=dtype, device=device)

    def forward(self, x, output_size=None):
        return conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                self._output_padding(x, output_size), self.groups, self.dilation, layer=self)


class ConvTranspose1d(_ConvTransposeNd):
    """Transposed 1-D convolution over (N, C, L): the adjoint of Conv1d. weight (in, out/groups, k)."""

    dims = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, output_padding, dtype=dtype, device=device)

    def forward(self, x, output_size=None):
        return conv_transpose1d(x, self.weight, self.bias, self.stride, self.padding,
                                self._output_padding(x, output_size), self.groups, self.dilation, layer=self)
