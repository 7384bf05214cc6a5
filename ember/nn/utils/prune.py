"""Pruning (``torch.nn.utils.prune``): set some weights to zero and keep them there.

Pruning ``module.<name>`` moves the parameter to ``<name>_orig``, stores a 0/1 mask as the buffer
``<name>_mask``, and makes ``<name>`` a plain tensor recomputed before every forward (a forward pre-hook):

    weight = weight_orig ⊙ weight_mask

so the optimiser still trains ``weight_orig`` while the pruned entries contribute nothing (their gradient
is masked too: ∂(w ⊙ m)/∂w = m). Pruning the same parameter again combines the masks, as torch does
(``PruningContainer``): the new method only sees the entries (or channels) still alive, and its amount is
a share of those. ``remove`` makes the pruning permanent: ``<name>`` becomes an ordinary parameter
holding w ⊙ m, and the mask and the hook are gone.

How much: ``amount`` is an int (that many entries or channels) or a float in [0, 1] (that share of them,
rounded half to even as Python's ``round``). Which ones:

- ``l1_unstructured``: the entries of smallest |w| (L1 magnitude pruning, Han et al. 2015);
- ``random_unstructured``: entries drawn at random;
- ``ln_structured``: whole channels along ``dim`` with the smallest Lₙ norm (Li et al. 2017, filter pruning);
- ``random_structured``: channels drawn at random;
- ``global_unstructured``: one threshold over several parameters together (smallest |w| across them all);
- ``identity`` (mask of ones) and ``custom_from_mask`` (your mask).

Ties in |w|: the smallest entries are chosen with a stable sort (the lower flat index goes first); torch's
CPU ``topk`` breaks ties by its partial-sort order, so on tied magnitudes the pruned *set* can differ from
torch's while the count and the threshold agree.
"""

import numbers
from abc import ABC, abstractmethod

from ...autograd.grad_mode import no_grad
from ...backend import xp
from ...factories import rand
from ...tensor import Tensor

# ---- amounts ----------------------------------------------------------------------------------------------


def _validate_pruning_amount_init(amount):
    """An amount is a non-negative int or a float in [0, 1]."""
    if not isinstance(amount, numbers.Real) or isinstance(amount, bool):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    if (isinstance(amount, numbers.Integral) and amount < 0) or (
            not isinstance(amount, numbers.Integral) and not 0.0 <= float(amount) <= 1.0):
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a non-negative integer")


def _compute_nparams_toprune(amount, tensor_size):
    """How many of ``tensor_size`` units to prune: the int itself, or round(amount · size) for a fraction."""
    if isinstance(amount, numbers.Integral):
        return int(amount)
    return round(amount * tensor_size)


def _validate_pruning_amount(amount, tensor_size):
    if isinstance(amount, numbers.Integral) and amount > tensor_size:
        raise ValueError(f"amount={amount} should be smaller than the number of parameters to prune={tensor_size}")


def _validate_structured_pruning(t):
    if t.ndim <= 1:
        raise ValueError(f"Structured pruning can only be applied to multidimensional tensors. Found tensor of shape "
                         f"{tuple(t.shape)} with {t.ndim} dims")


def _validate_pruning_dim(t, dim):
    if dim >= t.ndim:
        raise IndexError(f"Invalid index {dim} for tensor of size {tuple(t.shape)}")


def _smallest(values, k):
    """Flat indices of the k smallest values (stable: on a tie the lower index goes first)."""
    return xp.argsort(values, kind="stable")[:k]


def _channel_mask(t, dim, keep):
    """A mask of t's shape: 1 on the channels ``keep`` (indices or booleans) along ``dim``, 0 elsewhere."""
    mask = xp.zeros_like(t)
    slc = [slice(None)] * t.ndim
    slc[dim] = keep
    mask[tuple(slc)] = 1
    return mask


def _norm_over_other_dims(t, n, dim):
    """‖t‖ₙ of every channel along ``dim`` (the norm over every other dim), as ``torch.norm(t, p=n, dim=...)``."""
    dims = tuple(d for d in range(t.ndim) if d != dim % t.ndim)
    a = xp.abs(t)
    if n == "fro":
        n = 2
    if n == float("inf"):
        return a.max(axis=dims)
    if n == float("-inf"):
        return a.min(axis=dims)
    if n == 0:
        return (a != 0).sum(axis=dims).astype(t.dtype)
    return (a ** n).sum(axis=dims) ** (1.0 / n)


# ---- the methods -------------------------------------------------------------------------------------------


