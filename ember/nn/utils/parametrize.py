"""Parametrizations (``torch.nn.utils.parametrize``): make ``module.weight`` the output of a small module
applied to a stored ``original`` tensor, e.g. a weight that is always symmetric, or always positive.

    register_parametrization(layer, "weight", Symmetric())
    layer.weight                                   # Symmetric()(layer.parametrizations.weight.original)
    layer.parametrizations.weight.original         # the Parameter the optimizer updates

As in torch, the module's class is swapped for a subclass ``Parametrized<Class>`` holding a property per
parametrized tensor, the originals live in ``module.parametrizations[name]`` (a ParametrizationList), so the
state_dict keys are ``parametrizations.weight.original`` (``original0``, ``original1``... when the
parametrization's ``right_inverse`` returns several tensors), and assigning ``module.weight = value`` stores
``right_inverse(value)``.
"""

import contextlib

from ...autograd.grad_mode import no_grad
from ...tensor import Tensor
from ..containers import ModuleDict, ModuleList
from ..parameter import Parameter

_cache_enabled = 0
_cache = {}


@contextlib.contextmanager
def cached():
    """Inside this context each parametrized tensor is computed once and reused (e.g. a weight used at every
    step of an RNN)."""
    global _cache_enabled
    _cache_enabled += 1
    try:
        yield
    finally:
        _cache_enabled -= 1
        if not _cache_enabled:
            _cache.clear()


def _like(original, value):
    """``value``'s data as the same kind of tensor as ``original`` (a Parameter stays a Parameter)."""
    array = value.array if isinstance(value, Tensor) else value
    if isinstance(original, Parameter):
        return Parameter(array.copy(), requires_grad=original.requires_grad)
    return Tensor(array.copy())


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, applied in order, and the ``original`` tensor(s) they read."""

    def __init__(self, modules, original, unsafe=False):
        super().__init__(modules)
        self.unsafe = unsafe
        first = modules[0]
        value = original
        if hasattr(first, "right_inverse"):
            with no_grad():
                value = first.right_inverse(original)
        self.is_tensor = isinstance(value, Tensor)
        self.ntensors = 1 if self.is_tensor else len(value)
        if self.is_tensor:
            if not unsafe and (tuple(value.shape) != tuple(original.shape) or value.dtype != original.dtype):
                raise ValueError(f"When `right_inverse` outputs one tensor, it may not change the dtype or shape: "
                                 f"got {value.dtype}{tuple(value.shape)}, original {original.dtype}"
                                 f"{tuple(original.shape)}")
            with no_grad():
                original.array[...] = value.array
            self._register("original", original)
        else:
            for i, v in enumerate(value):
                self._register(f"original{i}", _like(original, v))

    def _register(self, name, tensor):
        if isinstance(tensor, Parameter):
            self.register_parameter(name, tensor)
        else:
            self.register_buffer(name, tensor)

    def right_inverse(self, value):
        """Store ``value`` through the parametrizations' right inverses (last to first)."""
        with no_grad():
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    value = module.right_inverse(value)
                elif not self.unsafe and module is not self[0]:
                    raise RuntimeError(f"parametrization {type(module).__name__} does not implement right_inverse.")
            if self.is_tensor:
                self.original.array[...] = value.array if isinstance(value, Tensor) else value
            else:
                for i, v in enumerate(value):
                    getattr(self, f"original{i}").array[...] = v.array

    def forward(self):
        if self.is_tensor:
            x = self[0](self.original)
        else:
            x = self[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for module in list(self)[1:]:
            x = module(x)
        return x


def _property(name):
    def getter(self):
        plist = self.parametrizations[name]
        if _cache_enabled:
            key = (id(self), name)
            if key not in _cache:
                _cache[key] = plist()
            return _cache[key]
        return plist()

    def setter(self, value):
        self.parametrizations[name].right_inverse(value)

    return property(getter, setter)


def is_parametrized(module, tensor_name=None):
    """Whether ``module`` has parametrizations (on ``tensor_name``, if given)."""
    plist = module.__dict__.get("_modules", {}).get("parametrizations")
    if plist is None or not isinstance(plist, ModuleDict):
        return False
    return len(plist) > 0 if tensor_name is None else tensor_name in plist


def type_before_parametrizations(module):
    """The module's class before parametrizations swapped it."""
    return module.__class__.__bases__[0] if is_parametrized(module) else type(module)


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Make ``module.<tensor_name>`` be ``parametrization(original)``; registering another one on the same
    tensor chains it after the first. Returns the module."""
    if is_parametrized(module, tensor_name):
        module.parametrizations[tensor_name].append(parametrization)
        return module
    if tensor_name in module._parameters:
        original = module._parameters[tensor_name]
    elif tensor_name in module._buffers:
        original = module._buffers[tensor_name]
    else:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a parametrized element with "
                         f"name '{tensor_name}'")
    plist = ParametrizationList([parametrization], original, unsafe=unsafe)
    module._parameters.pop(tensor_name, None)
    module._buffers.pop(tensor_name, None)
    if not is_parametrized(module):
        cls = module.__class__
        module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), {})
        module.parametrizations = ModuleDict()
    module.parametrizations[tensor_name] = plist
    setattr(module.__class__, tensor_name, _property(tensor_name))
    return module


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Undo ``register_parametrization``: ``module.<tensor_name>`` becomes an ordinary tensor again, holding
    the parametrized value (``leave_parametrized=True``) or the original."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    plist = module.parametrizations[tensor_name]
    if plist.is_tensor:
        original = plist.original
        if leave_parametrized:
            with no_grad():
                value = getattr(module, tensor_name)
            original.array[...] = value.array
    else:
        if not leave_parametrized:
            raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor that is "
                             "parametrized in terms of a sequence of tensors.")
        with no_grad():
            value = getattr(module, tensor_name)
        original = Parameter(value.array.copy()) if isinstance(plist.original0, Parameter) else Tensor(value.array)
    delattr(module.__class__, tensor_name)
    del module.parametrizations[tensor_name]
    if isinstance(original, Parameter):
        module.register_parameter(tensor_name, original)
    else:
        module.register_buffer(tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = module.__class__.__bases__[0]
    return module
