"""``ember.save`` / ``ember.load``: PyTorch's checkpoint API, with files that are data and never code.

**Ember's format** (what ``save`` writes) is a zip archive holding one ``.npy`` file per array
(``arrays/0.npy``, ...; read back with ``allow_pickle=False``) and ``ember.json``, a JSON document of the
structure around them. Every node of the document is a literal (None, bool, int, finite float, str) or an
object tagged with ``"$"``: ``list``, ``tuple``, ``set``, ``dict`` / ``OrderedDict`` (as a list of
``[key, value]`` pairs, so int keys stay ints), ``tensor`` (``array`` index, ``requires_grad``,
``parameter``: nn.Parameter or plain Tensor), ``ndarray``, ``scalar`` (a NumPy scalar), ``dtype``,
``bytes``, ``float`` (nan and infinities). A Tensor that appears twice is stored once and comes back as
one object, as in torch. A whole ``nn.Module`` (``torch.save(model, f)``) is an ``object`` node: its class's
import name and its attributes (parameters, buffers, submodules, settings) as data; ``load`` rebuilds it
with ``cls.__new__`` and those attributes, running none of the class's code, and only for Ember's own layers
and the classes the program allowlists with ``safe_globals`` (as torch's ``weights_only`` load requires).

**PyTorch's format** (``torch.save`` since 1.6) is a zip archive: ``<name>/data.pkl`` (a pickle of the
object, in which every tensor is ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)``
and every storage a persistent id ``('storage', torch.FloatStorage, key, location, numel)``),
``<name>/data/<key>`` (the raw bytes of each storage), ``<name>/byteorder`` and ``<name>/version``.
``load`` reads it with :mod:`ember.safe_pickle`, an interpreter of the pickle opcodes that imports and calls
nothing the file names: it knows the globals torch's ``weights_only=True`` admits (the tensor and parameter
rebuilders, the storage types, dtypes, ``torch.Size``, ``torch.device``, ``collections.OrderedDict``) as
its own functions and refuses every other one with :class:`pickle.UnpicklingError` before anything runs.
Views saved by torch come back as views: tensors that shared a storage share one array.
"""

import collections
import io
import json
import math
import os
import re
import tempfile
import types
import zipfile

from .backend import as_strided, xp
from .safe_globals import (  # noqa: F401  (add_safe_globals and friends are torch.serialization's names)
    _allowed_by_user,
    _build_user_object,
    _resolve_global,
    _trusted,
    add_safe_globals,
    clear_safe_globals,
    get_safe_globals,
    safe_globals,
)
from .safe_pickle import NUMPY_GLOBALS, Call, UnsafePickleError, interpret
from .tensor import Tensor

__all__ = ["add_safe_globals", "clear_safe_globals", "get_safe_globals", "load", "safe_globals", "save"]

FORMAT = "ember.save"
VERSION = 1
_STRUCTURE = "ember.json"


# ---- writing ------------------------------------------------------------------------------------------


_UMASK = os.umask(0)  # read once (the only way to read it is to set it): the permissions a new file gets
os.umask(_UMASK)


