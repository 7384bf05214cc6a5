"""The Trainer: epochs over a DataLoader, with the train / validation / test discipline built in.

    trainer = Trainer(model, optimizer, scheduler=scheduler, callbacks=[EarlyStopping("val_accuracy")])
    history = trainer.fit(train_loader, epochs=5, val_loader=val_loader)   # learns, picks, stops
    trainer.evaluate(test_loader)                                            # the only look at the test set

Each training step is the CS231n loop: forward, loss, zero the gradients, backward, (clip), update.
``fit`` switches the model to training mode for the epoch and to evaluation mode for validation (dropout
off, batch norm on running statistics). A progress bar (tqdm, if installed) shows the running loss,
accuracy, throughput and ETA; ``history`` keeps one dict of metrics per epoch.

``state_dict()`` captures everything a run depends on — weights, optimizer and scheduler state, the
epoch, the history, the callbacks' state, and every random generator (the model's, for dropout, and the
training loader's, for shuffling and augmentation) — so that a run resumed from a checkpoint continues
bit for bit like one that never stopped.
"""

import sys
import time

from .. import backend
from ..autograd.grad_mode import no_grad
from ..nn.loss import CrossEntropyLoss
from ..nn.utils import clip_grad_norm_
from . import checkpoint
from .metrics import Meter

try:
    from tqdm.auto import tqdm
except ImportError:  # the progress bar is optional
    tqdm = None


