"""Weight penalties added to the data loss: L = L_data + λ·R(W) (the notes' regularisation section).

    L2:           R(W) = Σ_k Σ_l W_kl²          (weight decay; punishes large weights, spreads them out)
    L1:           R(W) = Σ_k Σ_l |W_kl|         (pushes weights to exactly zero: sparse W)
    elastic net:  R(W) = l1·Σ|W_kl| + l2·Σ W_kl²   (Zou & Hastie 2005: both at once)

Following the notes, R sums over the *weights* only: a parameter counts when it has two or more dimensions
(Linear and Conv weights, embeddings). Biases — and the 1-D scales and shifts of normalisation layers — are
left out by default, because they do not multiply the input: penalising them does not make the model
smoother, it only biases it. ``include_bias=True`` sums over every parameter.

Each returns a 0-d Tensor that is part of the graph, so ``(loss + lam * l1_penalty(model)).backward()`` adds
λ·sign(W) (or 2λ·W) to the gradients. Note that ``l2_penalty`` has no ½: the gradient of λ·ΣW² is 2λW,
whereas SGD's ``weight_decay=λ`` adds λW.
"""

from ... import backend
from ...backend import xp
from ...tensor import Tensor


def _weights(parameters, include_bias):
    """The parameters a penalty sums over, from a Module, an iterable of Tensors or of (name, Tensor) pairs."""
    if hasattr(parameters, "parameters") and callable(parameters.parameters):
        parameters = parameters.parameters()
    elif isinstance(parameters, Tensor):
        parameters = [parameters]
    chosen = []
    for p in parameters:
        if isinstance(p, tuple):  # named_parameters()
            p = p[1]
        if not isinstance(p, Tensor):
            raise TypeError(f"penalty: expected a Module or an iterable of Tensors, got an element of type "
                            f"{type(p).__name__}")
        if include_bias or p.ndim >= 2:
            chosen.append(p)
    return chosen


def _total(terms):
    total = None
    for term in terms:
        total = term if total is None else total + term
    if total is None:  # nothing to penalise: a zero that still behaves like a loss term
        return Tensor(xp.zeros((), dtype=backend.default_dtype))
    return total


def l1_penalty(parameters, include_bias=False):
    """Σ |w| over the weights (biases excluded unless ``include_bias``): the L1 (lasso) penalty."""
    weights = _weights(parameters, include_bias)
    return _total(w.abs().sum() for w in weights)


def l2_penalty(parameters, include_bias=False):
    """Σ w² over the weights (biases excluded unless ``include_bias``): the L2 penalty, without a ½."""
    weights = _weights(parameters, include_bias)
    return _total((w * w).sum() for w in weights)


def elastic_net_penalty(parameters, l1=1.0, l2=1.0, include_bias=False):
    """l1·Σ|w| + l2·Σw² over the weights (biases excluded unless ``include_bias``)."""
    if l1 < 0 or l2 < 0:
        raise ValueError(f"elastic_net_penalty: l1 and l2 must be >= 0, got l1={l1}, l2={l2}")
    weights = _weights(parameters, include_bias)
    return _total(l1 * w.abs().sum() + l2 * (w * w).sum() for w in weights)
