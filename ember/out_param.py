"""torch's calling conventions on ``torch.*`` functions: the ``out=`` keyword (``torch.add(x, y, out=result)``
writes into ``result``) and torch's keyword names for the operands (``torch.matmul(input=a, other=b)``).

PyTorch lets most ``torch.*`` functions write their result into an existing tensor instead of a new one.
Ember computes the result as usual and then copies it in, which gives torch's observable behaviour:

- ``out`` gets the values (cast to its own dtype, if that is a safe cast) and the function returns ``out``;
- an ``out`` of another shape is resized to the result's shape (torch warns when it held elements);
- ``out=`` cannot be recorded by autograd, so while grad mode is on and any argument requires grad it raises
  torch's RuntimeError.
"""

import functools
import inspect
import warnings

from .autograd import is_grad_enabled
from .backend import xp
from .tensor import Tensor


def _requires_grad(args, kwargs):
    for value in list(args) + list(kwargs.values()):
        if isinstance(value, Tensor) and value.requires_grad:
            return True
        if isinstance(value, (list, tuple)) and any(isinstance(v, Tensor) and v.requires_grad for v in value):
            return True  # cat/stack take a sequence of tensors
    return False


def copy_into(out, result, name):
    """Write ``result`` (a Tensor) into ``out`` as torch's ``out=`` does; return ``out``."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    array = result.array if isinstance(result, Tensor) else xp.asarray(result)
    if not xp.can_cast(array.dtype, out.dtype, casting="same_kind"):
        raise RuntimeError(f"{name}(): result type {array.dtype} can't be cast to the desired output type "
                           f"{out.dtype}; pass an out tensor of dtype {array.dtype} (or drop out=)")
    if out.shape == array.shape:
        out.array[...] = array
        out._bump_version()
    else:
        if out.array.size:  # torch's warning: resizing a tensor that held values is deprecated
            warnings.warn(f"{name}(): an output with one or more elements was resized since it had shape "
                          f"{list(out.shape)}, which does not match the required output shape {list(array.shape)}. "
                          "Resize the out tensor first (out.resize_(0)) to silence this.", UserWarning, stacklevel=3)
        out.array = array.astype(out.dtype, copy=True)
    return out


def _torch_keywords(fn):
    """{torch's keyword: fn's name for it} for the operands: torch calls the first ``input`` and the second
    ``other``, where Ember's ops may say ``a`` and ``b``."""
    try:
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return {}
    renames = {}
    for torch_name, param in zip(("input", "other"), params):
        if param.name != torch_name and param.kind is param.POSITIONAL_OR_KEYWORD:
            renames[torch_name] = param.name
    return renames


def with_out(fn):
    """``fn`` taking torch's keyword ``out=`` and torch's operand names ``input=``/``other=``; called without
    them, ``fn`` runs unchanged."""
    name = fn.__name__
    renames = _torch_keywords(fn)

    @functools.wraps(fn)
    def wrapper(*args, out=None, **kwargs):
        for torch_name, own_name in renames.items():
            if torch_name in kwargs and own_name not in kwargs:
                kwargs[own_name] = kwargs.pop(torch_name)
        if out is None:
            return fn(*args, **kwargs)
        if is_grad_enabled() and (_requires_grad(args, kwargs) or (isinstance(out, Tensor) and out.requires_grad)):
            raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic differentiation, "
                               "but one of the arguments requires grad. Call it under torch.no_grad(), or drop out= "
                               "and use the returned tensor.")
        return copy_into(out, fn(*args, **kwargs), name)

    return wrapper
