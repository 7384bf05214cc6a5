"""``torch.nn.modules.container``: Sequential, ModuleList and ModuleDict
(defined in ember.nn.containers), at torch's import path."""

from .. import containers as _defined
from ..containers import *  # noqa: F401,F403
from ._layers import layers_defined_in

__all__ = layers_defined_in(_defined)

from .. import parameter_containers as _parameter_containers  # noqa: E402
from ..parameter_containers import ParameterDict, ParameterList  # noqa: E402,F401

__all__ += layers_defined_in(_parameter_containers)
