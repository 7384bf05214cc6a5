"""``torch.nn.modules.distance``: CosineSimilarity and PairwiseDistance (defined in ember.nn.distance)."""

from .. import distance as _defined
from ..distance import *  # noqa: F401,F403
from ._layers import layers_defined_in

__all__ = layers_defined_in(_defined)
