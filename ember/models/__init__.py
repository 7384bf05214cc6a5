"""The model zoo: ``ember.models.create(name, **kw)`` builds a registered model; ``list()`` names them.

Every module of this package is a model family; importing it registers its models, so all of them are
imported here (a new family file needs no other change).
"""

import importlib
import pkgutil

from .charlm import CharLM
from .lenet import LeNet5
from .mlp import MLP
from .registry import create, list_models, register, signature, training_hints
from .weights import load_torchvision_weights

for _family in pkgutil.iter_modules(__path__):
    if _family.name != "registry":
        importlib.import_module(f"{__name__}.{_family.name}")

list = list_models  # noqa: A001  (``ember.models.list()``, as the issue names it)
