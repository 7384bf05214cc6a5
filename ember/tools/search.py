"""Hyper-parameter search: random search on log scales, coarse to fine, and grid search to compare.

    from ember.tools.search import Range, search
    ranges = [Range("lr", 1e-4, 1, log=True), Range("weight_decay", 1e-6, 1e-2, log=True)]
    rows = search(objective, ranges, trials=8, fine_trials=4, path="runs/search/trials.csv")

``objective(params)`` trains with the hyper-parameters ``params`` (a dict, e.g. ``{'lr': 0.03,
'weight_decay': 2e-5}``) and returns its metrics, at least ``val_accuracy`` (``ember search`` trains each
trial with the Trainer, as ``ember train`` does, and returns its last epoch's validation metrics).

What the notes (CS231n, "hyper-parameter optimization") teach, as code:

- **Judge on validation data**, never the test set: the objective reports validation metrics only.
- **Search on a log scale** where a hyper-parameter acts multiplicatively (the learning rate, the
  weight decay): ``lr = 10 ** uniform(-4, 0)`` tries as many values between 1e-4 and 1e-3 as between 0.1
  and 1. A dropout probability acts additively: uniform on a linear scale.
- **Random search beats grid search** (Bergstra & Bengio, 2012): with the same number of trials, a grid
  tries only 3 values of each hyper-parameter (3 × 3 = 9 trials) where random search tries 9 different
  values of each — and usually only one or two hyper-parameters really matter.
- **Coarse to fine**: a first stage of short runs over wide ranges, then a second stage sampled from
  ranges narrowed around the best trial (a quarter of each range's width, on its own scale).

Each finished trial is appended to a CSV (rewritten atomically, one row per trial: stage, trial number,
every hyper-parameter, the metrics, seconds). Trials are drawn from a generator seeded with ``seed`` and
the stage, so running the same search again draws the same trials: those already in the CSV are skipped
(a search stopped by Ctrl-C resumes where it stopped), and a CSV from a different search is refused.
"""

import csv
import io
import itertools
import math
import os
import time
from dataclasses import dataclass

import numpy as np

from ..serialization import write_atomically
from .figure import save_figure

#: The fraction of each range's width (on its own scale) the fine stage searches, around the best trial.
NARROW = 0.25

#: Stage names, in order, and the number each one seeds its random draws with.
STAGES = {"coarse": 1, "fine": 2, "grid": 3}

METRICS = ("val_accuracy", "val_loss", "train_loss", "train_accuracy", "epochs", "seconds", "status")


class SearchError(ValueError):
    """A range that cannot be searched, or a CSV that belongs to another search (one line, for the CLI)."""


@dataclass(frozen=True)
class Range:
    """A hyper-parameter's search range [low, high], sampled uniformly on a log or a linear scale.
    ``low == high`` fixes the value (it is recorded with every trial, but not searched)."""

    name: str
    low: float
    high: float
    log: bool = False

    def __post_init__(self):
        flag = "--" + self.name.replace("_", "-")
        for end in (self.low, self.high):
            if not (isinstance(end, (int, float)) and math.isfinite(end)):
                raise SearchError(f"{flag} needs finite ends, got {self.low}:{self.high}")
        if self.low > self.high:
            raise SearchError(f"{flag} runs backwards ({self.low:g}:{self.high:g}); write LOW:HIGH, "
                              f"e.g. {self.high:g}:{self.low:g}")
        if self.log and self.low <= 0:
            raise SearchError(f"{flag} on a log scale needs positive ends, got {self.low:g}:{self.high:g}; "
                              f"start above 0 (e.g. 1e-6:{self.high:g}:log) or use a linear range")

    @property
    def fixed(self):
        return self.low == self.high

    def _to(self, value):  # onto the sampling scale: log10 for a log range
        return math.log10(value) if self.log else value

    def _from(self, u):
        return 10.0**u if self.log else u

    def sample(self, rng):
        """One value drawn uniformly on the range's scale (3 significant digits, kept inside the range)."""
        if self.fixed:
            return float(self.low)
        lo, hi = self._to(self.low), self._to(self.high)
        return self._round(self._from(lo + (hi - lo) * rng.random()))

    def grid(self, points):
        """``points`` values evenly spaced on the range's scale, both ends included."""
        if self.fixed:
            return [float(self.low)]
        lo, hi = self._to(self.low), self._to(self.high)
        return [self._round(self._from(u)) for u in np.linspace(lo, hi, points)]

    def narrow(self, center, fraction=NARROW):
        """A range ``fraction`` as wide (on its own scale) centred on ``center``, shifted to stay inside
        this one: the fine stage's range around the best coarse trial."""
        if self.fixed:
            return self
        lo, hi = self._to(self.low), self._to(self.high)
        half = (hi - lo) * fraction / 2
        mid = min(max(self._to(center), lo + half), hi - half)
        return Range(self.name, self._round(self._from(mid - half)), self._round(self._from(mid + half)), self.log)

    def _round(self, value):
        return min(max(float(f"{value:.3g}"), self.low), self.high)

    def __str__(self):
        if self.fixed:
            return f"{self.low:g}"
        return f"{self.low:g}:{self.high:g}" + (":log" if self.log else "")


