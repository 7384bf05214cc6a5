"""Embeddings: an integer index picks a row of a weight matrix — the same product as one_hot(i) · W,
without building the one-hot matrix.

The backward of a lookup adds each output row's gradient into the row it came from; a token that occurs
many times in a batch receives the sum. The rows are sorted once and summed group by group with
``add.reduceat`` (a scatter with ``add.at`` would be an order of magnitude slower).
"""

from ..autograd.function import Function
from ..backend import xp
from ..tensor import Tensor
from .validate import ArgumentError, DtypeError, index_range, tensor_input


class Embedding(Function):
    """y[..., :] = W[idx[...], :];  dW[k] = Σ_{positions p with idx[p] = k} dy[p], zero for padding_idx."""

    @staticmethod
    def forward(ctx, weight, indices, padding_idx=None):
        ctx.num_embeddings, ctx.padding_idx, ctx.indices = weight.shape[0], padding_idx, indices
        return weight[indices]

    @staticmethod
    def backward(ctx, grad):
        dim = grad.shape[-1]
        flat = ctx.indices.reshape(-1)
        rows = grad.reshape(-1, dim)
        order = xp.argsort(flat, kind="stable")
        sorted_idx = flat[order]
        first = xp.ones(1, dtype=bool)
        starts = xp.flatnonzero(xp.concatenate((first, sorted_idx[1:] != sorted_idx[:-1]))) if flat.size else flat
        dweight = xp.zeros((ctx.num_embeddings, dim), dtype=grad.dtype)
        if flat.size:
            dweight[sorted_idx[starts]] = xp.add.reduceat(rows[order], starts, axis=0)
        if ctx.padding_idx is not None:
            dweight[ctx.padding_idx] = 0  # the padding row is a constant: it never learns
        return dweight, None


def embedding(input, weight, padding_idx=None):
    """Look up rows of ``weight`` (num_embeddings, embedding_dim) for an integer tensor ``input``."""
    indices = tensor_input(input, "embedding", "indices").array
    if indices.dtype.kind not in "iu":
        raise DtypeError(f"embedding: indices must be an integer tensor (int64), got dtype {indices.dtype}; "
                         "convert with .long()")
    n = weight.shape[0]
    # torch refuses negative indices too (no wrap-around to the last rows): one min and one max
    index_range(indices, n, "embedding", "index", "num_embeddings")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += n
    return Embedding.apply(weight, indices, padding_idx=padding_idx)


def one_hot(input, num_classes=-1):
    """one_hot(i)[..., k] = 1 if k = i else 0, as int64 (torch.nn.functional.one_hot); ``num_classes=-1``
    takes max(input) + 1. Multiply by a float to feed it to a layer: ``one_hot(x, V).float()``."""
    indices = input.array if isinstance(input, Tensor) else xp.asarray(input)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected an integer tensor of class indices, got dtype {indices.dtype}")
    if num_classes == -1:
        num_classes = int(indices.max()) + 1 if indices.size else 0
    if indices.size and (indices.min() < 0 or indices.max() >= num_classes):
        raise ArgumentError(f"one_hot: class values must be in [0, {num_classes}), got values in "
                         f"[{int(indices.min())}, {int(indices.max())}]")
    out = (indices[..., None] == xp.arange(num_classes)).astype(xp.int64)
    return Tensor(out)
