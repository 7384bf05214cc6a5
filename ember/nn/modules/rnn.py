"""``torch.nn.modules.rnn``: the recurrent layers and cells
(defined in ember.nn.rnn), at torch's import path."""

from .. import rnn as _defined
from ..rnn import *  # noqa: F401,F403
from ._layers import layers_defined_in

__all__ = layers_defined_in(_defined)
