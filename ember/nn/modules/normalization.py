"""``torch.nn.modules.normalization``: the normalization layers
(defined in ember.nn.lrn), at torch's import path."""

from .. import lrn as _defined
from ..lrn import *  # noqa: F401,F403
from ._layers import layers_defined_in

__all__ = layers_defined_in(_defined)
