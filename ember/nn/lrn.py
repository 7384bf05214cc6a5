"""Local response normalization layer (AlexNet's cross-channel lateral inhibition; the maths is in ember.ops.norm)."""

from ..ops.norm import local_response_norm
from ..ops.validate import ArgumentError
from .module import Module


class LocalResponseNorm(Module):
    """b_c = a_c / (k + α/n · Σ a_{c'}²)^β over a window of n = ``size`` neighbouring channels (no parameters).

    AlexNet used size=5, alpha=1e-4, beta=0.75, k=2 after its first two convolutions.
    """

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ArgumentError(f"LocalResponseNorm: size (the number of neighbouring channels) must be a positive "
                                f"int, got size={size!r}")
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, x):
        return local_response_norm(x, self.size, self.alpha, self.beta, self.k, layer=self)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
