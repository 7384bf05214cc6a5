"""The Trainer: epochs over a DataLoader, with the train / validation / test discipline built in.

    trainer = Trainer(model, optimizer, scheduler=scheduler, callbacks=[EarlyStopping("val_accuracy")])
    history = trainer.fit(train_loader, epochs=5, val_loader=val_loader)   # learns, picks, stops
    trainer.evaluate(test_loader)                                            # the only look at the test set

Each training step is the CS231n loop: forward, loss, zero the gradients, backward, (clip), update.
``fit`` switches the model to training mode for the epoch and to evaluation mode for validation (dropout
off, batch norm on running statistics). A progress bar (tqdm, if installed) shows the running loss,
accuracy, throughput and ETA; ``history`` keeps one dict of metrics per epoch, and callbacks see every
step (``on_batch_end``: the per-step JSONL log, TensorBoard).

The same loop trains recurrent models (``recurrent=True``, e.g. the character language model): the
hidden state is carried between sequential minibatches and detached (truncated BPTT, see sequence.py),
metrics are per token, and the loss's exponential is reported as the perplexity.

Guards (guards.py): a NaN or infinite loss stops training at once with ``NonFiniteLossError`` (one line:
epoch, step, learning rate, what to try) before it reaches the weights or a checkpoint; an empty loader
is a ValueError. A Trainer built without an optimizer can evaluate, not fit.

Data-parallel training (one process per share of the data, ember.distributed): give the Trainer a
``DistributedDataParallel`` model and loaders that hold this process's share (a ``DistributedSampler``,
whose ``set_epoch`` the Trainer calls each epoch); the metrics are then summed over the processes, and
checkpoints hold the unwrapped model, so a run resumes with any number of processes.

``state_dict()`` captures everything a run depends on — weights, optimizer and scheduler state, the
epoch, the history, the callbacks' state, and every random generator (the model's, for dropout, and the
training loader's, for shuffling and augmentation) — so that a run resumed from a checkpoint continues
bit for bit like one that never stopped.
"""

import math
import sys
import time

from .. import backend
from ..backend import host
from ..autograd.grad_mode import no_grad
from ..nn.loss import CrossEntropyLoss
from ..nn.module import Module
from ..nn.parallel import DistributedDataParallel
from ..nn.utils import clip_grad_norm_
from ..optim.lr_scheduler import CyclicLR, OneCycleLR, ReduceLROnPlateau
from ..optim.optimizer import Optimizer
from . import checkpoint
from .guards import check_batches, check_loss, check_parameters, check_validation_loss, quiet_overflow
from .metrics import Meter
from .sequence import RecurrentState

# Schedules that are defined per batch (torch steps them after every optimizer step); the rest per epoch.
PER_STEP_SCHEDULERS = (OneCycleLR, CyclicLR)

try:
    from tqdm.auto import tqdm
except ImportError:  # the progress bar is optional
    tqdm = None


