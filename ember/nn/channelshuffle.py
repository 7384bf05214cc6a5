"""``ChannelShuffle`` (ShuffleNet), over ember.ops.fold.channel_shuffle (torch.nn.modules.channelshuffle)."""

from ..ops import fold as _F
from .module import Module


class ChannelShuffle(Module):
    """Interleave the channels of ``groups`` groups: (N, g·k, H, W) with channel (i, j) moved to (j, i)."""

    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return _F.channel_shuffle(input, self.groups)

    def extra_repr(self):
        return f"groups={self.groups}"
