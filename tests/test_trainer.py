"""The Trainer: it learns, keeps the train/val/test discipline, checkpoints, stops early, and resumes
a run bit for bit."""

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember import optim
from ember.data import DataLoader, TensorDataset, transforms
from ember.train import EarlyStopping, ModelCheckpoint, Trainer, checkpoint


def blobs(n=384, seed=0):
    """Three Gaussian blobs in 8×8 single-channel 'images': learnable, but not in one step."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centers = rng.standard_normal((3, 1, 8, 8)).astype(np.float32)
    x = centers[y] + rng.standard_normal((n, 1, 8, 8)).astype(np.float32)
    return x, y.astype(np.int64)


def small_net():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 3))


def make_run(seed, epochs_total=4):
    """A model, optimizer, per-step schedule and an augmenting, shuffling loader, all seeded by ``seed``."""
    ember.manual_seed(seed)
    x, y = blobs()
    model = small_net()
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loader = DataLoader(TensorDataset(x[:320], y[:320]), batch_size=32, shuffle=True, generator=seed,
                        transform=transforms.RandomCrop(8, padding=1))
    val = DataLoader(TensorDataset(x[320:], y[320:]), batch_size=64)
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=epochs_total * len(loader))
    trainer = Trainer(model, opt, scheduler=sched, scheduler_interval="step", progress=False, log=lambda m: None)
    return trainer, loader, val


def test_fit_learns_and_keeps_history():
    trainer, loader, val = make_run(0)
    history = trainer.fit(loader, 4, val_loader=val)
    assert [h["epoch"] for h in history] == [1, 2, 3, 4]
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds", "images_per_s"} <= set(history[-1])
    assert history[-1]["loss"] < history[0]["loss"]
    assert history[-1]["val_accuracy"] > 0.8  # three blobs, chance is 1/3
    assert trainer.model.training  # evaluation restored the mode


def test_evaluate_counts_every_sample_and_builds_the_confusion_matrix():
    trainer, loader, val = make_run(0)
    trainer.fit(loader, 2)
    result = trainer.evaluate(val, confusion=True, num_classes=3)
    confusion = result["confusion"]
    assert confusion.shape == (3, 3) and confusion.sum() == 64
    assert np.isclose(np.trace(confusion) / 64, result["accuracy"])


def test_resume_continues_bit_for_bit(tmp_path):
    straight, loader, val = make_run(0)
    straight.fit(loader, 4, val_loader=val)

    first, loader, val = make_run(0)
    first.fit(loader, 2, val_loader=val)
    path = tmp_path / "mid.npz"
    first.save_checkpoint(path)

    # A fresh process would rebuild everything with other random numbers; the checkpoint must restore
    # the weights, the optimizer's momentum, the schedule, and the model's and the loader's generators.
    second, loader, val = make_run(123)
    second.resume(path)
    assert second.epoch == 2
    second.fit(loader, 4, val_loader=val)
    for (name, a), (_, b) in zip(straight.model.state_dict().items(), second.model.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
    assert [h["loss"] for h in straight.history] == [h["loss"] for h in second.history]


def test_model_checkpoint_writes_last_best_and_every_epoch(tmp_path):
    trainer, loader, val = make_run(0)
    trainer.callbacks = [ModelCheckpoint(tmp_path, keep_all=True)]
    trainer.fit(loader, 3, val_loader=val)
    assert {"last.npz", "best.npz", "epoch-1.npz", "epoch-2.npz", "epoch-3.npz"} <= {p.name for p in tmp_path.iterdir()}
    assert checkpoint.load(tmp_path / "last.npz")["epoch"] == 3
    best = checkpoint.load(tmp_path / "best.npz")
    assert best["history"][-1]["val_accuracy"] == max(h["val_accuracy"] for h in trainer.history)


def test_early_stopping_stops_when_the_metric_stalls():
    trainer, loader, val = make_run(0)
    for g in trainer.optimizer.param_groups:  # a learning rate of zero: nothing ever improves
        g["lr"] = 0.0
    trainer.scheduler = None
    stopper = EarlyStopping("val_loss", patience=2)
    trainer.callbacks = [stopper]
    history = trainer.fit(loader, 10, val_loader=val)
    assert len(history) == 3 and stopper.stopped_epoch == 3


def test_early_stopping_needs_validation_metrics():
    trainer, loader, _ = make_run(0)
    trainer.callbacks = [EarlyStopping("val_accuracy")]
    with pytest.raises(KeyError, match="validation loader"):
        trainer.fit(loader, 1)


def test_plateau_scheduler_is_stepped_with_the_monitored_metric():
    trainer, loader, val = make_run(0)
    for g in trainer.optimizer.param_groups:
        g["lr"] = 0.0
    trainer.scheduler = optim.lr_scheduler.ReduceLROnPlateau(trainer.optimizer, patience=0, factor=0.5)
    trainer.scheduler_interval = "epoch"
    trainer.fit(loader, 3, val_loader=val)
    assert trainer.scheduler.num_bad_epochs >= 0 and trainer.scheduler.best == min(h["val_loss"] for h in trainer.history)


def test_clip_grad_norm_is_applied(monkeypatch):
    trainer, loader, _ = make_run(0)
    trainer.clip_grad_norm = 1e-3
    seen = []
    real_step = trainer.optimizer.step

    def step(*args, **kwargs):
        grads = [p.grad.array for g in trainer.optimizer.param_groups for p in g["params"] if p.grad is not None]
        seen.append(float(np.sqrt(sum((g.astype(np.float64) ** 2).sum() for g in grads))))
        return real_step(*args, **kwargs)

    monkeypatch.setattr(trainer.optimizer, "step", step)
    trainer.train_epoch(loader)
    assert max(seen) <= 1e-3 * (1 + 1e-5)
