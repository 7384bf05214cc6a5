"""DataLoader: torch.utils.data.DataLoader on NumPy — samplers choose the indices, a fetcher reads and
collates each batch, and with ``num_workers > 0`` workers produce batches in parallel, delivered in order.

    loader = DataLoader(dataset, batch_size=64, shuffle=True, num_workers=2)
    for x, y in loader:     # Tensors, collated by default_collate
        ...

Every option, default, mutually exclusive pair and error message is torch's. What happens per epoch:

1. ``iter(loader)`` draws the epoch's ``base_seed`` from ``generator`` (ember's global generator when
   None, as torch draws from its default generator), and the batch sampler starts: ``BatchSampler`` over
   ``RandomSampler`` with ``shuffle=True``, ``SequentialSampler`` otherwise, or the ones given.
2. Batch k is produced with ``rng()`` = ``default_rng([base_seed, k])`` (see _utils/fetch.py): the same
   indices and the same ``rng()`` augmentation whatever ``num_workers`` is.
3. With workers, up to ``prefetch_factor * num_workers`` batches are in flight, handed out round-robin;
   results come back in any order and are yielded in order. ``timeout`` bounds each wait; a worker's
   exception is raised again here naming the worker; dropping the iterator (``break``) stops the workers.

Workers are forked processes (``multiprocessing_context`` picks another start method), each seeded with
base_seed + worker_id and calling ``worker_init_fn(worker_id)`` first, as in torch.

Threads or processes? Measured on this project's shared 2-core machine (other jobs running, load average
1.6): one epoch of 4096 samples, batch 64, each sample a 3x32x32 uint8 image given a random crop, flip and
normalisation, best (median) of 7 epochs, from a throwaway script not in the repository:

    per-sample work    0 workers        2 threads        2 processes
    NumPy              0.139 (0.143) s  0.145 (0.321) s  0.138 (0.204) s
    PIL                0.252 (0.257) s  0.259 (0.471) s  0.191 (0.238) s

(Under a load average of 10 the same ranking held for the best times: NumPy 0.397 / 0.376 / 0.357 s,
PIL 0.685 / 0.705 / 0.583 s.)

Threads gain nothing on per-sample Python work (it holds the GIL); processes run it on other cores and
pay for sending each batch back (about 1 ms per 786 KB batch through a pipe, arrays out of band), so
processes are the default (``WORKER_KIND``). ember.data's ``prefetch=`` uses one thread instead, which
suits batched ``__getitems__`` datasets whose NumPy work releases the GIL.
"""

import itertools
import multiprocessing
import multiprocessing.connection
import os
import queue
import threading
import time
import warnings
import weakref

from ._utils.collate import default_collate, default_convert
from ._utils.fetch import make_fetcher, produce
from ._utils.random import keep, random_seed
from ._utils.worker import ExceptionWrapper, IterableEnd, get_worker_info, receive_message, worker_loop
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]

WORKER_KIND = "process"  # "process" or "thread": what num_workers > 0 starts (see the module docstring)


class _InfiniteConstantSampler(Sampler):
    """The sampler of an IterableDataset: None forever (the stream decides what comes next)."""

    def __iter__(self):
        while True:
            yield None


def _start_methods():
    return multiprocessing.get_all_start_methods()


