"""``ember.profiler.profile``: torch.profiler's context manager, timing Ember's ops, layers and engine.

    with ember.profiler.profile(record_shapes=True) as prof:
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=20))
    print(prof.layer_table(row_limit=30))          # per layer: forward and backward time
    prof.export_chrome_trace("trace.json")         # chrome://tracing or https://ui.perfetto.dev

Times are host wall-clock times (``time.perf_counter_ns``) of the thread that entered the profile.
Recording costs about a microsecond per op, so many tiny ops look slower than they run unprofiled.

With a ``schedule``, ``prof.step()`` marks the end of each training step: steps marked ``NONE`` or
``WARMUP`` are not recorded (Ember has no tracer to warm up: warm-up steps simply run unrecorded), each
active cycle starts a fresh record, and ``on_trace_ready(prof)`` is called when a cycle ends.
"""

import contextlib
import enum
import json
import os
import time
import warnings

from ..autograd import profiling
from .events import EventList, FunctionEvent, FunctionEventAvg
from .by_op import op_rows
from .layers import layer_rows
from .recorder import LABEL, MODULE, Recorder


class ProfilerActivity(enum.Enum):
    """What to profile (torch's names). Ember times host (CPU) work; CUDA and the others are accepted so
    torch programs run, and their time shows as the host time of the ops that launch them."""

    CPU = "CPU"
    CUDA = "CUDA"
    XPU = "XPU"
    MTIA = "MTIA"
    HPU = "HPU"
    PrivateUse1 = "PrivateUse1"


def supported_activities():
    return {ProfilerActivity.CPU}


