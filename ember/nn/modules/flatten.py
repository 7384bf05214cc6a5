"""``torch.nn.modules.flatten``: Flatten and Unflatten
(defined in ember.nn.flatten), at torch's import path."""

from .. import flatten as _defined
from ..flatten import *  # noqa: F401,F403
from ._layers import layers_defined_in

__all__ = layers_defined_in(_defined)
