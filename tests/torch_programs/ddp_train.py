"""Data-parallel training as the PyTorch DDP tutorial writes it, launched with torchrun (here: ember run --nproc 2).

    torchrun --nproc-per-node 2 ddp_train.py --steps 20 --out weights.json
"""

import argparse
import json
import os

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()

    dist.init_process_group(backend="gloo")
    rank, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ["LOCAL_RANK"])
    assert dist.get_rank() == rank and dist.get_world_size() == world_size and local_rank == rank

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 4))
    ddp_model = DDP(model)
    optimizer = torch.optim.SGD(ddp_model.parameters(), lr=0.1)

    g = torch.Generator().manual_seed(1)
    data = TensorDataset(torch.randn(256, 20, generator=g), torch.randint(0, 4, (256,), generator=g))
    sampler = DistributedSampler(data, shuffle=True, seed=0)
    loader = DataLoader(data, batch_size=32 // world_size, sampler=sampler)

    step = 0
    for epoch in range(100):
        sampler.set_epoch(epoch)
        for x, y in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(ddp_model(x), y)
            loss.backward()
            optimizer.step()
            step += 1
            if step == args.steps:
                break
        if step == args.steps:
            break

    losses = [torch.zeros(1) for _ in range(world_size)]
    dist.all_gather(losses, loss.detach().reshape(1))
    if rank == 0:
        print(f"step {step}: loss {sum(l.item() for l in losses) / world_size:.4f} on {world_size} processes")
        if args.out:
            with open(args.out, "w") as f:
                json.dump({k: v.tolist() for k, v in model.state_dict().items()}, f)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
