"""The array-module handle, the dtypes and the random generator: the only door from Ember to NumPy.

Every op reaches arrays through ``xp`` (Chainer's ``get_array_module`` idea) and never imports NumPy
itself, so another module with NumPy's API (CuPy on a GPU) can be chosen at start-up with the
environment variable ``EMBER_BACKEND=cupy`` without rewriting a single op.

Random numbers are always drawn on the host, by NumPy (``host``), and moved to the device where they are
used (``xp.asarray``, free when the device is the host): a seed then gives the same weights, masks and
batches on every backend, and the generator's state stays a plain dict that checkpoints can hold.
"""

import contextlib
import ctypes
import importlib
import os
import sys

xp = importlib.import_module(os.environ.get("EMBER_BACKEND", "numpy"))
host = importlib.import_module("numpy")  # where random numbers are drawn and results are read back


def to_host(array):
    """The array as a NumPy array (a copy from the GPU on CuPy; the same object on NumPy)."""
    return array.get() if is_device_array(array) else array


def writeable(array):
    """Whether ``array`` may be written in place: NumPy's flag (False for broadcast and read-only views);
    backends without the flag (CuPy) count only an array that owns its memory."""
    flag = getattr(array.flags, "writeable", None)
    return flag if flag is not None else array.base is None


def errstate(**kwargs):
    """``numpy.errstate`` (silence 0/0 warnings in a block); backends without floating-point warnings
    (CuPy) get a block that does nothing."""
    state = getattr(xp, "errstate", None)
    return state(**kwargs) if state is not None else contextlib.nullcontext()


def as_strided(array, shape, strides, writeable=False):
    """A strided view of ``array``, read-only unless asked (``numpy.lib.stride_tricks.as_strided``; CuPy's
    takes no ``writeable`` flag)."""
    if xp is host:
        return host.lib.stride_tricks.as_strided(array, shape=shape, strides=strides, writeable=writeable)
    return xp.lib.stride_tricks.as_strided(array, shape=shape, strides=strides)

float16 = xp.dtype("float16")
float32 = xp.dtype("float32")
float64 = xp.dtype("float64")
int8 = xp.dtype("int8")
uint8 = xp.dtype("uint8")
int32 = xp.dtype("int32")
int64 = xp.dtype("int64")
bool_ = xp.dtype("bool")

#: dtype of tensors made from Python floats and of every factory that is not told otherwise.
default_dtype = float32

_initial_seed = None  # set below: a seed from the OS's entropy, like the one torch.seed() draws
_generator = None


