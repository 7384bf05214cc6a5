"""Logs people expect: one JSON line per training step (buffered, flushed per epoch, exact on resume),
TensorBoard event files through tensorboardX, and curves.png with a learning-rate panel and the best epoch."""

import json
import struct
import sys

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember import optim
from ember.cli import main
from ember.data import DataLoader, TensorDataset
from ember.tools.plots import best_epoch, plot_history
from ember.train import Callback, StepLog, TensorBoardLogger, Trainer
from ember.train.loggers import read_steps


def make(callbacks, seed=0, total_epochs=4):
    ember.manual_seed(seed)
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 160)
    x = (rng.standard_normal((3, 12)).astype(np.float32)[y] + rng.standard_normal((160, 12)).astype(np.float32))
    model = nn.Sequential(nn.Linear(12, 8), nn.ReLU(), nn.Linear(8, 3))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loader = DataLoader(TensorDataset(x[:128], y[:128]), batch_size=32, shuffle=True, generator=seed)
    val = DataLoader(TensorDataset(x[128:], y[128:]), batch_size=32)
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=total_epochs * len(loader))
    trainer = Trainer(model, opt, scheduler=sched, callbacks=callbacks, progress=False, log=lambda m: None)
    return trainer, loader, val


def records(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_one_line_per_step_with_the_lr_each_step_used(tmp_path):
    path = tmp_path / "steps.jsonl"
    trainer, loader, val = make([StepLog(path)])
    lrs = []
    real_step = trainer.optimizer.step

    def step():
        lrs.append(trainer.optimizer.param_groups[0]["lr"])
        real_step()

    trainer.optimizer.step = step
    trainer.fit(loader, 3, val_loader=val)
    lines = records(path)
    assert len(lines) == 3 * len(loader) == trainer.step
    assert [r["step"] for r in lines] == list(range(1, 13))
    assert [r["epoch"] for r in lines] == [1] * 4 + [2] * 4 + [3] * 4
    assert [r["lr"] for r in lines] == lrs  # the OneCycle rate the step was taken with
    assert all(set(r) == {"epoch", "step", "loss", "lr", "seconds"} and r["seconds"] >= 0 for r in lines)
    epoch_mean = np.mean([r["loss"] for r in lines[:4]])  # equal batches: the epoch loss is their mean
    assert np.isclose(epoch_mean, trainer.history[0]["loss"], rtol=1e-6)


def test_the_log_is_written_once_per_epoch_not_per_step(tmp_path):
    path = tmp_path / "steps.jsonl"
    seen = []

    class Peek(Callback):
        def on_batch_end(self, trainer, logs):
            seen.append(len(path.read_text().splitlines()))

    trainer, loader, _ = make([StepLog(path), Peek()])
    trainer.fit(loader, 2)
    assert seen == [0, 0, 0, 0, 4, 4, 4, 4]  # during epoch 2 the file holds exactly epoch 1


def test_resume_keeps_each_step_once(tmp_path):
    path = tmp_path / "steps.jsonl"
    straight, loader, val = make([StepLog(tmp_path / "straight.jsonl")])
    straight.fit(loader, 4, val_loader=val)

    first, loader, val = make([StepLog(path)])
    first.fit(loader, 2, val_loader=val)
    first.save_checkpoint(tmp_path / "mid.npz")
    with open(path, "a") as f:  # an interrupted third epoch had flushed some steps, and a torn line
        f.write(json.dumps({"epoch": 3, "step": 9, "loss": 1.0, "lr": 0.1, "seconds": 0.0}) + "\n{\"epoch\": 3, \"st")
    second, loader, val = make([StepLog(path)], seed=5)
    second.resume(tmp_path / "mid.npz")
    second.fit(loader, 4, val_loader=val)
    assert [r["step"] for r in records(path)] == list(range(1, 17))
    assert records(path) == [dict(r, seconds=s["seconds"]) for r, s in zip(records(tmp_path / "straight.jsonl"),
                                                                           records(path))]


def test_read_steps_skips_a_torn_last_line(tmp_path):
    path = tmp_path / "steps.jsonl"
    path.write_text('{"epoch": 1, "step": 1, "loss": 2.0, "lr": 0.1}\n{"epoch": 1, "st')
    assert read_steps(path) == [{"epoch": 1, "step": 1, "loss": 2.0, "lr": 0.1}]


# ---- TensorBoard ----------------------------------------------------------------------------------------------


def tensorboard_scalars(folder):
    """{tag: [(step, value)]} from the event files under ``folder`` (TFRecord framing, Event protos)."""
    from tensorboardX.proto import event_pb2

    scalars = {}
    for path in sorted(folder.rglob("events.out.tfevents.*")):
        data = path.read_bytes()
        at = 0
        while at < len(data):
            (length,) = struct.unpack("<Q", data[at:at + 8])
            event = event_pb2.Event.FromString(data[at + 12:at + 12 + length])
            at += 12 + length + 4
            for value in event.summary.value:
                scalars.setdefault(value.tag, []).append((event.step, value.simple_value))
    return scalars


def test_tensorboard_logger_writes_steps_and_epochs(tmp_path):
    trainer, loader, val = make([TensorBoardLogger(tmp_path / "tb")])
    trainer.fit(loader, 2, val_loader=val)
    scalars = tensorboard_scalars(tmp_path / "tb")
    assert [s for s, _ in scalars["train/loss"]] == list(range(1, 9))
    assert [s for s, _ in scalars["epoch/val_accuracy"]] == [1, 2]
    assert np.isclose(scalars["epoch/val_loss"][1][1], trainer.history[1]["val_loss"], rtol=1e-6)
    assert {"train/lr", "epoch/loss", "epoch/lr", "epoch/seconds"} <= set(scalars)


def test_cli_tensorboard_flag(tmp_path, monkeypatch, capsys):
    argv = ["train", "lenet5", "--dataset", "digits-mini", "--epochs", "1", "--batch-size", "64", "--val-size", "100",
            "--train-size", "128", "--no-progress", "--tensorboard", "--out", str(tmp_path / "a")]
    assert main(argv) == 0
    scalars = tensorboard_scalars(tmp_path / "a" / "tensorboard")
    assert len(scalars["train/loss"]) == 2 and len(scalars["epoch/val_accuracy"]) == 1
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # as if it were not installed
    assert main(argv[:-1] + [str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == "ember train: error: TensorBoard logging needs tensorboardX: pip install 'ember[tensorboard]'"


# ---- the run directory and curves.png -------------------------------------------------------------------------


def test_cli_run_writes_one_jsonl_line_per_step(tmp_path):
    argv = ["train", "lenet5", "--dataset", "digits-mini", "--epochs", "2", "--batch-size", "32", "--val-size", "100",
            "--train-size", "96", "--no-progress", "--out", str(tmp_path)]
    assert main(argv) == 0
    lines = records(tmp_path / "steps.jsonl")
    assert len(lines) == 2 * 3 and [r["epoch"] for r in lines] == [1, 1, 1, 2, 2, 2]
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"


@pytest.fixture
def figures(monkeypatch):
    """The matplotlib figures plot_history saves, captured on their way to disk."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    saved, real = [], Figure.savefig

    def savefig(self, *args, **kwargs):
        saved.append(self)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", savefig)
    return saved


HISTORY = [{"epoch": 1, "lr": 0.1, "loss": 1.0, "accuracy": 0.5, "val_loss": 0.9, "val_accuracy": 0.6},
           {"epoch": 2, "lr": 0.05, "loss": 0.6, "accuracy": 0.7, "val_loss": 0.7, "val_accuracy": 0.8},
           {"epoch": 3, "lr": 0.01, "loss": 0.4, "accuracy": 0.9, "val_loss": 0.8, "val_accuracy": 0.75}]


def test_curves_have_a_learning_rate_panel_and_the_best_epoch(figures, tmp_path):
    steps = [{"epoch": e, "step": 2 * (e - 1) + i, "loss": 1.0 / (e + i), "lr": 0.1 / (e + i)}
             for e in (1, 2, 3) for i in (1, 2)]
    plot_history(HISTORY, tmp_path / "curves.png", "run", steps=steps)
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"
    (fig,) = figures
    loss, accuracy, lr = fig.axes
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy", "learning rate"]
    (lr_line, *marks) = lr.get_lines()
    assert list(lr_line.get_ydata()) == [s["lr"] for s in steps]
    assert list(lr_line.get_xdata()) == [0.5, 1.0, 1.5, 2.0, 2.5, 3.0]  # steps placed within their epochs
    assert any(list(m.get_xdata()) == [2, 2] for m in marks)  # the best epoch's dashed line
    labels = [line.get_label() for line in accuracy.get_lines()]
    assert "best: epoch 2 (val_accuracy 0.8)" in labels


def test_curves_without_steps_plot_the_lr_per_epoch(figures, tmp_path):
    plot_history(HISTORY, tmp_path / "curves.png")
    lr = figures[0].axes[2]
    assert list(lr.get_lines()[0].get_ydata()) == [0.1, 0.05, 0.01]


def test_curves_of_a_language_model_show_perplexity(figures, tmp_path):
    history = [{"epoch": e, "lr": 0.01, "loss": 2.0 / e, "perplexity": 9.0 / e, "val_perplexity": v,
                "val_accuracy": a} for e, v, a in ((1, 5.0, 0.3), (2, 4.0, 0.2), (3, 4.5, 0.4))]
    plot_history(history, tmp_path / "curves.png")
    assert figures[0].axes[1].get_title() == "perplexity"
    assert best_epoch(history) == (2, "val_perplexity", 4.0)  # perplexity decides, not the char accuracy


def test_curves_of_a_run_stopped_in_its_first_epoch(figures, tmp_path):
    plot_history([], tmp_path / "curves.png", steps=[{"epoch": 1, "step": 1, "loss": 2.0, "lr": 0.1}])
    assert (tmp_path / "curves.png").exists() and best_epoch([]) is None
