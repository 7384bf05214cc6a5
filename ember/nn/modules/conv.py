"""``torch.nn.modules.conv``: the convolution layers (defined in ember.nn.conv), at torch's import path."""

from .. import conv as _defined
from ..conv import *  # noqa: F401,F403
from ._layers import layers_defined_in
from ..conv import _ConvNd, _ConvTransposeNd  # noqa: F401  (torch code subclasses and isinstance-checks these)

from ..lazy import LazyConv2d  # noqa: E402,F401  (torch keeps the lazy variants beside their layers)

__all__ = layers_defined_in(_defined) + ["LazyConv2d"]
from ..lazy_more import LazyConv1d, LazyConvTranspose1d, LazyConvTranspose2d  # noqa: E402,F401

__all__ += ["LazyConv1d", "LazyConvTranspose1d", "LazyConvTranspose2d"]
from ..conv3d import Conv3d  # noqa: E402,F401

__all__ += ["Conv3d"]
from ..lazy_more import LazyConv3d  # noqa: E402,F401

__all__ += ["LazyConv3d"]
