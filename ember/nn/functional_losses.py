"""The core losses at torch's F signatures, with the deprecated ``size_average``/``reduce`` arguments.

PyTorch still accepts ``F.nll_loss(out, y, size_average=False)`` (old tutorials use it) and warns that it
means ``reduction='sum'``; the argument order (``weight, size_average, ignore_index, reduce, reduction``) is
torch's, so positional calls land on the same parameters. The maths lives in ember.ops.loss.
"""

from ..ops import loss as L
from ..ops.loss_more import _legacy_reduction


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    """-log softmax(z)_y averaged over the batch, as ``torch.nn.functional.cross_entropy``."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return L.cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """-x_y of log-probabilities x, as ``torch.nn.functional.nll_loss``."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return L.nll_loss(input, target, weight, ignore_index, reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """(x - y)², as ``torch.nn.functional.mse_loss``."""
    return L.mse_loss(input, target, _legacy_reduction(size_average, reduce, reduction))


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """|x - y|, as ``torch.nn.functional.l1_loss``."""
    return L.l1_loss(input, target, _legacy_reduction(size_average, reduce, reduction))


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """½(x - y)²/β below β, |x - y| - ½β above, as ``torch.nn.functional.smooth_l1_loss``."""
    return L.smooth_l1_loss(input, target, _legacy_reduction(size_average, reduce, reduction), beta)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """Sigmoid + binary cross-entropy, as ``torch.nn.functional.binary_cross_entropy_with_logits``."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return L.binary_cross_entropy_with_logits(input, target, weight, reduction, pos_weight)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Σ_{j≠y} max(0, margin - x_y + x_j)^p / C, as ``torch.nn.functional.multi_margin_loss``."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return L.multi_margin_loss(input, target, p, margin, weight, reduction)