class Trainer:
    """Fits ``model`` with ``optimizer`` on a loss (cross-entropy by default).

    ``scheduler`` is stepped by what it is: once per batch for the per-batch schedules (OneCycleLR,
    CyclicLR), once per epoch for the others, and a ReduceLROnPlateau (or subclass) with the logged metric
    ``plateau_monitor``; ``scheduler_interval='epoch'`` or ``'step'`` overrides the default ``'auto'``.
    ``clip_grad_norm`` (positive) rescales the gradients' total norm before each update.
    ``recurrent=True`` calls ``outputs, state = model(x, state)`` and carries the state (module docstring).
    ``config`` is any JSON-able dict saved in checkpoints (the CLI keeps the model name and data settings).
    ``optimizer=None`` gives a Trainer that only evaluates.
    ``train_loss(x, outputs, targets)``, when given, is the objective minimised in training instead of the
    plain loss (knowledge distillation's teacher term, an L1 penalty; see ember/app/transfer.py); the
    training metrics report it, while validation and test still report ``loss_fn`` alone.
    """

    def __init__(self, model, optimizer=None, loss_fn=None, scheduler=None, scheduler_interval="auto",
                 plateau_monitor="val_loss", callbacks=(), topk=(1,), clip_grad_norm=None, progress=True,
                 config=None, log=None, recurrent=False, train_loss=None):
        if not isinstance(model, Module):
            raise TypeError(f"Trainer: model should be an ember.nn.Module, got {type(model).__name__}; "
                            "call it as Trainer(model, optimizer)")
        if optimizer is not None and not isinstance(optimizer, Optimizer):
            raise TypeError(f"Trainer: optimizer should be an ember.optim optimizer (or None to only evaluate), got "
                            f"{type(optimizer).__name__}")
        if scheduler_interval not in ("auto", "epoch", "step"):
            raise ValueError(f"Trainer: scheduler_interval must be 'auto', 'epoch' or 'step', "
                             f"got {scheduler_interval!r}")
        if clip_grad_norm is not None and not (isinstance(clip_grad_norm, (int, float)) and clip_grad_norm > 0):
            raise ValueError(f"Trainer: clip_grad_norm must be a positive number (or None for no clipping), got "
                             f"{clip_grad_norm!r}; a negative bound would reverse the gradients")
        if scheduler is not None and optimizer is None:
            raise ValueError("Trainer: a scheduler was given without an optimizer; pass the optimizer it schedules")
        self.model, self.optimizer = model, optimizer
        self.loss_fn = loss_fn if loss_fn is not None else CrossEntropyLoss()
        self.scheduler, self.scheduler_interval, self.plateau_monitor = scheduler, scheduler_interval, plateau_monitor
        self.callbacks = sorted(callbacks, key=lambda c: c.order)
        self.topk, self.clip_grad_norm, self.progress = tuple(topk), clip_grad_norm, progress
        self.config = dict(config or {})
        self.log = log if log is not None else (lambda message: print(message, file=sys.stderr))
        self.recurrent = bool(recurrent)
        if train_loss is not None and not callable(train_loss):
            raise TypeError(f"Trainer: train_loss should be a function (x, outputs, targets) -> loss, got "
                            f"{type(train_loss).__name__}")
        self.train_loss = train_loss
        self.epoch = 0  # epochs completed
        self.step = 0  # optimizer steps taken, over every epoch
        self.history = []
        self.stop_training = False
        self._loader_state = None  # a training loader's RNG state waiting for fit() after a resume
        self._train_loader = None

    # ---- the loops ----------------------------------------------------------------------------------------

    def fit(self, train_loader, epochs, val_loader=None):
        """Train until ``epochs`` epochs are complete (counting those before a resume) or a callback stops.

        Raises NonFiniteLossError at the first NaN/inf loss (or weights after an epoch) and ValueError for an
        empty loader. Callbacks' ``on_fit_end`` runs however fit ends (a log is flushed even on Ctrl-C).
        """
        if self.optimizer is None:
            raise RuntimeError("Trainer.fit: this Trainer has no optimizer (built with optimizer=None, which can "
                               "only evaluate); pass one: Trainer(model, optimizer)")
        if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 0:
            raise ValueError(f"Trainer.fit: epochs is the total number of epochs (a whole number >= 0, counting "
                             f"those before a resume), got {epochs!r}")
        check_batches(train_loader, "training")
        if val_loader is not None:
            check_batches(val_loader, "validation")
        self._train_loader = train_loader
        if self._loader_state is not None and hasattr(train_loader, "load_state_dict"):
            train_loader.load_state_dict(self._loader_state)
            self._loader_state = None
        self.stop_training = False
        for callback in self.callbacks:
            callback.on_fit_start(self)
        try:
            # The guards report a loss that overflows, in one line; NumPy's warnings on the way would only
            # bury it under lines about matmul.
            with quiet_overflow():
                while self.epoch < epochs and not self.stop_training:
                    self._fit_epoch(train_loader, epochs, val_loader)
        finally:
            for callback in self.callbacks:
                callback.on_fit_end(self)
        return self.history

    def _fit_epoch(self, train_loader, epochs, val_loader):
        lr = self.optimizer.param_groups[0]["lr"]
        logs = {"epoch": self.epoch + 1, "lr": lr}
        logs.update(self.train_epoch(train_loader, f"epoch {self.epoch + 1}/{epochs}"))
        check_parameters(self.model, self.epoch + 1, lr)  # before any callback can save NaN weights
        if val_loader is not None:
            logs.update(self.evaluate(val_loader, prefix="val_"))
            check_validation_loss(logs["val_loss"], self.epoch + 1, lr)
        self._step_scheduler_after_epoch(logs)
        self.epoch += 1
        self.history.append(logs)
        self.log(_format_logs(logs))
        for callback in self.callbacks:
            callback.on_epoch_end(self, logs)

    def train_epoch(self, loader, description="train"):
        """One pass over ``loader`` in training mode; returns loss, accuracy, seconds and images/s (per token,
        with the perplexity and tokens/s, for a recurrent model)."""
        if self.optimizer is None:
            raise RuntimeError("Trainer.train_epoch: this Trainer has no optimizer (built with optimizer=None); "
                               "pass one: Trainer(model, optimizer)")
        self.model.train()
        sampler = getattr(loader, "sampler", None)
        if hasattr(sampler, "set_epoch"):  # DistributedSampler: this epoch's permutation
            sampler.set_epoch(self.epoch)
        meter = Meter(self.topk)
        params = [p for group in self.optimizer.param_groups for p in group["params"]]
        state = RecurrentState(loader) if self.recurrent else None
        steps = len(loader) if hasattr(loader, "__len__") else "?"
        per_step = self._scheduler_interval() == "step"
        bar = self._bar(loader, description)
        start = time.perf_counter()
        for batch, (x, y) in enumerate(bar, 1):
            step_start = time.perf_counter()
            lr = self.optimizer.param_groups[0]["lr"]
            outputs = state(self.model, x) if state is not None else self.model(x)
            loss = self._loss(outputs, y) if self.train_loss is None else self.train_loss(x, outputs, y)
            value = self._mean_over_processes(loss.item())
            check_loss(value, self.epoch + 1, batch, steps, lr)  # before the NaN reaches a weight
            self.optimizer.zero_grad()
            loss.backward()
            if self.clip_grad_norm is not None:
                clip_grad_norm_(params, self.clip_grad_norm)
            self.optimizer.step()
            if per_step:
                self.scheduler.step()
            self.step += 1
            meter.update(value, *self._flat(outputs, y))
            if self.callbacks:
                step_logs = {"epoch": self.epoch + 1, "step": self.step, "loss": value, "lr": lr,
                             "seconds": time.perf_counter() - step_start}
                for callback in self.callbacks:
                    callback.on_batch_end(self, step_logs)
            if bar is not loader:
                seconds = time.perf_counter() - start
                bar.set_postfix(loss=f"{meter.loss_sum / meter.count:.4f}",
                                acc=f"{meter.correct[1] / meter.count:.4f}" if 1 in meter.correct else None,
                                **{"tok_s" if self.recurrent else "img_s": f"{meter.count / seconds:.0f}"},
                                refresh=False)
        if meter.count == 0:
            raise ValueError("Trainer: the training loader gave no batches this epoch; give it at least one sample")
        self._sum_over_processes(meter)
        seconds = time.perf_counter() - start
        return self._result(meter, "", seconds)

    def _result(self, meter, prefix, seconds=None):
        result = meter.result(prefix)
        if self.recurrent:  # exp(mean cross-entropy per token), inf rather than OverflowError past e^709
            loss = result[f"{prefix}loss"]
            result[f"{prefix}perplexity"] = math.exp(loss) if loss < 709 else math.inf
        if seconds is not None:
            rate = meter.count / seconds if seconds else float("nan")
            result.update(seconds=seconds, **{"tokens_per_s" if self.recurrent else "images_per_s": rate})
        return result

    def _flat(self, outputs, targets):
        """(logits, targets) as arrays for the metrics: (N, C) and (N,); a sequence's tokens are its samples."""
        logits = outputs[0] if isinstance(outputs, tuple) else outputs
        logits, targets = logits.array, targets.array if hasattr(targets, "array") else targets
        if self.recurrent:
            return logits.reshape(-1, logits.shape[-1]), targets.reshape(-1)
        return logits, targets

    def _loss(self, outputs, targets):
        """The training loss: the model's own ``loss(outputs, targets, loss_fn)`` when it has one (GoogLeNet
        adds its auxiliary classifiers' losses with weight 0.3), else ``loss_fn(outputs, targets)``."""
        model_loss = getattr(self._module, "loss", None)
        if callable(model_loss):
            return model_loss(outputs, targets, self.loss_fn)
        if self.recurrent:  # (B, T, V) scores against (B, T) targets: every token is one sample
            return self.loss_fn(outputs.reshape(-1, outputs.shape[-1]), targets.reshape(-1))
        return self.loss_fn(outputs, targets)

    def evaluate(self, loader, prefix="", confusion=False, num_classes=None):
        """Loss and top-k accuracy over ``loader`` in evaluation mode, without building graphs (and the
        perplexity for a recurrent model, whose state is carried through the loader as in training).

        With ``confusion=True`` the result also holds the confusion matrix (rows: truth) under 'confusion'.
        The model's training/evaluation mode is restored afterwards. Needs no optimizer.
        """
        was_training = self.model.training
        model = self._module  # no collectives per batch: the processes' shares may differ by a batch
        if isinstance(self.model, DistributedDataParallel) and self.model.broadcast_buffers:
            self.model._sync_buffers()  # rank 0's running statistics everywhere, as its checkpoint has them
        self.model.eval()
        meter = None
        state = RecurrentState(loader) if self.recurrent else None
        try:
            with no_grad():
                for x, y in loader:
                    outputs = state(model, x) if state is not None else model(x)
                    loss = self._loss(outputs, y) if self.recurrent else self.loss_fn(outputs, y)
                    logits, targets = self._flat(outputs, y)
                    if meter is None:
                        classes = num_classes or (logits.shape[1] if confusion else None)
                        meter = Meter(self.topk, classes if confusion else None)
                    meter.update(loss.item(), logits, targets)
        finally:
            self.model.train(was_training)
        if meter is None:
            role = {"val_": "validation", "test_": "test"}.get(prefix, "evaluation")
            raise ValueError(f"Trainer.evaluate: the {role} loader gave no batches "
                             "(an empty dataset?); give it at least one sample")
        self._sum_over_processes(meter)
        result = self._result(meter, prefix)
        if confusion:
            result[f"{prefix}confusion"] = meter.confusion
        return result

    def _mean_over_processes(self, value):
        """The loss of the whole global batch (the mean of the processes' equal shares): what the step log
        shows, and a NaN on one process stops every process at the same step rather than leaving the others
        waiting for it."""
        group = self._replicas()
        if group is None:
            return value
        return float(group.all_reduce_array(host.array([value], dtype=host.float64))[0]) / group.size()

    def _sum_over_processes(self, meter):
        group = self._replicas()
        if group is not None:
            meter.sum_over(group)

    def _replicas(self):
        """The process group a DistributedDataParallel model trains over (None for one process)."""
        if isinstance(self.model, DistributedDataParallel) and self.model.process_group.size() > 1:
            return self.model.process_group
        return None

    @property
    def _module(self):
        """The model itself, without a DistributedDataParallel wrapper (what checkpoints hold)."""
        return self.model.module if isinstance(self.model, DistributedDataParallel) else self.model

    def _scheduler_interval(self):
        """'step' or 'epoch' for the scheduler (None without one): by what it is, unless set explicitly."""
        if self.scheduler is None:
            return None
        if self.scheduler_interval != "auto":
            return self.scheduler_interval
        return "step" if isinstance(self.scheduler, PER_STEP_SCHEDULERS) else "epoch"

    def _step_scheduler_after_epoch(self, logs):
        if self._scheduler_interval() != "epoch":
            return
        if isinstance(self.scheduler, ReduceLROnPlateau):
            if self.plateau_monitor not in logs:
                raise KeyError(f"ReduceLROnPlateau monitors '{self.plateau_monitor}', which is not among the "
                               f"logged metrics {sorted(logs)}; pass a validation loader to fit()")
            self.scheduler.step(logs[self.plateau_monitor])
        else:
            self.scheduler.step()

    def _bar(self, loader, description):
        if not self.progress or tqdm is None:
            return loader
        total = len(loader) if hasattr(loader, "__len__") else None
        return tqdm(loader, total=total, desc=description, leave=False, dynamic_ncols=True, file=sys.stderr)

    # ---- state ---------------------------------------------------------------------------------------------

    def state_dict(self):
        """Everything needed to continue this run exactly (see the module docstring)."""
        loader = self._train_loader
        return {
            "epoch": self.epoch,
            "step": self.step,
            "history": self.history,
            "config": self.config,
            "model": self._module.state_dict(),
            "optimizer": self.optimizer.state_dict() if self.optimizer is not None else None,
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "callbacks": [c.state_dict() for c in self.callbacks],
            "rng": {
                "ember": backend.get_rng_state(),
                "train_loader": loader.state_dict() if hasattr(loader, "state_dict") else self._loader_state,
            },
        }

    def load_state_dict(self, state):
        self._module.load_state_dict(state["model"])
        if self.optimizer is not None and state.get("optimizer") is not None:
            self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state.get("scheduler") is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        for callback, callback_state in zip(self.callbacks, state.get("callbacks", [])):
            callback.load_state_dict(callback_state)
        self.epoch, self.history = state["epoch"], list(state["history"])
        self.step = state.get("step", 0)
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
        elif key == "tokens_per_s":
            parts.append(f"{value:,.0f} tok/s")
        elif key == "lr":
            parts.append(f"lr {value:.3g}")
        else:
            parts.append(f"{key} {value:.4f}")
    return ", ".join(parts)
