"""``torch.nn.modules.instancenorm``: InstanceNorm1d/2d/3d (defined in ember.nn.instancenorm), at torch's
import path."""

from .. import instancenorm as _defined
from ..instancenorm import *  # noqa: F401,F403
from ._layers import layers_defined_in

__all__ = layers_defined_in(_defined)
