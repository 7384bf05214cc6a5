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
