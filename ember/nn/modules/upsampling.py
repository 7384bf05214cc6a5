"""``torch.nn.modules.upsampling``: Upsample (defined in ember.nn.upsampling), at torch's import path."""

from .. import upsampling as _defined
from ..upsampling import *  # noqa: F401,F403
from ._layers import layers_defined_in

__all__ = layers_defined_in(_defined)
