"""What ``ember search`` does: each trial is a short ``ember train`` — the same data splits, model,
optimizer, schedule and Trainer (recipes.py) — judged on its validation split; ember.tools.search draws
the trials, keeps the CSV and draws the scatter plot.

Every trial starts from the same seed: the same initial weights, the same validation split and the same
order of minibatches, so two trials differ only in their hyper-parameters (not in their luck).
"""

import math
import os

from .. import backend, models
from ..tools import search as S
from ..train import NonFiniteLossError, Trainer
from .flags import RULES, check_options, flag_name
from .recipes import DEFAULTS, _data_info, image_loaders, image_model, image_splits
from .usage import UsageError

#: The ranges searched unless the command line gives others (momentum and dropout: only when asked for).
DEFAULT_RANGES = {"lr": "1e-4:1:log", "weight_decay": "1e-6:1e-2:log"}
MOMENTUM_OPTIMIZERS = ("sgd", "rmsprop")


def parse_range(name, text):
    """A command-line range, checked end by end against the flag's own rule (ember train's limits)."""
    rng = S.parse_range(name, text)
    for end in (rng.low, rng.high):
        problem = RULES[name].problem(end)
        if problem is not None:
            raise S.SearchError(f"{flag_name(name)} {text}: each end must be {problem}")
    return rng


def models_with_dropout():
    return [name for name in models.list() if "dropout" in models.signature(name)]


class ImageTrial:
    """The objective: ``trial(params)`` trains ``model`` on ``dataset`` for ``epochs`` epochs with the
    hyper-parameters ``params`` and returns its last epoch's validation metrics. The training data (and
    its standardisation) is loaded once; the test set never."""

    def __init__(self, model, dataset="mnist", epochs=1, subset=None, batch_size=None, optimizer=None,
                 scheduler=None, seed=None, val_size=None, root=None, augment=False):
        given = dict(model=model, dataset=dataset, epochs=epochs, train_size=subset, batch_size=batch_size,
                     optimizer=optimizer, scheduler=scheduler, seed=seed, val_size=val_size, root=root,
                     augment=augment)
        check_options(given)
        self.config = dict(DEFAULTS)
        self.config.update({k: v for k, v in given.items() if v is not None})
        _data_info(self.config["dataset"])  # an unknown dataset: one line, before anything loads
        try:  # an unknown model: one line with the close names, before anything loads
            self.has_dropout = "dropout" in models.signature(model)
        except KeyError as error:
            raise UsageError(error.args[0]) from error
        self.data = None  # the training split, its validation split and standardisation: load()

    def check(self, ranges):
        """Refuse, in one line, a hyper-parameter this model or optimizer does not have."""
        searched = {r.name for r in ranges}
        if "dropout" in searched and not self.has_dropout:
            raise UsageError(f"--dropout: {self.config['model']} has no dropout layer to tune; models that have "
                             f"one: {', '.join(models_with_dropout())}")
        if "momentum" in searched and self.config["optimizer"] not in MOMENTUM_OPTIMIZERS:
            raise UsageError(f"--momentum applies to --optimizer {' or '.join(MOMENTUM_OPTIMIZERS)}, not "
                             f"{self.config['optimizer']} (Adam's β1 plays its part)")

    def load(self):
        """Load the training data (once; the first trial would otherwise)."""
        if self.data is None:
            self.data = image_splits(self.config, self.config["val_size"], size_flag="--subset")
        return self

    def __call__(self, params):
        self.load()
        config = dict(self.config, **{k: v for k, v in params.items() if k != "dropout"})
        _, train_set, val_set, standardize = self.data
        backend.manual_seed(config["seed"])  # the same initial weights (and dropout masks) in every trial
        train_loader, val_loader = image_loaders(config, train_set, val_set, standardize)
        extra = {"dropout": params["dropout"]} if "dropout" in params else {}
        model, optimizer, scheduler, _ = image_model(config, len(train_loader), **extra)
        trainer = Trainer(model, optimizer, scheduler=scheduler, progress=False, log=lambda message: None)
        try:
            trainer.fit(train_loader, int(config["epochs"]), val_loader=val_loader)
        except NonFiniteLossError:  # the learning rate is too high: a result of the search, not a failure
            return {"val_accuracy": math.nan, "val_loss": math.nan, "epochs": trainer.epoch, "status": "diverged"}
        last = trainer.history[-1]
        return {"val_accuracy": last["val_accuracy"], "val_loss": last["val_loss"], "train_loss": last["loss"],
                "train_accuracy": last["accuracy"], "epochs": trainer.epoch, "status": "ok"}


def run_search(model, dataset="mnist", ranges=None, trials=8, fine_trials=None, grid=False, grid_points=3,
               epochs=1, subset=None, batch_size=None, optimizer=None, scheduler=None, seed=None, val_size=None,
               root=None, out=None, fresh=False, log=print):
    """``ember search``: returns a dict of the rows, the best row, the ranges, and the CSV's and plot's paths."""
    trial = ImageTrial(model, dataset, epochs, subset, batch_size, optimizer, scheduler, seed, val_size, root)
    ranges = dict(DEFAULT_RANGES, **(ranges or {}))
    ranges = [r if isinstance(r, S.Range) else parse_range(name, r) for name, r in ranges.items()]
    trial.check(ranges)
    if all(r.fixed for r in ranges):
        raise UsageError("nothing to search: every hyper-parameter is one value; give a range, e.g. --lr 1e-4:1:log")
    trial.load()  # a --subset too large for the dataset, or a missing download: refused before any file
    out = out or os.path.join("runs", f"search-{model}-{trial.config['dataset']}")
    os.makedirs(out, exist_ok=True)
    csv_path, png_path = os.path.join(out, "trials.csv"), os.path.join(out, "search.png")
    if fresh and os.path.exists(csv_path):
        os.remove(csv_path)
    rows = S.search(trial, ranges, trials=trials, fine_trials=fine_trials, grid=grid, grid_points=grid_points,
                    seed=trial.config["seed"], path=csv_path, log=log)
    best = S.best_row(rows)
    try:
        S.plot_search(rows, ranges, png_path, title=f"{model} on {trial.config['dataset']}")
    except ImportError as error:
        log(f"no plot: {error}")
        png_path = None
    return {"rows": rows, "best": best, "ranges": ranges, "csv": csv_path, "plot": png_path, "config": trial.config}


def train_command(result):
    """The ``ember train`` command that trains with the best trial's settings (the search's optimizer,
    schedule and batch size where they are not the defaults)."""
    best, config = result["best"], result["config"]
    parts = [f"ember train {config['model']} --dataset {config['dataset']}"]
    for key in ("optimizer", "scheduler", "batch_size"):
        if config[key] != DEFAULTS[key]:
            parts.append(f"{flag_name(key)} {config[key]}")
    for r in result["ranges"]:
        if r.name != "dropout":  # a model's dropout is an argument of its factory, not a train flag
            parts.append(f"{flag_name(r.name)} {float(best[r.name]):.3g}")
    return " ".join(parts)
