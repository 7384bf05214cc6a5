"""The Trainer's guards: training that goes non-finite, or has nothing to train on, stops with one clear line.

A NaN pixel or a learning rate of 10 turns the loss into NaN or inf, and one optimizer step with that loss
turns every weight into NaN; training on would only write NaN checkpoints. So the loss of every step is
checked *before* its backward pass (the number is needed for the metrics anyway, so it costs nothing),
and the weights once per epoch *before* the checkpoints are written: the last good ``last.npz`` survives.
"""

import contextlib
import math

from ..backend import xp

HINT = ("lower the learning rate (--lr), check the inputs for NaN/inf, or clip the gradients "
        "(clip_grad_norm / --clip)")


class NonFiniteLossError(RuntimeError):
    """Training produced a NaN or infinite loss (or weights); the message is one line with the epoch, the
    step, the learning rate and what to try."""


def check_loss(value, epoch, step, steps, lr):
    """Raise NonFiniteLossError when the training loss of step ``step`` (1-based, of ``steps``) is not finite."""
    if not math.isfinite(value):
        raise NonFiniteLossError(
            f"the training loss became {value} at epoch {epoch}, step {step}/{steps} (lr {lr:.3g}); training "
            f"stopped before that update{_kept(epoch)}: {HINT}")


def check_parameters(model, epoch, lr):
    """Raise NonFiniteLossError when a parameter holds NaN or inf after an epoch (an update can overflow
    even when every loss it saw was finite), naming the first such parameter."""
    for name, param in model.named_parameters():
        if not bool(xp.isfinite(param.array).all()):
            raise NonFiniteLossError(
                f"the parameter '{name}' holds NaN/inf after epoch {epoch} (lr {lr:.3g}); training "
                f"stopped{_kept(epoch)}: {HINT}")


def check_validation_loss(value, epoch, lr):
    """Raise NonFiniteLossError when the validation loss after ``epoch`` is not finite (finite weights can
    still overflow the forward pass when they have grown huge; or the validation inputs hold NaN/inf)."""
    if not math.isfinite(value):
        raise NonFiniteLossError(
            f"the validation loss became {value} after epoch {epoch} (lr {lr:.3g}): the weights have grown so "
            f"large that the outputs overflow, or the validation inputs hold NaN/inf; training "
            f"stopped{_kept(epoch)}: {HINT}")


def _kept(epoch):
    return " (nothing was saved)" if epoch <= 1 else f" and the last checkpoint (epoch {epoch - 1}) is kept"


def check_batches(loader, role):
    """Raise ValueError when ``loader`` (the ``role``: 'training' or 'validation' loader) has no batches."""
    try:
        batches = len(loader)
    except TypeError:  # an iterable without a length: the epoch loop checks the count instead
        return
    if batches == 0:
        raise ValueError(f"Trainer: the {role} loader gives no batches (an empty dataset, or fewer samples than "
                         f"one batch with drop_last=True); give it at least one sample")


def quiet_overflow():
    """A context without the array library's overflow/invalid warnings (NumPy's errstate; nothing elsewhere):
    the guards above report a non-finite loss themselves, in one line."""
    errstate = getattr(xp, "errstate", None)
    return errstate(over="ignore", invalid="ignore") if errstate is not None else contextlib.nullcontext()
