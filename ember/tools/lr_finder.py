"""The learning-rate range test (Smith 2015, "Cyclical Learning Rates"; fastai's ``lr_find``).

Train for a few hundred minibatches while the learning rate grows exponentially, from far too small to far
too large, and watch the loss: flat at first (the steps are too small to matter), then falling (the useful
range), then blowing up (the steps overshoot). A good rate sits where the loss falls fastest.

    from ember.tools.lr_finder import lr_find
    result = lr_find(model, optimizer, train_loader, start_lr=1e-7, end_lr=10, steps=100)
    result.suggestion, result.method     # e.g. 0.05, 'steepest'
    result.to_csv("lr_find.csv"); result.plot("lr_find.png")

The schedule is lr_i = start · (end / start)^(i / (steps - 1)), one optimizer step per minibatch. Minibatch
losses are noisy, so the test follows their exponential moving average with bias correction (Adam's):
a_i = β a_{i-1} + (1 - β) L_i, smoothed_i = a_i / (1 - β^(i+1)), β = 0.98. It stops once the smoothed loss
exceeds 4 times the best seen (it has diverged; the rest of the range would only be noise), or at a NaN loss.
Afterwards the model's weights and buffers and the optimizer's state and learning rates are put back: the
test explores, it does not train.

Two suggestions are computed; ``suggest`` picks which one is ``result.suggestion``:
``'steepest'`` (default) the rate where the smoothed loss falls fastest, d smoothed / d log10(lr) most
negative, looking only before its minimum; ``'minimum'`` a tenth of the rate at the minimum of the smoothed
loss (at the minimum the rate is already about to be too large).
"""

import math
import sys
from dataclasses import dataclass

from ..autograd.grad_mode import no_grad
from ..backend import errstate, xp
from ..nn.loss import CrossEntropyLoss
from ..serialization import write_atomically
from .figure import save_figure

SUGGESTIONS = ("steepest", "minimum")


