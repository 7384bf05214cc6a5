"""Checkpoints as data, never code: one ``.npz`` file holding every array plus one JSON document.

A training state is a tree of dicts and lists whose leaves are arrays, Tensors, numbers, strings, bools
or None (a model's state_dict, an optimizer's, a scheduler's, RNG states, the history). ``save`` splits
it into the arrays (stored by NumPy, loaded with ``allow_pickle=False``) and a JSON document that keeps
the structure with a ``{"__array__": key}`` marker where each array was; ``load`` puts it back together.
Nothing in the file is executed on load, unlike ``torch.save``'s pickles.

The file is written to a temporary name in the same folder, flushed to disk, and renamed over the old
one: a crash mid-save leaves the previous checkpoint intact.
"""

import io
import json

from ..backend import xp
from ..serialization import write_atomically
from ..tensor import Tensor

_META = "__meta__.json"
FORMAT = "ember-checkpoint-1"


def _split(tree, arrays, path):
    """The JSON-able skeleton of ``tree``; arrays go into ``arrays`` under their path in the tree."""
    if isinstance(tree, Tensor):
        tree = tree.array
    if isinstance(tree, xp.ndarray):
        if tree.dtype.kind not in "biuf":
            raise TypeError(f"checkpoint: the array at '{path}' has dtype {tree.dtype}; only numbers can be saved")
        arrays[path] = tree
        return {"__array__": path}
    if isinstance(tree, xp.generic):
        return tree.item()
    if isinstance(tree, dict):
        out = {}
        for key, value in tree.items():
            if not isinstance(key, (str, int)):
                raise TypeError(f"checkpoint: keys must be str or int, got {type(key).__name__} at '{path}'")
            # JSON object keys are strings: remember which were ints (optimizer state is keyed by index).
            name = key if isinstance(key, str) else f"__int__{key}"
            out[name] = _split(value, arrays, f"{path}/{key}" if path else str(key))
        return out
    if isinstance(tree, (list, tuple)):
        return [_split(v, arrays, f"{path}/{i}") for i, v in enumerate(tree)]
    if tree is None or isinstance(tree, (bool, int, float, str)):
        return tree
    raise TypeError(f"checkpoint: cannot save a {type(tree).__name__} at '{path}' (only data, never objects)")


def _join(skeleton, arrays):
    if isinstance(skeleton, dict):
        if set(skeleton) == {"__array__"}:
            return arrays[skeleton["__array__"]]
        return {
            (int(k[len("__int__") :]) if k.startswith("__int__") else k): _join(v, arrays) for k, v in skeleton.items()
        }
    if isinstance(skeleton, list):
        return [_join(v, arrays) for v in skeleton]
    return skeleton


def save(path, tree):
    """Write a state tree (see the module docstring) to ``path`` atomically."""
    arrays = {}
    skeleton = _split(tree, arrays, "")
    meta = json.dumps({"format": FORMAT, "tree": skeleton}).encode()
    entries = dict(arrays)
    entries[_META] = xp.frombuffer(meta, dtype=xp.uint8)

    def write(f):
        buffer = io.BytesIO()
        xp.savez(buffer, **entries)
        f.write(buffer.getbuffer())

    write_atomically(path, write)


def load(path):
    """Read a state tree written by ``save``; arrays come back as NumPy arrays."""
    with xp.load(path, allow_pickle=False) as npz:
        if _META not in npz.files:
            raise ValueError(f"{path} is not an Ember checkpoint (no {_META} inside)")
        meta = json.loads(npz[_META].tobytes().decode())
        if meta.get("format") != FORMAT:
            raise ValueError(f"{path}: unknown checkpoint format {meta.get('format')!r} (expected {FORMAT})")
        arrays = {k: npz[k] for k in npz.files if k != _META}
    return _join(meta["tree"], arrays)
