"""Weight normalisation (Salimans & Kingma, 2016), torch's hook API ``torch.nn.utils.weight_norm``:
w = g · v / ‖v‖, with the direction v and the length g learnt separately (``weight_v``, ``weight_g``); the
norm is taken over every dim but ``dim`` (one length per output unit for dim=0). The weight is recomputed
from them before every forward."""

from ...ops.reduce import norm
from ..parameter import Parameter


def _norm_except_dim(v, dim):
    """‖v‖ over every dim but ``dim``, keeping v's rank (dim=None: the norm of the whole tensor)."""
    if dim is None:
        return norm(v)
    dims = tuple(d for d in range(v.ndim) if d != dim % v.ndim)
    return norm(v, 2, dim=dims, keepdim=True) if dims else v.abs()


class WeightNorm:
    def __init__(self, name, dim):
        self.name, self.dim = name, -1 if dim is None else dim

    def compute_weight(self, module):
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return v * (g / _norm_except_dim(v, None if self.dim == -1 else self.dim))

    @staticmethod
    def apply(module, name, dim):
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
        if dim is None:
            dim = -1
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        del module._parameters[name]
        g = _norm_except_dim(weight.detach(), None if dim == -1 else dim)
        module.register_parameter(name + "_g", Parameter(g.array.copy()))
        module.register_parameter(name + "_v", Parameter(weight.array.copy()))
        object.__setattr__(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module):
        weight = self.compute_weight(module)
        object.__delattr__(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        module.register_parameter(self.name, Parameter(weight.array.copy()))

    def __call__(self, module, inputs):
        object.__setattr__(module, self.name, self.compute_weight(module))


def weight_norm(module, name="weight", dim=0):
    """Reparametrise ``module.<name>`` as g · v / ‖v‖ (parameters ``<name>_g`` and ``<name>_v``); returns the module."""
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module, name="weight"):
    """Fold g · v / ‖v‖ back into one ordinary parameter ``<name>``."""
    for k, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, WeightNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")


__all__ = ["weight_norm", "remove_weight_norm", "WeightNorm"]
