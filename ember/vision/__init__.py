"""ember.vision: torchvision's API at ember's path (``torchvision.X`` -> ``ember.vision.X``).

Subpackages (``transforms``, ``datasets``, ``models``, ``utils``) are imported on first use, so that
``import ember.vision`` stays cheap and optional dependencies (Pillow) load only when needed.
"""

import importlib

_SUBMODULES = ("datasets", "models", "transforms", "utils")

__all__ = list(_SUBMODULES)


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
