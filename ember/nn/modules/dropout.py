"""``torch.nn.modules.dropout``: the dropout layers (defined in ember.nn.dropout), at torch's import path."""

from .. import dropout as _defined
from ..dropout import *  # noqa: F401,F403
from ._layers import layers_defined_in

__all__ = layers_defined_in(_defined)
