"""The model registry: one name per model, shared by ``ember.models.create`` and the CLI.

    @register("lenet5")
    def lenet5(num_classes=10, in_channels=1, input_size=28): ...

    model = ember.models.create("lenet5", num_classes=10)
"""

import difflib
import inspect

_MODELS = {}
_HINTS = {}


def register(name, **hints):
    """Decorator: make a model factory available under ``name``.

    ``hints`` are training settings the model needs to learn with ``ember train`` (e.g. ``lr=0.01`` for a
    network that diverges at the default 0.1); the CLI uses them where the user gives no value.
    """

    def add(factory):
        if name in _MODELS:
            raise ValueError(f"a model named '{name}' is already registered")
        _MODELS[name] = factory
        _HINTS[name] = dict(hints)
        return factory

    return add


def training_hints(name):
    """The training settings registered with the model (an empty dict for most)."""
    _factory(name)
    return dict(_HINTS[name])


def list_models():
    """Registered model names, sorted."""
    return sorted(_MODELS)


def _factory(name):
    if name not in _MODELS:
        close = difflib.get_close_matches(name, _MODELS, n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise KeyError(f"unknown model '{name}'.{hint} Known models: {', '.join(list_models())}")
    return _MODELS[name]


def create(name, **kwargs):
    """Build the model registered as ``name``; keyword arguments the factory does not take are ignored
    only if they are None (so the CLI can pass every option), otherwise they are an error."""
    factory = _factory(name)
    accepted = inspect.signature(factory).parameters
    unknown = [k for k, v in kwargs.items() if k not in accepted and v is not None]
    if unknown:
        raise TypeError(f"model '{name}' does not take {', '.join(unknown)} (it takes {', '.join(accepted)})")
    return factory(**{k: v for k, v in kwargs.items() if k in accepted and v is not None})


def signature(name):
    """The factory's keyword arguments and defaults (for help texts)."""
    return {k: p.default for k, p in inspect.signature(_factory(name)).parameters.items()}
