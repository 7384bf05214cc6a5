"""Callbacks: small objects the Trainer calls at the edges of training (Keras' idea, PyTorch names).

    on_fit_start(trainer)            before the first epoch of fit()
    on_batch_end(trainer, logs)      after every optimizer step; logs holds 'epoch', 'step' (counted over
                                     the whole run), 'loss', 'lr' (the one the step used), 'seconds'
    on_epoch_end(trainer, logs)      after an epoch, its validation and the scheduler step; logs holds
                                     'epoch', 'loss', 'accuracy', 'val_loss', 'val_accuracy', 'lr', ...
    on_fit_end(trainer)              when fit() ends: after the last epoch, or on its way out of an
                                     exception (Ctrl-C, a non-finite loss), so logs get flushed

A callback stops training by setting ``trainer.stop_training = True``. Callbacks run in the order of
their ``order`` attribute (then as given): checkpoints run last, so they save the others' updated state.
"""

import math
import os

from . import checkpoint


class Callback:
    order = 0

    def on_fit_start(self, trainer):
        pass

    def on_batch_end(self, trainer, logs):
        pass

    def on_epoch_end(self, trainer, logs):
        pass

    def on_fit_end(self, trainer):
        pass

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        pass


def _improved(value, best, mode, min_delta):
    if best is None or math.isnan(best):
        return not math.isnan(value)
    return value < best - min_delta if mode == "min" else value > best + min_delta


def _mode_for(monitor, mode):
    if mode == "auto":  # losses and perplexities fall as a model improves, accuracies rise
        return "min" if "loss" in monitor or "perplexity" in monitor else "max"
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min', 'max' or 'auto', got '{mode}'")
    return mode


class EarlyStopping(Callback):
    """Stop when ``monitor`` (a validation metric) has not improved by ``min_delta`` for ``patience`` epochs."""

    def __init__(self, monitor="val_loss", patience=5, min_delta=0.0, mode="auto"):
        self.monitor, self.patience, self.min_delta = monitor, patience, min_delta
        self.mode = _mode_for(monitor, mode)
        self.best, self.wait, self.stopped_epoch = None, 0, None

    def on_epoch_end(self, trainer, logs):
        if self.monitor not in logs:
            raise KeyError(f"EarlyStopping: '{self.monitor}' is not among the logged metrics {sorted(logs)}; "
                           "pass a validation loader to fit() to get val_ metrics")
        if _improved(logs[self.monitor], self.best, self.mode, self.min_delta):
            self.best, self.wait = logs[self.monitor], 0
        else:
            self.wait += 1
            if self.wait >= self.patience:
                trainer.stop_training = True
                self.stopped_epoch = logs["epoch"]

    def state_dict(self):
        return {"best": self.best, "wait": self.wait}

    def load_state_dict(self, state):
        self.best, self.wait = state["best"], state["wait"]


class ModelCheckpoint(Callback):
    """Save the whole training state: ``last.npz`` after every ``every`` epochs (and ``epoch-N.npz`` when
    ``keep_all``), and ``best.npz`` whenever ``monitor`` improves. Files are written atomically."""

    order = 100

    def __init__(self, directory, every=1, monitor="val_accuracy", mode="auto", save_best=True, keep_all=False):
        self.directory, self.every, self.monitor = directory, every, monitor
        self.mode, self.save_best, self.keep_all = _mode_for(monitor, mode), save_best, keep_all
        self.best = None

    def on_epoch_end(self, trainer, logs):
        epoch = logs["epoch"]
        if self.save_best and self.monitor in logs and _improved(logs[self.monitor], self.best, self.mode, 0.0):
            self.best = logs[self.monitor]
            trainer.save_checkpoint(os.path.join(self.directory, "best.npz"))
        if epoch % self.every == 0:
            state = trainer.state_dict()
            checkpoint.save(os.path.join(self.directory, "last.npz"), state)
            if self.keep_all:
                checkpoint.save(os.path.join(self.directory, f"epoch-{epoch}.npz"), state)

    def state_dict(self):
        return {"best": self.best}

    def load_state_dict(self, state):
        self.best = state["best"]
