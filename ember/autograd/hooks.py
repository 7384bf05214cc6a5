"""Tensor hooks: ``t.register_hook(fn)`` calls ``fn(grad)`` when the gradient of ``t`` has been computed.

As in torch, a hook may return a replacement gradient (or None to keep it, including any in-place change it
made). A leaf's hooks run before the gradient is accumulated into ``.grad``; a non-leaf's hooks run on the
sum of what its consumers sent, before its Function's backward and before ``retain_grad`` stores it (so a
retained ``.grad`` is the gradient after the hooks). The hooks of a non-leaf live on the node that made it
(torch keeps them on ``grad_fn``), those of a leaf on the tensor itself.
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
