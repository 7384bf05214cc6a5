"""``torch.nn.modules.fold``: the layers defined in ember.nn.fold, at torch's import path."""

from .. import fold as _defined
from ..fold import *  # noqa: F401,F403
from ._layers import layers_defined_in

__all__ = layers_defined_in(_defined)
