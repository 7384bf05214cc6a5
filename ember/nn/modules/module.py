"""``torch.nn.modules.module``: the Module base class (defined in ember.nn.module), at torch's import path."""

from .. import module as _defined
from ..module import *  # noqa: F401,F403
from ._layers import layers_defined_in

__all__ = layers_defined_in(_defined)
