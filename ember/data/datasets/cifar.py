"""CIFAR-10: 60,000 32x32 colour images of ten classes, read without ever unpickling.

Two official distributions exist (https://www.cs.toronto.edu/~kriz/cifar.html), and both are read:

* **The Python version** (``cifar-10-batches-py/``: ``data_batch_1`` ... ``data_batch_5``, ``test_batch``,
  ``batches.meta``). Each batch is a Python 2 pickle of a dict: ``b'data'`` a uint8 NumPy array of shape
  (10000, 3072) — per image 1024 red, then 1024 green, then 1024 blue values, each plane row-major —
  ``b'labels'`` a list of 10,000 ints 0-9, plus ``b'batch_label'`` and ``b'filenames'``.
* **The binary version** (``cifar-10-batches-bin/``: ``data_batch_1.bin`` ... ``test_batch.bin``,
  ``batches.meta.txt``). Each file is 10,000 records of 3,073 bytes: 1 label byte, then the same 3,072
  pixel bytes. No pickle at all.

Either way the images end up HWC, ``(N, 32, 32, 3)`` uint8, as torchvision holds them.

Why not ``pickle.load``: unpickling runs whatever callables the file names (``os.system`` included), so a
tampered ``data_batch_1`` would run code on the reader's machine. A ``pickle.Unpickler`` whose
``find_class`` allows only NumPy's reconstruction functions is the usual fix, but it still *calls* those
functions with arguments taken from the file and trusts NumPy's ``__setstate__`` with them. Instead,
:func:`safe_load_pickle` is a small interpreter of the pickle opcodes (decoded by ``pickletools.genops``,
which only parses) that builds dicts, lists, tuples, numbers and strings itself, recognises the handful
of global names NumPy writes for an array (``_reconstruct``, ``ndarray``, ``dtype``, and ``_frombuffer``
for protocol 5; ``_codecs.encode`` for bytes written by Python 3 at protocol 2) as inert tags, and makes
the array itself with ``frombuffer`` from a whitelisted numeric dtype and a size-checked byte string.
Nothing named in the file is imported or called. Any other global, or an opcode outside the plain-data
subset (``INST``, ``OBJ``, ``NEWOBJ``, persistent ids, extensions, sets, out-of-band buffers), raises
:class:`UnsafePickleError` before anything happens.
"""

import io
import os
import pickletools
import re

from ...backend import xp
from . import download as dl
from .vision import ImageClassificationDataset


class UnsafePickleError(ValueError):
    """The pickle holds something other than plain data and numeric NumPy arrays; it was not run."""


# (module, name) the file may mention -> the tag the interpreter works with. Python 2 era NumPy wrote
# numpy.core.*, NumPy 2 writes numpy._core.*.
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): "reconstruct",
    ("numpy._core.multiarray", "_reconstruct"): "reconstruct",
    ("numpy", "ndarray"): "ndarray",
    ("numpy", "dtype"): "dtype",
    ("numpy.core.numeric", "_frombuffer"): "frombuffer",
    ("numpy._core.numeric", "_frombuffer"): "frombuffer",
    ("_codecs", "encode"): "encode",
}
_NUMERIC_DTYPE = re.compile(r"^(b1|[ui][1248]|f[248])$")
_REFUSED = {"INST", "OBJ", "NEWOBJ", "NEWOBJ_EX", "EXT1", "EXT2", "EXT4"}  # build objects from classes
_REFUSED |= {"PERSID", "BINPERSID", "NEXT_BUFFER", "READONLY_BUFFER"}  # reach outside the byte stream


class _Mark:
    """The MARK opcode's sentinel on the stack."""


class _Tag:
    def __init__(self, name):
        self.name = name


class _DtypeStub:
    """``numpy.dtype(typestr)`` named by the file; ``BUILD`` adds the byte order."""

    def __init__(self, typestr):
        if not isinstance(typestr, str) or not _NUMERIC_DTYPE.match(typestr):
            raise UnsafePickleError(f"refusing dtype {typestr!r}: only plain numeric dtypes are accepted")
        self.typestr, self.byteorder = typestr, "|"

    def dtype(self):
        return xp.dtype((self.byteorder if self.byteorder in "<>" else "") + self.typestr)


class _ArrayStub:
    """``_reconstruct(ndarray, (0,), b'b')``: an empty array that ``BUILD`` fills in."""

    array = None


