"""Flatten and Unflatten: reshape between feature maps and feature vectors."""

from ..ops import flatten, reshape
from .module import Module


class Flatten(Module):
    """(N, C, H, W) -> (N, C·H·W): the bridge from the conv layers to the fully connected ones."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size``: (N, 400) -> (N, 16, 5, 5)."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        # Kept as given (a list stays a list), so the repr is torch's.
        self.dim, self.unflattened_size = dim, unflattened_size

    def forward(self, x):
        dim = self.dim % x.ndim
        return reshape(x, x.shape[:dim] + tuple(self.unflattened_size) + x.shape[dim + 1 :])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