class DataLoader:
    """Combines a dataset and a sampler and iterates over batches (torch.utils.data.DataLoader).

    Args: as torch's. ``generator`` may be an ``ember.Generator``, a ``numpy.random.Generator`` or an
    int seed. ``pin_memory`` / ``pin_memory_device`` are accepted and have nothing to do on a CPU.
    """

    _finish = None  # per-batch post-processing after collation (ember.data's DataLoader sets it)
    _thread_name = "ember-data-worker"
    __initialized = False

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 to enable "
                "multiprocessing, otherwise set prefetch_factor to None."
            )
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in {False, None}:
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified shuffle option, but got shuffle={shuffle}"
                )
            if sampler is not None:
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified sampler option, but got sampler={sampler}"
                )
            if batch_sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified batch_sampler option, but got "
                    f"batch_sampler={batch_sampler}"
                )
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
        generator = keep(generator)
        if sampler is None:
            if self._iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._iterator = None
        self.__initialized = True
        self.check_worker_number_rationality()

    def check_worker_number_rationality(self):
        """Warn, as torch does, when more workers are asked for than this process may use CPUs."""
        if not self.num_workers:
            return
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        if cpus is None or self.num_workers > cpus:
            suggestion = (
                f"Our suggested max number of worker in current system is {cpus}"
                f"{'' if hasattr(os, 'sched_getaffinity') else ' (`cpuset` is not taken into account)'}, which is "
                "smaller than what this DataLoader is going to create."
                if cpus is not None else "DataLoader is not able to compute a suggested max number of worker in current system."
            )
            warnings.warn(
                f"This DataLoader will create {self.num_workers} worker processes in total. {suggestion} Please be "
                "aware that excessive worker creation might get DataLoader running slow or even freeze, lower the "
                "worker number to avoid potential slowness/freeze if necessary.",
                stacklevel=3,
            )

    @property
    def multiprocessing_context(self):
        return self.__multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, context):
        if context is not None:
            if self.num_workers == 0:
                raise ValueError(
                    "multiprocessing_context can only be used with multi-process loading (num_workers > 0), but "
                    f"got num_workers={self.num_workers}"
                )
            if isinstance(context, str):
                if context not in _start_methods():
                    raise ValueError(
                        f"multiprocessing_context option should specify a valid start method in {_start_methods()!r}, "
                        f"but got multiprocessing_context={context!r}"
                    )
                context = multiprocessing.get_context(context)
            if not isinstance(context, multiprocessing.context.BaseContext):
                raise TypeError(
                    "multiprocessing_context option should be a valid context object or a string specifying the "
                    f"start method, but got multiprocessing_context={context}"
                )
        self.__multiprocessing_context = context

    def __setattr__(self, attr, value):
        if self.__initialized and attr in ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                                           "persistent_workers"):
            raise ValueError(f"{attr} attribute should not be set after {type(self).__name__} is initialized")
        super().__setattr__(attr, value)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self):
        if self._iterable:
            length = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else -(-length // self.batch_size)
            return length
        return len(self._index_sampler)

    def _worker_setup(self):
        """(kind, number of workers, batches in flight per worker) for this loader; (None, 0, 0) for none."""
        if self.num_workers == 0:
            return None, 0, 0
        kind = "process" if self.multiprocessing_context is not None else WORKER_KIND
        return kind, self.num_workers, self.prefetch_factor

    def _get_iterator(self):
        kind, workers, depth = self._worker_setup()
        if kind is None:
            return _SingleProcessIter(self)
        return _WorkerIter(self, kind, workers, depth)

    def __iter__(self):
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None:
                self._iterator = self._get_iterator()
            else:
                self._iterator._reset(self)
            return self._iterator
        return self._get_iterator()


class _BaseIter:
    def __init__(self, loader):
        self._loader = loader
        self._sampler_iter = iter(loader._index_sampler)
        self._base_seed = random_seed(loader.generator)

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._loader)


class _SingleProcessIter(_BaseIter):
    """Batches made in the calling thread, one per ``next``."""

    def __init__(self, loader):
        super().__init__(loader)
        self._fetcher = make_fetcher(loader._iterable, loader.dataset, loader._auto_collation, loader.collate_fn,
                                     loader.drop_last)
        self._k = 0

    def __next__(self):
        indices = next(self._sampler_iter)
        data = produce(self._fetcher, indices, self._base_seed, self._k, self._loader._finish)
        self._k += 1
        return data


def _shutdown(workers, index_queues, results, done, in_process, options):
    """Stop the workers (run once: at the end, on error, or when the iterator is freed). Waits for them
    to finish their batch unless ``options['wait']`` is off (a timeout: the worker may be stuck), in
    which case processes are terminated at once and threads, daemons, are left to finish alone."""
    done.set()
    for q in index_queues:
        q.put(None)
    if not in_process:
        if options["wait"]:
            for w in workers:
                if w is not threading.current_thread():
                    w.join()
        return
    deadline = time.monotonic() + (5 if options["wait"] else 0)
    while any(w.is_alive() for w in workers) and time.monotonic() < deadline:
        # A worker may be blocked writing a batch nobody will read: read and drop it so that it can exit.
        for conn in multiprocessing.connection.wait(results, timeout=0.05):
            try:
                receive_message(conn)
            except (EOFError, OSError):
                results.remove(conn)
    for w in workers:
        if w.is_alive():  # stuck in user code: stop it
            w.terminate()
        w.join()
    for q in index_queues:
        q.cancel_join_thread()
        q.close()
    for conn in results:
        conn.close()


