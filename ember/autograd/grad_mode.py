"""Grad mode: whether new operations record a graph for backward.

``with ember.no_grad():`` is how evaluation and optimizer steps avoid building graphs they never use.
The flag is per thread, as in PyTorch, so a data-loading thread never switches it for the trainer.
"""

import functools
import threading

_state = threading.local()


def is_grad_enabled():
    return getattr(_state, "enabled", True)


def _set_enabled(enabled):
    _state.enabled = bool(enabled)


class _GradMode:
    """A context manager and decorator that sets grad mode to ``self.mode`` and restores it after."""

    mode = True

    def __enter__(self):
        self._prev = is_grad_enabled()
        _set_enabled(self.mode)
        return self

    def __exit__(self, *exc):
        _set_enabled(self._prev)
        return False

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with _Fixed(mode):
                return fn(*args, **kwargs)

        return wrapper


class _Fixed(_GradMode):
    def __init__(self, mode):
        self.mode = bool(mode)


class _BareDecorator(_GradMode):
    """Also usable without parentheses, ``@no_grad``, as torch allows."""

    def __new__(cls, fn=None):
        self = super().__new__(cls)
        return self(fn) if fn is not None else self


class no_grad(_BareDecorator):
    """Operations inside record no graph and return tensors that do not require grad."""

    mode = False


class enable_grad(_BareDecorator):
    """Record a graph even inside a ``no_grad`` block."""

    mode = True


class set_grad_enabled(_GradMode):
    """``set_grad_enabled(False)`` switches recording off at once; as a context manager it restores on exit."""

    def __init__(self, mode):
        self.mode = bool(mode)
        self._prev = is_grad_enabled()
        _set_enabled(self.mode)

    def __enter__(self):
        return self

    def __call__(self, fn):
        # As a decorator it must only set the mode while ``fn`` runs: undo the switch __init__ made.
        _set_enabled(self._prev)
        return super().__call__(fn)


class inference_mode(_GradMode):
    """``no_grad`` for inference: nothing inside records a graph (``inference_mode(False)`` leaves grad mode
    as it is). Ember has no separate inference tensors, so this is exactly ``no_grad`` when enabled; it works
    as a context manager, as ``@inference_mode()`` and as a bare ``@inference_mode``."""

    def __new__(cls, mode=True):
        self = super().__new__(cls)
        if callable(mode):  # bare decorator: @inference_mode
            self.__init__(True)
            return self(mode)
        return self

    def __init__(self, mode=True):
        if callable(mode):
            return
        self.enabled = bool(mode)

    def __enter__(self):
        self._prev = is_grad_enabled()
        self._prev_inference = is_inference_mode_enabled()
        if self.enabled:
            _set_enabled(False)
        _state.inference = self.enabled
        return self

    def __exit__(self, *exc):
        _set_enabled(self._prev)
        _state.inference = self._prev_inference
        return False

    def __call__(self, fn):
        enabled = self.enabled

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(enabled):
                return fn(*args, **kwargs)

        return wrapper


def is_inference_mode_enabled():
    """Whether the innermost ``inference_mode`` block is enabled (``no_grad`` alone does not count)."""
    return getattr(_state, "inference", False)
