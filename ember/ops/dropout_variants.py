"""Two older relatives of (inverted) dropout, for reading the papers and the notes in their own terms.

**Vanilla dropout** (Hinton et al. 2012, Srivastava et al. 2014 as first written; CS231n's "vanilla" version):
training multiplies by the 0/1 mask only, so a unit's expected output shrinks to (1 - p)·x, and the test-time
network must scale every activation by (1 - p) to match:

    train: y = x · m,  m ~ Bernoulli(1 - p)        eval: y = (1 - p) · x

Inverted dropout (``ember.nn.Dropout``, as torch) moves that scale to training time, 1/(1 - p), so that
evaluation is the identity; the two differ only by where the constant sits.

**DropConnect** (Wan et al. 2013) drops *weights* instead of activations: each forward pass in training uses
W ⊙ M with a fresh mask M ~ Bernoulli(1 - p) of W's shape. Here the kept weights are scaled by 1/(1 - p) (the
inverted convention), so E[W ⊙ M / (1 - p)] = W and evaluation simply uses W: the mean-field approximation.
Wan et al. instead moment-match a Gaussian at inference and sample from it; that costs many samples per
prediction, and the mean network is what a PyTorch user expects from ``eval()``.
"""

from ..backend import xp
from .dropout import Dropout, bernoulli_keep
from .validate import probability, tensor_input


class VanillaDropout(Dropout):
    """y = x · m at training time, m ∈ {0, 1}, no rescaling;  dy/dx = m (Dropout with ``inverted=False``, under
    its own name in the graph)."""


def vanilla_dropout(input, p=0.5, training=True):
    """Non-inverted dropout: mask only while training, scale by (1 - p) at evaluation."""
    probability(p, "dropout", "vanilla_dropout")
    tensor_input(input, "vanilla_dropout")
    if not training:
        return input * (1 - p)
    if p == 0:
        return input
    return VanillaDropout.apply(input, p, input.shape, inverted=False)


def drop_connect_mask(shape, p, dtype):
    """DropConnect's weight mask M / (1 - p): 1/(1 - p) where a weight is kept, 0 where it is dropped."""
    if p == 1:
        return xp.zeros(shape, dtype=dtype)
    return bernoulli_keep(shape, p, dtype) * xp.asarray(1 / (1 - p), dtype=dtype)
