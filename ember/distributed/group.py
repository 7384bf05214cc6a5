"""Process groups: which processes take part in a collective, and how this process finds the others.

``init_process_group`` makes the default group, ``WORLD``: every process the launcher started.

- Started by an MPI launcher (``mpirun -n 2 python train.py``, ``ember run --nproc 2 train.py``,
  ``ember train --nproc 2``): rank and world size are MPI's, and the processes talk through MPI (mpi.py).
  ``world_size``/``rank`` arguments, or the ``WORLD_SIZE``/``RANK`` variables that torchrun sets, must agree.
- Started alone: a group of one process, with no MPI at all (the collectives of one process are what they
  are in torch for one process: ``all_reduce`` of x is x). Asking for more processes than that is an error
  that says how to start them — Ember does not train N processes each alone while you think they cooperate.

Every backend name torch accepts (``"mpi"``, ``"gloo"``, ``"nccl"``) runs over MPI on the CPU; CuPy arrays are
reduced with NCCL where CuPy provides it (nccl.py).

Threads: N processes on one machine share its cores, so a rank that was not told otherwise (no
``OMP_NUM_THREADS``, no ``ember.set_num_threads``) uses cores / N threads, as torchrun's one thread per
process does on a machine with as many cores as processes.
"""

import datetime
import enum
import os

from .. import backend as _backend
from . import mpi

#: torch's default for the CPU backends (gloo, MPI): a collective may wait 30 minutes for the slowest rank.
DEFAULT_TIMEOUT = datetime.timedelta(minutes=30)


class Backend(str):
    """The backend names torch accepts (``Backend.GLOO == "gloo"``)."""

    UNDEFINED, GLOO, NCCL, MPI, UCC, XCCL = "undefined", "gloo", "nccl", "mpi", "ucc", "xccl"

    def __new__(cls, name):
        value = str(name).lower()
        if any(part.split(":")[-1] not in (cls.GLOO, cls.NCCL, cls.MPI, cls.UCC, cls.XCCL)
               for part in value.split(",")):
            raise ValueError(f"Unknown backend type {name!r}: use 'mpi', 'gloo' or 'nccl'")
        return str.__new__(cls, value)


class ReduceOp(enum.Enum):
    """The reductions of ``all_reduce``/``reduce`` (AVG is SUM divided by the group's size)."""

    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7


class _Alone:
    """The communicator of a group of one process: every collective is already complete."""

    rank, size, calls, broken = 0, 1, 0, None

    def wait(self, request, what):
        pass

    def start_all_reduce(self, array, op="sum"):
        return None

    def all_reduce(self, array, op="sum"):
        return array

    reduce = all_reduce

    def broadcast(self, array, root):
        return array

    def all_gather(self, array, out):
        out[0] = array
        return out

    def gather(self, array, out, root):
        return self.all_gather(array, out)

    def scatter(self, chunks, out, root):
        out[...] = chunks[0]
        return out

    def reduce_scatter(self, array, out, op="sum"):
        out[...] = array
        return out

    def barrier(self):
        pass

    def split(self, members):
        return self if members == [0] else None

    def free(self):
        pass


class ProcessGroup:
    """A set of processes that run collectives together (torch's ``ProcessGroup``).

    ``ranks`` are the members' ranks in the default group, in group-rank order; ``comm`` is this process's
    communicator over them, None when this process is not a member.
    """

    def __init__(self, backend, ranks, comm, timeout):
        self.backend, self.ranks, self.comm, self.timeout = backend, list(ranks), comm, timeout

    def size(self):
        return len(self.ranks)

    def rank(self):
        return self.comm.rank if self.comm is not None else -1

    def name(self):
        return str(self.backend)

    def group_rank(self, global_rank, what):
        """The group rank of default-group rank ``global_rank`` (torch's src/dst are default-group ranks)."""
        if global_rank not in self.ranks:
            raise ValueError(f"{what}: rank {global_rank} is not part of the group (ranks {self.ranks})")
        return self.ranks.index(global_rank)

    # The array-level collectives that layers use directly (SyncBatchNorm): sums and gathers of small vectors.

    def all_reduce_array(self, array, op="sum"):
        """The elementwise reduction of every member's ``array`` (reduced in place when it is a contiguous
        host array, and returned)."""
        gpu = self.gpu_comm(array, op)
        if gpu is not None:
            return gpu.all_reduce(array, op)
        buffer = self.comm.all_reduce(_backend.host.ascontiguousarray(_backend.to_host(array)), op)
        return _on_device_of(array, buffer)

    def all_gather_array(self, array):
        """Every member's ``array`` stacked along a new axis 0, in group-rank order."""
        buffer = _backend.host.ascontiguousarray(_backend.to_host(array))
        out = _backend.host.empty((self.size(),) + buffer.shape, dtype=buffer.dtype)
        return _on_device_of(array, self.comm.all_gather(buffer, out))

    def gpu_comm(self, array, op="sum"):
        """The NCCL communicator for a CuPy ``array`` (made on first use), or None: host arrays, no NCCL,
        a group of one, or an array NCCL cannot reduce."""
        if not _backend.is_device_array(array) or self.comm is None or self.size() == 1:
            return None
        from .nccl import NcclCommunicator, nccl_module

        if nccl_module() is None:
            return None
        if getattr(self, "_nccl", None) is None:
            self._nccl = NcclCommunicator(self.comm)
        return self._nccl if self._nccl.supports(array, op) else None

    def __repr__(self):
        return f"ProcessGroup(backend={self.name()!r}, ranks={self.ranks})"