def _make_array(raw, dtype_stub, shape, fortran):
    if not isinstance(dtype_stub, _DtypeStub):
        raise UnsafePickleError("array state without a dtype")
    if not (isinstance(shape, tuple) and all(isinstance(s, int) and s >= 0 for s in shape)):
        raise UnsafePickleError(f"bad array shape {shape!r}")
    if isinstance(raw, str):
        raw = raw.encode("latin-1")
    if not isinstance(raw, (bytes, bytearray)):
        raise UnsafePickleError("array data is not a byte string")
    dtype = dtype_stub.dtype()
    count = 1
    for s in shape:
        count *= s
    if len(raw) != count * dtype.itemsize:
        raise UnsafePickleError(f"array of shape {shape} {dtype} needs {count * dtype.itemsize} bytes, has {len(raw)}")
    return xp.frombuffer(bytes(raw), dtype=dtype).reshape(shape, order="F" if fortran else "C")


def _reduce(func, args):
    if not isinstance(func, _Tag) or not isinstance(args, tuple):
        raise UnsafePickleError("REDUCE of something that is not an allowed NumPy function")
    if func.name == "reconstruct":
        if len(args) != 3 or not (isinstance(args[0], _Tag) and args[0].name == "ndarray"):
            raise UnsafePickleError("_reconstruct of something other than numpy.ndarray")
        return _ArrayStub()
    if func.name == "dtype":
        return _DtypeStub(args[0] if args else None)
    if func.name == "frombuffer":  # protocol 5: _frombuffer(buffer, dtype, shape, order)
        if len(args) != 4:
            raise UnsafePickleError("_frombuffer with unexpected arguments")
        return _make_array(args[0], args[1], args[2], args[3] == "F")
    if func.name == "encode":  # bytes written by Python 3 at protocol 2: _codecs.encode(str, 'latin1')
        if len(args) != 2 or not isinstance(args[0], str) or args[1] not in ("latin1", "latin-1"):
            raise UnsafePickleError("_codecs.encode with unexpected arguments")
        return args[0].encode("latin-1")
    raise UnsafePickleError(f"calling {func.name} is not allowed")


def _build(obj, state):
    if isinstance(obj, _DtypeStub):
        if not isinstance(state, tuple) or len(state) < 2:
            raise UnsafePickleError("bad dtype state")
        byteorder = state[1].decode("latin-1") if isinstance(state[1], bytes) else state[1]
        if byteorder not in ("<", ">", "|", "="):
            raise UnsafePickleError(f"bad dtype byte order {byteorder!r}")
        obj.byteorder = byteorder
    elif isinstance(obj, _ArrayStub):
        if not isinstance(state, tuple) or len(state) not in (4, 5):
            raise UnsafePickleError("bad ndarray state")
        shape, dtype, fortran, raw = state[-4:]
        obj.array = _make_array(raw, dtype, shape, bool(fortran))
    else:
        raise UnsafePickleError(f"BUILD on a {type(obj).__name__} is not allowed")