@dataclass
class LRFinderResult:
    """What the range test saw: per step the rate, the raw loss and the smoothed loss, and the suggestion.

    ``stop_reason`` is ``'diverged'`` (smoothed loss above ``diverge`` times the best), ``'nan'`` (a
    non-finite loss; that step is not recorded) or ``'end'`` (the whole range was covered).
    ``suggestion`` is None when the loss never went down (then ``note`` says so).
    """

    lrs: list
    losses: list
    smoothed: list
    stop_reason: str
    steps_planned: int
    method: str = "steepest"
    steepest_lr: float = None
    minimum_lr: float = None  # the rate at the minimum of the smoothed loss (its tenth is the 'minimum' suggestion)
    note: str = ""

    @property
    def suggestion(self):
        if self.steepest_lr is None:  # the loss never went down: neither rule means anything
            return None
        return self.steepest_lr if self.method == "steepest" else self.minimum_lr / 10

    @property
    def stopped_early(self):
        return self.stop_reason != "end"

    @property
    def best_loss(self):
        return min(self.smoothed) if self.smoothed else math.nan

    def to_csv(self, path):
        """Write ``step,lr,loss,smoothed_loss`` (one row per step) atomically; returns the path."""
        rows = ["step,lr,loss,smoothed_loss"]
        rows += [f"{i + 1},{lr!r},{loss!r},{s!r}" for i, (lr, loss, s) in
                 enumerate(zip(self.lrs, self.losses, self.smoothed))]
        text = "\n".join(rows) + "\n"
        write_atomically(path, lambda f: f.write(text.encode("utf-8")))
        return path

    def describe(self):
        """A few lines for a person: how far the test went, why it stopped, and the suggestion."""
        stop = {"diverged": "stopped: the smoothed loss passed 4x its best (diverged)",
                "nan": "stopped: the loss became NaN/inf",
                "end": "covered the whole range without diverging"}[self.stop_reason]
        if not self.lrs:
            return "the first loss was already NaN/inf: check the inputs and the model (and --start-lr)"
        lines = [f"{len(self.lrs)} of {self.steps_planned} steps, lr {self.lrs[0]:.1e} .. {self.lrs[-1]:.1e}; {stop}"]
        if self.minimum_lr is not None:
            lines.append(f"lowest smoothed loss {self.best_loss:.4f} at lr {self.minimum_lr:.2e} "
                         f"(a tenth of it: {self.minimum_lr / 10:.2e})")
        if self.steepest_lr is not None:
            lines.append(f"steepest descent of the smoothed loss at lr {self.steepest_lr:.2e}")
        if self.suggestion is not None:
            how = "steepest descent" if self.method == "steepest" else "minimum / 10"
            lines.append(f"suggested lr: {self.suggestion:.2e} ({how})")
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)

    def plot(self, path, title=None):
        """Save loss against learning rate (log x-axis): raw losses faint, the smoothed curve, the suggestion
        marked. Raises ImportError with the install hint when matplotlib is missing. Returns the path."""
        try:
            import matplotlib

            matplotlib.use("Agg")  # files only: no display needed
            import matplotlib.pyplot as plt
        except ImportError as error:
            raise ImportError("plotting needs matplotlib: pip install 'ember[plot]'") from error
        fig, ax = plt.subplots(figsize=(8, 5))
        ax.plot(self.lrs, self.losses, color="tab:blue", alpha=0.3, lw=0.8, label="loss (each minibatch)")
        ax.plot(self.lrs, self.smoothed, color="tab:blue", lw=2, label="smoothed loss (EMA, β = 0.98)")
        ax.set_xscale("log")
        finite = [v for v in self.smoothed if math.isfinite(v)]
        if finite:  # the divergence at the end would squash the interesting part of the curve
            low, high = min(finite + [v for v in self.losses if math.isfinite(v)]), max(finite)
            if finite[0] > 0:  # up to 30 % above the starting loss: the descent fills the panel, the blow-up starts
                high = min(high, 1.3 * finite[0])
            pad = 0.05 * (high - low or 1)
            ax.set_ylim(low - pad, high + pad)
        if self.minimum_lr is not None:
            ax.axvline(self.minimum_lr, color="tab:gray", ls=":", lw=1,
                       label=f"lowest smoothed loss, lr {self.minimum_lr:.1e}")
        if self.suggestion is not None:
            how = "steepest descent" if self.method == "steepest" else "minimum / 10"
            at = _interpolate(self.lrs, self.smoothed, self.suggestion)
            ax.axvline(self.suggestion, color="tab:red", ls="--", lw=1.2)
            ax.plot([self.suggestion], [at], marker="o", ms=9, color="tab:red", ls="none",
                    label=f"suggested lr {self.suggestion:.1e} ({how})")
        ax.set(xlabel="learning rate (log scale)", ylabel="training loss",
               title=title or "learning-rate range test")
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        try:
            save_figure(fig, path)
        finally:
            plt.close(fig)
        return path


