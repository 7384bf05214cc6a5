"""Neural-network layers with PyTorch's names, parameter names and default initialisation."""

from . import functional, init
from .containers import ModuleDict, ModuleList, Sequential
from .module import Module
from .parameter import Parameter
