"""Padding layers: F.pad as a layer (the maths is in ember.ops.padding).

``padding`` is an int (the same on every side) or a tuple (left, right[, top, bottom[, front, back]]),
last axis first, as in torch. Zero and constant padding accept negative amounts, which crop.
"""

from ..ops.padding import pad
from .module import Module


class _PadNd(Module):
    dims = 2
    mode = "constant"

    def __init__(self, padding):
        super().__init__()
        n = 2 * self.dims
        if isinstance(padding, int):
            padding = (padding,) * n
        padding = tuple(padding)
        if len(padding) != n or not all(isinstance(p, int) for p in padding):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple of {n} ints "
                             f"(left, right, ...), got {padding}")
        self.padding = padding

    def forward(self, x):
        return pad(x, self.padding, self.mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, x):
        return pad(x, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last axis with ``value``."""

    dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two axes with ``value``."""


class ConstantPad3d(_ConstantPadNd):
    """Pad the last three axes with ``value``."""

    dims = 3


class _ZeroPad:
    """Constant padding with value 0 (torch's ZeroPadNd subclass ConstantPadNd, and so do these)."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad1d(_ZeroPad, ConstantPad1d):
    """Pad the last axis with zeros."""


class ZeroPad2d(_ZeroPad, ConstantPad2d):
    """Pad the last two axes with zeros (the border a 'same' convolution adds, as a layer)."""


class ZeroPad3d(_ZeroPad, ConstantPad3d):
    """Pad the last three axes with zeros."""


class ReflectionPad1d(_PadNd):
    """Mirror the last axis about its edge pixels ([a b c] -> c b | a b c | b a)."""

    dims, mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    """Mirror the image about its edges: a border with no artificial dark frame (style transfer, CycleGAN)."""

    mode = "reflect"


class ReflectionPad3d(_PadNd):
    """Mirror the last three axes about their edges."""

    dims, mode = 3, "reflect"


class ReplicationPad1d(_PadNd):
    """Repeat the edge pixels of the last axis ([a b c] -> a a | a b c | c c)."""

    dims, mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    """Repeat the image's edge pixels outward."""

    mode = "replicate"


class ReplicationPad3d(_PadNd):
    """Repeat the edge pixels of the last three axes."""

    dims, mode = 3, "replicate"


class CircularPad1d(_PadNd):
    """Wrap the last axis around ([a b c] -> b c | a b c | a b)."""

    dims, mode = 1, "circular"


class CircularPad2d(_PadNd):
    """Wrap the image around, as if it tiled the plane."""

    mode = "circular"


class CircularPad3d(_PadNd):
    """Wrap the last three axes around."""

    dims, mode = 3, "circular"
