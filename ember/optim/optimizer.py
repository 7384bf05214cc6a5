"""Optimizer: the base class of every optimizer — parameter groups, per-parameter state, the step loop and a
checkpointable ``state_dict``.

An optimizer turns gradients into parameter updates. Every one in ``ember.optim`` follows the same loop,

    for each group in param_groups:            # groups carry their own hyper-parameters (lr, momentum, ...)
        for each parameter p with p.grad:      # parameters without a gradient are left alone
            g = p.grad                         # (negated when maximize=True)
            update p.array in place from g and state[p]

and differs only in the update rule, which each subclass writes as ``_update(param, grad, state, group)`` on
plain arrays: vectorised over the whole parameter, with the textbook equations in its docstring.

Two promises hold for every step:

- it records no graph (it runs under ``ember.no_grad()`` and works on arrays), and
- it updates ``p.array`` in place, keeping its dtype: float32 parameters and their state stay float32. That is
  why hyper-parameters are turned into Python floats before use: a NumPy float64 scalar (``np.float64(0.1)``)
  would silently promote float32 arithmetic to float64, a Python float does not.
"""

import copy
import functools
import warnings
from collections import defaultdict

from ..autograd import profiling
from ..autograd.grad_mode import enable_grad, no_grad
from ..backend import writeable, xp
from ..tensor import Tensor


class _RequiredParameter:
    """The default of a hyper-parameter that every group must give (torch.optim.optimizer.required)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def _marks_step_called(step):
    """Wrap a subclass's own ``step`` so that learning-rate schedulers can tell it has been called (they warn
    when ``scheduler.step()`` comes before the first ``optimizer.step()``, which skips the first lr), and
    so that the parameters' version counters record the in-place update (autograd/version.py)."""

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        self._opt_called = True
        loss = step(self, *args, **kwargs)
        for group in self.param_groups:  # changed in place: a graph built before this step must notice
            for p in group["params"]:
                if p.grad is not None:
                    p._bump_version()
        return loss

    return wrapper


def _profiled(method):
    """Time ``step`` / ``zero_grad`` under torch's label (``Optimizer.step#SGD.step``) while ember.profiler runs."""
    name = method.__name__

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        if profiling.recorder is None:
            return method(self, *args, **kwargs)
        with profiling.scope(f"Optimizer.{name}#{type(self).__name__}.{name}"):
            return method(self, *args, **kwargs)

    return wrapper


