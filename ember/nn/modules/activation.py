"""``torch.nn.modules.activation``: the activation layers
(defined in ember.nn.activation), at torch's import path."""

from .. import activation as _defined
from ..activation import *  # noqa: F401,F403
from ._layers import layers_defined_in

__all__ = layers_defined_in(_defined)