class BasePruningMethod(ABC):
    """A way of choosing a mask. Subclasses define ``compute_mask(t, default_mask)`` and ``PRUNING_TYPE``
    ('unstructured', 'structured' or 'global'); the object itself is the forward pre-hook."""

    _tensor_name = None

    def __call__(self, module, inputs):
        """Before every forward: ``module.<name> = <name>_orig ⊙ <name>_mask``."""
        setattr(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t, default_mask):
        """The new mask for importance scores ``t``, given the mask already in place."""

    def apply_mask(self, module):
        """w ⊙ m, differentiable in w (the mask is a constant)."""
        if self._tensor_name is None:
            raise AssertionError(f"Module {module} has to be pruned")
        orig = getattr(module, self._tensor_name + "_orig")
        mask = getattr(module, self._tensor_name + "_mask")
        return mask.to(orig.dtype) * orig

    @classmethod
    def apply(cls, module, name, *args, importance_scores=None, **kwargs):
        """Prune ``module.<name>`` with ``cls(*args, **kwargs)``, combining with any earlier pruning."""
        method = cls._composite(module, name, *args, **kwargs)
        orig = getattr(module, name)
        if importance_scores is not None:
            if tuple(importance_scores.shape) != tuple(orig.shape):
                raise AssertionError(f"importance_scores should have the same shape as parameter {name} of "
                                     f"{module}: got {tuple(importance_scores.shape)}, expected {tuple(orig.shape)}")
        else:
            importance_scores = orig
        first = not isinstance(method, PruningContainer)
        if first:  # the parameter moves to <name>_orig; <name> becomes the computed tensor
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
            default_mask = Tensor(xp.ones_like(orig.array))
        else:
            default_mask = Tensor(getattr(module, name + "_mask").array.copy())
        try:
            with no_grad():
                mask = method.compute_mask(importance_scores, default_mask=default_mask)
            module.register_buffer(name + "_mask", mask)
            setattr(module, name, method.apply_mask(module))
            module.register_forward_pre_hook(method)
        except Exception:
            if first:  # put the parameter back as it was
                module.register_parameter(name, getattr(module, name + "_orig"))
                del module._parameters[name + "_orig"]
            raise
        return method

    @classmethod
    def _composite(cls, module, name, *args, **kwargs):
        """The new method, merged with the hook already pruning ``name`` (if any) into a PruningContainer."""
        found = [(k, hook) for k, hook in module._forward_pre_hooks.items()
                 if isinstance(hook, BasePruningMethod) and hook._tensor_name == name]
        if len(found) > 1:
            raise AssertionError(f"Avoid adding multiple pruning hooks to the same tensor {name} of module {module}. "
                                 f"Use a PruningContainer.")
        for k, _ in found:
            del module._forward_pre_hooks[k]
        method = cls(*args, **kwargs)
        method._tensor_name = name
        if found:
            old = found[0][1]
            if isinstance(old, PruningContainer):
                old.add_pruning_method(method)
                return old
            container = PruningContainer(old)
            container.add_pruning_method(method)
            return container
        return method

    def prune(self, t, default_mask=None, importance_scores=None):
        """t ⊙ mask, the mask computed from ``importance_scores`` (default: t itself)."""
        scores = t if importance_scores is None else importance_scores
        default_mask = Tensor(xp.ones_like(t.array)) if default_mask is None else default_mask
        with no_grad():
            mask = self.compute_mask(scores, default_mask=default_mask)
        return t * mask

    def remove(self, module):
        """Make the pruning permanent: ``<name>`` becomes a parameter holding w ⊙ m (the same Parameter object
        as ``<name>_orig``, so an optimiser holding it keeps working)."""
        if self._tensor_name is None:
            raise AssertionError(f"Module {module} has to be pruned before pruning can be removed")
        weight = self.apply_mask(module)
        if hasattr(module, self._tensor_name):
            delattr(module, self._tensor_name)
        orig = module._parameters[self._tensor_name + "_orig"]
        orig.data = weight.data
        del module._parameters[self._tensor_name + "_orig"]
        del module._buffers[self._tensor_name + "_mask"]
        setattr(module, self._tensor_name, orig)


