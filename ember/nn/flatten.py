"""Flatten and Unflatten: reshape between feature maps and feature vectors."""

from ..ops import flatten, reshape
from ..ops.validate import dim as check_dim
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
        dim = check_dim(self.dim, x.ndim, self)
        sizes = tuple(self.unflattened_size)
        known = 1
        for s in sizes:
            known *= s if s != -1 else 1
        if (-1 not in sizes and known != x.shape[dim]) or (-1 in sizes and (known == 0 or x.shape[dim] % known)):
            raise RuntimeError(f"{self}: unflattened_size {sizes} does not multiply up to the size of dim {self.dim} "
                               f"({x.shape[dim]}) of the input of shape {tuple(x.shape)}; pick sizes whose product is "
                               f"{x.shape[dim]}")
        return reshape(x, x.shape[:dim] + sizes + x.shape[dim + 1 :])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
