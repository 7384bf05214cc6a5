"""Version counters: how an in-place change to something backward still needs is caught, not miscomputed.

After ``y = w * x`` the mul gate keeps ``x`` to compute dy/dw = x later. If ``x += 1`` runs before
``backward()``, that saved ``x`` is no longer the value forward saw, and dy/dw comes out wrong without a
word. PyTorch's answer, and Ember's: every storage (the array that owns the memory — views share their
base's) carries a counter that each in-place write through a Tensor increments (``x += 1``, ``x[0] = 5``,
``zero_()``, an optimizer step...). When a Function saves arrays for backward, it notes their versions;
when backward unpacks them and a version has moved on, it raises instead of returning a wrong gradient.

The counters live in one dict keyed by the storage's ``id``; an entry disappears with its storage.
A storage that was never written in place is at version 0 and costs nothing.
"""

import weakref

_counters = {}  # id(storage) -> number of in-place writes so far


def storage(array):
    """The object that owns ``array``'s memory: follows ``.base`` through views (and the small wrappers
    NumPy's ``as_strided`` puts between a strided view and its array)."""
    while True:
        base = getattr(array, "base", None)
        if base is None:
            return array
        array = base


def current(array):
    """How many times ``array``'s storage has been written in place."""
    return _counters.get(id(storage(array)), 0)


def bump(array):
    """Record one in-place write to ``array``'s storage."""
    owner = storage(array)
    key = id(owner)
    count = _counters.get(key)
    if count is None:
        try:  # forget the counter when the storage dies, so a new array at the same address starts at 0
            weakref.finalize(owner, _counters.pop, key, None)
        except TypeError:  # an owner that takes no weak references (bytes): keep the entry, it is harmless
            pass
        count = 0
    _counters[key] = count + 1


def snapshot(saved):
    """((storage, version), ...) for the arrays (or Tensors) a Function saved; empty when it saved none."""
    out = []
    for item in saved:
        array = getattr(item, "array", item)
        if hasattr(array, "shape") and hasattr(array, "dtype"):
            owner = storage(array)
            out.append((item, owner, _counters.get(id(owner), 0)))
    return tuple(out)


def check(ctx):
    """Raise torch's error if something ``ctx`` saved was changed in place after its forward."""
    for item, owner, expected in ctx._versions:
        now = _counters.get(id(owner), 0)
        if now != expected:
            raise RuntimeError(_message(ctx, item, now, expected))


def _message(ctx, item, now, expected):
    array = getattr(item, "array", item)
    from ..conversion import TYPE_NAMES

    kind = TYPE_NAMES.get(array.dtype.name, str(array.dtype))
    where = getattr(ctx, "anomaly_trace", None)
    hint = (f"\nThe forward of {ctx.name()} ran here:\n{where}" if where else
            " Hint: enable anomaly detection (ember.autograd.set_detect_anomaly(True)) to see where that "
            "forward ran.")
    return (
        f"one of the variables needed for gradient computation has been modified by an inplace operation: "
        f"[ember.{kind} {list(array.shape)}], saved by {ctx.name()}, is at version {now}; expected version "
        f"{expected} instead. Change it out of place (x = x + 1 rather than x += 1) or .clone() it before the "
        f"in-place change." + hint
    )