class PruningContainer(BasePruningMethod):
    """The history of pruning methods applied to one tensor; its mask combines them: the newest method
    computes its mask on what the mask so far leaves alive (entries, channels, or everything for 'global')."""

    def __init__(self, *args):
        self._pruning_methods = ()
        if len(args) == 1 and not isinstance(args[0], tuple):
            self._tensor_name = args[0]._tensor_name
            self.add_pruning_method(args[0])
        else:
            methods = args[0] if len(args) == 1 else args
            for method in methods:
                self.add_pruning_method(method)

    def add_pruning_method(self, method):
        if method is not None and not isinstance(method, BasePruningMethod):
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if method is not None and self._tensor_name != method._tensor_name:
            raise ValueError(f"Can only add pruning methods acting on the parameter named '{self._tensor_name}' "
                             f"to PruningContainer {self}. Found '{method._tensor_name}'")
        self._pruning_methods += (method,)

    def __len__(self):
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, idx):
        return self._pruning_methods[idx]

    def compute_mask(self, t, default_mask):
        """The mask so far, with the newest method applied to the slice it leaves alive."""
        method = self._pruning_methods[-1]
        t_arr, mask = t.array, default_mask.array
        new_mask = mask.astype(t_arr.dtype)
        if method.PRUNING_TYPE == "unstructured":
            slc = mask == 1                                      # the entries still alive
        elif method.PRUNING_TYPE == "structured":
            if not hasattr(method, "dim"):
                raise AttributeError("Pruning methods of PRUNING_TYPE 'structured' need to have the attribute `dim` "
                                     "defined.")
            dim = method.dim + t_arr.ndim if method.dim < 0 else method.dim
            if dim < 0:
                raise IndexError(f"Index is out of bounds for tensor with dimensions {t_arr.ndim}")
            other = tuple(d for d in range(t_arr.ndim) if d != dim)
            slc = [slice(None)] * t_arr.ndim
            slc[dim] = mask.sum(axis=other) != 0                 # the channels still alive
            slc = tuple(slc)
        elif method.PRUNING_TYPE == "global":
            slc = (slice(None),) * t_arr.ndim
        else:
            raise ValueError(f"Unrecognized PRUNING_TYPE {method.PRUNING_TYPE}")
        partial = method.compute_mask(Tensor(t_arr[slc]), default_mask=Tensor(mask[slc]))
        new_mask[slc] = partial.array.astype(new_mask.dtype)
        return Tensor(new_mask)


