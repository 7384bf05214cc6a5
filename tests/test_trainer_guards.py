"""The Trainer's guards: a non-finite loss stops training in one line and keeps the last good checkpoint;
an empty loader is an error; a Trainer without an optimizer evaluates but does not fit; schedulers are
stepped by what they are; Ctrl-C still writes the run's record and exits 130."""

import json

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember import optim
from ember.cli import main
from ember.data import DataLoader, TensorDataset
from ember.train import Callback, ModelCheckpoint, NonFiniteLossError, Trainer, checkpoint
from ember.train.loggers import StepLog


def blobs(n=192, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centers = rng.standard_normal((3, 1, 8, 8)).astype(np.float32)
    return centers[y] + rng.standard_normal((n, 1, 8, 8)).astype(np.float32), y.astype(np.int64)


def make(lr=0.05, callbacks=(), scheduler=None, n=192, **kwargs):
    ember.manual_seed(0)
    x, y = blobs(n)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 3))
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    sched = scheduler(opt) if scheduler else None
    trainer = Trainer(model, opt, scheduler=sched, callbacks=list(callbacks), progress=False, log=lambda m: None,
                      **kwargs)
    loader = DataLoader(TensorDataset(x[:160], y[:160]), batch_size=32, shuffle=True, generator=0)
    val = DataLoader(TensorDataset(x[160:], y[160:]), batch_size=32)
    return trainer, loader, val, x


def finite(state):
    return all(np.isfinite(np.asarray(v)).all() for v in state["model"].values())


def one_line(message):
    return "\n" not in message and "Traceback" not in message


# ---- non-finite losses -------------------------------------------------------------------------------------


def test_a_nan_pixel_stops_at_its_step_and_keeps_the_last_good_checkpoint(tmp_path):
    trainer, loader, val, x = make(callbacks=[ModelCheckpoint(tmp_path)])
    trainer.fit(loader, 2, val_loader=val)
    before = checkpoint.load(tmp_path / "last.npz")
    x[:160][7, 0, 3, 3] = np.nan  # the loader's dataset shares this array: one NaN pixel from epoch 3 on
    with pytest.raises(NonFiniteLossError) as info:
        trainer.fit(loader, 4, val_loader=val)
    message = str(info.value)
    assert isinstance(info.value, RuntimeError) and one_line(message)
    assert "the training loss became nan at epoch 3, step" in message and "lr 0.05" in message
    assert "lower the learning rate (--lr)" in message and "NaN" in message and "clip" in message
    assert "last checkpoint (epoch 2) is kept" in message
    after = checkpoint.load(tmp_path / "last.npz")
    assert after["epoch"] == 2 and finite(after)
    np.testing.assert_array_equal(after["model"]["1.weight"], before["model"]["1.weight"])
    assert trainer.epoch == 2 and len(trainer.history) == 2
    assert all(np.isfinite(p.array).all() for p in trainer.model.parameters())  # stopped before the update


def test_a_nan_pixel_in_the_first_epoch_saves_nothing(tmp_path):
    trainer, loader, val, x = make(callbacks=[ModelCheckpoint(tmp_path)])
    x[0, 0, 0, 0] = np.inf
    with pytest.raises(NonFiniteLossError, match=r"epoch 1, step \d+/5 .*nothing was saved"):
        trainer.fit(loader, 2, val_loader=val)
    assert not (tmp_path / "last.npz").exists()


def test_weights_that_overflow_at_the_last_step_are_never_saved(tmp_path):
    trainer, loader, val, _ = make(callbacks=[ModelCheckpoint(tmp_path)])
    real_step, calls = trainer.optimizer.step, []

    def step():
        real_step()
        calls.append(1)
        if len(calls) == 10:  # the last step of epoch 2: every loss it saw was finite
            trainer.model[1].weight.array[0, 0] = np.inf

    trainer.optimizer.step = step
    with pytest.raises(NonFiniteLossError, match=r"parameter '1.weight' holds NaN/inf after epoch 2") as info:
        trainer.fit(loader, 3, val_loader=val)
    assert one_line(str(info.value))
    last = checkpoint.load(tmp_path / "last.npz")
    assert last["epoch"] == 1 and finite(last)


