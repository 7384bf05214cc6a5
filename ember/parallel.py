"""Shards of a batch run on every core: a small persistent thread pool for the heavy ops.

NumPy runs a ufunc or an element-wise copy on one core, and OpenBLAS parallelises each GEMM on its own.
A convolution over a batch does best the other way round: cut the batch into shards of a few images,
give each core whole shards (its im2col matrix then stays in that core's cache), and let every GEMM run
on one BLAS thread inside its shard. NumPy releases the GIL inside ufuncs, copies and BLAS calls, so
Python threads are enough.

    results = parallel.run(work, tasks)     # work(task) for every task, results in task order

Determinism: an op cuts its work into shards by the shapes alone (never by the thread count), each shard
writes its own part of the output, and partial sums (a weight's gradient) are added in shard order after
all shards finish. So the result is the same bits on every run, and with any number of threads.

``ember.set_num_threads(1)`` (or the environment variable ``EMBER_PARALLEL=0``) runs every shard in the
calling thread, one after the other. Re-entrant: a shard that calls ``run`` again runs its tasks inline,
and several threads (DataLoader workers, a user's threads) may call ``run`` at once; BLAS is put on one
thread while any sharded region runs. Outside shards BLAS rests on one thread too, and only a big GEMM or
a recurrence asks for every core (``every_core``, below: why).
"""

import contextlib
import functools
import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from . import backend
from .backend import xp

_lock = threading.Lock()
_local = threading.local()  # .inside: this thread is running a shard (nested calls run inline)
_pool = {"executor": None, "workers": 0, "pid": None}
_blas = {"depth": 0, "saved": None}


def num_threads():
    """The threads a sharded op uses: 1 with ``EMBER_PARALLEL=0``, else ``ember.get_num_threads()``'s setting."""
    if os.environ.get("EMBER_PARALLEL", "1") == "0":
        return 1
    return backend.intra_op_threads()


def _executor(workers):
    """The pool of ``workers`` helper threads (the caller is the last worker), made again after a fork
    (a child process inherits the pool object but none of its threads) or when the thread count changes."""
    with _lock:
        if _pool["executor"] is None or _pool["workers"] != workers or _pool["pid"] != os.getpid():
            old = _pool["executor"]
            if old is not None and _pool["pid"] == os.getpid():
                old.shutdown(wait=False)
            _pool.update(executor=ThreadPoolExecutor(workers, thread_name_prefix="ember-shard"), workers=workers,
                         pid=os.getpid())
        return _pool["executor"]


def _blas_enter():
    """One BLAS thread while an op or a sharded region runs; counted, so that overlapping regions from
    several threads restore the count only when the last one leaves."""
    lib = backend._openblas()
    if lib is None:
        return
    with _lock:
        if _blas["depth"] == 0:
            _blas["saved"] = int(lib[1]())
            if _blas["saved"] != 1:
                lib[0](1)
        _blas["depth"] += 1


def _blas_leave():
    lib = backend._openblas()
    if lib is None:
        return
    with _lock:
        _blas["depth"] -= 1
        if _blas["depth"] == 0 and _blas["saved"] not in (None, 1):
            lib[0](_blas["saved"])


# While Ember's pool has more than one thread, BLAS rests on one thread: the first op sets it there
# (``op_enter``) and it stays. Why not let OpenBLAS thread every GEMM? After a multi-threaded call its helper
# threads busy-wait for a while before they sleep, and switching its thread count back and forth around each
# op costs as much: either way the shards of the ops that follow lose a core. LeNet-5's training step took
# 13 ms with BLAS on 2 threads (or switched per op) and 10 ms with BLAS resting on one. Only work that gains
# from every core asks for them, for its own duration (``every_core``: a big GEMM, a recurrence's chain of
# GEMMs); Ember's own shards are the parallelism everywhere else. ``set_num_threads(n)`` gives BLAS n
# threads again until the next op; ``EMBER_PARALLEL=0`` leaves all threading to BLAS.


def op_enter():
    """Called as every op starts (Function.apply, the backward pass): put BLAS to rest on one thread the
    first time, when the pool has more than one."""
    if not backend._threads["blas_resting"]:
        _rest_blas()


def _rest_blas():
    lib = backend._openblas()
    if lib is not None and num_threads() > 1:
        with _lock:
            if _blas["depth"] == 0:
                lib[0](1)
            else:  # a sharded region is running (another thread): it restores 1 when it leaves
                _blas["saved"] = 1
    backend._threads["blas_resting"] = True