def write_atomically(path, write, by_path=False):
    """Call ``write(file)`` on a temporary file next to ``path``, then rename it over ``path``: a crash
    mid-write leaves the previous file as it was.

    The temporary name is ``NAME.PID-XXXXXXXX.tmp`` (PID: the writing process), so a file left by a process
    that was killed mid-write can be told from one being written right now (``remove_stray_temporaries``).
    With ``by_path=True``, ``write`` gets the temporary file's path instead, and the name ends in ``path``'s
    own extension (``NAME.PID-XXXXXXXX.tmp.gif``): for writers that open the file themselves and choose the
    format by its name (matplotlib's PillowWriter). An OSError without a file name (a full disk while writing)
    is re-raised naming ``path``.
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    suffix = ".tmp" + (os.path.splitext(path)[1] if by_path else "")
    fd, tmp = tempfile.mkstemp(prefix=f"{os.path.basename(path)}.{os.getpid()}-", suffix=suffix, dir=folder)
    try:
        if by_path:
            os.close(fd)
            write(tmp)
        else:
            with os.fdopen(fd, "wb") as f:
                write(f)
                f.flush()
                os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes the file private; the result is an ordinary new file
        os.replace(tmp, path)
    except BaseException as error:
        if os.path.exists(tmp):
            os.remove(tmp)
        if isinstance(error, OSError) and error.filename is None and error.errno is not None:
            raise OSError(error.errno, error.strerror, os.fspath(path)) from error
        raise


# NAME.PID-XXXXXXXX.tmp (write_atomically) and .NAME.PID-XXXXXXXX.part (the dataset downloads' atomic_write):
# mkstemp's eight random characters are lower-case letters, digits and '_'.
_STRAY = re.compile(r"^(?:[^.].*\.(?P<pid>\d+)-[a-z0-9_]{8}\.tmp(?:\.[A-Za-z0-9]+)?"
                    r"|\..+\.(?P<part_pid>\d+)-[a-z0-9_]{8}\.part)$")


def _process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # it exists (someone else's), or we cannot tell: leave its files alone
    return True


def remove_stray_temporaries(folder):
    """Delete the temporary files of ``write_atomically`` (and of the dataset downloads' ``atomic_write``) in
    ``folder`` whose writer no longer runs.

    Only names of exactly those shapes (``NAME.PID-XXXXXXXX.tmp[.EXT]``, ``.NAME.PID-XXXXXXXX.part``) written by a
    process that is gone are
    removed: a file of another shape is never ours to delete, and a live writer's file is in use.
    Returns the names removed.
    """
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        match = _STRAY.match(name)
        if match is None:
            continue
        pid = int(match["pid"] or match["part_pid"])
        if pid == os.getpid() or _process_alive(pid):
            continue
        try:
            os.remove(os.path.join(folder, name))
            removed.append(name)
        except OSError:  # gone already, or not ours to remove after all
            pass
    return removed


class _Encoder:
    """Splits an object tree into the JSON structure and the list of arrays."""

    def __init__(self):
        self.arrays, self.tensors, self.objects = [], {}, {}

    def array(self, a, where):
        if a.dtype.kind not in "biufc":
            raise TypeError(f"ember.save: the array at {where} has dtype {a.dtype}; only numeric arrays can be saved")
        self.arrays.append(a)
        return len(self.arrays) - 1

    def encode(self, obj, where="the top level"):
        if obj is None or isinstance(obj, (bool, int, str)):
            return obj
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"$": "float", "value": repr(obj)}
        if isinstance(obj, Tensor):
            if id(obj) not in self.tensors:
                from .nn.parameter import Parameter

                self.tensors[id(obj)] = {
                    "$": "tensor",
                    "array": self.array(obj.array, where),
                    "requires_grad": bool(obj.requires_grad),
                    "parameter": isinstance(obj, Parameter),
                }
            return self.tensors[id(obj)]
        if isinstance(obj, xp.ndarray):
            return {"$": "ndarray", "array": self.array(obj, where)}
        from .nn.module import Module

        if isinstance(obj, Module):
            if id(obj) in self.objects:  # a submodule shared by two parents comes back as one object
                return {"$": "ref", "id": self.objects[id(obj)]}
            self.objects[id(obj)] = len(self.objects)
            state = self.encode(dict(vars(obj)), f"{where} ({type(obj).__name__})")
            return {"$": "object", "id": self.objects[id(obj)], "class": _global_name(type(obj), where), "state": state}
        if isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType)):
            return {"$": "global", "name": _global_name(obj, where)}  # e.g. a layer's activation=F.relu
        if isinstance(obj, xp.generic):
            return {"$": "scalar", "array": self.array(xp.asarray(obj), where)}
        if isinstance(obj, xp.dtype):
            return {"$": "dtype", "name": obj.str}
        if isinstance(obj, (bytes, bytearray)):
            return {"$": "bytes", "hex": bytes(obj).hex()}
        if isinstance(obj, dict):
            kind = "OrderedDict" if isinstance(obj, collections.OrderedDict) else "dict"
            items = [[self.encode(k, where), self.encode(v, f"{where}[{k!r}]")] for k, v in obj.items()]
            return {"$": kind, "items": items}
        if isinstance(obj, (list, tuple, set, frozenset)):
            kind = {list: "list", tuple: "tuple", set: "set", frozenset: "frozenset"}[_base(obj)]
            return {"$": kind, "items": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        raise TypeError(_cannot_save(obj, where))


def _global_name(obj, where):
    name = f"{obj.__module__}.{obj.__qualname__}"
    if "<" in name:  # a lambda or a class/function defined inside a function: nothing can import it back
        raise TypeError(f"ember.save: cannot save {name} (at {where}): only importable classes and functions "
                        "can be named in a file; define it at the top level of a module")
    return name


def _base(obj):
    for kind in (list, tuple, set, frozenset):
        if isinstance(obj, kind):
            return kind


def _cannot_save(obj, where):
    name = type(obj).__name__
    if hasattr(obj, "state_dict") and callable(obj.state_dict):  # an optimizer, a scheduler
        return (
            f"ember.save: cannot save a {name} object (at {where}): Ember's files hold data, never pickled "
            f"objects. Save its state instead: ember.save(model.state_dict(), path), and later "
            f"model.load_state_dict(ember.load(path)) on a freshly built {name}."
        )
    return (
        f"ember.save: cannot save a {name} (at {where}): only Tensors, NumPy arrays, numbers, strings, bytes, "
        f"None, dtypes and dicts/lists/tuples/sets of them can be saved (files hold data, never objects)."
    )


def save(obj, f, pickle_module=None, pickle_protocol=None, _use_new_zipfile_serialization=True, **kwargs):
    """Save ``obj`` (Tensors, state_dicts, optimizer state_dicts and containers of them) to ``f``.

    Args:
        obj: Tensors (nn.Parameter stays a Parameter, ``requires_grad`` is kept), NumPy arrays and scalars,
            None/bool/int/float/str/bytes, dtypes, and dicts (any of those as keys), OrderedDicts, lists,
            tuples and sets of them; a whole ``nn.Module`` as data (its class's name and its attributes;
            ``load`` rebuilds Ember's layers, and the program's own classes once allowlisted with
            ``safe_globals``). An optimizer is refused with a ``TypeError``: save its ``state_dict()``.
        f: a path (str or os.PathLike), written atomically (a temporary file renamed over ``f``), or a
            writable binary file object such as ``io.BytesIO``.
        pickle_module, pickle_protocol, _use_new_zipfile_serialization: accepted for torch's signature;
            Ember's file holds no pickle, so they change nothing.
    """
    encoder = _Encoder()
    structure = encoder.encode(obj)
    document = json.dumps({"format": FORMAT, "version": VERSION, "object": structure}, allow_nan=False)

    def write(stream):
        with zipfile.ZipFile(stream, "w", zipfile.ZIP_STORED) as archive:
            archive.writestr(_STRUCTURE, document)
            for i, a in enumerate(encoder.arrays):
                with archive.open(f"arrays/{i}.npy", "w", force_zip64=True) as entry:
                    xp.lib.format.write_array(entry, xp.asarray(a), allow_pickle=False)

    if isinstance(f, (str, os.PathLike)):
        parent = os.path.dirname(os.path.abspath(os.fspath(f)))
        if not os.path.isdir(parent):  # torch's check: a typo in the folder must not create a new tree
            raise RuntimeError(f"Parent directory {parent} does not exist.")
        write_atomically(os.fspath(f), write)
    elif hasattr(f, "write"):
        write(f)
    else:
        raise TypeError(
            f"ember.save: f must be a path (str or os.PathLike) or a binary file object, got {type(f).__name__}"
        )


# ---- reading Ember's format ------------------------------------------------------------------------------


def _decode(node, arrays, tensors):
    if not isinstance(node, dict):
        return node
    kind = node.get("$")
    if kind == "object":
        cls = _resolve_global(node["class"])
        if not isinstance(cls, type):
            raise UnsafePickleError(f"ember.load: {node['class']} is not a class")
        obj = cls.__new__(cls)  # no __init__: the file's data only, none of the class's code
        tensors[("object", node["id"])] = obj
        state = _decode(node["state"], arrays, tensors)
        if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
            raise UnsafePickleError(f"ember.load: the attributes of a {node['class']} are not a dict of names")
        obj.__dict__.update(state)
        return obj
    if kind == "ref":
        return tensors[("object", node["id"])]
    if kind == "global":
        return _resolve_global(node["name"])
    if kind == "tensor":
        key = node["array"]
        if key not in tensors:
            from .nn.parameter import Parameter

            a = arrays(key)
            grad = bool(node.get("requires_grad")) and a.dtype.kind == "f"
            tensors[key] = Parameter(a, requires_grad=grad) if node.get("parameter") else Tensor(a, requires_grad=grad)
        return tensors[key]
    if kind == "ndarray":
        return arrays(node["array"])
    if kind == "scalar":
        return arrays(node["array"])[()]
    if kind == "dtype":
        return xp.dtype(node["name"])
    if kind == "bytes":
        return bytes.fromhex(node["hex"])
    if kind == "float":
        return float(node["value"])
    if kind in ("list", "tuple", "set", "frozenset"):
        items = [_decode(v, arrays, tensors) for v in node["items"]]
        return {"list": list, "tuple": tuple, "set": set, "frozenset": frozenset}[kind](items)
    if kind in ("dict", "OrderedDict"):
        out = collections.OrderedDict() if kind == "OrderedDict" else {}
        for k, v in node["items"]:
            out[_decode(k, arrays, tensors)] = _decode(v, arrays, tensors)
        return out
    raise ValueError(f"ember.load: unknown node {kind!r} in an Ember file (written by a newer Ember?)")


def _load_ember(archive, source):
    document = json.loads(archive.read(_STRUCTURE))
    if document.get("format") != FORMAT or document.get("version", 0) > VERSION:
        raise ValueError(
            f"ember.load: {source} has format {document.get('format')!r} version {document.get('version')!r}; "
            f"this Ember reads {FORMAT!r} up to version {VERSION}"
        )
    cache = {}

    def arrays(i):
        if i not in cache:
            with archive.open(f"arrays/{int(i)}.npy") as entry:
                cache[i] = xp.lib.format.read_array(entry, allow_pickle=False)
        return cache[i]

    return _decode(document["object"], arrays, {})


# ---- reading PyTorch's format ----------------------------------------------------------------------------

# torch's storage classes -> the NumPy dtype of their elements. bfloat16 has no NumPy dtype: it is read
# as its 16 raw bits and widened to float32 exactly (bfloat16 is float32 with the low 16 bits cut off).
_STORAGES = {
    "DoubleStorage": "float64",
    "FloatStorage": "float32",
    "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16",
    "LongStorage": "int64",
    "IntStorage": "int32",
    "ShortStorage": "int16",
    "CharStorage": "int8",
    "ByteStorage": "uint8",
    "BoolStorage": "bool",
}
_DTYPES = {
    "float64": "float64",
    "double": "float64",
    "float32": "float32",
    "float": "float32",
    "float16": "float16",
    "half": "float16",
    "bfloat16": "float32",
    "int64": "int64",
    "long": "int64",
    "int32": "int32",
    "int": "int32",
    "int16": "int16",
    "short": "int16",
    "int8": "int8",
    "uint8": "uint8",
    "bool": "bool",
}
_DEVICE = re.compile(r"^[a-z_]+(:\d+)?$")


class _StorageType:
    def __init__(self, name):
        self.name, self.dtype = name, _STORAGES[name]


class _Storage:
    """A storage from ``data/<key>``: one flat array that every tensor viewing it shares."""

    def __init__(self, array):
        self.array = array


class _TypeTag:
    """``torch.Tensor`` / ``torch.nn.Parameter`` named as the type argument of ``_rebuild_from_type_v2``."""

    def __init__(self, name):
        self.name = name


def _read_storage(raw, dtype, numel, big_endian, where):
    width = 2 if dtype == "bfloat16" else xp.dtype(dtype).itemsize
    if len(raw) < numel * width:
        raise UnsafePickleError(f"{where}: storage of {numel} elements needs {numel * width} bytes, has {len(raw)}")
    order = ">" if big_endian else "<"
    if dtype == "bfloat16":
        bits = xp.frombuffer(raw, dtype=order + "u2", count=numel).astype(xp.uint32)
        return (bits << 16).view(xp.float32)
    if dtype == "bool" or xp.dtype(dtype).itemsize == 1:
        return xp.frombuffer(bytearray(raw[:numel]), dtype=dtype)
    return xp.frombuffer(raw, dtype=order + xp.dtype(dtype).str[1:], count=numel).astype(dtype)


def _rebuild_tensor(storage, offset, size, stride, requires_grad=False, hooks=None, metadata=None):
    if not isinstance(storage, _Storage):
        raise UnsafePickleError("_rebuild_tensor_v2 without a storage")
    ints = (offset,) + tuple(size) + tuple(stride)
    if not all(isinstance(i, int) and i >= 0 for i in ints) or len(size) != len(stride):
        raise UnsafePickleError(f"bad tensor geometry: offset {offset}, size {size}, stride {stride}")
    flat = storage.array
    if all(size):  # the last element must lie inside the storage
        last = offset + sum((n - 1) * s for n, s in zip(size, stride))
        if last >= flat.size:
            raise UnsafePickleError(f"tensor of size {tuple(size)} stride {tuple(stride)} runs past its storage")
    step = flat.dtype.itemsize
    base = flat[offset:] if offset < flat.size else flat[:0]
    array = as_strided(base, tuple(size), tuple(s * step for s in stride), writeable=True)
    return Tensor(array, requires_grad=bool(requires_grad) and array.dtype.kind == "f")


def _rebuild_parameter(data, requires_grad=True, hooks=None, state=None):
    from .nn.parameter import Parameter

    if not isinstance(data, Tensor):
        raise UnsafePickleError("_rebuild_parameter of something that is not a tensor")
    return Parameter(data.array, requires_grad=bool(requires_grad) and data.array.dtype.kind == "f")


def _rebuild_from_type(func, new_type, args, state):
    if not (isinstance(func, Call) and isinstance(new_type, _TypeTag) and isinstance(args, tuple)):
        raise UnsafePickleError("_rebuild_from_type_v2 with unexpected arguments")
    tensor = func.function(*args)
    return _rebuild_parameter(tensor, tensor.requires_grad) if new_type.name == "Parameter" else tensor


def _device(*args):
    spec = args[0] if args else None
    if not isinstance(spec, str) or not _DEVICE.match(spec):
        raise UnsafePickleError(f"torch.device with unexpected arguments {args!r}")
    return spec if len(args) == 1 else f"{spec}:{args[1]}"


def _ordered_dict(*args):
    if args and not isinstance(args[0], (list, tuple, dict)):
        raise UnsafePickleError("OrderedDict of something that is not pairs")
    return collections.OrderedDict(*args[:1])


def _torch_globals():
    table = dict(NUMPY_GLOBALS)
    table[("collections", "OrderedDict")] = Call("collections.OrderedDict", _ordered_dict)
    table[("torch._utils", "_rebuild_tensor_v2")] = Call("_rebuild_tensor_v2", _rebuild_tensor)
    table[("torch._utils", "_rebuild_tensor")] = Call("_rebuild_tensor", _rebuild_tensor)
    table[("torch._utils", "_rebuild_parameter")] = Call("_rebuild_parameter", _rebuild_parameter)
    table[("torch._utils", "_rebuild_parameter_with_state")] = Call("_rebuild_parameter", _rebuild_parameter)
    table[("torch._tensor", "_rebuild_from_type_v2")] = Call("_rebuild_from_type_v2", _rebuild_from_type)
    table[("torch", "Tensor")] = _TypeTag("Tensor")
    table[("torch.nn.parameter", "Parameter")] = _TypeTag("Parameter")
    table[("torch", "Size")] = Call("torch.Size", lambda dims=(): tuple(int(d) for d in dims))
    table[("torch", "device")] = Call("torch.device", _device)
    table[("builtins", "set")] = Call("set", lambda items=(): set(items))
    table[("builtins", "frozenset")] = Call("frozenset", lambda items=(): frozenset(items))
    table[("builtins", "bytearray")] = Call("bytearray", _bytearray)
    for name in _STORAGES:
        table[("torch", name)] = _StorageType(name)
    for name, dtype in _DTYPES.items():
        table[("torch", name)] = xp.dtype(dtype)
    return table


def _bytearray(data=b"", *_):
    if not isinstance(data, (bytes, bytearray)):
        raise UnsafePickleError("bytearray of something that is not bytes")
    return bytearray(data)


_TORCH_GLOBALS = _torch_globals()


def _map_location(map_location, storage, location):
    """Apply torch's ``map_location`` to one storage; every storage ends on the CPU either way."""
    if callable(map_location) and not isinstance(map_location, (str, dict)):
        result = map_location(Tensor(storage), location)
        return result.array if isinstance(result, Tensor) else storage
    return storage


def _load_torch(archive, source, map_location):
    names = archive.namelist()
    pickles = [n for n in names if n.endswith("data.pkl") and n.count("/") == 1]
    if len(pickles) != 1:
        raise RuntimeError(f"ember.load: {source} is a zip archive but neither an Ember nor a PyTorch checkpoint")
    prefix = pickles[0][: -len("data.pkl")]
    byteorder = archive.read(prefix + "byteorder").decode().strip() if prefix + "byteorder" in names else "little"
    storages = {}

    def persistent_load(pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage" and isinstance(pid[1], _StorageType)):
            raise UnsafePickleError(f"ember.load: unexpected persistent id {pid!r} in {source}")
        _, kind, key, location, numel = pid
        if not (isinstance(key, str) and re.match(r"^\w+$", key) and isinstance(numel, int) and numel >= 0):
            raise UnsafePickleError(f"ember.load: bad storage record {pid!r} in {source}")
        if key not in storages:
            raw = archive.read(f"{prefix}data/{key}")
            flat = _read_storage(raw, kind.dtype, numel, byteorder == "big", source)
            storages[key] = _Storage(_map_location(map_location, flat, location))
        return storages[key]

    def find_global(module, name):
        value = _TORCH_GLOBALS.get((module, name))
        if value is None:
            value = _allowed_by_user(module, name)
        if value is None and module == "torch" and name.endswith("Storage"):
            raise UnsafePickleError(
                f"ember.load: {source} holds a tensor of {name} elements, a dtype Ember does not have (it reads "
                f"{', '.join(sorted(_STORAGES))})"
            )
        if value is None:
            raise UnsafePickleError(
                f"ember.load: refusing to load '{module}.{name}' from {source}: only tensors, their storages and "
                f"plain containers (dict, OrderedDict, list, tuple, set, numbers, strings) are rebuilt — the "
                f"globals torch.load(weights_only=True) admits — and nothing a file names is imported or "
                f"called. If you wrote this file and trust it, allow the class with "
                f"ember.serialization.add_safe_globals([{name}])."
            )
        return value

    return interpret(archive.read(pickles[0]), find_global, persistent_load, _build_user_object)


# ---- load --------------------------------------------------------------------------------------------------

_LEGACY_MAGIC = bytes.fromhex("8a0a6cfc9c46f9206aa85019")  # the LONG1 magic number of torch's pre-1.6 format


def _check_map_location(map_location):
    if map_location is None or callable(map_location):
        return
    specs = map_location.values() if isinstance(map_location, dict) else [map_location]
    for spec in specs:
        spec = getattr(spec, "type", spec) if not isinstance(spec, str) else spec
        if not (isinstance(spec, str) and _DEVICE.match(spec)):
            raise TypeError(
                f"ember.load: map_location must be a device string ('cpu'), a device, a dict or a callable, "
                f"got {map_location!r}"
            )


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Load an object saved by ``ember.save`` or by ``torch.save`` (PyTorch >= 1.6's zip format).

    Tensors come back as Ember Tensors (nn.Parameter where torch saved Parameters), with their dtypes:
    float64/32/16, int64/32/16/8, uint8 and bool are kept; **bfloat16 becomes float32** (NumPy has no
    bfloat16; the widening is exact). Views that shared a storage in torch share one array here.

    Args:
        f: a path (str or os.PathLike) or a readable binary file object (``io.BytesIO``).
        map_location: accepted as in torch ('cpu', a device, a dict of locations, or a callable
            ``(storage, location) -> storage``, which is called with each storage as a flat Tensor). Ember
            runs on the CPU, so every tensor lands on the CPU whatever the file says.
        weights_only: as torch's flag. Ember never runs code from a file: a PyTorch file that names any
            global besides tensors and plain containers (or those added with :func:`add_safe_globals`) is
            refused with ``pickle.UnpicklingError``. ``weights_only=False`` (torch's "I trust this file")
            lets an Ember file's whole model be rebuilt from the program's own ``nn.Module`` classes,
            imported by the module name the file records (as pickle would), built with ``__new__`` and
            given the file's attributes: nothing but nn.Module subclasses is accepted, and no method runs.
        mmap: accepted for torch's signature; the data are read into memory.

    Raises:
        pickle.UnpicklingError: the PyTorch file names a global outside the allowlist (nothing was run).
        RuntimeError: a legacy (pre-1.6, non-zip) ``torch.save`` file, or a file in neither format.
    """
    if pickle_module is not None and getattr(pickle_module, "__name__", "") != "pickle":
        raise RuntimeError("ember.load: pickle_module is not supported: Ember never unpickles with a pickle module")
    _check_map_location(map_location)
    source = os.fspath(f) if isinstance(f, (str, os.PathLike)) else getattr(f, "name", type(f).__name__)
    if not isinstance(f, (str, os.PathLike)) and not hasattr(f, "read"):
        raise TypeError(f"ember.load: f must be a path or a readable binary file object, got {type(f).__name__}")
    token = _trusted.set(weights_only is False)
    try:
        if isinstance(f, (str, os.PathLike)):
            with open(f, "rb") as stream:
                return _load_stream(stream, source, map_location)
        stream = f if hasattr(f, "seek") and f.seekable() else io.BytesIO(f.read())
        return _load_stream(stream, source, map_location)
    finally:
        _trusted.reset(token)


def _load_stream(stream, source, map_location):
    start = stream.tell()
    head = stream.read(16)
    stream.seek(start)
    if not zipfile.is_zipfile(stream):
        if head[:2] == b"\x80\x02" and _LEGACY_MAGIC in head:
            raise RuntimeError(
                f"ember.load: {source} is in PyTorch's legacy (pre-1.6) format, which Ember does not read. "
                f"Re-save it with a recent PyTorch: torch.save(torch.load(path), path)."
            )
        raise RuntimeError(
            f"ember.load: {source} is neither an Ember file nor a PyTorch zip checkpoint (torch.save >= 1.6); "
            f"it starts with {head[:8]!r}"
        )
    stream.seek(start)
    with zipfile.ZipFile(stream) as archive:
        if _STRUCTURE in archive.namelist():
            return _load_ember(archive, source)
        return _load_torch(archive, source, map_location)
