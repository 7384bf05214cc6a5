"""A run directory: what ``ember train`` leaves behind, and the record it keeps however the run ends.

    runs/lenet5-mnist/
        last.npz, best.npz, epoch-N.npz    checkpoints (ModelCheckpoint)
        steps.jsonl                        one JSON line per training step: epoch, step, loss, lr, seconds
        metrics.json                       the config, the history per epoch, the test metrics, how it ended
        curves.png                         loss, accuracy (or perplexity), learning rate; the best epoch marked
        tensorboard/                       event files, with --tensorboard (needs tensorboardX)

A run stopped by Ctrl-C or a non-finite loss still writes metrics.json (with ``"stopped"`` saying why and
where) and curves.png from the epochs it finished, and keeps the last good checkpoint.
"""

import json
import os
import time

from ..serialization import remove_stray_temporaries, write_atomically
from ..train import NonFiniteLossError, StepLog, TensorBoardLogger
from ..train.loggers import read_steps
from .usage import UsageError


class RunDirectory:
    """The folder ``path`` of one training run (created here, with a one-line error if it cannot be)."""

    def __init__(self, path, writes=True):
        self.path, self.writes = str(path), writes
        if not writes:  # a data-parallel rank other than 0: it trains, rank 0 writes (see data_parallel.py)
            return
        try:  # (os.access says yes to root on a read-only mount: only a real write tells)
            os.makedirs(self.path, exist_ok=True)
            probe = self.file(".ember-write-test")
            write_atomically(probe, lambda f: f.write(b"ok"))
            os.remove(probe)
        except OSError as error:
            reason = error.strerror or str(error)
            raise UsageError(f"cannot write in the output folder --out {self.path} ({reason}); choose another "
                             "with --out DIR") from error
        remove_stray_temporaries(self.path)  # what saves killed mid-write left behind

    def file(self, name):
        return os.path.join(self.path, name)

    def loggers(self, tensorboard=False):
        """The per-step JSONL log, and TensorBoard event files when asked for."""
        if not self.writes:
            return []
        callbacks = [StepLog(self.file("steps.jsonl"))]
        if tensorboard:
            try:
                callbacks.append(TensorBoardLogger(self.file("tensorboard")))
            except ImportError as error:
                raise UsageError(str(error)) from error
        return callbacks

    def fit(self, trainer, train_loader, epochs, val_loader, record, title):
        """``trainer.fit(...)``; on Ctrl-C or a non-finite loss, write the record (metrics.json, curves.png)
        of what was done, say so, and re-raise. Returns the seconds the fit took."""
        start = time.perf_counter()
        try:
            trainer.fit(train_loader, epochs, val_loader=val_loader)
        except (KeyboardInterrupt, NonFiniteLossError) as error:
            why = "interrupted (Ctrl-C)" if isinstance(error, KeyboardInterrupt) else str(error)
            record = dict(record, history=trainer.history, fit_seconds=time.perf_counter() - start,
                          stopped={"reason": why, "epochs_completed": trainer.epoch, "step": trainer.step})
            self.write(record, title, trainer.log)
            if isinstance(error, KeyboardInterrupt):
                resume = f"; continue with --resume {self.file('last.npz')}" if trainer.epoch else ""
                trainer.log(f"interrupted during epoch {trainer.epoch + 1}: wrote metrics.json and curves.png "
                            f"({trainer.epoch} epoch{'s' if trainer.epoch != 1 else ''} complete){resume}")
            raise
        except OSError as error:  # a full disk or a folder made read-only mid-run, while saving
            where = f" writing {error.filename}" if error.filename else ""
            raise UsageError(f"training stopped after epoch {trainer.epoch}{where}: {error.strerror or error}; "
                             f"free some space or choose another --out") from error
        return time.perf_counter() - start

    def write(self, record, title, log):
        """metrics.json (atomically) and curves.png (when matplotlib is installed)."""
        if not self.writes:
            return
        write_atomically(self.file("metrics.json"),
                         lambda f: f.write(json.dumps(record, indent=2, default=_plain).encode()))
        steps_path = self.file("steps.jsonl")
        steps = read_steps(steps_path) if os.path.exists(steps_path) else None
        try:
            from ..tools.plots import plot_history

            plot_history(record["history"], self.file("curves.png"), title, steps=steps)
        except ImportError as error:
            log(f"no plot: {error}")


def _plain(value):
    """JSON for the arrays in metrics (statistics, the confusion matrix): nested lists."""
    return value.tolist() if hasattr(value, "tolist") else str(value)
