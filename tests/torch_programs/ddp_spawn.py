"""PyTorch's "Getting started with DDP" tutorial (CPU, gloo): mp.spawn starts the ranks, each sets up the group.

    python ddp_spawn.py            (torch)
    ember run --nproc 2 ddp_spawn.py
"""

import os
import sys

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn
import torch.optim as optim
from torch.nn.parallel import DistributedDataParallel as DDP


def setup(rank, world_size):
    os.environ["MASTER_ADDR"] = "localhost"
    os.environ["MASTER_PORT"] = "12355"
    dist.init_process_group("gloo", rank=rank, world_size=world_size)


def cleanup():
    dist.destroy_process_group()


class ToyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.net1 = nn.Linear(10, 10)
        self.relu = nn.ReLU()
        self.net2 = nn.Linear(10, 5)

    def forward(self, x):
        return self.net2(self.relu(self.net1(x)))


def demo_basic(rank, world_size):
    print(f"Running basic DDP example on rank {rank}.")
    setup(rank, world_size)
    torch.manual_seed(rank)  # different weights on every rank: DDP starts them all from rank 0's
    model = ToyModel()
    ddp_model = DDP(model)
    loss_fn = nn.MSELoss()
    optimizer = optim.SGD(ddp_model.parameters(), lr=0.001)
    optimizer.zero_grad()
    outputs = ddp_model(torch.randn(20, 10))
    labels = torch.randn(20, 5)
    loss_fn(outputs, labels).backward()
    optimizer.step()
    weights = [torch.zeros_like(model.net1.weight) for _ in range(world_size)]
    dist.all_gather(weights, model.net1.weight.detach())
    if rank == 0:
        same = all(torch.equal(w, weights[0]) for w in weights)
        print(f"rank 0: the {world_size} replicas hold {'the same' if same else 'DIFFERENT'} weights")
    cleanup()


if __name__ == "__main__":
    world_size = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    mp.spawn(demo_basic, args=(world_size,), nprocs=world_size, join=True)