def test_a_nan_in_the_validation_set_is_loud():
    trainer, loader, val, x = make()
    x[170, 0, 0, 0] = np.nan
    with pytest.raises(NonFiniteLossError, match="validation loss became nan after epoch 1"):
        trainer.fit(loader, 2, val_loader=val)


def test_cli_lr_10_stops_in_one_line_and_last_npz_stays_finite(tmp_path, capsys):
    argv = ["train", "lenet5", "--dataset", "digits-mini", "--epochs", "8", "--batch-size", "32", "--val-size",
            "100", "--train-size", "64", "--lr", "10", "--scheduler", "none", "--no-progress", "--out", str(tmp_path)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3  # epoch 1, epoch 2 and the error itself: no NumPy overflow warnings
    assert err[-1].startswith("ember train: error: the training loss became nan at epoch 3, step 2/2 (lr 10)")
    assert "--lr" in err[-1]
    last = checkpoint.load(tmp_path / "last.npz")
    assert last["epoch"] == 2 and finite(last)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["stopped"]["epochs_completed"] == 2 and "nan" in metrics["stopped"]["reason"]
    assert len(metrics["history"]) == 2 and (tmp_path / "curves.png").exists()


# ---- empty loaders, missing optimizers, bad arguments ---------------------------------------------------------


def test_an_empty_training_loader_is_an_error_not_a_history_of_nan():
    trainer, _, val, _ = make()
    empty = DataLoader(TensorDataset(np.zeros((0, 1, 8, 8), np.float32), np.zeros(0, np.int64)), batch_size=4)
    with pytest.raises(ValueError, match="training loader gives no batches"):
        trainer.fit(empty, 1, val_loader=val)
    assert trainer.history == []


def test_an_empty_validation_loader_is_an_error():
    trainer, loader, _, _ = make()
    empty = DataLoader(TensorDataset(np.zeros((0, 1, 8, 8), np.float32), np.zeros(0, np.int64)), batch_size=4)
    with pytest.raises(ValueError, match="validation loader gives no batches"):
        trainer.fit(loader, 1, val_loader=empty)
    with pytest.raises(ValueError, match="test loader gave no batches"):
        trainer.evaluate(iter([]), prefix="test_")


def test_a_loader_without_a_length_that_yields_nothing_is_an_error():
    trainer, _, _, _ = make()

    class Nothing:
        def __iter__(self):
            return iter(())

    with pytest.raises(ValueError, match="training loader gave no batches"):
        trainer.fit(Nothing(), 1)


def test_evaluate_needs_no_optimizer_and_fit_says_it_does():
    trainer, loader, val, _ = make()
    trainer.fit(loader, 1)
    evaluator = Trainer(trainer.model, progress=False)
    assert evaluator.evaluate(val) == trainer.evaluate(val)
    with pytest.raises(RuntimeError, match=r"no optimizer .*Trainer\(model, optimizer\)"):
        evaluator.fit(loader, 1)
    with pytest.raises(RuntimeError, match="no optimizer"):
        evaluator.train_epoch(loader)
    assert evaluator.state_dict()["optimizer"] is None


@pytest.mark.parametrize("kwargs, message", [
    ({"clip_grad_norm": -1.0}, "clip_grad_norm must be a positive number"),
    ({"clip_grad_norm": 0}, "clip_grad_norm must be a positive number"),
    ({"scheduler_interval": "batch"}, "scheduler_interval must be 'auto', 'epoch' or 'step', got 'batch'"),
])
def test_bad_trainer_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Trainer(nn.Linear(2, 2), optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1), **kwargs)


def test_swapped_or_wrong_arguments_are_named():
    model = nn.Linear(2, 2)
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match="model should be an ember.nn.Module, got SGD"):
        Trainer(opt, model)
    with pytest.raises(TypeError, match="optimizer should be an ember.optim optimizer .*got str"):
        Trainer(model, "sgd")
    trainer, loader, _, _ = make()
    for epochs in (-1, 2.5, "3"):
        with pytest.raises(ValueError, match="epochs is the total number of epochs"):
            trainer.fit(loader, epochs)


def test_a_scheduler_without_an_optimizer_is_refused():
    opt = optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1)
    with pytest.raises(ValueError, match="scheduler was given without an optimizer"):
        Trainer(nn.Linear(2, 2), None, scheduler=optim.lr_scheduler.StepLR(opt, 1))