def parse_range(name, text):
    """``'1e-4:1:log'`` → Range(name, 1e-4, 1, log=True); ``'0:0.5'`` (or ``'0:0.5:lin'``) a linear range;
    ``'0.9'`` a fixed value. Raises SearchError with a one-line message."""
    flag = "--" + name.replace("_", "-")
    parts = str(text).strip().split(":")
    scale = "lin"
    if len(parts) == 3:
        scale = parts.pop().strip().lower()
    if len(parts) not in (1, 2) or scale not in ("log", "lin", "linear"):
        raise SearchError(f"{flag} must be LOW:HIGH, LOW:HIGH:log or one value (e.g. 1e-4:1:log), got {text!r}")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise SearchError(f"{flag} must be LOW:HIGH, LOW:HIGH:log or one value (e.g. 1e-4:1:log); "
                          f"{text!r} holds something that is not a number") from None
    low, high = values[0], values[-1]
    if len(values) == 2 and low == high:
        raise SearchError(f"{flag} {text} is an empty range; give LOW < HIGH, or one value to fix it")
    return Range(name, low, high, log=scale == "log")


def random_trials(ranges, count, seed, stage="coarse"):
    """``count`` dicts of hyper-parameters drawn independently from ``ranges`` (the same draws for the
    same seed and stage, whatever the trials' results)."""
    rng = np.random.default_rng([int(seed), STAGES[stage]])
    return [{r.name: r.sample(rng) for r in ranges} for _ in range(count)]


def grid_trials(ranges, points):
    """Every combination of ``points`` values per searched range (a fixed one contributes its value)."""
    names = [r.name for r in ranges]
    return [dict(zip(names, values)) for values in itertools.product(*(r.grid(points) for r in ranges))]


def best_row(rows, key="val_accuracy"):
    """The row with the highest finite ``key`` (None when every trial diverged)."""
    scored = [r for r in rows if _finite(r.get(key))]
    return max(scored, key=lambda r: float(r[key])) if scored else None


def search(objective, ranges, trials=8, fine_trials=None, grid=False, grid_points=3, seed=0, path="trials.csv",
           log=print):
    """Run the search; returns every row (the CSV's contents). See the module docstring.

    Random search: ``trials`` coarse trials, then ``fine_trials`` (default ``trials // 2``) around the
    best. ``grid=True``: the ``grid_points``-per-range grid instead of the coarse stage (fine stage only
    if ``fine_trials`` is given).
    """
    ranges = list(ranges)
    names = [r.name for r in ranges]
    if len(set(names)) != len(names):
        raise SearchError(f"search: each hyper-parameter once, got {names}")
    if fine_trials is None:
        fine_trials = 0 if grid else trials // 2
    columns = ["stage", "trial", *names, *METRICS]
    rows = read_trials(path, columns)  # every row in the CSV, this search's and any beyond its plan
    stage, planned = ("grid", grid_trials(ranges, grid_points)) if grid else ("coarse",
                                                                              random_trials(ranges, trials, seed))
    mine = _run_stage(objective, stage, planned, rows, columns, path, log)
    if fine_trials > 0:
        best = best_row(mine)
        if best is None:
            log(f"every {stage} trial diverged: no fine stage; lower the learning rates' range")
        else:
            fine = [r.narrow(float(best[r.name])) for r in ranges]
            log("fine stage around {} trial {}: {}".format(stage, best["trial"], ", ".join(
                f"{r.name} {r}" for r in fine if not r.fixed)))
            mine += _run_stage(objective, "fine", random_trials(fine, fine_trials, seed, "fine"), rows, columns,
                               path, log)
    return mine


def _run_stage(objective, stage, planned, rows, columns, path, log):
    """Run the ``planned`` trials of ``stage`` that ``rows`` lacks (appending each, and rewriting the CSV
    after each); returns the stage's rows, in order."""
    done = {(r["stage"], int(r["trial"])): r for r in rows}
    mine = []
    for number, params in enumerate(planned, 1):
        row = done.get((stage, number))
        if row is not None:
            _check_same(row, params, path)
            mine.append(row)
            continue
        start = time.perf_counter()
        metrics = dict(objective(dict(params)))
        row = {"stage": stage, "trial": number, **params, "seconds": time.perf_counter() - start}
        row.update({k: metrics[k] for k in METRICS if k in metrics and k != "seconds"})
        row.setdefault("status", "ok")
        rows.append(row)
        mine.append(row)
        write_trials(path, rows, columns)
        setting = ", ".join(f"{k} {v:g}" for k, v in params.items())
        log(f"{stage} {number}/{len(planned)}: {setting}: val_accuracy {_fmt(row.get('val_accuracy'))}, "
            f"val_loss {_fmt(row.get('val_loss'))} ({row['status']}, {row['seconds']:.1f} s)")
    return mine


