"""``torch.nn.modules.sparse``: Embedding (defined in ember.nn.embedding), at torch's import path."""

from .. import embedding as _defined
from ..embedding import *  # noqa: F401,F403
from ._layers import layers_defined_in

__all__ = layers_defined_in(_defined)
