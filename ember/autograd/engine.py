"""The backward engine: reverse-mode differentiation over the graph of Function contexts.

1. Sort the nodes that lead to the output in topological order (iteratively: a chain of 20,000 ops must
   not hit Python's recursion limit).
2. Walk them from the output back to the leaves. Each node receives the sum of the gradients its
   consumers sent (a value that fans out gets the sum of its paths), calls its Function's backward,
   and passes one gradient to each input.
3. A gradient whose shape differs from its input's was broadcast in forward: ``unbroadcast`` sums it
   back, here and nowhere else.
4. Leaves accumulate into ``.grad``; everything forward saved is freed unless ``retain_graph=True``.
"""

import weakref

from .. import parallel
from ..backend import writeable, xp
from . import anomaly, profiling
from .hooks import PostAccumulate, _callbacks, leaf_hooks, run_hooks, run_queued_callbacks


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``: over the leading axes broadcasting added, and over axes that were 1."""
    if grad.shape == tuple(shape):
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    ones = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if ones:
        grad = grad.sum(axis=ones, keepdims=True)
    return grad.reshape(shape)


def _topological_order(roots):
    """Contexts reachable from ``roots``, each after all the contexts that produced its inputs."""
    order, visited, stack = [], set(), [(root, False) for root in roots]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        for parent in node.parents:
            if parent is not None and parent._ctx is not None and parent._ctx not in visited:
                stack.append((parent._ctx, False))
    return order


def _zeros_for(node, index):
    """The gradient of an output nobody used: zeros (None for integer outputs, which carry no gradient,
    and for a custom Function that asked ``ctx.set_materialize_grads(False)``)."""
    shape, dtype = node.outputs_meta[index]
    if dtype is None or dtype.kind != "f" or not getattr(node, "materialize_grads", True):
        return None
    return xp.zeros(shape, dtype=dtype)


def _seed(tensor, gradient):
    if not tensor.requires_grad:
        raise RuntimeError(
            "backward(): this tensor does not require grad and has no grad_fn. Create the inputs with "
            "requires_grad=True (parameters do so already) and do not run the forward under no_grad()."
        )
    if gradient is None:
        if tensor.array.size != 1:
            raise RuntimeError(
                f"backward(): grad can be implicitly created only for scalar outputs, but the output has "
                f"shape {tuple(tensor.shape)}. Pass gradient= of that shape, or reduce it first (loss.sum())."
            )
        return xp.ones_like(tensor.array)
    seed = xp.asarray(getattr(gradient, "array", gradient), dtype=tensor.dtype)
    if seed.shape != tensor.shape:
        raise RuntimeError(f"backward(): gradient has shape {seed.shape} but the output has shape {tuple(tensor.shape)}.")
    return seed


def backward(tensor, gradient=None, retain_graph=False, inputs=None):
    """Accumulate d(tensor)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

    ``gradient`` (an array of the tensor's shape) is the upstream gradient; it defaults to 1 for a scalar.
    ``inputs`` limits the accumulation to those tensors (torch's ``backward(inputs=...)``).
    """
    if inputs is None:
        run([(tensor, _seed(tensor, gradient))], retain_graph)
        return
    inputs = (inputs,) if hasattr(inputs, "array") else tuple(inputs)
    grads = run([(tensor, _seed(tensor, gradient))], retain_graph, capture=inputs)
    for t, g in zip(inputs, grads):
        if g is not None:
            t._accumulate_grad(g.copy())


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=None,
         materialize_grads=False):
    """d(outputs)/d(inputs), returned as a tuple of Tensors without touching any ``.grad``
    (``torch.autograd.grad``). Several outputs add their contributions (with their ``grad_outputs``)."""
    if create_graph:
        raise NotImplementedError(
            "ember.autograd.grad(create_graph=True): Ember's backward runs on arrays and does not record a graph "
            "of the gradient computation, so higher-order gradients are not available"
        )
    outputs = (outputs,) if hasattr(outputs, "array") else tuple(outputs)
    single = hasattr(inputs, "array")
    inputs = (inputs,) if single else tuple(inputs)
    if grad_outputs is None or hasattr(grad_outputs, "array"):
        grad_outputs = (grad_outputs,) * len(outputs) if grad_outputs is None else (grad_outputs,)
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (index {i}) does not require grad")
    grads = run([(o, _seed(o, g)) for o, g in zip(outputs, grad_outputs)], bool(retain_graph), capture=inputs)
    from ..tensor import Tensor  # tensor.py imports this module, so Tensor is looked up at call time

    result = []
    for i, (t, g) in enumerate(zip(inputs, grads)):
        if g is None:
            if materialize_grads:
                g = xp.zeros_like(t.array)
            elif not allow_unused:
                raise RuntimeError(
                    f"One of the differentiated Tensors (index {i}) appears to not have been used in the graph. "
                    "Set allow_unused=True if this is the desired behavior."
                )
        result.append(None if g is None else Tensor(g))
    return tuple(result)


def run(roots, retain_graph=False, capture=None):
    """The backward pass from ``roots`` (pairs of output tensor and its upstream gradient).

    Without ``capture``, leaves accumulate into ``.grad``. With ``capture`` (a sequence of tensors), nothing
    touches ``.grad``: the gradients reaching those tensors are returned instead, in order (None if none).
    """
    parallel.op_enter()  # BLAS rests on one thread unless an op asks for every core (see ember/parallel.py)
    prof = profiling.recorder  # the profiler, when one runs: it times each node and the engine's own work
    if prof is not None:
        started = prof.begin()
    pending = {}  # node -> {output index: gradient summed so far}
    # Memory (ids of base arrays) that a leaf's .grad may not share: the caller's gradient, and every buffer
    # already stored as some leaf's .grad in this pass. Backward passes views on (reshape, transpose, the
    # add gate's two identical outputs), so comparing the arrays themselves would miss a view of a buffer.
    handed = {id(_base(seed)) for _, seed in roots}
    captured = {}  # id(tensor) -> gradient, for capture mode
    wanted = {id(t): t for t in capture} if capture is not None else None
    hooked = {}  # id(leaf with hooks) -> (leaf, gradient summed so far), handed over after the walk
    post = PostAccumulate()  # leaves with post-accumulate hooks, fired as their last gradient arrives
    by_node = {}  # non-leaf captured tensors: node -> {output index: tensor}
    owned = set()  # (node, output index) whose pending gradient is a sum in a buffer this pass allocated
    for t in capture or ():
        if t._ctx is not None:
            by_node.setdefault(t._ctx, {})[t._out_index] = t

    def deliver(parent, grad):
        if grad.shape != parent.array.shape:
            grad = unbroadcast(grad, parent.array.shape)
        if grad.dtype != parent.array.dtype:
            grad = grad.astype(parent.array.dtype)
        if parent._ctx is None:
            if leaf_hooks(parent):  # a leaf's hooks see the sum over every path: wait for all of them
                held = hooked.get(id(parent))
                hooked[id(parent)] = (parent, grad if held is None else held[1] + grad)
                return
            accumulate(parent, grad)
            return
        slots = pending.setdefault(parent._ctx, {})
        i = parent._out_index
        if i not in slots:
            slots[i] = grad
            return
        # A value with several consumers: the first sum gets a new buffer (the first two gradients may be
        # another node's arrays, or one array twice), which is this engine's own, so later sums add into it.
        key = (parent._ctx, i)
        if key in owned:
            slots[i] = _sum(slots[i], grad, slots[i])
        else:
            slots[i] = _sum(slots[i], grad)
            owned.add(key)

    def accumulate(parent, grad):
        if wanted is not None:
            if id(parent) in wanted:
                captured[id(parent)] = grad if id(parent) not in captured else captured[id(parent)] + grad
            return
        if id(_base(grad)) in handed or not writeable(grad):
            grad = grad.copy()
        handed.add(id(_base(grad)))
        parent._accumulate_grad(grad)
        post.received.add(id(parent))

    callbacks_from = len(_callbacks)  # this pass runs the callbacks queued from here on (queue_callback)
    nodes = []
    for tensor, seed in roots:
        if tensor._ctx is None:  # backward() on a leaf: d(leaf)/d(leaf) = gradient
            deliver(tensor, seed)
            continue
        tensor._ctx.check_alive()
        slots = pending.setdefault(tensor._ctx, {})
        i = tensor._out_index
        slots[i] = seed if i not in slots else slots[i] + seed
        nodes.append(tensor._ctx)

    if prof is not None:
        sort_started = prof.begin()
    order = _topological_order(nodes)
    if wanted is None:  # grad(...) accumulates nothing, so it fires no post-accumulate hooks
        post.count(order)
    if prof is not None:
        prof.end("autograd::engine::topological_sort", "engine", sort_started)
    for node in reversed(order):
        slots = pending.pop(node, None)
        if slots is None:  # no consumer sent a gradient this way
            continue
        node.check_alive()
        n_out = len(node.outputs_meta) if hasattr(node, "outputs_meta") else 1
        tensor_hooks = getattr(node, "tensor_hooks", None)
        if tensor_hooks:  # hooks of non-leaf tensors see (and may replace) the gradient before anything else
            for i, store in tensor_hooks.items():
                if i in slots and store:
                    slots[i] = run_hooks(store, slots[i])
        grads = [slots[i] if i in slots else _zeros_for(node, i) for i in range(n_out)]
        for i, t in by_node.get(node, {}).items():
            if i in slots:
                captured[id(t)] = slots[i]
        retained = getattr(node, "retained", None)
        if retained and wanted is None:
            for i, ref in retained.items():
                t = ref()
                if t is not None and i in slots:
                    t._accumulate_grad(slots[i].copy())
        if anomaly.enabled:
            input_grads = _backward_watched(node, grads)
        elif prof is not None:
            input_grads = prof.backward(node, grads)
        else:
            input_grads = node.function.run_backward(node, *grads)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        parents = node.parents
        if not retain_graph:
            node.release()
        if prof is not None:
            deliver_started = prof.begin()
        for parent, grad in zip(parents, input_grads):
            if parent is not None and grad is not None and parent.requires_grad:
                deliver(parent, grad)
        post.sent(parents, hooked)
        if prof is not None:
            prof.end("autograd::engine::accumulate_grad", "engine", deliver_started)
    for parent, grad in hooked.values():
        accumulate(parent, run_hooks(leaf_hooks(parent), grad))
    post.finish()
    run_queued_callbacks(callbacks_from)
    if prof is not None:
        prof.end("autograd::engine::backward", "engine", started)
    if capture is not None:
        return [captured.get(id(t)) for t in capture]
    return None


def _sum(a, b, out=None):
    """a + b; into ``out`` (``a``, a buffer the engine owns) when given and the shapes and dtypes allow it.

    (Cutting large sums into chunks on the thread pool was tried for issue 11 and measured slower inside a
    ResNet-20 step on the shared 2-core machine, so the sum is one NumPy call.)"""
    if (isinstance(out, xp.ndarray) and xp.result_type(a, b) == out.dtype  # a NumPy scalar is no buffer
            and xp.broadcast_shapes(a.shape, b.shape) == out.shape):
        return xp.add(a, b, out=out)
    return a + b


def _backward_watched(node, grads):
    """A node's backward in anomaly mode: its gradients are checked for NaN, and any failure shows where
    the node's forward ran."""
    try:
        input_grads = node.function.run_backward(node, *grads)
        anomaly.check_gradients(node, input_grads if isinstance(input_grads, tuple) else (input_grads,))
    except Exception:
        anomaly.warn_forward(node)
        raise
    return input_grads


def _base(array):
    """The array that owns the memory ``array`` views (the array itself when it owns its memory)."""
    while isinstance(array.base, xp.ndarray):
        array = array.base
    return array


def retain_grad(tensor):
    """Ask the engine to also store the gradient of a non-leaf tensor in its ``.grad``."""
    node = tensor._ctx
    if not hasattr(node, "retained"):
        node.retained = {}
    node.retained[tensor._out_index] = weakref.ref(tensor)
