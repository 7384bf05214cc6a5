"""DataLoader workers: the loop each worker runs, ``get_worker_info``, and errors carried back.

A worker (a thread, or a forked process) takes tasks ``(epoch, k, indices, base_seed)`` from its own index
queue, produces batch k (see fetch.produce) and sends ``(epoch, k, batch)`` back: a thread through a queue
shared with the main loop, a process through its own pipe (``send_message``: every Tensor as its NumPy
array, the array bytes out of band, unpickled by the parent that forked it — a private channel between
the two processes, never a file). The main loop puts batches back in order. An exception is caught, wrapped with its traceback, and raised again
in the main loop naming the worker.
"""

import os
import pickle
import queue
import random
import sys
import threading
import traceback

from .... import backend
from ....tensor import Tensor
from .fetch import make_fetcher, produce

_state = threading.local()  # .info: this thread's WorkerInfo while it runs a worker loop


class WorkerInfo:
    """What a worker knows about itself: ``id`` (0..num_workers-1), ``num_workers``, ``seed`` (its
    generator's seed: base_seed + id) and ``dataset`` (its copy of the dataset)."""

    __slots__ = ("id", "num_workers", "seed", "dataset")

    def __init__(self, **kwargs):
        for key, value in kwargs.items():
            object.__setattr__(self, key, value)

    def __setattr__(self, key, value):
        raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")

    def __repr__(self):
        fields = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__)
        return f"WorkerInfo({fields})"


def get_worker_info():
    """In a DataLoader worker, its ``WorkerInfo``; in the main process/thread, None (torch's contract)."""
    return getattr(_state, "info", None)


class ExceptionWrapper:
    """An exception caught in a worker, with its traceback as text, raised again by ``reraise``."""

    def __init__(self, where):
        exc_type, exc, tb = sys.exc_info()
        self.exc_type = exc_type
        self.exc_msg = "".join(traceback.format_exception(exc_type, exc, tb))
        self.where = where

    def reraise(self):
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        try:
            exception = self.exc_type(msg)
        except Exception:  # an exception type that cannot be built from one message
            raise RuntimeError(msg) from None
        raise exception


class IterableEnd:
    """A worker's answer once its copy of an IterableDataset is exhausted."""

    def __init__(self, worker_id):
        self.worker_id = worker_id


class _Packed:
    """A Tensor on its way between processes: just the array."""

    __slots__ = ("array",)

    def __init__(self, array):
        self.array = array

    def __reduce__(self):
        return _Packed, (self.array,)


def _walk(fn, data):
    """``fn`` applied to every leaf of nested dicts, tuples (namedtuples too) and lists."""
    if isinstance(data, dict):
        items = [(key, _walk(fn, value)) for key, value in data.items()]
        try:
            return type(data)(items)
        except TypeError:
            return dict(items)
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(_walk(fn, d) for d in data))
    if type(data) in (tuple, list):
        return type(data)(_walk(fn, d) for d in data)
    return fn(data)


def send_message(conn, message):
    """Send ``message`` (a nested batch) to the parent through this worker's own pipe: Tensors become
    their arrays, and the arrays' bytes travel out of band (pickle protocol 5), written straight from
    the arrays, without copies into the pickle."""
    buffers = []
    head = pickle.dumps(_walk(lambda d: _Packed(d.array) if isinstance(d, Tensor) else d, message), protocol=5,
                        buffer_callback=buffers.append)
    raws = [b.raw() for b in buffers]
    conn.send_bytes(pickle.dumps((head, [r.nbytes for r in raws])))
    for raw in raws:
        conn.send_bytes(raw)


def receive_message(conn):
    """The message ``send_message`` sent; its arrays own writable memory read straight from the pipe."""
    head, sizes = pickle.loads(conn.recv_bytes())
    buffers = []
    for size in sizes:
        buffer = bytearray(size)
        conn.recv_bytes_into(buffer)
        buffers.append(buffer)
    return _walk(lambda d: Tensor(d.array) if isinstance(d, _Packed) else d, pickle.loads(head, buffers=buffers))


def _send(sink, epoch, k, data, in_process, where):
    if not in_process:
        sink.put((epoch, k, data))
        return
    try:
        send_message(sink, (epoch, k, data))
    except (pickle.PicklingError, TypeError, AttributeError):  # an unpicklable batch or exception: reported
        send_message(sink, (epoch, k, ExceptionWrapper(where + " (sending its batch back)")))


def worker_loop(setup, index_queue, sink, done_event, worker_id, base_seed, in_process, where):
    """One worker: ``setup`` = (dataset, iterable, auto_collation, collate_fn, drop_last, finish,
    num_workers, worker_init_fn). Runs until it receives None, ``done_event`` is set, or (a process)
    its parent has gone."""
    dataset, iterable, auto_collation, collate_fn, drop_last, finish, num_workers, init_fn = setup
    seed = base_seed + worker_id
    _state.info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
    parent = os.getppid()
    if in_process:  # torch seeds each worker's generators with base_seed + worker_id
        random.seed(seed)
        backend.manual_seed(seed % 2**63)
    init_error, fetcher, epoch_seen, ended = None, None, None, False
    try:
        if init_fn is not None:
            init_fn(worker_id)
    except Exception:  # noqa: BLE001 -- reported with the first task
        init_error = ExceptionWrapper(where)
    while True:
        try:
            task = index_queue.get(timeout=0.1)
        except queue.Empty:
            if done_event.is_set() or (in_process and os.getppid() != parent):
                break
            continue
        if task is None or done_event.is_set():
            break
        epoch, k, indices, epoch_seed = task
        if epoch != epoch_seen:  # a new epoch (persistent workers): a fresh stream for iterable datasets
            fetcher, epoch_seen, ended = make_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last), epoch, False
        if ended:
            continue
        if init_error is not None:
            data, init_error = init_error, None
        else:
            try:
                data = produce(fetcher, indices, epoch_seed, k, finish)
            except StopIteration:
                if not fetcher.iterable:
                    data = ExceptionWrapper(where)
                else:
                    data, ended = IterableEnd(worker_id), True
            except Exception:  # noqa: BLE001 -- re-raised in the main loop
                data = ExceptionWrapper(where)
        _send(sink, epoch, k, data, in_process, where)
        del data
    _state.info = None
