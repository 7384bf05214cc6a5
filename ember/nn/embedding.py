"""Embedding: a learned lookup table that turns token indices into dense vectors (ember.ops.embedding)."""

from .. import backend
from ..backend import xp
from ..ops.embedding import embedding
from ..ops.validate import size
from ..tensor import Tensor
from . import init
from .module import Module
from .parameter import Parameter


class Embedding(Module):
    """y = W[idx]: row i of W (num_embeddings, embedding_dim) is the vector of token i.

    Initialised N(0, 1) as in PyTorch; the ``padding_idx`` row starts at zero and receives no gradient.
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, _weight=None, _freeze=False, device=None,
                 dtype=None):
        super().__init__()
        num_embeddings = size(num_embeddings, "num_embeddings", "Embedding")
        embedding_dim = size(embedding_dim, "embedding_dim", "Embedding")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx={padding_idx} must be within num_embeddings="
                                 f"{num_embeddings}")
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
        if _weight is None:
            dtype = backend.default_dtype if dtype is None else dtype
            self.weight = Parameter(xp.empty((num_embeddings, embedding_dim), dtype=dtype), requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: weight of shape {tuple(_weight.shape)} does not match "
                                 f"({num_embeddings}, {embedding_dim})")
            data = _weight.array if isinstance(_weight, Tensor) else _weight
            self.weight = Parameter(xp.array(data), requires_grad=not _freeze)
        if device is not None:  # torch's factory keyword: build here, then place (raises for a missing GPU)
            self.to(device)

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.array[self.padding_idx] = 0

    def forward(self, input):
        return embedding(input, self.weight, self.padding_idx)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None):
        """An Embedding holding a given (num_embeddings, embedding_dim) matrix, frozen by default."""
        rows, dim = embeddings.shape
        return cls(rows, dim, padding_idx=padding_idx, _weight=embeddings, _freeze=freeze)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        return s + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")
