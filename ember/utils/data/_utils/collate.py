"""default_collate and default_convert: torch's rules for turning samples into a batch of Tensors.

default_collate(samples), by the type of the first sample:

    Tensor / ndarray     stacked along a new first axis -> Tensor (B, *shape), dtype kept
    NumPy scalar         -> 1-D Tensor of its dtype
    float / int / bool   -> 1-D Tensor float64 / int64 / bool (torch's dtypes: a Python float is float64)
    str / bytes          -> the list, unchanged
    Mapping              -> the same mapping type, each key collated
    namedtuple           -> the same namedtuple, each field collated
    other Sequence       -> each position collated; a tuple gives a *list* (torch's rule), a list a list

default_convert(sample) converts without batching (the DataLoader's collate when ``batch_size=None``):
NumPy arrays and scalars become Tensors, containers are walked (tuples become lists), the rest is kept.
"""

import collections.abc
import copy
import re

from ....backend import xp
from ....tensor import Tensor

_STRING_OR_OBJECT = re.compile(r"[SaUO]")  # dtype codes default_collate cannot turn into a Tensor
_ERROR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _is_numpy(obj):
    return type(obj).__module__ == "numpy" and type(obj).__name__ not in ("str_", "string_", "bytes_")


def _rebuild(elem, items):
    """``items`` (a dict or a list) in the container type of ``elem``, as torch rebuilds them."""
    try:
        if isinstance(elem, collections.abc.MutableMapping) or isinstance(elem, collections.abc.MutableSequence):
            clone = copy.copy(elem)  # keeps the container's own type and extra attributes
            if isinstance(elem, collections.abc.Mapping):
                clone.update(items)
            else:
                clone[:] = items
            return clone
        return type(elem)(items)
    except TypeError:  # a container that cannot be copied or rebuilt from its items
        return items


def default_collate(batch):
    """A list of samples as one batch, by torch's rules (see the module docstring)."""
    elem = batch[0]
    if isinstance(elem, Tensor) or (isinstance(elem, xp.ndarray) and _is_numpy(elem)):
        arrays = [b.array if isinstance(b, Tensor) else b for b in batch]
        if isinstance(elem, xp.ndarray) and _STRING_OR_OBJECT.search(elem.dtype.str):
            raise TypeError(_ERROR.format(elem.dtype))
        for i, a in enumerate(arrays):
            if a.shape != arrays[0].shape:
                raise RuntimeError(
                    f"stack expects each tensor to be equal size, but got {list(arrays[0].shape)} at entry 0 and "
                    f"{list(a.shape)} at entry {i} (default_collate needs samples of the same shape; pad or "
                    "resize them, or pass a collate_fn to the DataLoader)"
                )
        return Tensor(xp.stack(arrays))
    if isinstance(elem, xp.generic) and _is_numpy(elem):
        if _STRING_OR_OBJECT.search(elem.dtype.str):
            raise TypeError(_ERROR.format(type(elem)))
        return Tensor(xp.asarray(batch))
    if isinstance(elem, bool):
        return Tensor(xp.asarray(batch, dtype=xp.bool_))
    if isinstance(elem, float):
        return Tensor(xp.asarray(batch, dtype=xp.float64))
    if isinstance(elem, int):
        return Tensor(xp.asarray(batch, dtype=xp.int64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild(elem, {key: default_collate([d[key] for d in batch]) for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(b) != len(elem) for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(list(s)) for s in zip(*batch)]
        return fields if isinstance(elem, tuple) else _rebuild(elem, fields)
    raise TypeError(_ERROR.format(type(elem)) + ". Pass a collate_fn to the DataLoader for other types")


def default_convert(data):
    """One sample with its NumPy arrays and scalars as Tensors (no batching), by torch's rules."""
    if isinstance(data, Tensor):
        return data
    if _is_numpy(data) and isinstance(data, (xp.ndarray, xp.generic)):
        if isinstance(data, xp.ndarray) and _STRING_OR_OBJECT.search(data.dtype.str):
            return data
        return Tensor(xp.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return _rebuild(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild(data, [default_convert(d) for d in data])
    return data
