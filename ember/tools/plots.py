"""Training curves: loss, accuracy (or perplexity) and the learning rate, train against validation, with
the best epoch marked (needs matplotlib)."""

import math

from .figure import save_figure

# Which validation metric picks the best epoch, and whether higher is better: the first one logged wins.
# A language model logs a per-character accuracy too, but its perplexity is the measure it is judged by.
BEST_BY = (("val_perplexity", min), ("val_accuracy", max), ("val_loss", min))


def best_epoch(history):
    """(epoch, metric name, value) of the best epoch: lowest validation perplexity (a language model), else
    highest validation accuracy, else lowest validation loss; None without validation metrics."""
    for key, pick in BEST_BY:
        rows = [h for h in history if isinstance(h.get(key), (int, float)) and math.isfinite(h[key])]
        if rows:
            row = pick(rows, key=lambda h: h[key])
            return row["epoch"], key, row[key]
    return None


def plot_history(history, path, title=None, steps=None):
    """Save a PNG with three panels from a Trainer history; returns the path.

    loss (train and validation per epoch; with ``steps``, the per-step records of a StepLog, also every
    step's training loss), accuracy (perplexity for a language model), and the learning rate (per step
    with ``steps``, else per epoch). A dashed line marks the best epoch (``best_epoch``) on every panel.
    Raises ImportError with the install hint when matplotlib is missing.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no display needed
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError as error:
        raise ImportError("plotting needs matplotlib: pip install 'ember[plot]'") from error
    history, steps = list(history), list(steps or [])
    epochs = [h["epoch"] for h in history]
    language = any("perplexity" in h or "val_perplexity" in h for h in history)
    metric = "perplexity" if language else "accuracy"
    fig, (ax_loss, ax_metric, ax_lr) = plt.subplots(1, 3, figsize=(14, 4))

    step_x = _step_positions(steps)
    if steps:  # every step's loss, faint, under the epoch means
        ax_loss.plot(step_x, [s["loss"] for s in steps], color="tab:blue", alpha=0.25, lw=0.8, label="train (step)")
    _curves(ax_loss, history, epochs, "loss")
    _curves(ax_metric, history, epochs, metric)
    if steps:
        # Each step's lr holds over that step, which ends at its x: a staircase, not a ramp between epochs.
        ax_lr.plot(step_x, [s["lr"] for s in steps], color="tab:green", drawstyle="steps-pre", label="per step")
    elif any("lr" in h for h in history):
        ax_lr.plot(epochs, [h.get("lr") for h in history], color="tab:green", marker="o", label="per epoch")
    lrs = [s["lr"] for s in steps] or [h["lr"] for h in history if "lr" in h]
    if lrs and min(lrs) > 0 and max(lrs) / min(lrs) > 100:
        ax_lr.set_yscale("log")  # decays over decades read better on a log axis

    best = best_epoch(history)
    if best is not None:
        epoch, key, value = best
        for ax in (ax_loss, ax_metric, ax_lr):
            ax.axvline(epoch, color="tab:red", ls="--", lw=1, alpha=0.7)
        shown = next((h.get(f"val_{metric}") for h in history if h["epoch"] == epoch), None)
        if shown is not None:
            ax_metric.plot([epoch], [shown], marker="*", ms=14, color="tab:red", ls="none",
                           label=f"best: epoch {epoch} ({key} {value:.4g})")
    ax_loss.set(xlabel="epoch", ylabel="loss", title="loss")
    ax_metric.set(xlabel="epoch", ylabel=metric, title=metric)
    ax_lr.set(xlabel="epoch", ylabel="learning rate", title="learning rate")
    for ax in (ax_loss, ax_metric, ax_lr):
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))  # epochs are whole numbers
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
    if not history:
        ax_metric.text(0.5, 0.5, "no epoch completed", ha="center", va="center", transform=ax_metric.transAxes)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    try:
        save_figure(fig, path)  # atomic, like every file Ember writes
    finally:
        plt.close(fig)
    return path


def _curves(ax, history, epochs, key):
    for name, label in ((key, "train"), (f"val_{key}", "validation")):
        if any(name in h for h in history):
            ax.plot(epochs, [h.get(name, math.nan) for h in history], marker="o", label=label)


def _step_positions(steps):
    """Each step's x position in epochs: step i of an epoch of n steps sits at epoch - 1 + i/n, so the
    per-step curves line up with the per-epoch points at the end of each epoch."""
    per_epoch = {}
    for s in steps:
        per_epoch[s["epoch"]] = per_epoch.get(s["epoch"], 0) + 1
    seen, xs = {}, []
    for s in steps:
        seen[s["epoch"]] = seen.get(s["epoch"], 0) + 1
        xs.append(s["epoch"] - 1 + seen[s["epoch"]] / per_epoch[s["epoch"]])
    return xs
