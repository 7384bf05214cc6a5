"""ember.profiler: where a training step goes, at torch.profiler's path and with its API.

    with ember.profiler.profile(record_shapes=True) as prof:
        with ember.profiler.record_function("train_step"):
            loss = criterion(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=20))
    print(prof.layer_table(row_limit=30))           # forward and backward time per layer
    prof.export_chrome_trace("trace.json")

Rows of the op table: each Function's forward (``Conv2d``) and its backward node (``Conv2dBackward0``), the
backward engine's own work (``autograd::engine::topological_sort``, ``autograd::engine::accumulate_grad``:
un-broadcasting, summing gradients that fan out and storing ``.grad``; ``autograd::engine::backward``: the
whole pass, whose self time is the engine's remaining bookkeeping), ``Optimizer.step#SGD.step`` and
``Optimizer.zero_grad#SGD.zero_grad``, and ``record_function`` labels.

``EMBER_PROFILE=1`` in the environment profiles a whole program that imports ember (``ember train``...)
and prints both tables to stderr at exit (environment.py).
"""

from .by_op import OpEventAvg, OpList
from .events import EventList, FunctionEvent, FunctionEventAvg
from .layers import LayerEventAvg, LayerList
from .profile import (
    ProfilerAction,
    ProfilerActivity,
    profile,
    record_function,
    schedule,
    supported_activities,
    tensorboard_trace_handler,
)

from . import legacy as _legacy

_legacy.register()  # torch.autograd.profiler's path: ember.autograd.profiler
