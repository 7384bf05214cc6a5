"""Distances and similarities between vectors, with PyTorch's signatures: p-norm normalisation, cosine
similarity, pairwise p-norm distances. Compositions of differentiable ops (norm, division, sums), so their
gradients are those ops' gradients; each formula is in its docstring."""

from ..autograd.grad_mode import no_grad
from ..backend import xp
from ..tensor import Tensor
from .reduce import norm
from .reduce import sum as _sum
from .validate import broadcastable, tensor_input


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """x / max(‖x‖_p, ε) along ``dim``: unit vectors (the ε guards the zero vector)."""
    n = norm(input, p, dim=dim, keepdim=True).clamp(min=eps)
    result = input / n
    if out is not None:
        out.array[...] = result.array
        return out
    return result


def _clamped_norm(x, dim, eps):
    """‖x‖ over ``dim`` (kept), raised to ``eps`` without a gradient through the clamp (as torch does)."""
    n = norm(x, 2, dim=dim, keepdim=True)
    with no_grad():
        lift = Tensor(xp.maximum(n.array, eps) - n.array)
    return n + lift


def _broadcastable(x1, x2, name):
    broadcastable(tensor_input(x1, name, "x1").shape, tensor_input(x2, name, "x2").shape, name)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Σ (x1 / max(‖x1‖, ε)) · (x2 / max(‖x2‖, ε)) along ``dim``; x1 and x2 broadcast."""
    _broadcastable(x1, x2, "cosine_similarity")
    ndim = max(x1.ndim, x2.ndim)
    if not -ndim <= dim < max(ndim, 1):
        raise IndexError(f"cosine_similarity: dim {dim} is out of range for inputs of {ndim} dims")
    while x1.ndim < ndim:
        x1 = x1.unsqueeze(0)
    while x2.ndim < ndim:
        x2 = x2.unsqueeze(0)
    return _sum((x1 / _clamped_norm(x1, dim, eps)) * (x2 / _clamped_norm(x2, dim, eps)), dim=dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """‖x1 - x2 + ε‖_p over the last dim (ε keeps the gradient finite when x1 = x2)."""
    _broadcastable(x1, x2, "pairwise_distance")
    dim = max(x1.ndim, x2.ndim) - 1
    return norm(x1 - x2 + eps, p, dim=max(dim, 0), keepdim=keepdim)


def pdist(input, p=2.0):
    """‖x_i - x_j‖_p for every pair i < j of the rows of an (N, M) input, in row-major order: N(N-1)/2 values."""
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    n = input.shape[0]
    i, j = xp.triu_indices(n, 1)
    diff = input[Tensor(i)] - input[Tensor(j)]  # (P, M)
    return norm(diff, p, dim=1)
