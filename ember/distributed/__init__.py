"""torch.distributed at torch's path: process groups and collectives over MPI (the extra ``ember[distributed]``).

Data-parallel training runs one process per core (or machine, or GPU), each on its own share of every
batch; after each backward the processes average their gradients with an all-reduce, so every process takes
the same step and keeps the same weights. ``ember.nn.parallel.DistributedDataParallel`` does that for a
model, ``ember.utils.data.DistributedSampler`` gives each process its share of the data.

    import ember.distributed as dist
    dist.init_process_group("mpi")                 # started by: mpirun -n 4 python train.py
    rank, world = dist.get_rank(), dist.get_world_size()
    dist.all_reduce(t, op=dist.ReduceOp.SUM)       # t is now the sum of every process's t

Where this sits: below nn/ and train/. It moves arrays (mpi.py through mpi4py, nccl.py for CuPy arrays) and
knows nothing of layers, so DistributedDataParallel, SyncBatchNorm and the Trainer can use it.
group.py: how processes find each other; collectives.py: the collectives on tensors.
"""

from .collectives import *  # noqa: F401,F403 (torch's collectives, listed in collectives.__all__)
from .collectives import __all__ as _collectives
from .errors import DistBackendError, DistError, DistNetworkError, DistStoreError
from .group import (Backend, GroupMember, ProcessGroup, ReduceOp, destroy_process_group, get_backend,
                    get_global_rank, get_process_group_ranks, get_rank, get_world_size, group,
                    init_process_group, is_available, is_gloo_available, is_initialized, is_mpi_available,
                    is_nccl_available, new_group)

__all__ = [
    *_collectives, "Backend", "DistBackendError", "DistError", "DistNetworkError", "DistStoreError",
    "GroupMember", "ProcessGroup", "ReduceOp", "destroy_process_group", "get_backend", "get_global_rank",
    "get_process_group_ranks", "get_rank", "get_world_size", "group", "init_process_group", "is_available",
    "is_gloo_available", "is_initialized", "is_mpi_available", "is_nccl_available", "new_group",
]
