"""Runs one bad-input case in torch and in Ember and compares them (used by tests/test_bad_inputs_api*.py).

A case is Python source written against a namespace: ``T`` (torch or ember), ``nn``, ``F``, ``np`` and a few
ready inputs (``x1`` (2, 3, 10), ``x2`` (2, 3, 8, 8), ``x3`` (1, 2, 6, 6, 6), ``v`` (4, 5), ``idx`` int64 (4,)).
The same source runs against both libraries, so the expected exception class is whatever torch raises.
"""

import numpy as np


def namespace(lib):
    """The names a case can use, bound to torch or ember."""
    if lib == "torch":
        import torch as T
        import torch.nn as nn
        import torch.nn.functional as F
    else:
        import ember as T
        import ember.nn as nn
        import ember.nn.functional as F
    T.manual_seed(0)
    ns = {"T": T, "nn": nn, "F": F, "np": np}
    ns.update(
        x1=T.randn(2, 3, 10), x2=T.randn(2, 3, 8, 8), x3=T.randn(1, 2, 6, 6, 6), v=T.randn(4, 5),
        idx=T.tensor([0, 1, 2, 3]),
    )
    return ns


def builtin_class(exc):
    """The first builtin exception class an exception is an instance of (torch.OutOfMemoryError ->
    RuntimeError, IndexError -> IndexError): what a caller's ``except`` clause would name."""
    for cls in type(exc).__mro__:
        if cls.__module__ == "builtins":
            return cls
    return Exception


def outcome(lib, code):
    """The exception ``code`` raises in ``lib``, or None when it runs."""
    ns = namespace(lib)
    try:
        exec(code, ns)
    except Exception as exc:  # noqa: BLE001 - the point is to catch whatever the library raises
        return exc
    return None


def check_like_torch(code, needles):
    """``code`` raises in Ember an instance of the builtin class torch raises, naming every one of ``needles``."""
    expected = outcome("torch", code)
    assert expected is not None, f"torch accepts {code!r}: the case belongs with the valid ones"
    got = outcome("ember", code)
    assert got is not None, f"Ember silently accepted {code!r} (torch raises {type(expected).__name__}: {expected})"
    assert isinstance(got, builtin_class(expected)), (
        f"{code!r}: torch raises {builtin_class(expected).__name__}, Ember {type(got).__name__}: {got}"
    )
    missing = [n for n in needles if n.lower() not in str(got).lower()]
    assert not missing, f"{code!r}: the message does not mention {missing}: {got}"


def check_ids(cases):
    """Every case has a unique id and names at least one thing its message must mention."""
    ids = [c[0] for c in cases]
    assert len(ids) == len(set(ids))
    assert all(c[2] for c in cases)
