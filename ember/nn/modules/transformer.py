"""``torch.nn.modules.transformer``: the Transformer layers (defined in ember.nn.transformer), at torch's
import path."""

from .. import transformer as _defined
from ..transformer import *  # noqa: F401,F403
from ._layers import layers_defined_in

__all__ = layers_defined_in(_defined)
