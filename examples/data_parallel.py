"""Data parallelism by hand, then with DistributedDataParallel: the same steps, the same weights.

    mpirun -n 2 python examples/data_parallel.py          (or: python -m ember.distributed.launch --nproc 2 ...)
    python examples/data_parallel.py                      (one process: the reference)

AlexNet's two branches ran on two GPUs (model parallelism: each GPU held half the network). Data parallelism
keeps a whole copy of the network in every process and splits the batch instead:

1. every process starts from the same weights (rank 0's, broadcast);
2. each process runs forward and backward on its own share of the batch (batch / N samples);
3. the gradients are averaged over the processes with an all-reduce (the sum over every process, divided by N);
4. every process takes the same optimizer step, so the copies stay equal.

The loss is a mean over the batch, so the average of the N share-gradients is the gradient of the whole batch:
N processes compute what one process would, each doing 1/N of the work. This program does the four steps
with ``ember.distributed`` by hand, then with ``DistributedDataParallel`` (which buckets the gradients and
starts averaging during backward), and prints the largest difference from one process on the whole batch.
"""

import numpy as np

import ember
import ember.distributed as dist
from ember import nn

STEPS, BATCH = 10, 32


def make_model():
    ember.manual_seed(dist.get_rank())  # different on every rank on purpose: step 1 must fix that
    return nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 4))


def batches(rank, world):
    """The same global batches on every process; this rank's share of each."""
    data = np.random.default_rng(0)
    share = BATCH // world
    for _ in range(STEPS):
        x = data.standard_normal((BATCH, 20))
        y = data.integers(0, 4, BATCH)
        mine = slice(rank * share, (rank + 1) * share)
        yield ember.tensor(x[mine]), ember.tensor(y[mine])


def by_hand(rank, world):
    model = make_model()
    for p in model.parameters():  # 1. rank 0's weights everywhere
        dist.broadcast(p.data, src=0)
    optimizer = ember.optim.SGD(model.parameters(), lr=0.1)
    for x, y in batches(rank, world):
        loss = nn.functional.cross_entropy(model(x), y)  # 2. this rank's share
        optimizer.zero_grad()
        loss.backward()
        for p in model.parameters():  # 3. average the gradients
            dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
            p.grad /= world
        optimizer.step()  # 4. the same step everywhere
    return model


def with_ddp(rank, world):
    model = make_model()
    ddp = nn.parallel.DistributedDataParallel(model)  # 1. (and 3., during backward)
    optimizer = ember.optim.SGD(ddp.parameters(), lr=0.1)
    for x, y in batches(rank, world):
        loss = nn.functional.cross_entropy(ddp(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


def flat(model):
    return np.concatenate([p.detach().numpy().ravel() for p in model.parameters()])


def main():
    ember.set_default_dtype(ember.float64)
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    hand, ddp = flat(by_hand(rank, world)), flat(with_ddp(rank, world))
    # the reference: one process on the whole batch, computed on rank 0 (a group of one: world = 1)
    if rank == 0:
        ember.manual_seed(0)
        model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 4))
        optimizer = ember.optim.SGD(model.parameters(), lr=0.1)
        for x, y in batches(0, 1):
            loss = nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        alone = flat(model)
        print(f"{world} process(es), {STEPS} steps, batch {BATCH} ({BATCH // world} per process)")
        print(f"by hand vs one process on the whole batch:  {np.abs(hand - alone).max():.1e}")
        print(f"DDP     vs one process on the whole batch:  {np.abs(ddp - alone).max():.1e}")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
