"""``torch.nn.modules.container``: Sequential, ModuleList and ModuleDict
(defined in ember.nn.containers), at torch's import path."""

from .. import containers as _defined
from ..containers import *  # noqa: F401,F403
from ._layers import layers_defined_in

__all__ = layers_defined_in(_defined)
