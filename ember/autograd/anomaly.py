"""Anomaly mode: find the operation whose backward produced NaN, and where its forward ran.

A NaN in a gradient spreads to every parameter behind it, so by the time the loss or the weights look
wrong the culprit is long gone. With anomaly detection on, every recorded operation keeps the stack of
its forward call; during backward, each node's gradients are checked for NaN as they are produced, and
the first node that makes one stops the pass with an error naming it (``LogBackward0 returned nan values
in its 0th output``) and a warning showing the line of the forward that created it. Any other error
raised inside a backward (an in-place change, say) gets the same warning. It costs a stack trace per
operation and a scan of every gradient: a debugging tool, as in PyTorch.

    with ember.autograd.detect_anomaly():
        loss = model(x).log().sum()
        loss.backward()                  # RuntimeError: Function 'LogBackward0' returned nan values ...

    ember.autograd.set_detect_anomaly(True)   # on for the rest of the program (or as a context manager)
"""

import functools
import os
import traceback
import warnings

from ..backend import xp

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep  # .../ember/

enabled = False  # read on every recorded operation: a module attribute is the cheapest test
check_nan = True


def is_anomaly_enabled():
    return enabled


def is_anomaly_check_nan_enabled():
    return check_nan


def _set(mode, nan):
    global enabled, check_nan
    enabled, check_nan = bool(mode), bool(nan)


class detect_anomaly:
    """Context manager and decorator that turns anomaly detection on inside its block."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime and should only "
                      "be enabled for debugging.", stacklevel=2)

    def __enter__(self):
        self._prev = (enabled, check_nan)
        _set(True, self.check_nan)
        return self

    def __exit__(self, *exc):
        _set(*self._prev)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(self.check_nan):
                return fn(*args, **kwargs)

        return wrapper


class set_detect_anomaly:
    """``set_detect_anomaly(True)`` turns anomaly detection on (``False`` off) now; used as a context
    manager, the previous setting comes back at the end of the block."""

    def __init__(self, mode, check_nan=True):
        self._prev = (enabled, check_nan)
        _set(mode, check_nan)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _set(*self._prev)
        return False


def remember_forward(ctx):
    """Keep where this node's forward was called (the user's frames, not Ember's own)."""
    stack = traceback.extract_stack()[:-3]  # drop remember_forward, Function.apply and the op wrapper
    ctx.anomaly_trace = "".join(traceback.format_list(stack[-12:]))
    ctx.anomaly_where = _user_frame(stack)


def _user_frame(stack):
    """'file.py:12: y = x.log()' for the innermost frame outside the ember package."""
    for frame in reversed(stack):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE):
            return f"{frame.filename}:{frame.lineno}: {frame.line}"
    frame = stack[-1]
    return f"{frame.filename}:{frame.lineno}: {frame.line}"


def check_gradients(node, grads):
    """Raise when a backward returned NaN (called by the engine after each node, in anomaly mode)."""
    if not check_nan:
        return
    for i, grad in enumerate(grads):
        if grad is not None and grad.dtype.kind in "fc" and xp.isnan(grad).any():
            where = getattr(node, "anomaly_where", None)
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output."
                               + (f" Its forward ran at {where}" if where else ""))


def warn_forward(node):
    """The warning torch prints when a backward fails in anomaly mode: where that node's forward ran."""
    trace = getattr(node, "anomaly_trace", None)
    if trace:
        warnings.warn(f"Error detected in {node.name()}. Traceback of forward call that caused the error:\n{trace}",
                      stacklevel=2)
