"""The recorder: what runs while a profile is on, installed as ``ember.autograd.profiling.recorder``.

Every timed thing is an *event*: a forward op (``Conv2d``), a backward node (``Conv2dBackward0``), the
engine's own work, an optimizer step, a ``record_function`` label. Events nest: a label holds ops, a custom
Function's forward holds the ops it calls. An event's *total* time runs from its start to its end; its
*self* time is the total less the totals of the events directly inside it, so the self times of all events
add up to the time covered, with nothing counted twice.

Layers are kept apart from events. A module call does not nest as an event (its time would otherwise be
taken out of an enclosing label's self time); it only names the layer the ops inside it belong to. The
layer of an op is the innermost module running when the op's forward runs; a backward node inherits the
layer of the forward that created it (the name is stored on the graph node), so a layer's backward time
is the time of the nodes its forward created.

Only the thread that started the profile is recorded: the stacks below describe one call stack. In
anomaly mode (``ember.autograd.detect_anomaly``) the backward nodes run with their NaN checks and are not
timed one by one; their time shows in the engine's ``autograd::engine::backward`` row.
"""

import threading
import time

from ..tensor import Tensor

FORWARD, BACKWARD, ENGINE, OPTIMIZER, LABEL, MODULE = "forward", "backward", "engine", "optimizer", "label", "module"


class OpStat:
    """The running sums of one row of ``key_averages``: one event name (with its input shapes, if kept)."""

    __slots__ = ("name", "kind", "shapes", "stack", "count", "total", "self_time", "memory", "self_memory")

    def __init__(self, name, kind, shapes, stack):
        self.name, self.kind, self.shapes, self.stack = name, kind, shapes, stack
        self.count = self.total = self.self_time = self.memory = self.self_memory = 0


class LayerStat:
    """The running sums of one layer (a module path such as ``layer1.0.conv1``)."""

    __slots__ = ("path", "type", "root", "order", "shapes", "count", "forward", "self_forward", "backward",
                 "backward_calls")

    def __init__(self, path, type_name, root, order):
        self.path, self.type, self.root, self.order, self.shapes = path, type_name, root, order, None
        self.count = self.forward = self.self_forward = self.backward = self.backward_calls = 0


