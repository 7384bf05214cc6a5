"""``torch.nn.modules.utils``: the argument normalisers torch's layers (and torch code that writes layers
in torch's style) use — ``_pair(3) == (3, 3)``, ``_pair((1, 2)) == (1, 2)``."""

import collections.abc
import itertools


def _ntuple(n, name="parse"):
    """A function that repeats a scalar n times and turns any iterable into a tuple unchanged."""

    def parse(x):
        if isinstance(x, collections.abc.Iterable):
            return tuple(x)
        return tuple(itertools.repeat(x, n))

    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")
_quadruple = _ntuple(4, "_quadruple")


def _reverse_repeat_tuple(t, n):
    """(a, b) -> (b, b, a, a) for n = 2: a conv's padding in F.pad's order (last axis first)."""
    return tuple(x for x in reversed(t) for _ in range(n))
