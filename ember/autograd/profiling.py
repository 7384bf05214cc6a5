"""The profiler's hook inside autograd: one module attribute, tested where work happens.

``ember.profiler`` (a tool, above autograd) measures where a training step goes. Autograd cannot import it
(imports point downward), so it registers itself here instead: while a profile is running, ``recorder``
holds an object with the methods below, and ``None`` the rest of the time. Each hook point costs one
attribute test when profiling is off, as ``anomaly.enabled`` and ``Function.tracer`` do:

- ``Function.apply`` (and custom Functions' apply): ``recorder.forward(cls, body, args, kwargs)`` runs
  ``body(cls, args, kwargs)``, the unprofiled apply, and times it;
- the backward engine: ``recorder.backward(node, grads)`` runs and times one node's backward, and
  ``recorder.begin()`` / ``recorder.end(name, kind, start)`` time the engine's own work (the topological
  sort, handing gradients on);
- ``Module.__call__``: ``recorder.module(module, body, args, kwargs)`` names the layer that runs, so the ops
  inside it (and the backward nodes they create) are attributed to it;
- ``Optimizer.step`` / ``zero_grad``: ``scope(name)`` around them.
"""

import contextlib

recorder = None  # the running ember.profiler recorder, or None: read on every op, so a plain module attribute

_NOTHING = contextlib.nullcontext()


def scope(name, kind="optimizer"):
    """A context manager timing its block as ``name`` while a profile runs (a no-op otherwise)."""
    if recorder is None:
        return _NOTHING
    return recorder.scope(name, kind)