def _check_same(row, params, path):
    for name, value in params.items():
        if not math.isclose(float(row[name]), value, rel_tol=1e-9, abs_tol=1e-15):
            why = ("its fine stage was drawn around another best trial (a different first stage?)"
                   if row["stage"] == "fine" else "it is another search's file")
            raise SearchError(f"{path} holds {row['stage']} trial {row['trial']} with {name}={row[name]}, but "
                              f"this search draws {name}={value:g} there: {why}. Give this one another --out, "
                              "or start over with --fresh")


def read_trials(path, columns=None):
    """The rows of a trials CSV (empty if there is none); ``columns``, if given, must be its header."""
    if not os.path.exists(path):
        return []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        if columns is not None and header and header != list(columns):
            raise SearchError(f"{path} has the columns {','.join(header)}, but this search writes "
                              f"{','.join(columns)}: it is another search's file. Give this one another "
                              "--out, or start over with --fresh")
        return [dict(row) for row in reader]


def write_trials(path, rows, columns):
    """Rewrite the whole CSV atomically (a crash mid-write leaves the previous file)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k, "")) for k in columns})
    write_atomically(path, lambda f: f.write(buffer.getvalue().encode("utf-8")))


def _cell(value):
    if isinstance(value, float):
        return repr(value)  # every digit: a resumed search compares its draws with these
    return value


def _finite(value):
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _fmt(value):
    return f"{float(value):.4f}" if _finite(value) else "-"


def plot_search(rows, ranges, path, title=None, key="val_accuracy"):
    """Save a PNG: ``key`` against each searched hyper-parameter (log x-axis for a log range), one colour
    per stage, the best trial starred, diverged trials as red crosses on the floor. Returns ``path``."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no display needed
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError("plotting needs matplotlib: pip install 'ember[plot]'") from error
    searched = [r for r in ranges if not r.fixed]
    if not searched:
        raise SearchError("plot_search: no hyper-parameter was searched (every range is one value)")
    fig, axes = plt.subplots(1, len(searched), figsize=(4.2 * len(searched), 4), dpi=100, squeeze=False)
    scored = [r for r in rows if _finite(r.get(key))]
    failed = [r for r in rows if not _finite(r.get(key))]
    best = best_row(rows, key)
    values = [float(r[key]) for r in scored]
    floor = min(values) if values else 0.0
    colours = {"coarse": "tab:blue", "fine": "tab:orange", "grid": "tab:green"}
    first = best_row([r for r in rows if r["stage"] != "fine"], key)
    show_fine = first is not None and any(r["stage"] == "fine" for r in rows)
    for ax, rng in zip(axes[0], searched):
        if show_fine:  # where the fine stage searched: the range narrowed around the best first-stage trial
            fine = rng.narrow(float(first[rng.name]))
            ax.axvspan(fine.low, fine.high, color="tab:orange", alpha=0.12, label="fine range")
        for stage in colours:
            mine = [r for r in scored if r["stage"] == stage]
            if mine:
                ax.scatter([float(r[rng.name]) for r in mine], [float(r[key]) for r in mine], s=28,
                           color=colours[stage], alpha=0.8, label=f"{stage} ({len(mine)})")
        if failed:
            ax.scatter([float(r[rng.name]) for r in failed], [floor] * len(failed), marker="x", color="red",
                       label=f"diverged ({len(failed)})")
        if best is not None:
            ax.scatter([float(best[rng.name])], [float(best[key])], marker="*", s=220, color="gold",
                       edgecolor="black", zorder=5, label="best")
        if rng.log:
            ax.set_xscale("log")
            ax.set_xlim(rng.low / 1.5, rng.high * 1.5)  # the whole range searched, not just where trials fell
        else:
            margin = (rng.high - rng.low) * 0.05
            ax.set_xlim(rng.low - margin, rng.high + margin)
        ax.set_xlabel(f"{rng.name} ({'log' if rng.log else 'linear'} scale)")
        ax.set_ylabel(key.replace("_", " "))
        ax.grid(True, alpha=0.3)
    axes[0][0].legend(fontsize=8, loc="best")
    if best is not None:
        setting = ", ".join(f"{r.name} {float(best[r.name]):.3g}" for r in searched)
        fig.suptitle(f"{title + ': ' if title else ''}{len(rows)} trials; best {key} {float(best[key]):.4f} at "
                     f"{setting}", fontsize=10)
    fig.tight_layout()
    try:
        save_figure(fig, path)
    finally:
        plt.close(fig)
    return path
