"""Logs of a run as people expect them: one JSON line per training step, and TensorBoard event files.

    trainer = Trainer(model, opt, callbacks=[StepLog("runs/x/steps.jsonl"), TensorBoardLogger("runs/x/tb")])

``StepLog`` writes ``{"epoch": 1, "step": 1, "loss": 2.31, "lr": 0.1, "seconds": 0.012}`` per step (JSON Lines:
``pandas.read_json(path, lines=True)`` reads it). Lines are kept in memory and appended once per epoch
(and when fit ends, however it ends), so logging costs one small dict per step, not a write. On a resume
the lines of epochs after the checkpoint's are dropped first, so the file holds each step once.

``TensorBoardLogger`` writes the same scalars, plus every number of the epoch logs, as TensorBoard event
files through tensorboardX (``pip install 'ember[tensorboard]'``): ``tensorboard --logdir runs``.
"""

import json
import os

from ..serialization import write_atomically
from .callbacks import Callback


class StepLog(Callback):
    """Append one JSON object per training step to ``path`` (see the module docstring)."""

    order = 200  # after the checkpoints; stateless, so adding it to a resumed run moves no one's state

    def __init__(self, path):
        self.path = str(path)
        self._lines = []

    def on_fit_start(self, trainer):
        # A fresh run starts the file; a resumed one keeps the steps of the epochs its checkpoint holds.
        kept = []
        if trainer.epoch > 0 and os.path.exists(self.path):
            with open(self.path, encoding="utf-8") as f:
                kept = [line for line in f if line.strip() and _epoch_of(line) <= trainer.epoch]
        write_atomically(self.path, lambda f: f.write("".join(kept).encode()))
        self._lines = []

    def on_batch_end(self, trainer, logs):
        self._lines.append(json.dumps(logs))

    def on_epoch_end(self, trainer, logs):
        self.flush()

    def on_fit_end(self, trainer):
        self.flush()

    def flush(self):
        """Append the lines gathered since the last flush."""
        if self._lines:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write("\n".join(self._lines) + "\n")
            self._lines = []


def _epoch_of(line):
    try:
        return int(json.loads(line)["epoch"])
    except (ValueError, KeyError, TypeError):  # a line cut short by a crash: drop it
        return 1 << 62


def read_steps(path):
    """The step records of a StepLog file, as a list of dicts (an unfinished last line is skipped)."""
    records = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
    return records


class TensorBoardLogger(Callback):
    """Scalars for TensorBoard under ``log_dir``: 'train/loss' and 'train/lr' per step, and every number of
    the epoch logs ('epoch/val_accuracy', ...) per epoch. Needs tensorboardX (the ``tensorboard`` extra)."""

    order = 200

    def __init__(self, log_dir):
        try:
            from tensorboardX import SummaryWriter
        except ImportError as error:
            raise ImportError("TensorBoard logging needs tensorboardX: pip install 'ember[tensorboard]'") from error
        self.log_dir = str(log_dir)
        self._writer_class = SummaryWriter
        self.writer = None

    def on_fit_start(self, trainer):
        if self.writer is None:
            # purge_step: a resumed run hides the events of steps after its checkpoint, as the JSONL log does.
            self.writer = self._writer_class(self.log_dir, purge_step=trainer.step + 1 if trainer.step else None)

    def on_batch_end(self, trainer, logs):
        self.writer.add_scalar("train/loss", logs["loss"], logs["step"])
        self.writer.add_scalar("train/lr", logs["lr"], logs["step"])

    def on_epoch_end(self, trainer, logs):
        for key, value in logs.items():
            if key != "epoch" and isinstance(value, (int, float)) and not isinstance(value, bool):
                self.writer.add_scalar(f"epoch/{key}", value, logs["epoch"])
        self.writer.flush()

    def on_fit_end(self, trainer):
        if self.writer is not None:
            self.writer.close()
            self.writer = None
