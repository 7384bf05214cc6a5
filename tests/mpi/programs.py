"""Programs that tests/test_distributed_mpi.py runs under ``mpirun -n 2`` (and alone, as one process).

    python tests/mpi/programs.py train MODEL DTYPE STEPS OUT   20 SGD steps on a fixed global batch of 16,
                                                               each rank on its share; rank 0 writes OUT.npz
    python tests/mpi/programs.py collectives OUT               every collective's result on every rank
    python tests/mpi/programs.py fail stuck|raise SECONDS      rank 1 hangs or raises; rank 0 must not wait forever
"""

import datetime
import json
import sys
import time

import numpy as np

import ember
import ember.distributed as dist
from ember import nn


def bn_model():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 6, 3), nn.BatchNorm2d(6), nn.ReLU(), nn.Flatten(), nn.Linear(6 * 12 * 12, 10),
                         nn.BatchNorm1d(10))


def train(model_name, dtype, steps, out):
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    ember.set_default_dtype(getattr(ember, dtype))
    ember.manual_seed(100 + rank)  # different weights on every rank: DDP must broadcast rank 0's
    if model_name == "lenet":
        model = ember.models.create("lenet5", num_classes=10, in_channels=1, input_size=28)
    else:
        model = nn.SyncBatchNorm.convert_sync_batchnorm(bn_model())
    ddp = nn.parallel.DistributedDataParallel(model, bucket_cap_mb=0.05)  # small buckets: several in flight
    optimizer = ember.optim.SGD(ddp.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    data = np.random.default_rng(7)
    batch, share = 16, 16 // world
    for step in range(steps):
        x = data.standard_normal((batch, 1, 28, 28)).astype(dtype)
        y = data.integers(0, 10, batch)
        mine = slice(rank * share, (rank + 1) * share)
        loss = nn.functional.cross_entropy(ddp(ember.tensor(x[mine])), ember.tensor(y[mine]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    state = {k: v.numpy() for k, v in model.state_dict().items()}
    flat = np.concatenate([v.ravel().astype(np.float64) for v in state.values()])
    copies = [ember.zeros(flat.size, dtype=ember.float64) for _ in range(world)]
    dist.all_gather(copies, ember.tensor(flat))
    assert all(np.array_equal(c.numpy(), flat) for c in copies), "the ranks' weights differ"
    if rank == 0:
        np.savez(out, **state)
    dist.destroy_process_group()


def collectives(out):
    dist.init_process_group("gloo")
    r, n = dist.get_rank(), dist.get_world_size()
    got = {}
    for op in ("SUM", "AVG", "MAX", "MIN", "PRODUCT"):
        x = ember.tensor([1.0 + r, -2.0 * r])
        dist.all_reduce(x, getattr(dist.ReduceOp, op))
        got[op] = x.tolist()
    x = ember.tensor([r + 1, 6], dtype=ember.int64)
    dist.all_reduce(x, dist.ReduceOp.BOR)
    got["BOR"] = x.tolist()
    work = dist.all_reduce(t := ember.ones(3), async_op=True)
    got["async"] = [work.wait(), t.tolist()]
    strided = ember.arange(6.0).reshape(2, 3).t()
    dist.all_reduce(strided)
    got["strided"] = strided.tolist()
    b = ember.tensor([float(r)] * 3)
    dist.broadcast(b, src=1)
    got["broadcast"] = b.tolist()
    slots = [ember.zeros(2) for _ in range(n)]
    dist.all_gather(slots, ember.tensor([r, 10.0 * r]))
    got["all_gather"] = [s.tolist() for s in slots]
    whole = ember.zeros(2 * n)
    dist.all_gather_into_tensor(whole, ember.tensor([r, r + 0.5]))
    got["all_gather_into_tensor"] = whole.tolist()
    part = ember.zeros(2)
    dist.reduce_scatter_tensor(part, ember.arange(4.0) * (r + 1))
    got["reduce_scatter_tensor"] = part.tolist()
    red = ember.tensor([r + 1.0])
    dist.reduce(red, dst=1)
    got["reduce"] = red.tolist()
    into = [ember.zeros(1) for _ in range(n)] if r == 0 else None
    dist.gather(ember.tensor([r * 3.0]), into, dst=0)
    got["gather"] = [t.tolist() for t in into] if into else None
    s = ember.zeros(2)
    dist.scatter(s, [ember.tensor([i, -i * 1.0]) for i in range(n)] if r == 0 else None, src=0)
    got["scatter"] = s.tolist()
    if r == 0:
        dist.send(ember.tensor([5.0, 6.0]), dst=1)
    else:
        z = ember.zeros(2)
        got["recv"] = [dist.recv(z), z.tolist()]
    objs = [None] * n
    dist.all_gather_object(objs, {"rank": r, "name": f"r{r}"})
    got["all_gather_object"] = objs
    sent = [r, "x", {"k": [1, 2]}]
    dist.broadcast_object_list(sent, src=1)
    got["broadcast_object_list"] = sent
    sub = dist.new_group([1])
    got["subgroup_rank"] = dist.get_rank(sub)
    if r == 1:
        y = ember.tensor([2.0])
        dist.all_reduce(y, group=sub)
        got["subgroup_sum"] = y.tolist()
    dist.barrier()
    objs = [None] * n
    dist.all_gather_object(objs, got)
    if r == 0:
        with open(out, "w") as f:
            json.dump(objs, f)


def ddp_features(out):
    """no_sync accumulates locally then averages everything; unused parameters need find_unused_parameters."""
    dist.init_process_group("mpi")
    rank = dist.get_rank()
    ember.manual_seed(0)
    got = {}
    net = nn.Linear(3, 2)
    ddp = nn.parallel.DistributedDataParallel(net)
    x = ember.full((1, 3), float(rank + 1))
    with ddp.no_sync():
        ddp(x).sum().backward()
    got["local"] = net.weight.grad.tolist()  # this rank's own gradient: x in both rows
    ddp(x).sum().backward()  # synced: (2x_r accumulated) averaged over ranks
    got["synced"] = net.weight.grad.tolist()

    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.used, self.unused = nn.Linear(3, 1), nn.Linear(3, 1)

        def forward(self, x):
            return self.used(x)

    for find in (True, False):
        ddp = nn.parallel.DistributedDataParallel(TwoHeads(), find_unused_parameters=find)
        try:
            ddp(x).sum().backward()
            got[f"find={find}"] = ddp.module.used.weight.grad.tolist()
        except RuntimeError as error:
            got[f"find={find}"] = str(error)
    if rank == 0:
        with open(out, "w") as f:
            json.dump(got, f)


def nan_on_one_rank(out):
    """Rank 1's second batch holds an infinity: both ranks' Trainers must stop at that step, together."""
    from ember.train import NonFiniteLossError, Trainer
    from ember.utils.data import DataLoader, DistributedSampler, TensorDataset

    dist.init_process_group("mpi", timeout=datetime.timedelta(seconds=20))
    rank = dist.get_rank()
    x = np.random.default_rng(0).standard_normal((64, 3)).astype(np.float32)
    x[17] = np.inf  # the 9th sample of rank 1's share (indices 1, 3, 5, ...): its second batch of 8
    data = TensorDataset(ember.tensor(x), ember.tensor(np.arange(64) % 2))
    loader = DataLoader(data, batch_size=8, sampler=DistributedSampler(data, shuffle=False))
    model = nn.parallel.DistributedDataParallel(nn.Linear(3, 2))
    trainer = Trainer(model, ember.optim.SGD(model.parameters(), lr=0.1), progress=False, log=lambda m: None)
    try:
        trainer.fit(loader, epochs=1)
        result = "finished"
    except NonFiniteLossError as error:
        result = f"stopped after {trainer.step} steps: {str(error).split(':')[0]}"
    with open(f"{out}.{rank}", "w") as f:
        f.write(result)


def fail(how, seconds):
    """Rank 1 hangs (``stuck``: never joins the next all_reduce) or raises (``raise``); rank 0 all-reduces."""
    dist.init_process_group("mpi", timeout=datetime.timedelta(seconds=float(seconds)))
    x = ember.ones(3)
    dist.all_reduce(x)
    if dist.get_rank() == 1:
        if how == "raise":
            raise ValueError("rank 1 fails on purpose")
        time.sleep(120)
    dist.all_reduce(x)


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    {"train": lambda: train(args[0], args[1], int(args[2]), args[3]), "collectives": lambda: collectives(args[0]),
     "fail": lambda: fail(args[0], args[1]), "ddp_features": lambda: ddp_features(args[0]),
     "nan": lambda: nan_on_one_rank(args[0])}[command]()
