"""``torch.nn.modules.channelshuffle``: the layers defined in ember.nn.channelshuffle, at torch's import path."""

from .. import channelshuffle as _defined
from ..channelshuffle import *  # noqa: F401,F403
from ._layers import layers_defined_in

__all__ = layers_defined_in(_defined)
