"""``torch.nn.modules.pixelshuffle``: the layers defined in ember.nn.pixelshuffle, at torch's import path."""

from .. import pixelshuffle as _defined
from ..pixelshuffle import *  # noqa: F401,F403
from ._layers import layers_defined_in

__all__ = layers_defined_in(_defined)
