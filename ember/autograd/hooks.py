"""Tensor hooks: ``t.register_hook(fn)`` calls ``fn(grad)`` when the gradient of ``t`` has been computed.

As in torch, a hook may return a replacement gradient (or None to keep it, including any in-place change it
made). A leaf's hooks run before the gradient is accumulated into ``.grad``; a non-leaf's hooks run on the
sum of what its consumers sent, before its Function's backward and before ``retain_grad`` stores it (so a
retained ``.grad`` is the gradient after the hooks). The hooks of a non-leaf live on the node that made it
(torch keeps them on ``grad_fn``), those of a leaf on the tensor itself.

A leaf's *post-accumulate* hooks (``register_post_accumulate_grad_hook``) run once its ``.grad`` holds this
backward's whole gradient — as soon as the last node that sends it a gradient has run, while the rest of
the backward pass goes on. DistributedDataParallel starts averaging a bucket of gradients there, so that
communication overlaps the remaining backward computation. ``queue_callback`` runs a function at the end of
the current backward pass (DDP waits for its buckets there).
"""

from .grad_mode import no_grad


class RemovableHandle:
    """What ``register_hook`` returns: ``handle.remove()`` takes the hook away again (also a context manager)."""

    _next_id = 0

    def __init__(self, store, hook):
        self.store, self.id = store, RemovableHandle._next_id
        RemovableHandle._next_id += 1
        store[self.id] = hook

    def remove(self):
        self.store.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def register_hook(tensor, hook):
    """Register ``hook(grad) -> Tensor or None`` on ``tensor``; returns a ``RemovableHandle``."""
    if not tensor.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if not callable(hook):
        raise TypeError(f"register_hook(): expected a callable hook, got {type(hook).__name__}")
    if tensor._ctx is None:
        store = getattr(tensor, "_hooks", None)
        if store is None:
            store = tensor._hooks = {}
    else:
        node = tensor._ctx
        if not hasattr(node, "tensor_hooks"):
            node.tensor_hooks = {}
        store = node.tensor_hooks.setdefault(tensor._out_index, {})
    return RemovableHandle(store, hook)


def run_hooks(store, grad):
    """Pass the gradient array ``grad`` through the hooks in ``store`` in registration order; returns an array."""
    if not store:
        return grad
    from ..tensor import Tensor  # tensor.py imports autograd, so Tensor is looked up at call time

    with no_grad():
        for hook in list(store.values()):
            current = Tensor(grad.copy())  # a copy: the engine may hand the same array to several inputs
            result = hook(current)
            if result is None:
                grad = current.array
            else:
                replacement = getattr(result, "array", result)
                if replacement.shape != grad.shape:
                    raise RuntimeError(
                        f"hook returned a gradient of shape {tuple(replacement.shape)} but the tensor has shape "
                        f"{tuple(grad.shape)}; a hook must return a tensor of the gradient's shape (or None)"
                    )
                grad = replacement.astype(grad.dtype, copy=False)
    return grad


def leaf_hooks(tensor):
    return getattr(tensor, "_hooks", None)


_post_hooks_seen = [False]  # set by the first registration: until then the engine skips the bookkeeping


def register_post_accumulate_grad_hook(tensor, hook):
    """Register ``hook(tensor)`` to run after the gradient is accumulated into the leaf ``tensor``'s ``.grad``."""
    if tensor._ctx is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    if not tensor.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if not callable(hook):
        raise TypeError(f"register_post_accumulate_grad_hook(): expected a callable hook, got {type(hook).__name__}")
    store = getattr(tensor, "_post_hooks", None)
    if store is None:
        store = tensor._post_hooks = {}
    _post_hooks_seen[0] = True
    return RemovableHandle(store, hook)


class PostAccumulate:
    """The leaves of one backward pass that have post-accumulate hooks, and how many nodes have yet to send
    each of them a gradient (counted over the nodes about to run, ``order``)."""

    def __init__(self):
        self.waiting = {}  # id(leaf) -> [leaf, edges still to come]
        self.received = set()  # ids of leaves whose .grad got a gradient in this pass

    def count(self, order):
        if not _post_hooks_seen[0]:
            return
        for node in order:
            for parent in node.parents:
                if parent is not None and parent._ctx is None and getattr(parent, "_post_hooks", None):
                    self.waiting.setdefault(id(parent), [parent, 0])[1] += 1

    def sent(self, parents, deferred):
        """The node whose inputs are ``parents`` has run; fire the hooks of leaves that now have everything
        (not those in ``deferred``, whose gradient waits for their pre-hooks at the end of the pass)."""
        if not self.waiting:
            return
        for parent in parents:
            entry = self.waiting.get(id(parent))
            if entry is not None:
                entry[1] -= 1
                if entry[1] == 0 and id(parent) not in deferred:
                    del self.waiting[id(parent)]
                    self._fire(parent)

    def finish(self):
        """End of the pass: the leaves some of whose senders never ran (they got no gradient that way)."""
        for leaf, _ in list(self.waiting.values()):
            self._fire(leaf)
        self.waiting.clear()

    def _fire(self, leaf):
        if id(leaf) in self.received:
            with no_grad():
                for hook in list(leaf._post_hooks.values()):
                    hook(leaf)


_callbacks = []  # the current backward pass's queue (see queue_callback)


def queue_callback(callback):
    """Run ``callback()`` once the current backward pass has finished (torch's engine ``queue_callback``)."""
    if not callable(callback):
        raise TypeError(f"queue_callback: expected a callable, got {type(callback).__name__}")
    _callbacks.append(callback)


def run_queued_callbacks(start):
    """Run (and remove) the callbacks queued since position ``start`` of the queue."""
    while len(_callbacks) > start:
        _callbacks.pop(start)()
