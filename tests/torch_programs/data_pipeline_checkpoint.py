"""A custom Dataset with a transform, WeightedRandomSampler / BatchSampler / collate_fn, a small MLP trained
with Adam and a scheduler, then checkpointing as the PyTorch tutorials teach: torch.save of a dict with the
model and optimizer state_dicts and the epoch, torch.load(map_location=...), and resuming."""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, WeightedRandomSampler, random_split


class Blobs(Dataset):
    """Two Gaussian blobs; items are (features, label, index) to exercise default_collate on tuples."""

    def __init__(self, n, transform=None, seed=0):
        rng = np.random.default_rng(seed)
        self.y = rng.integers(0, 2, n)
        self.x = (rng.standard_normal((n, 4)) + 2.5 * self.y[:, None]).astype(np.float32)
        self.transform = transform

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        x = torch.from_numpy(self.x[i])
        if self.transform:
            x = self.transform(x)
        return x, int(self.y[i]), i


def collate(batch):
    xs, ys, idx = zip(*batch)
    return torch.stack(xs), torch.tensor(ys), torch.LongTensor(idx)


torch.manual_seed(0)
g = torch.Generator().manual_seed(42)
full = Blobs(600, transform=lambda x: x * 1.0)
train_set, val_set = random_split(full, [0.8, 0.2], generator=g)
weights = [1.0] * len(train_set)
loader = DataLoader(train_set, batch_size=32, sampler=WeightedRandomSampler(weights, len(train_set)),
                    num_workers=2, collate_fn=collate)
batches = DataLoader(val_set, batch_sampler=BatchSampler(RandomSampler(val_set), batch_size=50, drop_last=False))
assert len(loader) == 15 and len(batches) == 3

model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
criterion = nn.CrossEntropyLoss()


def run_epoch():
    model.train()
    for x, y, _ in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
    scheduler.step()
    return loss.item()


def evaluate():
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y, _ in batches:
            correct += (model(x).argmax(1) == y).sum().item()
    return correct / len(val_set)


for epoch in range(2):
    run_epoch()
path = sys.argv[1] if len(sys.argv) > 1 else "checkpoint.pt"
torch.save({"epoch": 2, "model_state_dict": model.state_dict(), "optimizer_state_dict": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(), "note": "blobs", "history": [0.5, (1, 2)]}, path)
assert os.path.exists(path)

checkpoint = torch.load(path, map_location=torch.device("cpu"), weights_only=True)
model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
model.load_state_dict(checkpoint["model_state_dict"])
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
scheduler.load_state_dict(checkpoint["scheduler"])
assert checkpoint["epoch"] == 2 and checkpoint["note"] == "blobs" and checkpoint["history"][1] == (1, 2)
for epoch in range(checkpoint["epoch"], 4):
    run_epoch()
acc = evaluate()
print(f"validation accuracy {acc:.3f} lr {optimizer.param_groups[0]['lr']}")
assert acc > 0.9
