"""The maxout layer (Goodfellow et al. 2013): the maths is in ember.ops.maxout. torch has no Maxout; this is
the usual form — an activation that follows a Linear or Conv with pool_size × (units) outputs:

    nn.Sequential(nn.Linear(784, 240 * 5), nn.Maxout(5))     # 240 maxout units of 5 pieces each
"""

from ..ops.maxout import maxout
from .module import Module


class Maxout(Module):
    """Keep the largest of each consecutive group of ``pool_size`` features along ``dim`` (1: the features
    of (N, F), the channels of (N, C, H, W)): max(w₁ᵀx + b₁, …, w_kᵀx + b_k) with the affine pieces computed
    by the layer before. No parameters of its own."""

    def __init__(self, pool_size, dim=1):
        super().__init__()
        if not isinstance(pool_size, int) or pool_size < 1:
            raise ValueError(f"Maxout: pool_size must be a positive int, got {pool_size!r}")
        self.pool_size, self.dim = pool_size, dim

    def forward(self, input):
        return maxout(input, self.pool_size, self.dim, layer=self)

    def extra_repr(self):
        return f"pool_size={self.pool_size}, dim={self.dim}"
