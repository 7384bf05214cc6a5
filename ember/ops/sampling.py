"""Drawing samples from distributions given as tensors: multinomial, bernoulli, poisson.

Samples are discrete and carry no gradient. Every draw comes from the generator ``ember.manual_seed``
seeds, or from the ``generator=`` given (an ``ember.Generator``), so a seeded program repeats itself.
"""

from ..backend import xp
from ..random import as_numpy_generator
from ..tensor import Tensor


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Indices drawn from the categories whose (unnormalised, non-negative) weights are ``input``'s last dim:
    (num_samples,) for a 1-D input, (rows, num_samples) for 2-D. Without replacement a category is drawn at
    most once, so ``num_samples`` may not exceed the number of categories with a positive weight."""
    weights = input.array
    if weights.ndim not in (1, 2):
        raise RuntimeError(f"multinomial(): prob_dist must be 1 or 2 dim, got {weights.ndim}")
    if weights.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {weights.dtype}")
    if num_samples <= 0:
        raise RuntimeError(f"multinomial(): cannot sample n_sample <= 0 samples (got {num_samples})")
    n = weights.shape[-1]
    if not replacement and num_samples > n:
        raise RuntimeError(f"multinomial(): cannot sample n_sample > prob_dist.size(-1) samples without "
                           f"replacement (n_sample={num_samples}, categories={n})")
    if not xp.all(xp.isfinite(weights)) or xp.any(weights < 0):
        raise RuntimeError("multinomial(): probability tensor contains either `inf`, `nan` or element < 0")
    rng = as_numpy_generator(generator)
    rows = weights.reshape(-1, n).astype(xp.float64)
    out_rows = []
    for row in rows:
        total = row.sum()
        if total <= 0:
            raise RuntimeError("multinomial(): invalid multinomial distribution (sum of probabilities <= 0)")
        positive = int((row > 0).sum())
        if not replacement and num_samples > positive:
            raise RuntimeError(f"multinomial(): invalid multinomial distribution (with replacement=False, not enough "
                               f"non-negative category to sample): {positive} categories have a positive weight "
                               f"but {num_samples} samples were asked for")
        out_rows.append(rng.choice(n, size=num_samples, replace=replacement, p=row / total))
    result = xp.stack(out_rows).astype(xp.int64)
    return Tensor(result.reshape(weights.shape[:-1] + (num_samples,)))


def bernoulli(input, p=None, *, generator=None, out=None):
    """1 with probability ``input`` (or ``p`` when given), else 0, in ``input``'s dtype."""
    probs = input.array if p is None else xp.broadcast_to(xp.asarray(getattr(p, "array", p)), input.shape)
    if probs.dtype.kind == "f" and (xp.any(probs < 0) or xp.any(probs > 1)):
        raise RuntimeError("bernoulli(): all elements of the probability tensor must be in [0, 1]")
    draws = as_numpy_generator(generator).random(input.shape) < probs
    return Tensor(draws.astype(input.dtype))


def poisson(input, generator=None):
    """Samples of Poisson(rate) for each rate in ``input``, in ``input``'s dtype."""
    rates = input.array
    if xp.any(rates < 0):
        raise RuntimeError("poisson(): invalid Poisson rate, expected rate to be non-negative")
    return Tensor(as_numpy_generator(generator).poisson(rates).astype(rates.dtype))
