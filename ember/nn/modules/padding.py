"""``torch.nn.modules.padding``: the padding layers (defined in ember.nn.padding), at torch's import path."""

from .. import padding as _defined
from ..padding import *  # noqa: F401,F403
from ._layers import layers_defined_in

__all__ = layers_defined_in(_defined)
