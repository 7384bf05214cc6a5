"""A pickle reader that never runs code: an interpreter of the pickle opcodes that builds only plain data.

``pickle.load`` runs whatever callables a file names (``os.system`` included), so a tampered file runs code
on the reader's machine. Here the opcodes are decoded by ``pickletools.genops`` (which only parses) and
interpreted by a small stack machine that builds dicts, lists, tuples, sets, numbers, strings and bytes
itself. A global name (``GLOBAL`` / ``STACK_GLOBAL``) is never imported: the caller's ``find_global``
maps the ``(module, name)`` pair to a value of its own — usually a :class:`Call`, a Python function of
the caller's that ``REDUCE`` may invoke with the (plain-data) arguments from the file — or refuses it.
Persistent ids (``torch.save``'s storages) go to the caller's ``persistent_load``; with none they are
refused. Opcodes that construct arbitrary objects (``INST``, ``OBJ``, extensions, out-of-band buffers)
are refused, and ``NEWOBJ`` only reaches a :class:`Call` that offers ``newobj``.

Two readers use it: the CIFAR-10 batches (:data:`NUMPY_GLOBALS`: NumPy arrays of numeric dtypes, made
with ``frombuffer`` from size-checked byte strings) and ``ember.load`` for PyTorch's ``.pt`` files.
"""

import collections
import io
import pickle
import pickletools
import re

from .backend import xp


class UnsafePickleError(pickle.UnpicklingError, ValueError):
    """The pickle holds something other than the data its reader accepts; nothing in it was run."""


class Call:
    """A global the reader accepts: ``REDUCE`` calls ``function(*args)``; ``NEWOBJ`` calls ``newobj(*args)``."""

    def __init__(self, name, function, newobj=None):
        self.name, self.function, self.newobj = name, function, newobj

    def __repr__(self):
        return f"<allowed global {self.name}>"


class Stub:
    """A placeholder that ``BUILD`` fills in later (``resolve()`` gives the finished object)."""

    def build(self, state):
        raise UnsafePickleError(f"BUILD on {type(self).__name__} is not allowed")

    def resolve(self):
        raise NotImplementedError


_REFUSED = {"INST", "OBJ", "NEWOBJ_EX", "EXT1", "EXT2", "EXT4"}  # build objects from classes
_REFUSED |= {"NEXT_BUFFER", "READONLY_BUFFER"}  # reach outside the byte stream
_SCALARS = {"INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4", "FLOAT", "BINFLOAT"}
_SCALARS |= {"UNICODE", "BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8"}


def _build(obj, state, build):
    if isinstance(obj, Stub):
        obj.build(state)
    elif type(obj) is collections.OrderedDict and isinstance(state, (dict, tuple)):
        # A Module.state_dict() carries its version numbers as the attribute ``_metadata``.
        attributes = state[0] if isinstance(state, tuple) else state
        for key, value in (attributes or {}).items():
            if not isinstance(key, str):
                raise UnsafePickleError("BUILD on an OrderedDict with a non-string attribute name")
            setattr(obj, key, value)
    elif build is not None:
        build(obj, state)
    else:
        raise UnsafePickleError(f"BUILD on a {type(obj).__name__} is not allowed")


def _resolve(obj, seen):
    """Swap every stub for its finished object, through the containers (in place where they are mutable)."""
    if isinstance(obj, Stub):
        return obj.resolve()
    if isinstance(obj, Call):
        raise UnsafePickleError(f"a bare global {obj!r} in the data")
    if isinstance(obj, (dict, list, tuple, set, frozenset)):
        if id(obj) in seen:
            return obj
        seen.add(id(obj))
    if isinstance(obj, dict):
        for key, value in list(obj.items()):
            obj[key] = _resolve(value, seen)
    elif isinstance(obj, list):
        obj[:] = [_resolve(v, seen) for v in obj]
    elif isinstance(obj, tuple):
        return tuple(_resolve(v, seen) for v in obj)
    return obj


