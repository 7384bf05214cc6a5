"""Every numeric command-line flag checked where it enters, with one rule per flag.

A rule says what a flag holds (a whole number or a real one), its range and what it means; from it come
both the argparse ``type=`` function (so ``ember train --clip -1`` stops before anything is built) and
``check_options`` (the same rules for the recipes called from Python). A refusal names the flag, what it
expects, what it got, and where that is not obvious, the fix::

    ember train: error: --clip must be a positive number (the gradient-norm limit), got -1

nan and inf are refused everywhere: no flag means anything with them.
"""

import argparse
import math
from dataclasses import dataclass


class FlagError(ValueError):
    """A flag's value is out of its range; the CLI prints the message as it is, on one line."""


@dataclass(frozen=True)
class Rule:
    kind: type  # int or float
    low: float = None  # the smallest value allowed (None: no bound)
    high: float = None  # the bound above (None: none)
    low_open: bool = False  # low itself is refused (> low rather than >= low)
    high_open: bool = True  # high itself is refused (< high)
    meaning: str = ""  # what the flag is, for the message
    fix: str = ""  # a hint appended to the message

    def expected(self):
        noun = "a whole number" if self.kind is int else "a number"
        if self.low == 0 and self.low_open and self.high is None:
            return "a positive whole number" if self.kind is int else "a positive number"
        if self.low is not None and self.high is not None:
            left, right = ("(" if self.low_open else "["), (")" if self.high_open else "]")
            return f"{noun} in {left}{_num(self.low)}, {_num(self.high)}{right}"
        if self.low is not None:
            return f"{noun} {'>' if self.low_open else '>='} {_num(self.low)}"
        return noun

    def problem(self, value):
        """None when ``value`` obeys the rule, else what is wrong with it (for the message)."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"{self.expected()}, got {value!r} ({type(value).__name__})"
        if self.kind is int and (isinstance(value, float) and not value.is_integer()):
            return f"{self.expected()}, got {value!r}"
        if isinstance(value, float) and not math.isfinite(value):
            return f"finite and {self.expected()}, got {value!r}"
        bad_low = self.low is not None and (value <= self.low if self.low_open else value < self.low)
        bad_high = self.high is not None and (value >= self.high if self.high_open else value > self.high)
        if bad_low or bad_high:
            return f"{self.expected()}, got {_num(value)}"
        return None

    def message(self, flag, value):
        what = f" ({self.meaning})" if self.meaning else ""
        fix = f"; {self.fix}" if self.fix else ""
        return f"{flag} must be {self.problem(value).replace(', got', what + ', got', 1)}{fix}"


def _num(value):
    return str(int(value)) if isinstance(value, float) and value.is_integer() and abs(value) < 1e15 else str(value)


def _at_least(n, meaning, fix="", kind=int):
    return Rule(kind, low=n, meaning=meaning, fix=fix)


def _positive(meaning, fix=""):
    return Rule(float, low=0, low_open=True, meaning=meaning, fix=fix)


def _fraction(meaning, fix=""):
    return Rule(float, low=0, high=1, meaning=meaning, fix=fix)


#: One rule per flag (argparse's dest names). The same flag means the same thing in every subcommand.
RULES = {
    "epochs": _at_least(1, "epochs to train"),
    "batch_size": _at_least(1, "examples per minibatch"),
    "overfit_size": _at_least(1, "training examples the model must memorise"),
    "overfit_steps": _at_least(1, "steps allowed to memorise them"),
    "seq_len": _at_least(1, "time steps per minibatch"),
    "hidden_size": _at_least(1, "units in each recurrent layer"),
    "num_layers": _at_least(1, "stacked recurrent layers"),
    "embedding_dim": _at_least(0, "0 feeds one-hot vectors"),
    "max_chars": _at_least(1, "characters of text to use"),
    "sample_length": _at_least(0, "characters sampled after each epoch; 0 samples none"),
    "length": _at_least(1, "characters to generate"),
    "train_size": _at_least(1, "training images to use", "leave --train-size out to train on the whole split"),
    "val_size": _at_least(1, "training images held out for validation, to pick the best epoch"),
    "patience": _at_least(1, "epochs without improvement before stopping", "leave --patience out to never stop early"),
    "topk": _at_least(1, "how many classes to list per image"),
    "index": _at_least(0, "the position of an image in the test set"),
    "seed": Rule(int, low=0, high=2**64, meaning="the random seed"),
    "num_classes": _at_least(1, "outputs of the classifier"),
    "input_size": _at_least(1, "one input's channels, height and width"),
    "lr": _positive("the learning rate"),
    "start_lr": _positive("the learning rate the range test starts from"),
    "end_lr": _positive("the learning rate the range test ends at"),
    "lr_find_steps": _at_least(2, "minibatches of the range test; 100 to 300 is usual"),  # ember lr-find --steps
    "clip": Rule(float, low=0, meaning="the gradient-norm limit; 0 turns clipping off"),
    "temperature": Rule(float, low=0, meaning="0 takes the likeliest character, 1 samples the model's distribution"),
    "weight_decay": Rule(float, low=0, meaning="the L2 penalty"),
    "momentum": _fraction("the fraction of the last update kept"),
    "dropout": _fraction("the probability of zeroing a unit between recurrent layers"),
    "head_lr": _positive("the learning rate of the new head when fine-tuning"),
    "l1": Rule(float, low=0, meaning="the L1 penalty's weight λ in λ·Σ|w|"),
    "alpha": Rule(float, low=0, high=1, high_open=False, meaning="the weight of the teacher's term in distillation"),
    "nproc": _at_least(1, "processes training together, each on its share of every batch"),
}

# ember search and ember trajectories
RULES.update(
    trials=_at_least(1, "random trials in the coarse stage"),
    fine_trials=_at_least(0, "trials in the fine stage; 0 skips it"),
    grid_points=_at_least(2, "values per hyper-parameter on the grid"),
    subset=_at_least(1, "training images per trial", "leave --subset out to train on the whole split"),
    steps=_at_least(1, "optimizer steps per path"),
)


def flag_name(dest):
    return "--" + dest.replace("_", "-")


def parse(dest, text, flag=None):
    """``text`` (a command-line string) as the number the rule for ``dest`` wants, or ArgumentTypeError."""
    rule, flag = RULES[dest], flag or flag_name(dest)
    try:
        value = int(text, 10) if rule.kind is int else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{flag} must be {rule.expected()}" + (f" ({rule.meaning})" if rule.meaning else "") + f", got {text!r}"
        ) from None
    if rule.problem(value) is not None:
        raise argparse.ArgumentTypeError(rule.message(flag, value))
    return value


def type_for(dest, flag=None):
    """The argparse ``type=`` function for ``dest`` (named so argparse's own messages read well)."""

    def convert(text):
        return parse(dest, text, flag)

    convert.__name__ = RULES[dest].kind.__name__
    return convert


def check_options(options):
    """The same rules for options given in Python (None means 'not given'); raises FlagError (a ValueError)."""
    for dest, value in options.items():
        if dest in RULES and value is not None:
            values = value if dest == "input_size" and isinstance(value, (list, tuple)) else [value]
            for v in values:
                if RULES[dest].problem(v) is not None:
                    raise FlagError(RULES[dest].message(flag_name(dest), v))


def validation_size(requested, train_images, default):
    """Images to hold out: ``requested`` (checked against the training split) or the capped default.

    The default (5,000) is cut to a fifth of a small dataset; a value the user asked for is honoured, or
    refused when it leaves nothing to train on.
    """
    if requested is None or requested == default:
        return min(int(default), train_images // 5)
    if requested >= train_images:
        raise FlagError(
            f"--val-size must be smaller than the {train_images} training images (it holds some of them out "
            f"for validation), got {requested}; try --val-size {train_images // 5}"
        )
    return int(requested)


def check_topk(topk, classes):
    """``--topk`` against the number of classes the checkpoint's model has."""
    if not 1 <= topk <= classes:
        raise FlagError(f"--topk must be between 1 and the model's {classes} classes, got {topk}")
    return topk