class Optimizer:
    """Base class of all optimizers, with ``torch.optim.Optimizer``'s interface.

    Args:
        params: an iterable of Parameters, or of dicts (parameter groups): ``{'params': [...], 'lr': 0.1}``.
            A group's own hyper-parameters override ``defaults``; missing ones are filled in from them.
            ``(name, parameter)`` pairs (``model.named_parameters()``) are accepted too; the names are kept in
            the group's ``'param_names'``.
        defaults: the hyper-parameters of the optimizer (``{'lr': ..., 'momentum': ...}``).

    Attributes:
        param_groups: list of dicts, each with ``'params'`` (a list of Parameters) and every hyper-parameter.
            Learning-rate schedulers write ``'lr'`` here and add ``'initial_lr'``.
        state: per-parameter dict (keyed by the Parameter) of the optimizer's memory, e.g.
            ``'momentum_buffer'``, ``'exp_avg'``, ``'exp_avg_sq'``, ``'step'``. Values are NumPy arrays (never
            Tensors, so they hold no graph) or Python numbers, so a checkpoint writer can store them as
            ``.npz``/safetensors plus JSON, without pickle.

    ``state_dict()`` has PyTorch's structure,
    ``{'state': {param_index: {name: value}}, 'param_groups': [{hyper-parameters..., 'params': [indices]}]}``,
    where indices number the parameters in group order. Unlike PyTorch it is a snapshot: arrays are copied,
    so training on after ``state_dict()`` does not change what was saved.
    """

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = defaultdict(dict)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError(
                f"{self._name}: params should be an iterable of Tensors or dicts, but got a single "
                f"{type(params).__name__}; wrap it in a list: [{type(params).__name__.lower()}]"
            )
        if isinstance(params, (set, frozenset)):
            raise TypeError(
                f"{self._name}: optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError(
                f"{self._name} got an empty parameter list; pass model.parameters() (a generator can be "
                "consumed only once: make a list if you need the parameters twice)"
            )
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:
            cls.step = _profiled(_marks_step_called(cls.__dict__["step"]))

    @property
    def _name(self):
        return type(self).__name__

    def _check(self, ok, message, fix=""):
        """Raise the ValueError torch raises for a bad hyper-parameter, naming this optimizer."""
        if not ok:
            raise ValueError(f"{self._name}: {message}" + (f" ({fix})" if fix else ""))

    def __repr__(self):
        lines = [self._name + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {key}: {group[key]}" for key in sorted(group) if key not in ("params", "param_names")]
        return "\n".join(lines) + "\n)"

    # ---- parameter groups ----------------------------------------------------------------------------------

    def add_param_group(self, param_group):
        """Add a group of parameters (a dict with ``'params'`` and optional hyper-parameters), e.g. to start
        training layers that were frozen so far. Missing hyper-parameters are taken from ``defaults``."""
        if not isinstance(param_group, dict):
            raise TypeError(f"{self._name}: param_group must be a dict, but got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{self._name}: a parameter group needs a 'params' entry, got keys {sorted(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                f"{self._name}: optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        if names:
            if len(names) != len(params):
                raise ValueError(
                    f"{self._name}: all optimizer params should be with/without names. Some param names are missing"
                )
            param_group["param_names"] = names
            params = [p[1] for p in params]
        param_group["params"] = params

        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{self._name}: optimizer can only optimize Tensors, but one of the params is {type(p).__name__}"
                )
            if not p.is_leaf:
                raise ValueError(
                    f"{self._name}: can't optimize a non-leaf Tensor (one computed from others); optimize the "
                    "leaves it was computed from, or .detach() it and set requires_grad=True"
                )
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    f"{self._name}: parameter group didn't specify a value of required optimization parameter {name}"
                )
            param_group.setdefault(name, default)

        if len({id(p) for p in params}) != len(params):
            warnings.warn(
                f"{self._name}: optimizer contains a parameter group with duplicate parameters; "
                "each duplicate would be updated twice per step",
                stacklevel=3,
            )
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError(
                f"{self._name}: some parameters appear in more than one parameter group; "
                "give each parameter to exactly one group"
            )
        for group in self.param_groups:
            if ("param_names" in group) != ("param_names" in param_group):
                raise ValueError(
                    f"{self._name}: all optimizer param groups should be with/without names. cannot add param "
                    f"group {'with' if 'param_names' in param_group else 'without'} names to the optimizer"
                )
        self.param_groups.append(param_group)

    # ---- gradients and the step ----------------------------------------------------------------------------

    @_profiled
    def zero_grad(self, set_to_none=True):
        """Forget the gradients: drop them (the default: saves memory, and a parameter whose grad stays None
        is skipped by ``step``) or fill them with zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                elif writeable(p.grad.array):
                    p.grad.array[...] = 0
                else:  # a read-only array someone assigned: replace rather than fail
                    p.grad = Tensor(xp.zeros_like(p.grad.array))

    @_profiled
    def step(self, closure=None):
        """Update every parameter that has a gradient, in place; return ``closure()``'s loss if given.

        ``closure`` re-evaluates the model and returns the loss (it runs with grad enabled, so it may call
        ``loss.backward()``): the API of optimizers such as L-BFGS that need several evaluations per step.
        """
        self._opt_called = True
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                maximize = group.get("maximize", False)
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    grad = self._gradient(p)
                    # Only parameters that keep something get a state entry (plain SGD keeps nothing).
                    state = self.state[p] if p in self.state else {}
                    if p.array.ndim == 0:
                        self._update_scalar(p.array, -grad if maximize else grad, state, group)
                    else:
                        self._update(p.array, -grad if maximize else grad, state, group)
                    if state and p not in self.state:
                        self.state[p] = state
                    p._bump_version()  # changed in place: a graph built before this step must notice
        return loss

    def _gradient(self, p):
        grad = p.grad.array if isinstance(p.grad, Tensor) else xp.asarray(p.grad)
        if grad.shape != p.array.shape:
            raise ValueError(
                f"{self._name}.step(): a parameter of shape {p.array.shape} has a gradient of shape {grad.shape}; "
                "a .grad must have its parameter's shape"
            )
        # A float64 gradient on a float32 parameter would otherwise promote the state to float64.
        return grad if grad.dtype == p.array.dtype else grad.astype(p.array.dtype)

    def _update_scalar(self, param, grad, state, group):
        """``_update`` for a 0-d parameter. NumPy turns arithmetic on 0-d arrays into scalars, which in-place
        operators and ``out=`` cannot write to; on 1-element views every update stays an array operation."""
        views = {k: v.reshape(1) if isinstance(v, xp.ndarray) else v for k, v in state.items()}
        self._update(param.reshape(1), xp.reshape(grad, 1), views, group)
        state.update({k: v.reshape(()) if isinstance(v, xp.ndarray) else v for k, v in views.items()})

    def _update(self, param, grad, state, group):
        """Apply this optimizer's rule to one parameter: ``param`` (updated in place) and ``grad`` are arrays
        of the same dtype, ``state`` the parameter's dict, ``group`` its hyper-parameters."""
        raise NotImplementedError(f"{self._name} must implement _update(param, grad, state, group) or step()")

    # ---- state_dict ----------------------------------------------------------------------------------------

    def state_dict(self):
        """The optimizer's state as data: ``{'state': {index: {name: array or number}}, 'param_groups': [...]}``.

        Parameters are replaced by their index (counting through the groups in order), so the dict can be
        loaded into an optimizer built on another copy of the model. Arrays are copies (a snapshot).
        """
        index = {}
        param_groups = []
        for group in self.param_groups:
            packed = {key: copy.deepcopy(value) for key, value in group.items() if key != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            param_groups.append(packed)
        params = {id(p): p for group in self.param_groups for p in group["params"]}
        state = {}
        for key in sorted((index[id(p)], id(p)) for p in self.state if id(p) in index):
            state[key[0]] = {name: _snapshot(value) for name, value in self.state[params[key[1]]].items()}
        return {"state": state, "param_groups": param_groups}

    def load_state_dict(self, state_dict):
        """Load a ``state_dict()``: hyper-parameters replace this optimizer's, state arrays are copied and cast
        to their parameter's dtype. The groups must match this optimizer's in number and sizes.

        Build learning-rate schedulers *before* loading: constructing one resets the groups' ``lr``.
        """
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            got = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError(
                f"{self._name}.load_state_dict: expected a dict with 'state' and 'param_groups' (from "
                f"optimizer.state_dict()), got {got}"
            )
        groups = self.param_groups
        saved_groups = copy.deepcopy(list(state_dict["param_groups"]))
        if len(groups) != len(saved_groups):
            raise ValueError(
                f"{self._name}.load_state_dict: loaded state dict has a different number of parameter groups: "
                f"{len(saved_groups)} saved, {len(groups)} in this optimizer"
            )
        for i, (group, saved) in enumerate(zip(groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    f"{self._name}.load_state_dict: loaded state dict contains a parameter group that doesn't "
                    f"match the size of optimizer's group: group {i} has {len(saved['params'])} parameters "
                    f"saved and {len(group['params'])} here"
                )
        id_map = {}
        for group, saved in zip(groups, saved_groups):
            id_map.update(zip((int(i) for i in saved["params"]), group["params"]))

        state = defaultdict(dict)
        for key, values in state_dict["state"].items():
            index = int(key)  # keys may have become strings on a trip through JSON
            if index not in id_map:
                raise ValueError(
                    f"{self._name}.load_state_dict: state for parameter {index}, but the loaded groups hold "
                    f"parameters {sorted(id_map)}"
                )
            param = id_map[index]
            state[param] = {name: self._cast(param, index, name, value) for name, value in values.items()}

        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            for name, default in self.defaults.items():  # a dict saved by an older version may lack a key
                saved.setdefault(name, default)
        self.state = state
        self.param_groups = saved_groups

    def _cast(self, param, index, name, value):
        if isinstance(value, Tensor):
            value = value.array
        if name == "step":  # a count: stays a Python number whatever array it was stored as
            number = value.item() if hasattr(value, "item") else value
            return int(number) if float(number).is_integer() else float(number)
        if isinstance(value, (xp.ndarray, xp.generic)):
            value = xp.asarray(value)
            if value.shape != param.array.shape:
                raise ValueError(
                    f"{self._name}.load_state_dict: state '{name}' of parameter {index} has shape {value.shape}, "
                    f"but the parameter has shape {param.array.shape}: the state dict belongs to another model"
                )
            dtype = param.array.dtype if value.dtype.kind == "f" else value.dtype
            return xp.array(value, dtype=dtype, copy=True)
        return copy.deepcopy(value)


def _snapshot(value):
    return value.copy() if isinstance(value, xp.ndarray) else copy.deepcopy(value)