def _on_device_of(like, array):
    """``array`` (a host result) where ``like`` lives: the GPU for a CuPy array."""
    return _backend.move(array, *_backend.array_device(like)) if _backend.is_device_array(like) else array


class _World:
    """The default process group (None until ``init_process_group``); ``group.WORLD`` in torch."""

    WORLD = None
    NON_GROUP_MEMBER = object()


group = GroupMember = _World


def is_available():
    return True


def is_mpi_available():
    """True when mpi4py can be imported (it is checked without initialising MPI)."""
    import importlib.util

    return importlib.util.find_spec("mpi4py") is not None


def is_gloo_available():
    return True  # the name is accepted and runs over MPI (or alone, for one process)


def is_nccl_available():
    from .nccl import nccl_module

    return nccl_module() is not None


def is_initialized():
    return _World.WORLD is not None


def _env_int(name):
    value = os.environ.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"init_process_group: environment variable {name}={value!r} is not an integer") from None


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None):
    """Make the default process group (see the module docstring for how the processes meet).

    ``world_size``/``rank`` left at -1 are read from ``WORLD_SIZE``/``RANK`` (torch's ``env://``) or the MPI
    launcher. ``init_method`` and ``store`` are accepted for torch's signature; Ember's processes always meet
    through the MPI launcher. ``timeout`` (a ``datetime.timedelta``, 30 minutes by default) bounds how long a
    collective waits for the other processes before raising ``DistBackendError``.
    """
    if _World.WORLD is not None:
        raise ValueError("trying to initialize the default process group twice!")
    backend = Backend(backend or Backend.MPI)
    timeout = _seconds(timeout)
    want_size = world_size if world_size != -1 else _env_int("WORLD_SIZE")
    want_rank = rank if rank != -1 else _env_int("RANK")
    if mpi.launched_by_mpi():
        comm = mpi.world(timeout)
        for what, wanted, actual in (("world_size", want_size, comm.size), ("rank", want_rank, comm.rank)):
            if wanted is not None and wanted != actual:
                raise ValueError(
                    f"init_process_group: {what}={wanted} but the MPI launcher made this process {what} {actual} "
                    f"(mpirun -n {comm.size}); pass {what}={actual} or leave it out (and unset "
                    f"{'WORLD_SIZE' if what == 'world_size' else 'RANK'})"
                )
        _share_cores(mpi.local_size())
        if comm.size > 1:
            mpi.abort_on_uncaught_exception()
    else:
        if want_size not in (None, 1) or want_rank not in (None, 0):
            raise RuntimeError(
                f"init_process_group: world_size={want_size}, rank={want_rank}, but this process was not started "
                "by an MPI launcher, and Ember's processes find each other through MPI. Start them with "
                f"`mpirun -n {want_size or 2} python SCRIPT` or `ember run --nproc {want_size or 2} SCRIPT` "
                "(pip install 'ember[distributed]'); one process alone needs world_size=1"
            )
        comm = _Alone()
    _World.WORLD = ProcessGroup(backend, range(comm.size), comm, timeout)


def _seconds(timeout):
    if timeout is None:
        return DEFAULT_TIMEOUT.total_seconds()
    if not isinstance(timeout, datetime.timedelta):
        raise TypeError(f"Expected timeout argument to be of type datetime.timedelta, got {type(timeout).__name__}")
    if timeout.total_seconds() <= 0:
        raise ValueError(f"init_process_group: timeout must be positive, got {timeout}")
    return timeout.total_seconds()


def _share_cores(processes):
    """cores / processes threads for this rank, unless the user chose a thread count (see module docstring)."""
    chosen = _backend._threads["count"] is not None or any(
        name in os.environ for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"))
    if processes > 1 and not chosen:
        _backend.set_num_threads(max(1, min((os.cpu_count() or 1) // processes, mpi.cores())))


def destroy_process_group(group=None):
    """Forget ``group`` (the default group and every group made from it, when None)."""
    if group is None or group is _World.WORLD:
        _World.WORLD = None
    elif group.comm is not None:
        group.comm.free()
        group.comm = None


def world(group=None):
    """``group``, or the default group; ValueError (torch's message) before ``init_process_group``."""
    if _World.WORLD is None:
        raise ValueError(
            "Default process group has not been initialized, please make sure to call init_process_group."
        )
    return group if group is not None else _World.WORLD


def get_rank(group=None):
    """This process's rank in ``group`` (-1 when it is not a member, as in torch)."""
    return world(group).rank()


def get_world_size(group=None):
    return world(group).size()


def get_backend(group=None):
    return str(world(group).backend)


def get_global_rank(group, group_rank):
    return world(group).ranks[group_rank]


def get_process_group_ranks(group):
    return list(world(group).ranks)


def new_group(ranks=None, timeout=None, backend=None, pg_options=None, use_local_synchronization=False,
              group_desc=None, device_id=None):
    """A group of the default group's ranks ``ranks`` (all of them when None). Every process calls it."""
    default = world()
    members = list(range(default.size())) if ranks is None else sorted(int(r) for r in ranks)
    for r in members:
        if not 0 <= r < default.size():
            raise ValueError(f"new_group: rank {r} is not in the default group (ranks 0..{default.size() - 1})")
    if len(set(members)) != len(members):
        raise ValueError(f"new_group: ranks {members} name a process twice")
    comm = default.comm.split(members)
    if comm is not None and timeout is not None:
        comm.timeout = _seconds(timeout)
    return ProcessGroup(Backend(backend) if backend else default.backend, members, comm,
                        _seconds(timeout) if timeout is not None else default.timeout)
