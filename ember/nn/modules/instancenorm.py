"""``torch.nn.modules.instancenorm``: InstanceNorm1d/2d/3d (defined in ember.nn.instancenorm), at torch's
import path."""

from .. import instancenorm as _defined
from ..instancenorm import *  # noqa: F401,F403
from ._layers import layers_defined_in

__all__ = layers_defined_in(_defined)
from ..lazy_more import LazyInstanceNorm1d, LazyInstanceNorm2d, LazyInstanceNorm3d  # noqa: E402,F401

__all__ += ["LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d"]
