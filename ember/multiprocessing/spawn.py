"""``torch.multiprocessing.spawn``: run ``fn(i, *args)`` in ``nprocs`` fresh processes and wait for them.

A child that raises sends its traceback back through a queue; the parent then raises
``ProcessRaisedException`` with that traceback (and terminates the others), as torch does. A child
that dies without raising (a signal, ``os._exit``) gives ``ProcessExitedException`` with its exit code.

torch's distributed tutorials start their ranks this way (``mp.spawn(train, args=(world,), nprocs=world)``,
each ``train(rank, world)`` calling ``init_process_group``). Ember's ranks meet through MPI, whose launcher
starts the processes itself: run such a program with ``ember run --nproc N program.py`` and, inside each of
the N processes, ``spawn`` runs ``fn(rank, *args)`` for that process's own rank instead of starting more.
"""

import multiprocessing
import traceback


class ProcessException(Exception):
    def __init__(self, msg, error_index, pid):
        super().__init__(msg)
        self.msg, self.error_index, self.pid = msg, error_index, pid

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.pid)


class ProcessRaisedException(ProcessException):
    """A spawned process raised an exception; the message carries its traceback."""


class ProcessExitedException(ProcessException):
    """A spawned process exited with a non-zero code without raising."""

    def __init__(self, msg, error_index, error_pid, exit_code, signal_name=None):
        super().__init__(msg, error_index, error_pid)
        self.exit_code, self.signal_name = exit_code, signal_name

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.pid, self.exit_code, self.signal_name)


def _wrap(fn, i, args, error_queue):
    try:
        fn(i, *args)
    except KeyboardInterrupt:
        pass
    except Exception:
        error_queue.put(traceback.format_exc())
        raise SystemExit(1)


class ProcessContext:
    """The started processes of one ``spawn`` call; ``join()`` waits and re-raises a child's failure."""

    def __init__(self, processes, error_queues):
        self.processes, self.error_queues = processes, error_queues

    def pids(self):
        return [p.pid for p in self.processes]

    def join(self, timeout=None):
        """Wait for every process; True once all have finished (False while some still run, with a timeout)."""
        for index, process in enumerate(self.processes):
            process.join(timeout)
            if process.exitcode is None:
                return False
            if process.exitcode != 0:
                for other in self.processes:
                    if other.is_alive():
                        other.terminate()
                    other.join()
                queue = self.error_queues[index]
                if not queue.empty():
                    raise ProcessRaisedException(
                        f"\n\n-- Process {index} terminated with the following error:\n{queue.get()}",
                        index, process.pid,
                    )
                raise ProcessExitedException(
                    f"process {index} terminated with exit code {process.exitcode}",
                    index, process.pid, process.exitcode,
                )
        return True


def start_processes(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """Start ``nprocs`` processes running ``fn(i, *args)``; join them (``join=True``) or return the context."""
    context = multiprocessing.get_context(start_method)
    processes, error_queues = [], []
    for i in range(nprocs):
        error_queue = context.SimpleQueue()
        process = context.Process(target=_wrap, args=(fn, i, args, error_queue), daemon=daemon)
        process.start()
        processes.append(process)
        error_queues.append(error_queue)
    process_context = ProcessContext(processes, error_queues)
    if not join:
        return process_context
    while not process_context.join():
        pass
    return None


def spawn(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """torch.multiprocessing.spawn: ``start_processes`` with the 'spawn' start method; under an MPI launcher
    of ``nprocs`` processes, this process's own ``fn(rank, *args)`` (see the module docstring)."""
    from ..distributed import mpi

    size = mpi.launched_size()
    if size == 1:
        return start_processes(fn, args, nprocs, join, daemon, start_method)
    if nprocs != size:
        raise ValueError(f"spawn(nprocs={nprocs}) in a job of {size} MPI processes: each process runs its own "
                         f"rank, so start the program with --nproc {nprocs} (or mpirun -n {nprocs})")
    fn(mpi.launched_rank(), *args)
    return None if join else ProcessContext([], [])