class Trainer:
    """Fits ``model`` with ``optimizer`` on a loss (cross-entropy by default).

    ``scheduler`` steps once per epoch (``scheduler_interval='epoch'``) or once per batch ('step', for
    OneCycleLR); a ReduceLROnPlateau scheduler is stepped with ``plateau_monitor`` (a logged metric).
    ``config`` is any JSON-able dict saved in checkpoints (the CLI keeps the model name and data settings).
    """

    def __init__(self, model, optimizer, loss_fn=None, scheduler=None, scheduler_interval="epoch",
                 plateau_monitor="val_loss", callbacks=(), topk=(1,), clip_grad_norm=None, progress=True,
                 config=None, log=None):
        if scheduler_interval not in ("epoch", "step"):
            raise ValueError(f"scheduler_interval must be 'epoch' or 'step', got '{scheduler_interval}'")
        self.model, self.optimizer = model, optimizer
        self.loss_fn = loss_fn if loss_fn is not None else CrossEntropyLoss()
        self.scheduler, self.scheduler_interval, self.plateau_monitor = scheduler, scheduler_interval, plateau_monitor
        self.callbacks = sorted(callbacks, key=lambda c: c.order)
        self.topk, self.clip_grad_norm, self.progress = tuple(topk), clip_grad_norm, progress
        self.config = dict(config or {})
        self.log = log if log is not None else (lambda message: print(message, file=sys.stderr))
        self.epoch = 0  # epochs completed
        self.history = []
        self.stop_training = False
        self._loader_state = None  # a training loader's RNG state waiting for fit() after a resume
        self._train_loader = None

    # ---- the loops ----------------------------------------------------------------------------------------

    def fit(self, train_loader, epochs, val_loader=None):
        """Train until ``epochs`` epochs are complete (counting those before a resume) or a callback stops."""
        self._train_loader = train_loader
        if self._loader_state is not None and hasattr(train_loader, "load_state_dict"):
            train_loader.load_state_dict(self._loader_state)
            self._loader_state = None
        self.stop_training = False
        for callback in self.callbacks:
            callback.on_fit_start(self)
        while self.epoch < epochs and not self.stop_training:
            logs = {"epoch": self.epoch + 1, "lr": self.optimizer.param_groups[0]["lr"]}
            logs.update(self.train_epoch(train_loader, f"epoch {self.epoch + 1}/{epochs}"))
            if val_loader is not None:
                logs.update(self.evaluate(val_loader, prefix="val_"))
            self._step_scheduler_after_epoch(logs)
            self.epoch += 1
            self.history.append(logs)
            self.log(_format_logs(logs))
            for callback in self.callbacks:
                callback.on_epoch_end(self, logs)
        for callback in self.callbacks:
            callback.on_fit_end(self)
        return self.history

    def train_epoch(self, loader, description="train"):
        """One pass over ``loader`` in training mode; returns loss, accuracy, seconds and images/s."""
        self.model.train()
        meter = Meter(self.topk)
        params = [p for group in self.optimizer.param_groups for p in group["params"]]
        bar = self._bar(loader, description)
        start = time.perf_counter()
        for x, y in bar:
            outputs = self.model(x)
            loss = self._loss(outputs, y)
            logits = outputs[0] if isinstance(outputs, tuple) else outputs
            self.optimizer.zero_grad()
            loss.backward()
            if self.clip_grad_norm is not None:
                clip_grad_norm_(params, self.clip_grad_norm)
            self.optimizer.step()
            if self.scheduler is not None and self.scheduler_interval == "step":
                self.scheduler.step()
            meter.update(loss.item(), logits.array, y)
            if bar is not loader:
                seconds = time.perf_counter() - start
                bar.set_postfix(loss=f"{meter.loss_sum / meter.count:.4f}",
                                acc=f"{meter.correct[1] / meter.count:.4f}" if 1 in meter.correct else None,
                                img_s=f"{meter.count / seconds:.0f}", refresh=False)
        seconds = time.perf_counter() - start
        result = meter.result()
        result.update(seconds=seconds, images_per_s=meter.count / seconds if seconds else float("nan"))
        return result

    def _loss(self, outputs, targets):
        """The training loss: the model's own ``loss(outputs, targets, loss_fn)`` when it has one (GoogLeNet
        adds its auxiliary classifiers' losses with weight 0.3), else ``loss_fn(outputs, targets)``."""
        model_loss = getattr(self.model, "loss", None)
        if callable(model_loss):
            return model_loss(outputs, targets, self.loss_fn)
        return self.loss_fn(outputs, targets)

    def evaluate(self, loader, prefix="", confusion=False, num_classes=None):
        """Loss and top-k accuracy over ``loader`` in evaluation mode, without building graphs.

        With ``confusion=True`` the result also holds the confusion matrix (rows: truth) under 'confusion'.
        The model's training/evaluation mode is restored afterwards.
        """
        was_training = self.model.training
        self.model.eval()
        meter = None
        with no_grad():
            for x, y in loader:
                logits = self.model(x)
                if meter is None:
                    classes = num_classes or (logits.shape[1] if confusion else None)
                    meter = Meter(self.topk, classes if confusion else None)
                meter.update(self.loss_fn(logits, y).item(), logits.array, y)
        self.model.train(was_training)
        if meter is None:
            raise ValueError("evaluate(): the loader gave no batches")
        result = meter.result(prefix)
        if confusion:
            result[f"{prefix}confusion"] = meter.confusion
        return result

    def _step_scheduler_after_epoch(self, logs):
        if self.scheduler is None or self.scheduler_interval != "epoch":
            return
        if type(self.scheduler).__name__ == "ReduceLROnPlateau":
            if self.plateau_monitor not in logs:
                raise KeyError(f"ReduceLROnPlateau monitors '{self.plateau_monitor}', which is not among the "
                               f"logged metrics {sorted(logs)}; pass a validation loader to fit()")
            self.scheduler.step(logs[self.plateau_monitor])
        else:
            self.scheduler.step()

    def _bar(self, loader, description):
        if not self.progress or tqdm is None:
            return loader
        return tqdm(loader, total=len(loader), desc=description, leave=False, dynamic_ncols=True, file=sys.stderr)

    # ---- state ---------------------------------------------------------------------------------------------

    def state_dict(self):
        """Everything needed to continue this run exactly (see the module docstring)."""
        loader = self._train_loader
        return {
            "epoch": self.epoch,
            "history": self.history,
            "config": self.config,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "callbacks": [c.state_dict() for c in self.callbacks],
            "rng": {
                "ember": backend.get_rng_state(),
                "train_loader": loader.state_dict() if hasattr(loader, "state_dict") else self._loader_state,
            },
        }

    def load_state_dict(self, state):
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state.get("scheduler") is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        for callback, callback_state in zip(self.callbacks, state.get("callbacks", [])):
            callback.load_state_dict(callback_state)
        self.epoch, self.history = state["epoch"], list(state["history"])
        self.config.update(state.get("config") or {})
        backend.set_rng_state(state["rng"]["ember"])
        self._loader_state = state["rng"].get("train_loader")

    def save_checkpoint(self, path):
        """Write the training state to ``path`` (an .npz holding arrays + JSON, written atomically)."""
        checkpoint.save(path, self.state_dict())

    def resume(self, path):
        """Load a checkpoint written by ``save_checkpoint``; the next ``fit`` continues that run."""
        self.load_state_dict(checkpoint.load(path))
        return self


def _format_logs(logs):
    parts = [f"epoch {logs['epoch']}"]
    for key, value in logs.items():
        if key == "epoch" or not isinstance(value, (int, float)):
            continue
        if key == "seconds":
            parts.append(f"{value:.1f} s")
        elif key == "images_per_s":
            parts.append(f"{value:.0f} img/s")
        elif key == "lr":
            parts.append(f"lr {value:.3g}")
        else:
            parts.append(f"{key} {value:.4f}")
    return ", ".join(parts)