def lr_find(model, optimizer, loader, start_lr=1e-7, end_lr=10.0, steps=100, beta=0.98, diverge=4.0,
            suggest="steepest", loss_fn=None, progress=False):
    """Run the range test (module docstring) with ``optimizer`` on minibatches from ``loader`` (cycled if it
    runs out) and return an LRFinderResult. The model and optimizer are restored afterwards.

    ``loss_fn(outputs, targets)`` defaults to cross-entropy; ``progress=True`` shows a tqdm bar on stderr
    (when tqdm is installed)."""
    if not (0 < start_lr < end_lr) or not math.isfinite(end_lr):
        raise ValueError(f"lr_find: needs 0 < start_lr < end_lr (finite), got start_lr={start_lr}, end_lr={end_lr}")
    if not isinstance(steps, int) or steps < 2:
        raise ValueError(f"lr_find: steps must be a whole number >= 2 (the schedule needs two ends), got {steps!r}")
    if not 0 <= beta < 1:
        raise ValueError(f"lr_find: beta (the smoothing) must be in [0, 1), got {beta}")
    if suggest not in SUGGESTIONS:
        raise ValueError(f"lr_find: suggest must be one of {', '.join(SUGGESTIONS)}, got {suggest!r}")
    loss_fn = loss_fn if loss_fn is not None else CrossEntropyLoss()
    growth = (end_lr / start_lr) ** (1 / (steps - 1))  # each step multiplies the rate by this
    weights = {name: t.array.copy() for name, t in model.state_dict().items()}
    optimizer_state, was_training = optimizer.state_dict(), model.training  # state_dict() copies its arrays
    lrs, losses, smoothed = [], [], []
    average, best, reason = 0.0, math.inf, "end"
    model.train()
    bar = _bar(steps, progress)
    try:
        with errstate(over="ignore", invalid="ignore"):  # a NaN or inf loss is reported, not warned about
            batches = _cycle(loader)
            for i in range(steps):
                lr = start_lr * growth**i
                for group in optimizer.param_groups:
                    group["lr"] = lr
                x, y = next(batches)
                loss = _loss(model, loss_fn, x, y)
                value = float(loss.item())
                if not math.isfinite(value):
                    reason = "nan"
                    break
                average = beta * average + (1 - beta) * value
                smooth = average / (1 - beta ** (i + 1))  # bias correction: the average starts at 0
                lrs.append(lr)
                losses.append(value)
                smoothed.append(smooth)
                if smooth > diverge * best:
                    reason = "diverged"
                    break
                best = min(best, smooth)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                if bar is not None:
                    bar.update()
                    bar.set_postfix(lr=f"{lr:.1e}", loss=f"{smooth:.4f}", refresh=False)
    finally:
        if bar is not None:
            bar.close()
        with no_grad():
            model.load_state_dict(weights)
        optimizer.load_state_dict(optimizer_state)  # the learning rates too
        optimizer.zero_grad()
        model.train(was_training)
    result = LRFinderResult(lrs, losses, smoothed, reason, steps, method=suggest)
    _suggest(result)
    return result


def _suggest(result):
    """Fill in ``minimum_lr`` and ``steepest_lr`` (or a note saying why there is none)."""
    if len(result.smoothed) < 3:
        result.note = "too few steps before the loss diverged or turned NaN to suggest a rate: lower --start-lr"
        return
    smooth = xp.asarray(result.smoothed)
    lowest = int(xp.argmin(smooth))
    result.minimum_lr = result.lrs[lowest]
    if lowest < 2:
        result.note = ("the loss never went down: the model does not learn at any of these rates "
                       "(check the model and data, or lower --start-lr)")
        return
    # d smoothed / d log10(lr) by central differences, searched strictly before the minimum: at the minimum
    # itself the rate is already about to be too large.
    slope = xp.gradient(smooth, xp.log10(xp.asarray(result.lrs)))
    result.steepest_lr = result.lrs[int(xp.argmin(slope[:lowest]))]


def _loss(model, loss_fn, x, y):
    outputs = model(x)
    model_loss = getattr(model, "loss", None)  # GoogLeNet adds its auxiliary classifiers' losses
    if callable(model_loss):
        return model_loss(outputs, y, loss_fn)
    return loss_fn(outputs, y)


def _bar(steps, progress):
    if not progress:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # the progress bar is optional
        return None
    return tqdm(total=steps, desc="lr range test", leave=False, dynamic_ncols=True, file=sys.stderr)


def _cycle(loader):
    """Minibatches from ``loader`` forever (a new pass when one ends); an empty loader is an error."""
    while True:
        empty = True
        for batch in loader:
            empty = False
            yield batch
        if empty:
            raise ValueError("lr_find: the loader gave no batches; give it at least one sample")


def _interpolate(lrs, values, lr):
    """The curve's value at ``lr`` (linear in log lr between the neighbouring points)."""
    logs = xp.log10(xp.asarray(lrs))
    return float(xp.interp(math.log10(lr), logs, xp.asarray(values)))