def interpret(data, find_global, persistent_load=None, build=None):
    """Interpret the pickle ``data`` (bytes) as plain data; never imports or calls what the file names.

    Args:
        find_global: ``(module, name) -> value`` for each global the file names; it raises
            :class:`UnsafePickleError` to refuse one. A :class:`Call` may be invoked by ``REDUCE``.
        persistent_load: ``pid -> value`` for persistent ids (refused when None).
        build: ``(obj, state) -> None`` for ``BUILD`` on objects the caller made (refused when None).

    Python 2 ``str`` (the ``STRING`` opcodes) comes back as ``bytes``, as ``pickle.load(...,
    encoding='bytes')`` would give it.
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
                return _resolve(stack[0], set())
            if name == "MARK":
                marks.append(len(stack))
            elif name in _SCALARS:
                stack.append(arg)
            elif name in ("STRING", "BINSTRING", "SHORT_BINSTRING"):
                stack.append(arg.encode("latin-1") if isinstance(arg, str) else arg)
            elif name in ("BINBYTES", "SHORT_BINBYTES", "BINBYTES8"):
                stack.append(bytes(arg))
            elif name == "BYTEARRAY8":
                stack.append(bytearray(arg))
            elif name in ("NONE", "NEWTRUE", "NEWFALSE"):
                stack.append({"NONE": None, "NEWTRUE": True, "NEWFALSE": False}[name])
            elif name == "EMPTY_DICT":
                stack.append({})
            elif name == "EMPTY_LIST":
                stack.append([])
            elif name == "EMPTY_TUPLE":
                stack.append(())
            elif name == "EMPTY_SET":
                stack.append(set())
            elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
                n = int(name[-1])
                items = tuple(stack[-n:])
                del stack[-n:]
                stack.append(items)
            elif name == "TUPLE":
                stack.append(tuple(pop_mark()))
            elif name == "LIST":
                stack.append(pop_mark())
            elif name == "FROZENSET":
                stack.append(frozenset(pop_mark()))
            elif name == "DICT":
                items = pop_mark()
                stack.append(dict(zip(items[::2], items[1::2])))
            elif name == "APPEND":
                value = stack.pop()
                stack[-1].append(value)
            elif name == "APPENDS":
                items = pop_mark()
                stack[-1].extend(items)
            elif name == "ADDITEMS":
                items = pop_mark()
                stack[-1].update(items)
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
            elif name == "DUP":
                stack.append(stack[-1])
            elif name == "POP":
                stack.pop()
            elif name == "POP_MARK":
                pop_mark()
            elif name in ("GLOBAL", "STACK_GLOBAL"):
                if name == "GLOBAL":
                    module, _, attr = arg.partition(" ")
                else:
                    module, attr = stack.pop(-2), stack.pop()
                stack.append(find_global(module, attr))
            elif name in ("PERSID", "BINPERSID"):
                if persistent_load is None:
                    raise UnsafePickleError(f"refusing pickle opcode {name} at byte {pos}: it reaches outside the file")
                stack.append(persistent_load(arg if name == "PERSID" else stack.pop()))
            elif name == "REDUCE":
                args, func = stack.pop(), stack.pop()
                if not isinstance(func, Call) or not isinstance(args, tuple):
                    raise UnsafePickleError(f"REDUCE of {type(func).__name__}, not an allowed global, at byte {pos}")
                stack.append(func.function(*args))
            elif name == "NEWOBJ":
                args, cls = stack.pop(), stack.pop()
                if not isinstance(cls, Call) or cls.newobj is None or not isinstance(args, tuple):
                    raise UnsafePickleError(f"refusing pickle opcode NEWOBJ on {cls!r} at byte {pos}")
                stack.append(cls.newobj(*args))
            elif name == "BUILD":
                state = stack.pop()
                _build(stack[-1], state, build)
            else:
                why = "it would construct or look up arbitrary objects" if name in _REFUSED else "not plain data"
                raise UnsafePickleError(f"refusing pickle opcode {name} at byte {pos}: {why}")
    except UnsafePickleError:
        raise
    except (ValueError, IndexError, KeyError, TypeError, AttributeError) as e:
        raise UnsafePickleError(f"malformed or unexpected pickle: {e}") from e
    raise UnsafePickleError("malformed pickle: no STOP opcode")


# ---- NumPy arrays, as NumPy pickles them ------------------------------------------------------------

_NUMERIC_DTYPE = re.compile(r"^(b1|[ui][1248]|f[248])$")


class _Dtype(Stub):
    """``numpy.dtype(typestr)`` named by the file; ``BUILD`` adds the byte order."""

    def __init__(self, typestr, *_):
        if not isinstance(typestr, str) or not _NUMERIC_DTYPE.match(typestr):
            raise UnsafePickleError(f"refusing dtype {typestr!r}: only plain numeric dtypes are accepted")
        self.typestr, self.byteorder = typestr, "|"

    def build(self, state):
        if not isinstance(state, tuple) or len(state) < 2:
            raise UnsafePickleError("bad dtype state")
        byteorder = state[1].decode("latin-1") if isinstance(state[1], bytes) else state[1]
        if byteorder not in ("<", ">", "|", "="):
            raise UnsafePickleError(f"bad dtype byte order {byteorder!r}")
        self.byteorder = byteorder

    def dtype(self):
        return xp.dtype((self.byteorder if self.byteorder in "<>" else "") + self.typestr)

    def resolve(self):
        return self.dtype()


def _make_array(raw, dtype, shape, fortran):
    if isinstance(dtype, _Dtype):
        dtype = dtype.dtype()
    if not isinstance(dtype, xp.dtype):
        raise UnsafePickleError("array state without a dtype")
    if not (isinstance(shape, tuple) and all(isinstance(s, int) and s >= 0 for s in shape)):
        raise UnsafePickleError(f"bad array shape {shape!r}")
    if isinstance(raw, str):
        raw = raw.encode("latin-1")
    if not isinstance(raw, (bytes, bytearray)):
        raise UnsafePickleError("array data is not a byte string")
    count = 1
    for s in shape:
        count *= s
    if len(raw) != count * dtype.itemsize:
        raise UnsafePickleError(f"array of shape {shape} {dtype} needs {count * dtype.itemsize} bytes, has {len(raw)}")
    return xp.frombuffer(bytearray(raw), dtype=dtype).reshape(shape, order="F" if fortran else "C")


class _Array(Stub):
    """``_reconstruct(ndarray, (0,), b'b')``: an empty array that ``BUILD`` fills in."""

    array = None

    def build(self, state):
        if not isinstance(state, tuple) or len(state) not in (4, 5):
            raise UnsafePickleError("bad ndarray state")
        shape, dtype, fortran, raw = state[-4:]
        self.array = _make_array(raw, dtype, shape, bool(fortran))

    def resolve(self):
        if self.array is None:
            raise UnsafePickleError("an ndarray was never given its data")
        return self.array


def _reconstruct(cls, *args):
    if not (isinstance(cls, Call) and cls.name == "numpy.ndarray"):
        raise UnsafePickleError("_reconstruct of something other than numpy.ndarray")
    return _Array()


def _frombuffer(buffer, dtype, shape, order):  # protocol 5
    return _make_array(buffer, dtype, shape, order == "F")


def _scalar(dtype, raw):  # a NumPy scalar: numpy.core.multiarray.scalar(dtype, bytes)
    return _make_array(raw, dtype, (), False)[()]


def _encode(text, encoding):  # bytes written by Python 3 at protocol 2: _codecs.encode(str, 'latin1')
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise UnsafePickleError("_codecs.encode with unexpected arguments")
    return text.encode("latin-1")


def _refuse_ndarray(*args):
    raise UnsafePickleError("calling numpy.ndarray is not allowed")


#: (module, name) -> Call for the globals NumPy writes for an array (or a scalar) of a numeric dtype. Python 2 era NumPy
#: wrote numpy.core.*, NumPy 2 writes numpy._core.*.
NUMPY_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): Call("_reconstruct", _reconstruct),
    ("numpy._core.multiarray", "_reconstruct"): Call("_reconstruct", _reconstruct),
    ("numpy.core.multiarray", "scalar"): Call("scalar", _scalar),
    ("numpy._core.multiarray", "scalar"): Call("scalar", _scalar),
    ("numpy", "ndarray"): Call("numpy.ndarray", _refuse_ndarray),
    ("numpy", "dtype"): Call("numpy.dtype", _Dtype),
    ("numpy.core.numeric", "_frombuffer"): Call("_frombuffer", _frombuffer),
    ("numpy._core.numeric", "_frombuffer"): Call("_frombuffer", _frombuffer),
    ("_codecs", "encode"): Call("_codecs.encode", _encode),
}


def table_lookup(table, what):
    """A ``find_global`` that accepts exactly the keys of ``table`` and names anything else it refuses."""

    def find_global(module, name):
        value = table.get((module, name))
        if value is None:
            raise UnsafePickleError(
                f"refusing to load {module}.{name}: {what}, and never imports or calls what a file names"
            )
        return value

    return find_global
