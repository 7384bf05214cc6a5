"""The model zoo: ``ember.models.create(name, **kw)`` builds a registered model; ``list()`` names them."""

from . import lenet, mlp  # noqa: F401  (importing a family registers its models)
from .lenet import LeNet5
from .mlp import MLP
from .registry import create, list_models, register, signature

list = list_models  # noqa: A001  (``ember.models.list()``, as the issue names it)
