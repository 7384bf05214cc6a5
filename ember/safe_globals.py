"""The globals a program trusts (``torch.serialization.add_safe_globals`` / ``safe_globals``), and how a name
recorded in a file is resolved to a class: an allowlisted one, one of Ember's own layers, or — under
``load(weights_only=False)`` — the program's own ``nn.Module`` classes. Used by ``ember.serialization``."""

import contextvars
import importlib
import types

from .safe_pickle import Call, UnsafePickleError

_safe_globals = []


def add_safe_globals(safe_globals):
    """Allow these classes/functions (or ``(obj, "module.name")`` pairs) in the PyTorch files ``load`` reads.

    As in torch, an allowed global may be called by the file (``REDUCE``), a class instantiated with
    ``cls.__new__`` (``NEWOBJ``) and given its state (``__setstate__`` or ``__dict__``): allow only what
    you trust. They are matched by ``module.qualname``; the file can never reach anything else.
    """
    for entry in safe_globals:
        obj, name = entry if isinstance(entry, tuple) else (entry, None)
        if not callable(obj):
            raise TypeError(f"add_safe_globals: expected classes or functions, got {type(obj).__name__}")
        _safe_globals.append((obj, name or f"{obj.__module__}.{obj.__qualname__}"))


def get_safe_globals():
    """The globals added with :func:`add_safe_globals`, in order."""
    return [obj if name == f"{obj.__module__}.{obj.__qualname__}" else (obj, name) for obj, name in _safe_globals]


def clear_safe_globals():
    """Forget every global added with :func:`add_safe_globals`."""
    _safe_globals.clear()


class safe_globals:
    """``with ember.serialization.safe_globals([MyClass]):`` — allow globals for the block only."""

    def __init__(self, safe_globals):
        self.safe_globals = list(safe_globals)

    def __enter__(self):
        self.saved = list(_safe_globals)
        add_safe_globals(self.safe_globals)

    def __exit__(self, *exc):
        _safe_globals[:] = self.saved


# Set by load(weights_only=False): the program's own nn.Module classes may be looked up by their module path.
_trusted = contextvars.ContextVar("ember_serialization_trusted", default=False)


def _resolve_global(full):
    """The class or function an Ember file names: one allowlisted with :func:`add_safe_globals`, or one of
    Ember's own layers and functions; anything else is refused before any object is built."""
    for obj, name in _safe_globals:
        if name == full:
            return obj
    if full.startswith("ember.") or _trusted.get():
        parts = full.split(".")
        for cut in range(len(parts) - 1, 0, -1):  # the longest importable module prefix, then attributes
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            for attr in parts[cut:]:
                obj = getattr(obj, attr, None)
            from .nn.module import Module

            if (isinstance(obj, type) and issubclass(obj, Module)) or (
                    isinstance(obj, types.FunctionType) and obj.__module__.startswith("ember.")):
                return obj
            break
    short = full.rpartition(".")[2]
    raise UnsafePickleError(
        f"ember.load: the file holds a {full}, which is not an allowed global: Ember rebuilds only its own "
        f"layers and the classes and functions you trust. If you trust this file, allow it: "
        f"ember.serialization.add_safe_globals([{short}]), `with ember.serialization.safe_globals([{short}]):` "
        "around the load (torch.serialization's names), or load(..., weights_only=False) for a whole model of "
        "your own nn.Module classes"
    )


def _allowed_by_user(module, name):
    for obj, full in _safe_globals:
        if full == f"{module}.{name}":
            newobj = (lambda *args: obj.__new__(obj, *args)) if isinstance(obj, type) else None
            return Call(full, obj, newobj)
    return None


def _build_user_object(obj, state):
    if not any(type(obj) is allowed for allowed, _ in _safe_globals):
        raise UnsafePickleError(f"BUILD on a {type(obj).__name__} is not allowed")
    if hasattr(obj, "__setstate__") and type(obj).__setstate__ is not object.__setstate__:
        obj.__setstate__(state)
    else:
        attributes, slots = state if isinstance(state, tuple) else (state, None)
        for mapping in (attributes or {}, slots or {}):
            for key, value in mapping.items():
                setattr(obj, key, value)
