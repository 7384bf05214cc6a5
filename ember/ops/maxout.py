"""Maxout (Goodfellow et al. 2013): the unit's output is the largest of k linear pieces,

    h_i(x) = max_{j = 1..k} z_ij,    z_ij = w_ijᵀx + b_ij,

so a layer computes k·m affine features (one Linear or Conv with k·m outputs) and maxout keeps the largest
of each consecutive group of k. It generalises ReLU (ReLU is max(wᵀx + b, 0): k = 2 with one piece fixed at
zero), it never saturates and never dies (some piece always passes the gradient), and it costs k times the
parameters — the notes' 参数加倍 for k = 2.

Backward is the max gate: each group's gradient goes to its largest piece (the first one on ties).
"""

from ..autograd.function import Function
from ..backend import xp
from .validate import ShapeError, tensor_input


class Maxout(Function):
    """y[.., g, ..] = max_j x[.., g·k + j, ..] over axis ``dim``;  dy/dx = 1 at each group's first maximum."""

    @staticmethod
    def forward(ctx, x, pool_size, dim):
        groups = x.shape[dim] // pool_size
        pieces = x.reshape(x.shape[:dim] + (groups, pool_size) + x.shape[dim + 1:])  # (.., C/k, k, ..)
        winner = xp.expand_dims(pieces.argmax(axis=dim + 1), dim + 1)  # (.., C/k, 1, ..)
        ctx.save(winner)
        ctx.shape, ctx.dim = pieces.shape, dim
        return xp.take_along_axis(pieces, winner, axis=dim + 1).squeeze(dim + 1)

    @staticmethod
    def backward(ctx, grad):
        (winner,) = ctx.saved
        dim = ctx.dim
        dpieces = xp.zeros(ctx.shape, dtype=grad.dtype)
        xp.put_along_axis(dpieces, winner, xp.expand_dims(grad, dim + 1), axis=dim + 1)
        shape = list(ctx.shape)
        shape[dim : dim + 2] = [shape[dim] * shape[dim + 1]]  # (.., C/k, k, ..) -> (.., C, ..)
        return dpieces.reshape(shape)


def maxout(input, pool_size, dim=1, layer=None):
    """The maximum of each consecutive group of ``pool_size`` entries along ``dim`` (features of (N, C) or
    channels of (N, C, H, W)): the size of ``dim`` shrinks from C to C / pool_size."""
    where = str(layer) if layer is not None else "maxout"
    tensor_input(input, where)
    if not isinstance(pool_size, int) or pool_size < 1:
        raise ValueError(f"{where}: pool_size must be a positive int, got {pool_size!r}")
    if not -input.ndim <= dim < input.ndim:
        raise IndexError(f"{where}: dim {dim} is out of range for a {input.ndim}-D input")
    dim %= input.ndim
    if input.shape[dim] % pool_size:
        raise ShapeError(f"{where}: the size {input.shape[dim]} of dim {dim} must be divisible by pool_size "
                         f"{pool_size}; give the layer before it pool_size × (the outputs you want) features")
    return Maxout.apply(input, pool_size, dim)
