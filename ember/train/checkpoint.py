"""Checkpoints as data, never code: one ``.npz`` file holding every array plus one JSON document.

A training state is a tree of dicts and lists whose leaves are arrays, Tensors, numbers, strings, bools
or None (a model's state_dict, an optimizer's, a scheduler's, RNG states, the history). ``save`` splits
it into the arrays (stored by NumPy, loaded with ``allow_pickle=False``) and a JSON document that keeps
the structure with a ``{"__array__": key}`` marker where each array was; ``load`` puts it back together.
Nothing in the file is executed on load, unlike ``torch.save``'s pickles.

The file is written to a temporary name in the same folder, flushed to disk, and renamed over the old
one: a crash mid-save leaves the previous checkpoint intact, and the temporary file it leaves behind is
removed by the next save into that folder.

``load`` names what a file is when it is not a checkpoint — missing, empty, truncated, random bytes, a
pickle, a single ``.npy`` array, a PyTorch ``torch.save`` file, an ``ember.save`` file, a plain ``.npz``
— with a :class:`CheckpointError` (a ValueError), never NumPy's advice to load it with pickle.
"""

import io
import json
import os
import zipfile
import zlib

from ..backend import xp
from ..serialization import remove_stray_temporaries, write_atomically
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
    """Write a state tree (see the module docstring) to ``path`` atomically; then remove the temporary
    files that writers killed mid-save left in the same folder."""
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
    remove_stray_temporaries(os.path.dirname(os.path.abspath(path)))


class CheckpointError(ValueError):
    """A file that is not a readable Ember checkpoint; the message says what it is instead."""


_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def _what_it_is(path, head, size):
    """Why a file that is not a zip archive cannot be a checkpoint."""
    if size == 0:
        return f"{path} is empty (0 bytes), not an Ember checkpoint (a save that never finished?)"
    if head.startswith(b"\x93NUMPY"):
        return f"{path} is a single NumPy array (.npy), not an Ember checkpoint (an .npz written by ember)"
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return (f"{path} is a pickle file (e.g. a legacy torch.save), not an Ember checkpoint; "
                "Ember never loads pickles")
    return f"{path} is not an Ember checkpoint: not an .npz (zip) archive (it starts with {head[:8]!r})"


def _open_archive(path):
    """The zip archive at ``path`` after checking what it is (see the module docstring)."""
    if os.path.isdir(path):
        raise CheckpointError(f"{path} is a folder, not a checkpoint; pass a file in it such as "
                              f"{os.path.join(path, 'last.npz')}")
    size = os.path.getsize(path)  # FileNotFoundError for a missing file, as open() would give
    with open(path, "rb") as f:
        head = f.read(16)
    if not head.startswith(_ZIP_MAGIC):
        raise CheckpointError(_what_it_is(path, head, size))
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise CheckpointError(f"{path} is truncated or damaged (an incomplete zip archive: {error}); "
                              "use another checkpoint, e.g. the run's epoch-N.npz or best.npz") from None
    names = archive.namelist()
    if _META + ".npy" in names:
        return archive
    archive.close()
    if any(n == "data.pkl" or n.endswith("/data.pkl") for n in names):
        raise CheckpointError(f"{path} is a PyTorch file (torch.save), not an Ember training checkpoint; load "
                              "its weights in Python with ember.load(path) and model.load_state_dict(...)")
    if "ember.json" in names:
        raise CheckpointError(f"{path} was written by ember.save (a state_dict or object), not by training; "
                              "load it with ember.load(path), or pass a checkpoint written by `ember train`")
    return None


def load(path):
    """Read a state tree written by ``save``; arrays come back as NumPy arrays.

    Raises FileNotFoundError for a missing file and :class:`CheckpointError` (a ValueError) for anything
    that is not an intact Ember checkpoint.
    """
    path = os.fspath(path)
    archive = _open_archive(path)
    if archive is None:
        raise CheckpointError(f"{path} is a zip/.npz archive without Ember's {_META}: not an Ember checkpoint "
                              "(a plain numpy.savez file?); pass a checkpoint written by `ember train`")
    try:
        with archive, xp.load(path, allow_pickle=False) as npz:
            meta = json.loads(npz[_META].tobytes().decode())
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
                raise CheckpointError(f"{path}: unknown checkpoint format {found!r} (expected {FORMAT})")
            arrays = {k: npz[k] for k in npz.files if k != _META}
        return _join(meta["tree"], arrays)
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError, UnicodeDecodeError) as error:
        # A CRC mismatch, a truncated member, an unreadable JSON or a missing array: the bytes are damaged.
        if "allow_pickle" in str(error):  # never pass on NumPy's advice to load the file unsafely
            raise CheckpointError(f"{path} holds a pickled (object) array; Ember never loads pickles, so this "
                                  "is not a checkpoint it can read") from None
        raise CheckpointError(f"{path} is damaged ({error or type(error).__name__}); use another checkpoint, "
                              "e.g. the run's epoch-N.npz or best.npz") from None
