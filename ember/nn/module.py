"""Module: the base class of every layer and model, with PyTorch's registration rules and state_dict keys.

Assigning a Parameter, a Module or a registered buffer to an attribute records it by name; the names
nest with dots (``features.3.bias``, ``bn.running_var``), exactly as in PyTorch, so a torch state_dict
converted to arrays loads 1:1 with ``load_state_dict``.
"""

from collections import OrderedDict, namedtuple
from collections.abc import Mapping

from ..autograd.grad_mode import no_grad
from ..backend import xp
from .. import devices as _device
from ..conversion import parse_to
from ..tensor import Tensor
from ..autograd.hooks import RemovableHandle as _Handle
from ..autograd import profiling as _profiling
from .parameter import Buffer, Parameter


class IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys it expected but did not get, and those it did not know."""

    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _call(module, args, kwargs):
    """``Module.__call__``: the forward pre-hooks, ``forward``, the forward hooks."""
    for hook in list(module._forward_pre_hooks.values()):
        result = hook(module, args)
        if result is not None:
            args = result if isinstance(result, tuple) else (result,)
    try:
        out = module.forward(*args, **kwargs)
    except (ValueError, RuntimeError, IndexError, TypeError, AssertionError, ArithmeticError) as exc:
        _name_the_layer(exc, module)
        raise
    for hook in list(module._forward_hooks.values()):
        result = hook(module, args, out)
        if result is not None:
            out = result
    return out


def _addindent(text, spaces):
    """Indent every line but the first (a child's repr nests under its ``(name): `` label)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    # Blank lines stay empty, as PyTorch prints them (no trailing spaces).
    return lines[0] + "\n" + "\n".join(" " * spaces + line if line.strip() else "" for line in lines[1:])


class Module:
    """Base class of layers: holds parameters, buffers and sub-modules; ``__call__`` runs ``forward``."""

    def __init__(self):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        if _profiling.recorder is not None:  # ember.profiler names the layer its ops run in
            return _profiling.recorder.module(self, _call, args, kwargs)
        return _call(self, args, kwargs)

    # ---- registration -----------------------------------------------------------------------------------

    def _check_ready(self, what):
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {what} before Module.__init__() call: "
                f"call super().__init__() first in {type(self).__name__}.__init__"
            )

    def _check_name(self, name, kind, store):
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if "." in name:
            raise KeyError(f"{kind} name can't contain \".\", got: {name}")
        if name == "":
            raise KeyError(f"{kind} name can't be empty string \"\"")
        if hasattr(self, name) and name not in store:
            # A method or another kind of member already has the name: registering would shadow it.
            raise KeyError(f"attribute '{name}' already exists")

    def __setattr__(self, name, value):
        d = self.__dict__
        if isinstance(value, Parameter):
            self._check_ready("parameters")
            # Not from _parameters: re-assigning a parameter keeps its place in the state_dict order.
            _remove_from(name, d, self._buffers, self._modules, self._non_persistent)
            self.register_parameter(name, value)
        elif "_parameters" in d and name in self._parameters:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' (Parameter or None expected)"
                )
            self.register_parameter(name, None)
        elif isinstance(value, Buffer):  # nn.Buffer: register it (as a plain Tensor on the same data)
            _remove_from(name, d, self._parameters, self._modules)
            if "_buffers" in d and name in self._buffers:
                del self._buffers[name]
            self.register_buffer(name, Tensor(value.array), persistent=value.persistent)
        elif isinstance(value, Module):
            self._check_ready("module")
            _remove_from(name, d, self._parameters, self._buffers, self._non_persistent)
            self._modules[name] = value
        elif "_modules" in d and name in self._modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as child module '{name}' (Module or None expected)"
                )
            self._modules[name] = None
        elif "_buffers" in d and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' (Tensor or None expected)")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):  # only called when normal lookup fails
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                self._non_persistent.discard(name)
                return
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        """Register ``param`` (a Parameter, or None for an absent one such as ``bias=False``) as ``name``."""
        self._check_ready("parameter")
        self._check_name(name, "parameter", self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' (Parameter or None required)"
            )
        if param is not None and param.grad_fn is not None:
            raise ValueError(
                f"Cannot assign non-leaf Tensor to parameter '{name}': parameters must be leaves. Compute the "
                "value in forward() instead, or wrap a detached copy in nn.Parameter"
            )
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Register state that is not learned (batch norm's running mean, say).

        A persistent buffer is saved in ``state_dict``; a non-persistent one (a cached mask, say) is not,
        but still moves with ``to()`` and shows in ``named_buffers()``.
        """
        self._check_ready("buffer")
        self._check_name(name, "buffer", self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' (Tensor or None required)"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def add_module(self, name, module):
        """Register ``module`` (or None) as the child ``name``, the same as ``setattr(self, name, module)``."""
        self._check_ready("module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_name(name, "module", self._modules)
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target):
        """The sub-module at the dotted path ``target`` (``'features.3'``); ``''`` is this module."""
        module = self
        for item in target.split(".") if target else []:
            child = module._modules.get(item)
            if child is None:
                raise AttributeError(f"{type(module).__name__} has no submodule `{item}` (looking up '{target}')")
            module = child
        return module

    def register_forward_hook(self, hook):
        """``hook(module, inputs, output)`` runs after every forward; returns a handle with ``remove()``."""
        return _Handle(self._forward_hooks, hook)

    def register_forward_pre_hook(self, hook):
        """``hook(module, inputs)`` runs before every forward; returns a handle with ``remove()``."""
        return _Handle(self._forward_pre_hooks, hook)

    # ---- traversal ---------------------------------------------------------------------------------------

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """Every module in the tree, this one first, depth first, each once (unless ``remove_duplicate=False``)."""
        memo = set() if memo is None else memo
        if self in memo:
            return
        if remove_duplicate:
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                sub = f"{prefix}.{name}" if prefix else name
                yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        seen = set()
        for name, module in self._modules.items():
            if module is not None and module not in seen:
                seen.add(module)
                yield name, module

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named_members(self, store, prefix, recurse, remove_duplicate=True):
        if recurse:
            modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
        else:
            modules = [(prefix, self)]
        seen = set()
        for module_prefix, module in modules:
            for name, value in getattr(module, store).items():
                if value is None or value in seen:
                    continue
                if remove_duplicate:  # a tied weight is yielded (and so optimised) once
                    seen.add(value)
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ---- modes and gradients ----------------------------------------------------------------------------

    def train(self, mode=True):
        """Training mode (dropout drops, batch norm uses batch statistics); ``train(False)`` is ``eval()``.

        Each child's own ``train`` is called, so a layer that overrides it (to keep its batch norm frozen,
        say) is obeyed.
        """
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be boolean, got {type(mode).__name__}")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Freeze (False) or unfreeze (True) every parameter, as in transfer learning."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Forget the gradients: drop them (the default, which saves memory) or fill them with zeros."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.array[...] = 0

    def apply(self, fn):
        """Call ``fn(module)`` on every sub-module (children first) and on this one, e.g. to initialise."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def to(self, *args, **kwargs):
        """Move and/or convert every parameter and buffer (and gradient), in place; returns the module.

        torch's overloads: ``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(tensor)`` (its device
        and dtype), keywords ``device=``, ``dtype=``, ``non_blocking=``. A dtype must be floating and
        converts only the floating parameters and buffers (``num_batches_tracked`` stays int64). The
        Parameter objects stay the same, so an optimiser built before ``.to()`` keeps working.
        """
        where, dtype, _, _ = parse_to("Module.to", args, kwargs)
        where = _device.placement(where)
        if dtype is not None and dtype.kind != "f":
            raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, but got desired "
                            f"dtype={dtype}; convert integer buffers one by one with tensor.to()")
        for t in list(self.parameters()) + list(self.buffers()):
            t.array = _converted(t.array, where, dtype)  # same object: optimisers keep their references
            if t.grad is not None:
                t.grad = Tensor(_converted(t.grad.array, where, dtype))
        return self

    def share_memory(self):
        """Move every parameter, gradient and buffer into memory shared between processes (Hogwild training)."""
        for tensor in list(self.parameters()) + list(self.buffers()):
            tensor.share_memory_()
            if tensor.grad is not None:
                tensor.grad.share_memory_()
        return self

    def cpu(self):
        """Move every parameter and buffer to host memory."""
        return self.to("cpu")

    def cuda(self, device=None):
        """Move every parameter and buffer to GPU ``device`` (the current one when None): needs CuPy."""
        return self.to(_device.cuda_target(device))

    def type(self, dst_type):
        """Cast every parameter and buffer to ``dst_type`` in place and return the module (``Module.type``).

        ``dst_type`` is a dtype, a tensor type (``ember.FloatTensor``) or its name ('torch.DoubleTensor').
        Unlike ``to(dtype)``, torch casts integer buffers too (``num_batches_tracked`` included)."""
        for t in list(self.parameters()) + list(self.buffers()):
            t.array = t.type(dst_type).array  # same object: optimisers keep their references
            if t.grad is not None:
                t.grad = t.grad.type(dst_type)
        return self

    def float(self):
        return self.to(xp.float32)

    def double(self):
        return self.to(xp.float64)

    def half(self):
        return self.to(xp.float16)

    # ---- state_dict -------------------------------------------------------------------------------------

    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """Every parameter and persistent buffer by dotted name, as in PyTorch (tensors share memory).

        Order: a module's parameters, then its buffers, then each child's entries, depth first. A module
        or parameter reachable under two names (tied weights) is saved under both, as PyTorch does, so
        either name loads.
        """
        out = OrderedDict() if destination is None else destination
        for module_prefix, module in self.named_modules(prefix=prefix.rstrip("."), remove_duplicate=False):
            head = f"{module_prefix}." if module_prefix else ""
            for name, p in module._parameters.items():
                if p is not None:
                    out[head + name] = p if keep_vars else p.detach()
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent:
                    out[head + name] = b if keep_vars else b.detach()
        return out

    def load_state_dict(self, state_dict, strict=True):
        """Copy values (Tensors or arrays) into the parameters and buffers with the same names, in place
        (each keeps its dtype).

        Shapes must match. With ``strict=True`` (the default) missing and unexpected keys are errors too.
        Every problem is listed in one ``RuntimeError`` and nothing is copied then. Returns
        ``(missing_keys, unexpected_keys)``.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict).__name__}")
        for path, module in self.named_modules():
            module._prepare_load(state_dict, f"{path}." if path else "")
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = self._order_like_torch([k for k in state_dict if k not in own])
        problems, values = [], {}
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            value = value.array if isinstance(value, Tensor) else xp.asarray(value)
            if value.dtype.kind not in "biuf":
                problems.append(
                    f'While copying the parameter named "{key}", expected a Tensor or an array from checkpoint '
                    f"but received {type(state_dict[key]).__name__}"
                )
            elif value.shape != target.array.shape:
                problems.append(
                    f"size mismatch for {key}: copying a param with shape {value.shape} from checkpoint, "
                    f"the shape in current model is {target.array.shape}."
                )
            else:
                values[key] = value
        if strict:
            if unexpected:
                problems.insert(0, "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ". ")
            if missing:
                problems.insert(0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ". ")
        if problems:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(problems)
            )
        with no_grad():
            for key, value in values.items():
                target = own[key].array
                target[...] = value.astype(target.dtype, copy=False)
        return IncompatibleKeys(missing, unexpected)

    def _prepare_load(self, state_dict, prefix):
        """Called on every submodule before ``load_state_dict`` compares shapes (``prefix`` is the module's
        key prefix, e.g. ``"net.0."``); lazy layers use it to take their shapes from the checkpoint."""

    def _order_like_torch(self, keys):
        """Order unexpected keys as PyTorch reports them: by the module that would own them (in traversal
        order), then by their order in the state_dict."""
        rank = {}
        for path, _ in self.named_modules(remove_duplicate=False):
            rank.setdefault(path, len(rank))

        def owner(key):
            module, path, parts = self, "", key.split(".")
            for part in parts[:-1]:
                child = module._modules.get(part)
                if child is None:
                    break
                module, path = child, f"{path}.{part}" if path else part
            return rank[path]

        return sorted(keys, key=owner)  # sorted is stable: ties keep the state_dict's order

    # ---- repr --------------------------------------------------------------------------------------------

    def extra_repr(self):
        """The settings shown inside the parentheses of this module's repr line."""
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): {_addindent(repr(module), 2)}" for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        text = self._get_name() + "("
        if len(extra_lines) == 1 and not child_lines:
            text += extra_lines[0]  # the one-line form most layers use: Linear(in_features=2, ...)
        elif lines:
            text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))


def _remove_from(name, *stores):
    for store in stores:
        if isinstance(store, set):
            store.discard(name)
        else:
            store.pop(name, None)


def _converted(array, where, dtype):
    """``array`` with a floating dtype changed to ``dtype`` (when given) and on device ``where``."""
    if dtype is not None and array.dtype.kind == "f":
        array = array.astype(dtype, copy=False)
    return _device.move(array, where)


def _name_the_layer(exc, module):
    """Start the message of an exception raised inside ``module.forward`` with the layer's class name
    (``Conv2d: ...``) unless it names it already, so an error deep in an op says which layer it came from.
    Only the innermost module names itself; the exception keeps its class and traceback."""
    if getattr(exc, "_ember_layer_named", False):
        return
    try:
        exc._ember_layer_named = True
    except AttributeError:  # an exception class with __slots__: leave it as it is
        return
    name = type(module).__name__
    if exc.args and isinstance(exc.args[0], str) and name not in exc.args[0]:
        exc.args = (f"{name}: {exc.args[0]}",) + exc.args[1:]
