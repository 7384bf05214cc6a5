"""``torch.nn.utils.parametrizations``: built-in parametrizations on parametrize.py's mechanism. Here
``weight_norm`` (the parametrization API: ``parametrizations.weight.original0`` is g, ``original1`` is v)."""

from ...ops.reduce import norm
from ..module import Module
from .parametrize import register_parametrization


def _norm_except_dim(v, dim):
    if dim is None or dim == -1:
        return norm(v)
    dims = tuple(d for d in range(v.ndim) if d != dim % v.ndim)
    return norm(v, 2, dim=dims, keepdim=True) if dims else v.abs()


class _WeightNorm(Module):
    """w = g · v / ‖v‖ (norm over every dim but ``dim``)."""

    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return weight_v * (weight_g / _norm_except_dim(weight_v, self.dim))

    def right_inverse(self, weight):
        return _norm_except_dim(weight, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """Reparametrise ``module.<name>`` as g · v / ‖v‖ with the parametrization API; returns the module."""
    register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module