class ProfilerAction(enum.Enum):
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def schedule(*, wait, warmup, active, repeat=0, skip_first=0, skip_first_wait=0):
    """torch.profiler.schedule: after ``skip_first`` steps, cycles of ``wait`` idle, ``warmup`` and ``active``
    recorded steps, ``repeat`` times (0: until the end). Returns ``step -> ProfilerAction``."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise ValueError(f"schedule(): need wait, warmup, repeat, skip_first >= 0 and active > 0, got wait={wait}, "
                         f"warmup={warmup}, active={active}, repeat={repeat}, skip_first={skip_first}")

    def action(step):
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait and step >= 0:  # torch: the first cycle's wait is skipped
            step += wait
        cycle = wait + warmup + active
        if repeat > 0 and step // cycle >= repeat:
            return ProfilerAction.NONE
        phase = step % cycle
        if phase < wait:
            return ProfilerAction.NONE
        if phase < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if phase < cycle - 1 else ProfilerAction.RECORD_AND_SAVE

    return action


def _always(step):
    return ProfilerAction.RECORD


_RECORDING = (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)


class profile:
    """Record Ember's ops (forward and backward), layers, engine work and optimizer steps inside a block.

    Arguments are torch.profiler.profile's. ``record_shapes`` keeps each op's input shapes (rows split by
    shape with ``key_averages(group_by_input_shape=True)``); ``profile_memory`` counts the bytes of the arrays
    each op returns (allocations, not frees: Ember does not see NumPy's allocator); ``with_stack`` keeps the
    innermost user frames of each op (``key_averages(group_by_stack_n=5)``). ``with_flops`` is not
    measured (a warning says so); ``with_modules`` is always on (the layer view).
    """

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None, record_shapes=False,
                 profile_memory=False, with_stack=False, with_flops=False, with_modules=False,
                 experimental_config=None, execution_trace_observer=None, acc_events=False, use_cuda=None,
                 custom_trace_id_callback=None, keep_events=True):
        activities = set(activities) if activities is not None else supported_activities()
        for a in activities:
            if not isinstance(a, ProfilerActivity):
                raise TypeError(f"profile(activities=...): expected ProfilerActivity members, got {a!r}")
        if activities - supported_activities() or use_cuda:
            warnings.warn("ember.profiler: Ember times host (CPU) work only; device activities are measured as the "
                          "host time of the ops that launch them", stacklevel=2)
        if with_flops:
            warnings.warn("ember.profiler: with_flops is not measured by Ember (use ember.summary(model, shape) for "
                          "MACs per layer)", stacklevel=2)
        self.activities = activities
        self.schedule = schedule or _always
        self.has_schedule = schedule is not None
        self.on_trace_ready = on_trace_ready
        self.record_shapes, self.profile_memory, self.with_stack = record_shapes, profile_memory, with_stack
        self.keep_events = keep_events
        self.step_num = 0
        self.recorder = None  # the record of the current (or last) active cycle
        self._installed = False
        self._previous = None
        self._step_token = None
        self._action = ProfilerAction.NONE
        self._started = False

    # ---- starting and stopping -----------------------------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        if self._started:
            raise RuntimeError("ember.profiler.profile: start() called twice; use one profile per block")
        self._started = True
        self._action = self.schedule(self.step_num)
        if self._action in _RECORDING:
            self._record()

    def stop(self):
        if not self._started:
            return
        was_recording = self._installed
        self._uninstall()
        self._started = False
        if was_recording and self.on_trace_ready is not None:
            self.on_trace_ready(self)

    def step(self):
        """The end of one training step: the schedule decides whether the next one is recorded."""
        previous = self._action
        self.step_num += 1
        self._action = self.schedule(self.step_num)
        if previous in _RECORDING and self._action not in _RECORDING:
            self._uninstall()
        elif previous == ProfilerAction.RECORD_AND_SAVE:  # the next cycle starts right away: a fresh record
            self._uninstall()
        elif self._installed:
            self._close_step()
            self._open_step()
        if previous == ProfilerAction.RECORD_AND_SAVE and self.on_trace_ready is not None:
            self.on_trace_ready(self)
        if self._action in _RECORDING and not self._installed:
            self._record()

    def _record(self):
        self.recorder = Recorder(self.record_shapes, self.profile_memory, self.with_stack, self.keep_events)
        self._previous = profiling.recorder  # (an EMBER_PROFILE run: this block takes over, then gives back)
        profiling.recorder = self.recorder
        self._installed = True
        self._open_step()

    def _uninstall(self):
        if not self._installed:
            return
        self._close_step()
        profiling.recorder = self._previous
        self._previous = None
        self._installed = False

    def _open_step(self):
        if self.has_schedule:  # torch's ProfilerStep#N rows: one per recorded step
            self._step_token = (f"ProfilerStep#{self.step_num}", self.recorder.begin())

    def _close_step(self):
        if self._step_token is not None:
            name, token = self._step_token
            self.recorder.end(name, LABEL, token)
            self._step_token = None

    # ---- results -------------------------------------------------------------------------------------------

    def _require(self):
        if self.recorder is None:
            raise RuntimeError("ember.profiler: nothing was recorded yet (run code inside `with profile() as prof:`, "
                               "or, with a schedule, reach an active step)")
        return self.recorder

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0, group_by=None):
        """One row per event name (torch's FunctionEventAvg); ``group_by="op"``: one row per Function with its
        forward and backward time side by side; ``group_by="layer"``: one row per module path."""
        rec = self._require()
        if group_by == "layer":
            return layer_rows(rec.layers, self.self_cpu_time_total, self.record_shapes)
        if group_by == "op":
            return op_rows(rec.stats, self.self_cpu_time_total)
        if group_by is not None:
            raise ValueError(f"key_averages(group_by={group_by!r}): expected None (one row per op and backward node), "
                             "'op' (one row per Function, forward and backward side by side) or 'layer' (one row "
                             "per module path)")
        if group_by_input_shape and not self.record_shapes:
            raise ValueError("key_averages(group_by_input_shape=True) needs profile(record_shapes=True)")
        if group_by_stack_n and not self.with_stack:
            raise ValueError("key_averages(group_by_stack_n=...) needs profile(with_stack=True)")
        merged = {}
        for (name, shapes, stack), s in rec.stats.items():
            stack = (stack or ())[:group_by_stack_n] if group_by_stack_n else None
            key = (name, shapes if group_by_input_shape else None, stack)
            row = merged.get(key)
            if row is None:
                row = merged[key] = [s.kind, 0, 0, 0, 0, 0, key[1], key[2]]
            row[1] += s.count
            row[2] += s.total
            row[3] += s.self_time
            row[4] += s.memory
            row[5] += s.self_memory
        rows = [FunctionEventAvg(k[0], kind, count, total, self_ns, shapes, memory, self_memory, stack)
                for k, (kind, count, total, self_ns, memory, self_memory, shapes, stack) in merged.items()]
        return EventList(rows, self.profile_memory, group_by_input_shape, self.with_stack)

    def layer_table(self, sort_by=None, row_limit=100, **kwargs):
        """The per-layer table (``key_averages(group_by="layer").table(...)``): in model order when unsorted."""
        return self.key_averages(group_by="layer").table(sort_by=sort_by, row_limit=row_limit, **kwargs)

    @property
    def self_cpu_time_total(self):
        """Microseconds covered by the recorded events (the sum of their self times)."""
        return sum(s.self_time for s in self._require().stats.values()) / 1e3

    def events(self):
        """Every recorded event (op, backward node, engine work, label; not module calls) in order."""
        rec = self._require()
        if rec.events is None:
            raise RuntimeError("ember.profiler: this profile kept sums only (keep_events=False), no single events")
        return EventList([FunctionEvent(*e) for e in rec.events if e[1] != MODULE], self.profile_memory,
                         self.record_shapes, self.with_stack)

    def export_chrome_trace(self, path):
        """Write the events as Chrome trace JSON (chrome://tracing, https://ui.perfetto.dev), atomically.
        Module calls are slices named ``nn.Module: layer1.0.conv1``, enclosing their ops."""
        from ..serialization import write_atomically

        rec = self._require()
        if rec.events is None:
            raise RuntimeError("ember.profiler: this profile kept sums only (keep_events=False): no trace to export")
        pid, tid = os.getpid(), rec.thread
        trace = []
        for name, kind, start, total, self_ns, shapes, layer, memory, stack in sorted(rec.events, key=lambda e: e[2]):
            args = {}
            if shapes is not None:
                args["Input Dims"] = [list(s) for s in shapes]
            if layer and kind != MODULE:
                args["layer"] = layer
            if memory:
                args["bytes"] = memory
            if stack:
                args["stack"] = list(stack)
            trace.append({"name": f"nn.Module: {name}" if kind == MODULE else name, "cat": kind, "ph": "X",
                          "ts": (start - rec.start_ns) / 1e3, "dur": total / 1e3, "pid": pid, "tid": tid,
                          "args": args})
        document = {"traceEvents": trace, "displayTimeUnit": "ms",
                    "otherData": {"profiler": "ember.profiler", "clock": "time.perf_counter_ns"}}
        data = json.dumps(document).encode()
        write_atomically(os.fspath(path), lambda f: f.write(data))
        return path


def tensorboard_trace_handler(dir_name, worker_name=None, use_gzip=False):
    """An ``on_trace_ready`` that writes each cycle's Chrome trace to ``dir_name/WORKER.TIME.pt.trace.json``."""
    if use_gzip:
        raise ValueError("tensorboard_trace_handler(use_gzip=True): Ember writes plain JSON traces")

    def handler(prof):
        import socket

        os.makedirs(dir_name, exist_ok=True)
        worker = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        prof.export_chrome_trace(os.path.join(dir_name, f"{worker}.{time.time_ns() // 1_000_000}.pt.trace.json"))

    return handler


class record_function(contextlib.ContextDecorator):
    """Label a block (or, as a decorator, a function): while a profile runs, its time is one row named
    ``name``, and the ops inside it are its children (they leave its self time)."""

    def __init__(self, name, args=None):
        self.name = name if args is None else f"{name}: {args}"
        self._tokens = []

    def __enter__(self):
        rec = profiling.recorder
        self._tokens.append((rec, rec.begin() if rec is not None else None))
        return self

    def __exit__(self, *exc):
        rec, token = self._tokens.pop()
        if rec is not None and rec is profiling.recorder:
            rec.end(self.name, LABEL, token)
        return False

