"""ember.vision: torchvision's API on Ember — ``datasets``, ``io``, ``models``, ``transforms``, ``utils``.

A program written for torchvision runs with ``torchvision.X`` read as ``ember.vision.X``::

    from ember.vision import datasets, models, transforms, utils
    train = datasets.MNIST("../data", train=True, download=True, transform=transforms.ToTensor())
    net = models.resnet18(num_classes=10)
    utils.save_image(images, "grid.png", nrow=8)

The submodules load on first use (``import ember.vision`` imports none of them), so Pillow, which the
datasets, the PIL transforms and ``save_image`` need, is only required by the code that touches images.
"""

import importlib

_SUBMODULES = ("datasets", "io", "models", "transforms", "utils")

__all__ = list(_SUBMODULES)


def __getattr__(name):
    # ``import ember.vision as tv`` then ``tv.datasets.MNIST``: the submodule is imported on first access.
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_SUBMODULES))