def _resolve(obj):
    """Swap the filled-in array stubs for their arrays, all through the containers."""
    if isinstance(obj, _ArrayStub):
        if obj.array is None:
            raise UnsafePickleError("an ndarray was never given its data")
        return obj.array
    if isinstance(obj, (_Tag, _DtypeStub)):
        raise UnsafePickleError("a bare NumPy global in the data")
    if isinstance(obj, dict):
        return {k: _resolve(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_resolve(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_resolve(v) for v in obj)
    return obj


def safe_load_pickle(data):
    """Interpret the pickle ``data`` (bytes) as plain data plus numeric NumPy arrays; never runs code.

    Python 2 ``str`` (the ``STRING`` opcodes) comes back as ``bytes``, as ``pickle.load(...,
    encoding='bytes')`` would give it. See the module docstring for what is accepted.
    """
    stack, marks, memo = [], [], {}

    def pop_mark():
        if not marks:
            raise UnsafePickleError("malformed pickle: no MARK")
        start = marks.pop()
        items = stack[start:]
        del stack[start:]
        return items

    try:
        for opcode, arg, pos in pickletools.genops(io.BytesIO(data)):
            name = opcode.name
            if name in ("PROTO", "FRAME"):
                continue
            if name == "STOP":
                if len(stack) != 1:
                    raise UnsafePickleError(f"malformed pickle: STOP with a stack of {len(stack)}")
                return _resolve(stack[0])
            if name == "MARK":
                marks.append(len(stack))
            elif name in ("STRING", "BINSTRING", "SHORT_BINSTRING"):
                stack.append(arg.encode("latin-1") if isinstance(arg, str) else arg)
            elif name in ("BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "BYTEARRAY8"):
                stack.append(bytes(arg))
            elif name in ("UNICODE", "BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8"):
                stack.append(arg)
            elif name in ("INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4", "FLOAT", "BINFLOAT"):
                stack.append(arg)
            elif name in ("NONE", "NEWTRUE", "NEWFALSE"):
                stack.append({"NONE": None, "NEWTRUE": True, "NEWFALSE": False}[name])
            elif name == "EMPTY_DICT":
                stack.append({})
            elif name == "EMPTY_LIST":
                stack.append([])
            elif name == "EMPTY_TUPLE":
                stack.append(())
            elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
                n = int(name[-1])
                items = tuple(stack[-n:])
                del stack[-n:]
                stack.append(items)
            elif name == "TUPLE":
                stack.append(tuple(pop_mark()))
            elif name == "LIST":
                stack.append(pop_mark())
            elif name == "DICT":
                items = pop_mark()
                stack.append(dict(zip(items[::2], items[1::2])))
            elif name == "APPEND":
                value = stack.pop()
                stack[-1].append(value)
            elif name == "APPENDS":
                items = pop_mark()
                stack[-1].extend(items)
            elif name == "SETITEM":
                value, key = stack.pop(), stack.pop()
                stack[-1][key] = value
            elif name == "SETITEMS":
                items = pop_mark()
                stack[-1].update(zip(items[::2], items[1::2]))
            elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
                memo[arg] = stack[-1]
            elif name == "MEMOIZE":
                memo[len(memo)] = stack[-1]
            elif name in ("GET", "BINGET", "LONG_BINGET"):
                stack.append(memo[arg])
            elif name == "POP":
                stack.pop()
            elif name == "POP_MARK":
                pop_mark()
            elif name in ("GLOBAL", "STACK_GLOBAL"):
                if name == "GLOBAL":
                    module, _, attr = arg.partition(" ")
                else:
                    module, attr = stack.pop(-2), stack.pop()
                tag = _ALLOWED_GLOBALS.get((module, attr))
                if tag is None:
                    raise UnsafePickleError(
                        f"refusing to load {module}.{attr} (at byte {pos}): this reader only builds plain "
                        f"data and NumPy arrays, and never imports or calls what a file names"
                    )
                stack.append(_Tag(tag))
            elif name == "REDUCE":
                args, func = stack.pop(), stack.pop()
                stack.append(_reduce(func, args))
            elif name == "BUILD":
                state = stack.pop()
                _build(stack[-1], state)
            else:
                why = "it would construct or look up arbitrary objects" if name in _REFUSED else "not plain data"
                raise UnsafePickleError(f"refusing pickle opcode {name} at byte {pos}: {why}")
    except UnsafePickleError:
        raise
    except (ValueError, IndexError, KeyError, TypeError, AttributeError) as e:
        raise UnsafePickleError(f"malformed or unexpected pickle: {e}") from e
    raise UnsafePickleError("malformed pickle: no STOP opcode")


def _text_keys(d):
    if not isinstance(d, dict):
        raise ValueError(f"expected a pickled dict, found a {type(d).__name__}")
    return {(k.decode("latin-1") if isinstance(k, bytes) else k): v for k, v in d.items()}


def _planes_to_hwc(rows):
    """(N, 3072) rows of R, G, B planes -> (N, 32, 32, 3) HWC uint8."""
    return xp.ascontiguousarray(rows.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))


def read_python_batch(path):
    """One batch of the Python version: ``(images (N, 32, 32, 3) uint8, labels (N,) int64)``."""
    with open(path, "rb") as f:
        batch = _text_keys(safe_load_pickle(f.read()))
    data, labels = batch.get("data"), batch.get("labels")
    if data is None or labels is None:
        raise ValueError(f"{path}: a CIFAR-10 batch has 'data' and 'labels'; found keys {sorted(batch)}")
    if not (hasattr(data, "dtype") and data.dtype == xp.uint8 and data.ndim == 2 and data.shape[1] == 3072):
        raise ValueError(
            f"{path}: 'data' must be a uint8 array of shape (N, 3072), got {getattr(data, 'shape', type(data))}"
        )
    if not isinstance(labels, list) or len(labels) != len(data) or not all(type(v) is int for v in labels):
        raise ValueError(f"{path}: 'labels' must be a list of {len(data)} ints")
    return _planes_to_hwc(data), xp.asarray(labels, dtype=xp.int64)


def read_python_meta(path):
    """``batches.meta`` of the Python version: the list of class names."""
    with open(path, "rb") as f:
        meta = _text_keys(safe_load_pickle(f.read()))
    return [n.decode("latin-1") if isinstance(n, bytes) else str(n) for n in meta["label_names"]]


def read_binary_batch(path):
    """One batch of the binary version: records of 1 label byte + 3,072 pixel bytes."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) % 3073:
        raise ValueError(f"{path}: {len(raw)} bytes is not a whole number of 3,073-byte CIFAR-10 records")
    records = xp.frombuffer(raw, dtype=xp.uint8).reshape(-1, 3073)
    return _planes_to_hwc(records[:, 1:]), records[:, 0].astype(xp.int64)


class CIFAR10(ImageClassificationDataset):
    """CIFAR-10 (Krizhevsky, 2009): 50,000 training and 10,000 test colour images, 32x32, ten classes.

    Args as torchvision's: ``root`` — the folder that holds ``cifar-10-batches-py/`` (or
    ``cifar-10-batches-bin/``; default: the cache), ``train``, ``download``, ``transform``,
    ``target_transform``. Attributes: ``data`` uint8 ``(N, 32, 32, 3)`` (HWC), ``targets`` int64,
    ``classes``.

    ``download=True`` fetches the Python-version tarball from cs.toronto.edu (MD5-checked, as is every
    batch taken from it), falling back to the binary-version tarball; only the batch files are taken out
    of the archive, and the archive is deleted afterwards.
    """

    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [
        ["data_batch_1", "c99cafc152244af753f735de768cd75f"],
        ["data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"],
        ["data_batch_3", "54ebc095f3ab1f0389bbae665268c751"],
        ["data_batch_4", "634d18415352ddfa80567beed471001a"],
        ["data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"],
    ]
    test_list = [["test_batch", "40351d587109b95175f43aff81a1287e"]]
    meta = {"filename": "batches.meta", "key": "label_names", "md5": "5ff9c542aee3614f3951f8cda6e48888"}

    binary_folder = "cifar-10-batches-bin"
    binary_url = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
    binary_filename = "cifar-10-binary.tar.gz"
    binary_tgz_md5 = "c32a1d4ab5d03f1284b67883e8d87530"
    binary_train_list = [f"data_batch_{i}.bin" for i in range(1, 6)]
    binary_test_list = ["test_batch.bin"]

    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

    def __init__(self, root=None, train=True, download=False, transform=None, target_transform=None):
        super().__init__(dl.dataset_root(root), transform, target_transform)
        self.train = bool(train)
        if download:
            self.download()
        if self._have_python():
            names = self.train_list if self.train else self.test_list
            batches = [read_python_batch(os.path.join(self.root, self.base_folder, n)) for n, _ in names]
            meta = os.path.join(self.root, self.base_folder, self.meta["filename"])
            if os.path.exists(meta):
                self.classes = read_python_meta(meta)
        elif self._have_binary():
            names = self.binary_train_list if self.train else self.binary_test_list
            batches = [read_binary_batch(os.path.join(self.root, self.binary_folder, n)) for n in names]
        else:
            raise RuntimeError(
                f"CIFAR10: no dataset found in {os.path.join(self.root, self.base_folder)} (Python version) "
                f"or {os.path.join(self.root, self.binary_folder)} (binary version). Pass download=True, "
                f"or extract cifar-10-python.tar.gz or cifar-10-binary.tar.gz into {self.root}."
            )
        self.data = xp.concatenate([images for images, _ in batches])
        self.targets = xp.concatenate([labels for _, labels in batches])

    def _have_python(self):
        names = [n for n, _ in self.train_list + self.test_list]
        return all(os.path.isfile(os.path.join(self.root, self.base_folder, n)) for n in names)

    def _have_binary(self):
        names = self.binary_train_list + self.binary_test_list
        return all(os.path.isfile(os.path.join(self.root, self.binary_folder, n)) for n in names)

    def extra_repr(self):
        return f"Split: {'Train' if self.train else 'Test'}"

    def download(self):
        """Fetch and unpack the batches unless either version is already complete in ``root``."""
        if self._have_python() or self._have_binary():
            return
        python_members = [(n, md5) for n, md5 in self.train_list + self.test_list]
        python_members.append((self.meta["filename"], self.meta["md5"]))
        binary_members = [(n, None) for n in self.binary_train_list + self.binary_test_list]
        binary_members.append(("batches.meta.txt", None))
        errors = []
        for url, filename, md5, folder, members in (
            (self.url, self.filename, self.tgz_md5, self.base_folder, python_members),
            (self.binary_url, self.binary_filename, self.binary_tgz_md5, self.binary_folder, binary_members),
        ):
            try:
                with dl.temporary_folder(self.root) as scratch:
                    tarball = dl.download_url(url, os.path.join(scratch, filename), md5=md5)
                    with dl.open_tarball(tarball) as tar:
                        for name, member_md5 in members:
                            target = os.path.join(self.root, folder, name)
                            dl.extract_member(tar, f"{folder}/{name}", target, member_md5)
                return
            except (dl.DownloadError, OSError, ValueError) as e:
                errors.append(f"{url}: {e}")
        tried = "\n".join(f"  - {e}" for e in errors)
        raise dl.DownloadError(
            f"CIFAR10: every source failed:\n{tried}\n"
            + dl.manual_instructions(
                "CIFAR10",
                os.path.join(self.root, self.base_folder),
                [n for n, _ in python_members],
                [self.url, self.binary_url + f" (extract into {os.path.join(self.root, self.binary_folder)})"],
            )
        )