class _WorkerIter(_BaseIter):
    """Batches made by ``num_workers`` threads or processes, ``depth`` in flight per worker, yielded in order."""

    def __init__(self, loader, kind, num_workers, depth):
        super().__init__(loader)
        self._in_process = kind == "process"
        self._num_workers, self._depth, self._timeout = num_workers, depth, loader.timeout
        self._persistent = loader.persistent_workers
        setup = (loader.dataset, loader._iterable, loader._auto_collation, loader.collate_fn, loader.drop_last,
                 loader._finish, num_workers, loader.worker_init_fn)
        if self._in_process:
            context = loader.multiprocessing_context or multiprocessing.get_context(
                "fork" if "fork" in _start_methods() else "spawn")
            make_queue, done = context.Queue, context.Event()
        else:
            make_queue, done = queue.Queue, threading.Event()
            self._result_queue = queue.Queue()
        self._index_queues, self._workers, self._results = [], [], []
        for i in range(num_workers):
            index_queue = make_queue()
            where = f"in DataLoader worker {'process' if self._in_process else 'thread'} {i}"
            if self._in_process:
                receiver, sink = context.Pipe(duplex=False)
                self._results.append(receiver)
            else:
                sink = self._result_queue
            args = (setup, index_queue, sink, done, i, self._base_seed, self._in_process, where)
            if self._in_process:
                w = context.Process(target=worker_loop, args=args, daemon=True)
            else:
                w = threading.Thread(target=worker_loop, args=args, name=loader._thread_name, daemon=True)
            w.start()
            if self._in_process:
                sink.close()  # the worker's end: ours closed, so a dead worker shows as EOF
            self._index_queues.append(index_queue)
            self._workers.append(w)
        self._shutdown_options = {"wait": True}
        self._finalizer = weakref.finalize(self, _shutdown, self._workers, self._index_queues, self._results,
                                           done, self._in_process, self._shutdown_options)
        self._epoch = -1
        self._reset(loader, first=True)

    def _reset(self, loader, first=False):
        if not first:
            self._sampler_iter = iter(loader._index_sampler)
            self._base_seed = random_seed(loader.generator)
        self._epoch += 1
        self._send_idx = self._rcvd_idx = 0
        self._tasks = {}  # k -> worker id, for batches asked for and not yet received
        self._reorder = {}  # k -> batch received ahead of its turn
        self._active = [True] * self._num_workers
        self._cycle = itertools.cycle(range(self._num_workers))
        self._exhausted = False
        for _ in range(self._depth * self._num_workers):
            self._try_put_index()

    def _try_put_index(self):
        in_flight = sum(self._active[w] for w in self._tasks.values())
        if self._exhausted or in_flight >= self._depth * self._num_workers or not any(self._active):
            return
        try:
            indices = next(self._sampler_iter)
        except StopIteration:
            self._exhausted = True
            return
        worker = next(w for w in self._cycle if self._active[w])
        self._index_queues[worker].put((self._epoch, self._send_idx, indices, self._base_seed))
        self._tasks[self._send_idx] = worker
        self._send_idx += 1

    def _receive(self, wait):
        """One (epoch, k, batch) from any worker, or None after ``wait`` seconds without one."""
        if not self._in_process:
            try:
                return self._result_queue.get(timeout=wait)
            except queue.Empty:
                return None
        for conn in multiprocessing.connection.wait(self._results, timeout=wait):
            try:
                return receive_message(conn)
            except (EOFError, OSError):  # that worker has gone; the liveness check reports it
                self._results.remove(conn)
        return None

    def _get_data(self):
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        while True:
            wait = 0.5 if deadline is None else max(0.0, min(0.5, deadline - time.monotonic()))
            received = self._receive(wait)
            if received is not None:
                return received
            if deadline is not None and time.monotonic() >= deadline:
                self.close(wait=False)
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
            dead = [w for w in self._workers if not w.is_alive()]
            if dead:
                self.close(wait=False)
                ids = ", ".join(str(getattr(w, "pid", w.name)) for w in dead)
                raise RuntimeError(f"DataLoader worker (pid(s) {ids}) exited unexpectedly")

    def __next__(self):
        if not self._finalizer.alive:
            raise StopIteration
        while True:
            r = self._rcvd_idx
            if r in self._reorder:
                data = self._reorder.pop(r)
                self._rcvd_idx += 1
                self._try_put_index()
                if isinstance(data, ExceptionWrapper):
                    self.close()
                    data.reraise()
                return data
            if r >= self._send_idx:
                if not self._persistent:
                    self.close()
                raise StopIteration
            if r not in self._tasks or not self._active[self._tasks[r]]:  # its worker's stream had ended
                self._tasks.pop(r, None)
                self._rcvd_idx += 1
                continue
            epoch, k, data = self._get_data()
            if epoch != self._epoch:  # left over from an abandoned epoch of persistent workers
                continue
            worker = self._tasks.pop(k)
            if isinstance(data, IterableEnd):
                self._active[worker] = False
                self._try_put_index()
            else:
                self._reorder[k] = data

    def close(self, wait=True):
        """Stop the workers now (also done when the iterator is garbage-collected); ``wait=False``: do not
        wait for a batch in progress (processes are terminated)."""
        self._shutdown_options["wait"] = wait
        self._finalizer()

