"""Dropout layers: inverted dropout at training time, the identity at evaluation (ember.ops.dropout)."""

from ..ops.dropout import alpha_dropout, dropout, dropout1d, dropout2d, dropout3d, stochastic_depth
from ..ops.validate import probability
from .module import Module


class Dropout(Module):
    """Zero each element with probability p while training, scaling the rest by 1/(1 - p)."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        probability(p, "dropout", type(self).__name__)
        self.p, self.inplace = p, inplace

    def forward(self, x):
        return dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(Dropout):
    """Zero whole channels of (N, C, L) or (C, L) sequences with probability p while training."""

    def forward(self, x):
        return dropout1d(x, self.p, self.training)


class Dropout2d(Dropout):
    """Zero whole channels of (N, C, H, W) feature maps with probability p while training (a 3-D input is
    read as (N, C, L), with torch's warning)."""

    def forward(self, x):
        return dropout2d(x, self.p, self.training)


class Dropout3d(Dropout):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) volumes with probability p while training."""

    def forward(self, x):
        return dropout3d(x, self.p, self.training)


class AlphaDropout(Dropout):
    """Dropout for SELU networks: dropped units take SELU's saturation value, and an affine map keeps the
    activations' mean and variance (use it with SELU and lecun_normal initialisation)."""

    def forward(self, x):
        return alpha_dropout(x, self.p, self.training)


class StochasticDepth(Module):
    """Drop a whole residual branch per sample (``mode='row'``) or per batch (``'batch'``) with probability p
    while training, scaling the kept ones by 1/(1 - p) (torchvision.ops.StochasticDepth)."""

    def __init__(self, p, mode="row"):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"StochasticDepth: drop probability has to be between 0 and 1, but got {p}")
        if mode not in ("batch", "row"):
            raise ValueError(f"StochasticDepth: mode has to be either 'batch' or 'row', but got {mode!r}")
        self.p, self.mode = p, mode

    def forward(self, x):
        return stochastic_depth(x, self.p, self.mode, self.training)

    def extra_repr(self):
        return f"p={self.p}, mode={self.mode}"  # torchvision's repr: StochasticDepth(p=0.2, mode=row)