#: A GEMM asks for every core (``every_core``) from this many multiply-adds (about 50 µs on one core):
#: the char-LM's decoder (28.7 M) gains, LeNet-5's largest layer (6.1 M) does not.
EVERY_CORE_MACS = 1 << 23


def on_every_core(method):
    """Decorate an op's forward or backward that is a chain of GEMMs (a recurrence): it runs in
    ``every_core()``."""
    @functools.wraps(method)
    def wrapped(*args, **kwargs):
        with every_core():
            return method(*args, **kwargs)
    return wrapped


@contextlib.contextmanager
def every_core(macs=None):
    """Let BLAS use ``num_threads()`` threads inside this block, for an op's GEMM of ``macs``
    multiply-adds (``None``: an op made of many GEMMs in a row, such as a recurrence). Does nothing inside a
    shard, with one thread, or for a GEMM below ``EVERY_CORE_MACS``."""
    lib = backend._openblas()
    threads = num_threads()
    if (lib is None or threads <= 1 or getattr(_local, "inside", False) or _blas["depth"] > 0
            or (macs is not None and macs < EVERY_CORE_MACS)):
        yield
        return
    before = int(lib[1]())
    lib[0](threads)
    try:
        yield
    finally:
        lib[0](before)


def run(work, tasks):
    """``[work(t) for t in tasks]``, the tasks shared out between the pool's threads and the caller.

    Runs inline (in order, in this thread) for one task, one thread, or when called from inside a shard.
    An exception in any task is raised here after every started task has finished.
    """
    tasks = list(tasks)
    threads = num_threads()
    if len(tasks) <= 1 or threads <= 1 or getattr(_local, "inside", False):
        return [work(t) for t in tasks]
    results = [None] * len(tasks)
    claim = itertools.count()  # next() on a count is atomic under the GIL: each task is claimed once

    def worker():
        _local.inside = True
        try:
            for i in iter(lambda: next(claim), None):
                if i >= len(tasks):
                    return
                results[i] = work(tasks[i])
        finally:
            _local.inside = False

    executor = _executor(threads - 1)
    _blas_enter()
    try:
        futures = [executor.submit(worker) for _ in range(min(threads, len(tasks)) - 1)]
        try:
            worker()
        finally:
            errors = [f.exception() for f in futures]  # waits for every helper
        for error in errors:
            if error is not None:
                raise error
    finally:
        _blas_leave()
    return results


def shards(n, per):
    """Split ``range(n)`` into consecutive ``(start, stop)`` pieces of at most ``per`` (at least 1) items."""
    per = max(1, int(per))
    return [(start, min(n, start + per)) for start in range(0, n, per)]


def ordered_sum(parts, shape, dtype):
    """Σ parts (the shards' partial sums) added in shard order, as ``shape``: the same bits on every run, with
    any thread count; zeros when there are none (an empty batch)."""
    total = xp.zeros(shape, dtype=dtype)
    for part in parts:
        total += part.reshape(shape)
    return total


def _reset_after_fork():
    global _lock
    _lock = threading.Lock()  # another thread may have held it at the fork
    _pool.update(executor=None, workers=0, pid=None)
    _blas.update(depth=0, saved=None)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


#: A shard of element-wise work or of a normalisation holds about this many bytes: small enough to stay
#: in one core's cache while a few passes go over it.
CHUNK_BYTES = 1 << 20


def per_shard(item_bytes, target=None):
    """How many items of ``item_bytes`` bytes make one shard of about ``target`` (``CHUNK_BYTES``) bytes,
    at least one."""
    return max(1, int((CHUNK_BYTES if target is None else target) // max(1, item_bytes)))


def flat_chunks(*arrays):
    """Whether ``arrays`` can be cut into flat chunks: all C-contiguous and of one size; and the chunks."""
    size = arrays[0].size
    if any(not a.flags.c_contiguous or a.size != size for a in arrays):
        return None
    return shards(size, per_shard(arrays[0].itemsize))


def elementwise(fn, out, *arrays):
    """``fn(out_part, *array_parts)`` over flat chunks of C-contiguous arrays of one size, on the pool;
    ``fn`` writes its part of ``out``. Returns False (and does nothing) when the arrays cannot be chunked."""
    spans = flat_chunks(out, *arrays)
    if spans is None:
        return False
    flats = [a.reshape(-1) for a in (out,) + arrays]
    run(lambda span: fn(*(f[span[0] : span[1]] for f in flats)), spans)
    return True