# ---- schedulers stepped by what they are ----------------------------------------------------------------------


class MyPlateau(optim.lr_scheduler.ReduceLROnPlateau):
    def __init__(self, optimizer):
        super().__init__(optimizer, patience=0)
        self.seen = []

    def step(self, metrics, epoch=None):
        self.seen.append(metrics)
        super().step(metrics)


def test_a_plateau_subclass_is_stepped_with_the_monitored_metric():
    trainer, loader, val, _ = make(scheduler=MyPlateau)
    trainer.fit(loader, 3, val_loader=val)
    assert trainer.scheduler.seen == [h["val_loss"] for h in trainer.history]


def test_a_class_merely_named_like_plateau_is_stepped_per_epoch_without_a_metric():
    class ReduceLROnPlateau(optim.lr_scheduler.StepLR):  # the name alone must not decide
        def step(self, *args):
            assert args == ()
            super().step()

    trainer, loader, val, _ = make(scheduler=lambda opt: ReduceLROnPlateau(opt, step_size=1, gamma=0.5))
    trainer.fit(loader, 3, val_loader=val)
    assert [h["lr"] for h in trainer.history] == [0.05, 0.025, 0.0125]


def test_one_cycle_is_stepped_per_batch_by_default():
    steps = 3 * 5
    trainer, loader, val, _ = make(scheduler=lambda opt: optim.lr_scheduler.OneCycleLR(opt, 0.1, total_steps=steps))
    assert trainer.scheduler_interval == "auto"
    trainer.fit(loader, 3)  # one more step would raise "Tried to step ... times"
    assert trainer.scheduler.last_epoch == steps and trainer.step == steps


# ---- Ctrl-C ------------------------------------------------------------------------------------------------


class Interrupt(Callback):
    def __init__(self, at_step):
        self.at_step = at_step

    def on_batch_end(self, trainer, logs):
        if logs["step"] == self.at_step:
            raise KeyboardInterrupt


def test_ctrl_c_in_fit_still_runs_on_fit_end(tmp_path):
    log = StepLog(tmp_path / "steps.jsonl")
    trainer, loader, _, _ = make(callbacks=[Interrupt(7), log])
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(loader, 3)
    # Flushed on the way out: six steps (the interrupting callback runs before the log, order 0 < 200).
    assert len((tmp_path / "steps.jsonl").read_text().splitlines()) == 6
    assert trainer.epoch == 1 and trainer.step == 7


def test_cli_ctrl_c_writes_the_record_and_exits_130(tmp_path, monkeypatch, capsys):
    real = StepLog.on_batch_end

    def interrupted(self, trainer, logs):
        real(self, trainer, logs)
        if logs["step"] == 6:  # epoch 2 of 4-step epochs
            raise KeyboardInterrupt

    monkeypatch.setattr(StepLog, "on_batch_end", interrupted)
    argv = ["train", "lenet5", "--dataset", "digits-mini", "--epochs", "3", "--batch-size", "32", "--val-size", "100",
            "--train-size", "128", "--no-progress", "--out", str(tmp_path)]
    assert main(argv) == 130
    err = capsys.readouterr().err
    assert "interrupted during epoch 2" in err and f"--resume {tmp_path / 'last.npz'}" in err
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["stopped"] == {"reason": "interrupted (Ctrl-C)", "epochs_completed": 1, "step": 6}
    assert [h["epoch"] for h in metrics["history"]] == [1] and metrics["config"]["model"] == "lenet5"
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"
    assert len((tmp_path / "steps.jsonl").read_text().splitlines()) == 6
    assert checkpoint.load(tmp_path / "last.npz")["epoch"] == 1


def test_cli_a_full_disk_mid_run_is_one_line(tmp_path, monkeypatch, capsys):
    import errno

    from ember.train import callbacks

    def full(path, tree):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(callbacks.checkpoint, "save", full)
    monkeypatch.setattr(Trainer, "save_checkpoint", lambda self, path: full(path, None))
    argv = ["train", "lenet5", "--dataset", "digits-mini", "--epochs", "1", "--batch-size", "64", "--val-size", "100",
            "--train-size", "64", "--no-progress", "--out", str(tmp_path)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("ember train: error: training stopped after epoch 1 writing ")
    assert "No space left on device" in err and "--out" in err