class Recorder:
    """Collects events while installed; ``keep_events`` also keeps each one (for traces and ``events()``).

    Times are integers of nanoseconds from ``time.perf_counter_ns``.
    """

    def __init__(self, record_shapes=False, profile_memory=False, with_stack=False, keep_events=True):
        self.record_shapes, self.profile_memory, self.with_stack = record_shapes, profile_memory, with_stack
        self.thread = threading.get_ident()
        self.start_ns = time.perf_counter_ns()
        self.stats = {}  # (name, shapes, stack) -> OpStat
        self.layers = {}  # path -> LayerStat
        self.events = [] if keep_events else None  # (name, kind, start, total, self, shapes, layer, memory, stack)
        self.open = []  # per open event: [time of the events inside it, memory of the events inside it]
        self.modules = []  # per running module: [path, time of the modules inside it, root entry]
        self.roots = {}  # id(root module with children) -> (module, label, {id(child): name}, prefix)
        self.root_labels = {}  # label -> count, to tell two roots of one class apart

    # ---- timing primitives -------------------------------------------------------------------------------

    def begin(self):
        """Open an event: a token to pass to ``end`` (None on another thread: nothing is recorded)."""
        if threading.get_ident() != self.thread:
            return None
        depth = len(self.open)
        self.open.append([0, 0])
        return (time.perf_counter_ns(), depth)

    def end(self, name, kind, token, shapes=None, layer="", memory=0):
        """Close the event opened by ``begin`` (events left open inside it by an exception are dropped)."""
        now = time.perf_counter_ns()
        if token is None:
            return
        start, depth = token
        inner_time, inner_memory = self.open[depth]
        del self.open[depth:]
        total = now - start
        if self.open:
            outer = self.open[-1]
            outer[0] += total
            outer[1] += memory + inner_memory
        stack = _user_stack() if self.with_stack and kind in (FORWARD, LABEL) else None
        key = (name, shapes, stack)
        stat = self.stats.get(key)
        if stat is None:
            stat = self.stats[key] = OpStat(name, kind, shapes, stack)
        stat.count += 1
        stat.total += total
        stat.self_time += total - inner_time
        stat.memory += memory + inner_memory
        stat.self_memory += memory
        if self.events is not None:
            self.events.append((name, kind, start, total, total - inner_time, shapes, layer, memory, stack))
        return total

    def scope(self, name, kind=LABEL):
        return _Scope(self, name, kind)

    # ---- hooks called by autograd and nn -------------------------------------------------------------------

    def forward(self, cls, body, args, kwargs):
        """Run ``body(cls, args, kwargs)`` (Function.apply's work) as one forward event."""
        token = self.begin()
        if token is None:
            return body(cls, args, kwargs)
        try:
            out = body(cls, args, kwargs)
        except BaseException:
            del self.open[token[1]:]
            raise
        layer = self.modules[-1][0] if self.modules else ""
        first = out[0] if isinstance(out, tuple) and out else out
        ctx = getattr(first, "_ctx", None)
        if ctx is not None and layer:
            ctx.profiler_layer = layer  # the backward node reports to the same layer
        shapes = _shapes(args) if self.record_shapes else None
        memory = _nbytes(out) if self.profile_memory else 0
        self.end(cls.__name__, FORWARD, token, shapes, layer, memory)
        return out

    def backward(self, node, grads):
        """Run one graph node's backward as one backward event (named as torch names it: ``MulBackward0``)."""
        token = self.begin()
        if token is None:
            return node.function.run_backward(node, *grads)
        try:
            out = node.function.run_backward(node, *grads)
        except BaseException:
            del self.open[token[1]:]
            raise
        layer = node.__dict__.get("profiler_layer", "")
        shapes = tuple(() if g is None else tuple(g.shape) for g in grads) if self.record_shapes else None
        memory = _nbytes(out) if self.profile_memory else 0
        total = self.end(node.name(), BACKWARD, token, shapes, layer, memory)
        if layer:
            stat = self.layers.get(layer) or self._layer(layer, "", "")
            stat.backward += total
            stat.backward_calls += 1
        return out

    def module(self, module, body, args, kwargs):
        """Run ``body(module, args, kwargs)`` (Module.__call__'s work) with the module named as the layer."""
        if threading.get_ident() != self.thread:
            return body(module, args, kwargs)
        path, root = self._path(module)
        stat = self.layers.get(path) or self._layer(path, type(module).__name__, root[1])
        frame = [path, 0, root]
        depth = len(self.modules)
        self.modules.append(frame)
        start = time.perf_counter_ns()
        try:
            out = body(module, args, kwargs)
        finally:
            del self.modules[depth:]
        total = time.perf_counter_ns() - start
        if self.modules:
            self.modules[-1][1] += total
        stat.count += 1
        stat.forward += total
        stat.self_forward += total - frame[1]
        if self.record_shapes and stat.shapes is None:
            stat.shapes = _shapes(args)
        if self.events is not None:
            self.events.append((path, MODULE, start, total, total - frame[1], None, path, 0, None))
        return out

    # ---- layer names ---------------------------------------------------------------------------------------

    def _layer(self, path, type_name, root):
        stat = self.layers[path] = LayerStat(path, type_name, root, len(self.layers))
        return stat

    def _path(self, module):
        """The module's name as ``named_modules`` gives it from the outermost module running (the root,
        named by its class: ``ResNet``), and the root's entry."""
        if not self.modules:
            entry = self.roots.get(id(module))
            if entry is None and not module._modules:  # a loss or a layer called alone: one row per class
                label = type(module).__name__          # (nothing kept: such modules are often made per call)
                return label, (None, label, {}, "")
            if entry is None:
                label = type(module).__name__
                seen = self.root_labels.get(label, 0)
                self.root_labels[label] = seen + 1
                if seen:
                    label = f"{label}#{seen + 1}"
                # The first root with children owns the bare names (layer1.0.conv1); another root's
                # children are prefixed with its label, so two models never share a row.
                owners = [e for e in self.roots.values() if e[2]]
                names = {id(m): n for n, m in module.named_modules() if n}
                entry = self.roots[id(module)] = (module, label, names, f"{label}." if owners and names else "")
            return entry[1], entry
        parent_path, _, root = self.modules[-1]
        name = root[2].get(id(module))
        if name is None:  # a module outside the root's tree (made on the fly): named under its caller
            return f"{parent_path}.{type(module).__name__}", root
        return root[3] + name, root


class _Scope:
    """``with recorder.scope(name):`` — one event around a block."""

    __slots__ = ("recorder", "name", "kind", "token")

    def __init__(self, recorder, name, kind):
        self.recorder, self.name, self.kind = recorder, name, kind

    def __enter__(self):
        self.token = self.recorder.begin()
        return self

    def __exit__(self, *exc):
        self.recorder.end(self.name, self.kind, self.token)
        return False


def _shapes(args):
    """torch's "Input Shapes": one list per argument, empty for what is not a tensor."""
    return tuple(tuple(a.array.shape) if isinstance(a, Tensor) else tuple(getattr(a, "shape", ())) for a in args)


def _nbytes(out):
    """Bytes of the arrays an op returned (Tensors or arrays, one or several)."""
    items = out if isinstance(out, (tuple, list)) else (out,)
    total = 0
    for item in items:
        array = item.array if isinstance(item, Tensor) else item
        total += getattr(array, "nbytes", 0)
    return total


def _user_stack(limit=5):
    """The innermost frames outside the ember package, as ``file.py(12): function`` strings."""
    import traceback

    from ..autograd.anomaly import _PACKAGE

    frames = [f for f in traceback.extract_stack() if not f.filename.startswith(_PACKAGE)]
    return tuple(f"{f.filename}({f.lineno}): {f.name}" for f in reversed(frames[-limit:]))
