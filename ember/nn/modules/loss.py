"""``torch.nn.modules.loss``: the loss layers (defined in ember.nn.loss), at torch's import path."""

from .. import loss as _defined
from ..loss import *  # noqa: F401,F403
from ._layers import layers_defined_in
from ..loss import _Loss  # noqa: F401  (the base of custom losses in torch code)

__all__ = layers_defined_in(_defined)
from ..loss import _WeightedLoss  # noqa: E402,F401  (torch's base of the weighted losses)
