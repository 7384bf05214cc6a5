"""torch.distributed at torch's path: the process-group API, for a group of one process.

A program written for data-parallel training runs unchanged on one CPU process: ``init_process_group``
with ``world_size=1`` makes the default group, ``get_rank()`` is 0, ``get_world_size()`` is 1 and every
collective over one process is what it is in torch for one process — ``all_reduce`` of x is x (SUM, AVG,
MAX, MIN, PRODUCT of one value are that value), ``broadcast`` and ``barrier`` are no-ops, ``all_gather``
fills the single slot with a copy. A group of more than one process needs a transport between
processes, which Ember does not have: asking for one raises RuntimeError saying so, rather than
silently training each process alone.
"""

import enum
import os

__all__ = [
    "Backend", "GroupMember", "ReduceOp", "Work", "all_gather", "all_reduce", "barrier", "broadcast",
    "destroy_process_group", "get_backend", "get_rank", "get_world_size", "group", "init_process_group",
    "is_available", "is_gloo_available", "is_initialized", "is_mpi_available", "is_nccl_available",
    "new_group", "reduce",
]


class Backend(str):
    """The backend names torch accepts (``Backend.GLOO == "gloo"``)."""

    UNDEFINED, GLOO, NCCL, MPI, UCC, XCCL = "undefined", "gloo", "nccl", "mpi", "ucc", "xccl"

    def __new__(cls, name):
        value = str(name).lower()
        if value.split(":")[-1] not in (cls.GLOO, cls.NCCL, cls.MPI, cls.UCC, cls.XCCL):
            raise ValueError(f"Unknown backend type {name!r}: use 'gloo', 'nccl' or 'mpi'")
        return str.__new__(cls, value)


class ReduceOp(enum.Enum):
    """The reductions of ``all_reduce``/``reduce``."""

    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7


class _World:
    """The default process group (None until ``init_process_group``)."""

    WORLD = None


group = GroupMember = _World


class _Group:
    def __init__(self, backend, ranks):
        self.backend, self.ranks = backend, list(ranks)

    def size(self):
        return len(self.ranks)

    def rank(self):
        return 0


class Work:
    """What an ``async_op=True`` collective returns; over one process it has already finished."""

    def wait(self, timeout=None):
        return True

    def is_completed(self):
        return True


def is_available():
    return True


def is_gloo_available():
    return True


def is_nccl_available():
    return False


def is_mpi_available():
    return False


def is_initialized():
    return _World.WORLD is not None


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None):
    """Make the default process group. Only a group of one process (world_size 1, rank 0) is supported.

    ``world_size``/``rank`` left at -1 are read from the WORLD_SIZE / RANK environment variables, as
    torch's ``env://`` initialisation does (1 and 0 when those are unset).
    """
    if _World.WORLD is not None:
        raise ValueError("trying to initialize the default process group twice!")
    backend = Backend(backend or Backend.GLOO)
    if world_size == -1:
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if rank == -1:
        rank = int(os.environ.get("RANK", "0"))
    if world_size != 1 or rank != 0:
        raise RuntimeError(
            f"init_process_group: Ember runs a process group of one process only (got world_size={world_size}, "
            f"rank={rank}); it has no transport between processes. Run with world_size=1 (one process)"
        )
    _World.WORLD = _Group(backend, [0])


def destroy_process_group(group=None):
    _World.WORLD = None


def _world(group=None):
    if _World.WORLD is None:
        raise ValueError(
            "Default process group has not been initialized, please make sure to call init_process_group."
        )
    return group if group is not None else _World.WORLD


def get_rank(group=None):
    return _world(group).rank()


def get_world_size(group=None):
    return _world(group).size()


def get_backend(group=None):
    return str(_world(group).backend)


def new_group(ranks=None, timeout=None, backend=None, pg_options=None, **kwargs):
    world = _world()
    ranks = [0] if ranks is None else list(ranks)
    if ranks != [0]:
        raise RuntimeError(f"new_group: ranks {ranks} are not in the one-process default group (ranks [0])")
    return _Group(Backend(backend) if backend else world.backend, ranks)


def _done(async_op):
    return Work() if async_op else None


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """All-reduce over one process: the tensor already holds the result (x reduced with nothing else)."""
    _world(group)
    return _done(async_op)


def reduce(tensor, dst=0, op=ReduceOp.SUM, group=None, async_op=False):
    _world(group)
    return _done(async_op)


def broadcast(tensor, src=0, group=None, async_op=False):
    _world(group)
    if src != 0:
        raise ValueError(f"broadcast: src rank {src} is not in the one-process group (rank 0)")
    return _done(async_op)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Gather every process's tensor into ``tensor_list`` (one slot, one process)."""
    world = _world(group)
    if len(tensor_list) != world.size():
        raise ValueError(
            f"all_gather: tensor_list has {len(tensor_list)} tensors, expected one per process ({world.size()})"
        )
    tensor_list[0].copy_(tensor)
    return _done(async_op)


def barrier(group=None, async_op=False, device_ids=None):
    _world(group)
    return _done(async_op)