def _keep_freed_memory():
    """Let glibc's malloc keep freed blocks for reuse instead of handing them back to the kernel.

    NumPy takes every temporary larger than malloc's mmap threshold (128 KiB to start with) straight from
    the kernel and returns it on free, so every forward and backward pass pays page faults on fresh pages
    for its activations and im2col buffers: a third of a LeNet-5 training step on a CPU. Serving blocks
    up to 32 MiB from the heap and not trimming it below 1 GiB is the CPU version of a caching allocator.
    Set ``EMBER_MALLOC_TUNING=0`` to leave malloc alone; other C libraries (musl, macOS) are left alone.
    """
    if os.environ.get("EMBER_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(mallopt(m_mmap_threshold, 32 << 20) and mallopt(m_trim_threshold, 1 << 30))


malloc_tuned = _keep_freed_memory()


def _seed_value(seed):
    """torch's seed rule: any integer in [-2**63, 2**64), negatives wrapping to their 64-bit pattern."""
    seed = int(seed)
    if not -(2**63) <= seed < 2**64:
        raise ValueError(f"manual_seed(): the seed must fit in 64 bits (-2**63 <= seed < 2**64), got {seed}")
    return seed % 2**64


def manual_seed(seed):
    """Seed the generator behind every random factory, initialiser and dropout mask (a fresh generator:
    code that holds the old one keeps drawing from the old stream)."""
    global _generator, _initial_seed
    _initial_seed = _seed_value(seed)
    _generator = host.random.default_rng(_initial_seed)
    return _generator


def initial_seed():
    """The seed the current generator started from (``torch.initial_seed``)."""
    return _initial_seed


def seed():
    """Seed the generator from the operating system's entropy and return that seed (``torch.seed``)."""
    manual_seed(_fresh_seed())
    return _initial_seed


def _fresh_seed():
    return int(host.random.SeedSequence().entropy) % 2**64


def generator():
    """The current random generator (a ``numpy.random.Generator``)."""
    return _generator


def get_rng_state():
    """The generator's state as a JSON-friendly dict (saved in checkpoints)."""
    return _generator.bit_generator.state


def set_rng_state(state):
    _generator.bit_generator.state = state


def save_generator():
    """Everything ``restore_generator`` needs to undo later draws and reseeds (for ``fork_rng``)."""
    return _generator, _generator.bit_generator.state, _initial_seed


def restore_generator(saved):
    global _generator, _initial_seed
    _generator, state, _initial_seed = saved
    _generator.bit_generator.state = state


def is_floating(dtype):
    return xp.dtype(dtype).kind == "f"


def as_dtype(dtype):
    """Accept ``ember.float32``, ``numpy.float32``, ``'float32'`` or ``None`` (stays ``None``)."""
    return None if dtype is None else xp.dtype(dtype)


seed()  # a fresh, unpredictable stream at start-up, as before; ember.initial_seed() tells which


# ---- the default dtype ----------------------------------------------------------------------------------


def set_default_dtype(d):
    """Make ``d`` (float16, float32 or float64) the dtype of Python floats turned into tensors, of the
    floating factories and of new layers' parameters (``torch.set_default_dtype``). Every reader looks
    ``backend.default_dtype`` up at call time, so the change applies from the next call on."""
    global default_dtype
    if isinstance(d, str):  # torch takes dtype objects only, not their names
        raise TypeError("invalid dtype object: only floating-point types are supported as the default type; "
                        f"got the string {d!r}, pass ember.{d} instead")
    try:
        dtype = xp.dtype(d)
    except TypeError:
        raise TypeError(f"set_default_dtype(): expected a dtype such as ember.float64, got {d!r}") from None
    if dtype.kind != "f":
        raise TypeError(f"only floating-point types are supported as the default type, got {dtype}; "
                        "use ember.float32 or ember.float64")
    default_dtype = dtype


def get_default_dtype():
    """The dtype of Python floats turned into tensors and of the floating factories (float32 at start)."""
    return default_dtype


# ---- CuPy, found lazily: the cuda device ----------------------------------------------------------------

_cupy = {"module": None, "reason": None, "probed": False}


def cupy():
    """CuPy when the cuda device can be used, else ``None`` (``cuda_unavailable_reason()`` says why).

    That takes three things: CuPy imports, it sees at least one GPU, and the process runs its ops on CuPy
    (``EMBER_BACKEND=cupy``). The last because an op reaches its arrays through the one ``xp`` of the
    process: NumPy's functions would meet GPU arrays they cannot read, so on the NumPy backend 'cuda' is
    refused up front (and ``ember.cuda.is_available()`` is False, so the usual
    ``'cuda' if is_available() else 'cpu'`` picks the CPU) rather than failing inside the first op.
    Probed once, on first use, so ``import ember`` never pays CuPy's start-up.
    """
    if not _cupy["probed"]:
        _cupy["probed"] = True
        try:
            module = importlib.import_module("cupy")
            count = module.cuda.runtime.getDeviceCount()
        except Exception as error:  # ImportError, or CuPy's CUDARuntimeError when there is no driver
            _cupy["reason"] = f"CuPy is not usable: {type(error).__name__}: {error}"
        else:
            if count == 0:
                _cupy["reason"] = "CuPy found no CUDA device"
            elif xp is not module:
                _cupy["reason"] = (f"CuPy sees {count} GPU(s), but this process runs Ember's ops on NumPy; "
                                   "start Python with EMBER_BACKEND=cupy to put tensors on the GPU")
            else:
                _cupy["module"] = module
    return _cupy["module"]


def cuda_unavailable_reason():
    """Why ``cupy()`` is ``None`` (``None`` when CUDA is usable)."""
    return None if cupy() is not None else _cupy["reason"]


def is_device_array(array):
    """Whether ``array`` lives on a GPU (a CuPy array). No CuPy imported means no such array exists."""
    module = sys.modules.get("cupy")
    return module is not None and isinstance(array, module.ndarray)


def array_device(array):
    """``(type, index)`` of the memory holding ``array``: ``('cpu', None)`` or ``('cuda', n)``."""
    return ("cuda", int(array.device.id)) if is_device_array(array) else ("cpu", None)


def move(array, device_type, index=None):
    """``array`` on ``device_type`` (``'cpu'`` or ``'cuda'``, GPU ``index``): the same object when it is
    already there, else a copy (``cupy.asnumpy`` to the host, ``cupy.asarray`` under the target device)."""
    if device_type == "cpu":
        return to_host(array)
    module = cupy()
    if array_device(array) == ("cuda", index):
        return array
    with module.cuda.Device(index):
        return module.asarray(array)


# ---- threads and determinism ----------------------------------------------------------------------------

_threads = {"count": None, "openblas": None, "probed": False, "blas_resting": False}


def _openblas():
    """``(set, get)`` from the OpenBLAS that NumPy loaded, found through ctypes, or ``None``. NumPy's
    wheels bundle it as ``scipy_openblas`` with 64-bit-integer symbol names; other builds export the
    plain ``openblas_set_num_threads``."""
    if _threads["probed"]:
        return _threads["openblas"]
    _threads["probed"] = True
    import glob

    numpy_dir = os.path.dirname(host.__file__)
    paths = glob.glob(os.path.join(numpy_dir + ".libs", "*openblas*")) + glob.glob(
        os.path.join(numpy_dir, ".dylibs", "*openblas*"))
    try:  # a NumPy linked against the system's OpenBLAS: find the library the process has loaded
        with open("/proc/self/maps") as maps:
            loaded = {line.split()[-1] for line in maps if "/" in line}
        paths += sorted(path for path in loaded if "openblas" in os.path.basename(path) and ".so" in path)
    except OSError:
        pass
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in ("scipy_openblas", "openblas"):
            for suffix in ("64_", ""):
                setter = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                getter = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                if setter is not None and getter is not None:
                    setter.argtypes, setter.restype, getter.restype = [ctypes.c_int], None, ctypes.c_int
                    _threads["openblas"] = (setter, getter)
                    return _threads["openblas"]
    return None


def set_num_threads(n):
    """Use ``n`` threads within an op (``torch.set_num_threads``): Ember's shards (ember/parallel.py) and
    the GEMMs that ask for every core.

    BLAS gets ``n`` threads at once — through threadpoolctl when it is installed (it knows OpenBLAS, MKL and
    BLIS), else OpenBLAS's own ``openblas_set_num_threads`` in the library NumPy loaded; with neither (another
    BLAS), set ``OMP_NUM_THREADS`` before starting Python — and, with more than one, rests on one thread again
    from the next op on while the shards do the parallel work (see ember/parallel.py).
    """
    if isinstance(n, bool) or not isinstance(n, int) and not isinstance(n, host.integer):
        raise RuntimeError(f"set_num_threads expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError(f"set_num_threads expects a positive integer, got {n}")
    n = int(n)
    try:
        import threadpoolctl
    except ImportError:
        threadpoolctl = None
    if threadpoolctl is not None:
        threadpoolctl.threadpool_limits(limits=n, user_api="blas")
    elif _openblas() is not None:
        _openblas()[0](n)
    _threads.update(count=n, blas_resting=False)


def intra_op_threads():
    """The threads Ember uses within an op (ember/parallel.py): the number last given to ``set_num_threads``,
    else the thread count BLAS started with (``OMP_NUM_THREADS`` and ``OPENBLAS_NUM_THREADS`` set it), else
    the CPU count."""
    if _threads["count"] is None:
        lib = _openblas()
        _threads["count"] = int(lib[1]()) if lib is not None else (os.cpu_count() or 1)
    return _threads["count"]


def get_num_threads():
    """The threads Ember uses within an op (``torch.get_num_threads``): see ``intra_op_threads``. Not BLAS's
    own count, which rests at one while Ember's shards do the parallel work."""
    return intra_op_threads()


_deterministic = {"mode": False, "warn_only": False}


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Ask for deterministic algorithms (``torch.use_deterministic_algorithms``). Every Ember op on NumPy is
    deterministic already (no atomics, no autotuning: the same inputs give the same bits), so this only
    records the request, for ``are_deterministic_algorithms_enabled`` to report."""
    if not isinstance(mode, bool):
        raise TypeError(f"use_deterministic_algorithms(): argument 'mode' must be bool, not {type(mode).__name__}")
    if not isinstance(warn_only, bool):
        raise TypeError(f"use_deterministic_algorithms(): argument 'warn_only' must be bool, not {type(warn_only).__name__}")
    _deterministic.update(mode=mode, warn_only=warn_only)


def are_deterministic_algorithms_enabled():
    return _deterministic["mode"]


def is_deterministic_algorithms_warn_only_enabled():
    return _deterministic["warn_only"]