class Identity(BasePruningMethod):
    """Prunes nothing: the mask is all ones (useful to give a module the pruned form)."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        return default_mask

    @classmethod
    def apply(cls, module, name):
        return super().apply(module, name)


def _without_smallest(t, default_mask, amount, scores):
    """``default_mask`` with the ``amount`` entries of ``t`` whose ``scores()`` are smallest set to 0 (an
    unstructured method's mask); ``scores`` is called only when something is pruned."""
    size = t.numel()
    k = _compute_nparams_toprune(amount, size)
    _validate_pruning_amount(k, size)
    mask = default_mask.array.copy()
    if k != 0:
        mask.reshape(-1)[_smallest(scores().reshape(-1), k)] = 0
    return Tensor(mask)


class RandomUnstructured(BasePruningMethod):
    """Zero ``amount`` entries chosen uniformly at random (the k largest of U(0, 1) draws)."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount):
        _validate_pruning_amount_init(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):  # the draws are made only when something is pruned, as torch
        return _without_smallest(t, default_mask, self.amount, lambda: -rand(*t.shape, dtype=t.dtype).array)

    @classmethod
    def apply(cls, module, name, amount):
        return super().apply(module, name, amount=amount)


class L1Unstructured(BasePruningMethod):
    """Zero the ``amount`` entries of smallest magnitude |w|."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount):
        _validate_pruning_amount_init(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):
        return _without_smallest(t, default_mask, self.amount, lambda: xp.abs(t.array))

    @classmethod
    def apply(cls, module, name, amount, importance_scores=None):
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


def _channels_to_prune(t, amount, dim):
    """(channels along ``dim``, how many of them to prune), after a structured method's checks."""
    _validate_structured_pruning(t)
    _validate_pruning_dim(t, dim)
    channels = t.shape[dim]
    k = _compute_nparams_toprune(amount, channels)
    _validate_pruning_amount(k, channels)
    return channels, k


class RandomStructured(BasePruningMethod):
    """Zero ``amount`` whole channels along ``dim``, chosen at random."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, dim=-1):
        _validate_pruning_amount_init(amount)
        self.amount, self.dim = amount, dim

    def compute_mask(self, t, default_mask):
        channels, k = _channels_to_prune(t, self.amount, self.dim)
        if k == 0:
            return default_mask
        prob = rand(channels).array
        threshold = xp.sort(prob)[k - 1]                  # torch.kthvalue(prob, k): the k-th smallest draw
        mask = _channel_mask(t.array, self.dim, prob > threshold)
        return Tensor(mask * default_mask.array.astype(mask.dtype))

    @classmethod
    def apply(cls, module, name, amount, dim=-1):
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(BasePruningMethod):
    """Zero the ``amount`` channels along ``dim`` with the smallest Lₙ norm (n = 1, 2, inf, -inf, 'fro', 0...)."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, n, dim=-1):
        _validate_pruning_amount_init(amount)
        self.amount, self.n, self.dim = amount, n, dim

    def compute_mask(self, t, default_mask):
        channels, k = _channels_to_prune(t, self.amount, self.dim)
        if k == 0:
            return default_mask
        norms = _norm_over_other_dims(t.array, self.n, self.dim)
        keep = _smallest(-norms, channels - k)            # the channels - k largest norms survive
        mask = _channel_mask(t.array, self.dim, keep)
        return Tensor(mask * default_mask.array.astype(mask.dtype))

    @classmethod
    def apply(cls, module, name, amount, n, dim, importance_scores=None):
        return super().apply(module, name, amount=amount, n=n, dim=dim, importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """The mask you give (multiplied into any mask already there)."""

    PRUNING_TYPE = "global"

    def __init__(self, mask):
        self.mask = mask

    def compute_mask(self, t, default_mask):
        if tuple(default_mask.shape) != tuple(self.mask.shape):
            raise AssertionError(f"custom_from_mask: the mask has shape {tuple(self.mask.shape)} but the parameter "
                                 f"has shape {tuple(default_mask.shape)}")
        m = self.mask.array if isinstance(self.mask, Tensor) else xp.asarray(self.mask)
        return Tensor(default_mask.array * m.astype(default_mask.array.dtype))

    @classmethod
    def apply(cls, module, name, mask):
        return super().apply(module, name, mask=mask)


# ---- the functions ------------------------------------------------------------------------------------------


def identity(module, name):
    """Give ``module.<name>`` the pruned form with a mask of ones; returns the module."""
    Identity.apply(module, name)
    return module


def random_unstructured(module, name, amount):
    """Prune ``amount`` random entries of ``module.<name>``; returns the module."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name, amount, importance_scores=None):
    """Prune the ``amount`` entries of ``module.<name>`` with the smallest |w| (or smallest importance score)."""
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module, name, amount, dim):
    """Prune ``amount`` random channels of ``module.<name>`` along ``dim``."""
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name, amount, n, dim, importance_scores=None):
    """Prune the ``amount`` channels of ``module.<name>`` along ``dim`` with the smallest Lₙ norm."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def custom_from_mask(module, name, mask):
    """Prune ``module.<name>`` where ``mask`` is 0."""
    CustomFromMask.apply(module, name, mask)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs):
    """Prune several parameters together: ``pruning_method(**kwargs)`` (an unstructured method such as
    ``L1Unstructured`` with ``amount=...``) chooses among all their entries at once, so a layer of small
    weights loses more than a layer of large ones. ``parameters`` is an iterable of (module, name)."""
    if not hasattr(parameters, "__iter__") or isinstance(parameters, (str, bytes)):
        raise TypeError("global_unstructured(): parameters must be an iterable of (module, name) tuples")
    parameters = list(parameters)
    importance_scores = importance_scores if importance_scores is not None else {}
    if not isinstance(importance_scores, dict):
        raise TypeError("global_unstructured(): importance_scores must be a dict {(module, name): Tensor}")
    scores = xp.concatenate([importance_scores.get((m, n), getattr(m, n)).array.reshape(-1) for m, n in parameters])
    masks = [getattr(m, n + "_mask", None) for m, n in parameters]
    default = xp.concatenate([(xp.ones_like(getattr(m, n).array) if k is None else k.array).reshape(-1)
                              for (m, n), k in zip(parameters, masks)])
    container = PruningContainer()
    container._tensor_name = "temp"
    method = pruning_method(**kwargs)
    method._tensor_name = "temp"
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError(f'Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. Found method '
                        f'{pruning_method} of type {method.PRUNING_TYPE}')
    container.add_pruning_method(method)
    with no_grad():
        final = container.compute_mask(Tensor(scores), Tensor(default)).array
    start = 0
    for module, name in parameters:
        shape = getattr(module, name).shape
        count = getattr(module, name).numel()
        custom_from_mask(module, name, mask=Tensor(final[start:start + count].reshape(shape)))
        start += count


def remove(module, name):
    """Make the pruning of ``module.<name>`` permanent (an ordinary parameter holding w ⊙ m); returns the module."""
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning can be removed")


def is_pruned(module):
    """Whether ``module`` or any module inside it carries a pruning hook."""
    return any(isinstance(hook, BasePruningMethod)
               for _, sub in module.named_modules() for hook in sub._forward_pre_hooks.values())


__all__ = [
    "BasePruningMethod", "PruningContainer", "Identity", "RandomUnstructured", "L1Unstructured", "RandomStructured",
    "LnStructured", "CustomFromMask", "identity", "random_unstructured", "l1_unstructured", "random_structured",
    "ln_structured", "global_unstructured", "custom_from_mask", "remove", "is_pruned",
]
