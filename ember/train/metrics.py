"""Classification metrics: top-k accuracy and the confusion matrix, on arrays or Tensors, batched."""

from ..backend import host, to_host, xp
from ..tensor import Tensor


def _array(x):
    return x.array if isinstance(x, Tensor) else xp.asarray(x)


def topk_correct(logits, targets, k=1):
    """How many rows have their target among the k largest scores."""
    scores, targets = _array(logits), _array(targets)
    if k == 1:
        return int((scores.argmax(axis=1) == targets).sum())
    k = min(k, scores.shape[1])
    top = xp.argpartition(-scores, k - 1, axis=1)[:, :k]  # the k best, in no particular order
    return int((top == targets[:, None]).any(axis=1).sum())


def accuracy(logits, targets, k=1):
    """Fraction of rows whose target is among the k largest scores (top-1 by default)."""
    n = len(_array(targets))
    return topk_correct(logits, targets, k) / n if n else float("nan")


def confusion_matrix(predictions, targets, num_classes):
    """C[i, j] = number of samples of true class i predicted as class j (rows: truth, columns: prediction)."""
    p, t = _array(predictions).astype(xp.int64), _array(targets).astype(xp.int64)
    return xp.bincount(t * num_classes + p, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


class Meter:
    """Running sums over an epoch: the mean loss (weighted by batch size), top-k accuracies, and optionally
    the confusion matrix."""

    def __init__(self, topk=(1,), num_classes=None):
        self.topk, self.num_classes = tuple(topk), num_classes
        self.count, self.loss_sum = 0, 0.0
        self.correct = {k: 0 for k in self.topk}
        self.confusion = None if num_classes is None else xp.zeros((num_classes, num_classes), dtype=xp.int64)

    def update(self, loss, logits, targets):
        n = len(_array(targets))
        self.count += n
        self.loss_sum += float(loss) * n
        for k in self.topk:
            self.correct[k] += topk_correct(logits, targets, k)
        if self.confusion is not None:
            self.confusion += confusion_matrix(_array(logits).argmax(axis=1), targets, self.num_classes)

    def sum_over(self, group):
        """Add up the sums of every process of ``group`` (data-parallel training: each process met its own
        share of the data), so that every process reports the metrics of all of it."""
        totals = host.array([self.count, self.loss_sum, *self.correct.values()], dtype=host.float64)
        group.all_reduce_array(totals)
        self.count, self.loss_sum = int(totals[0]), float(totals[1])
        self.correct = {k: int(v) for k, v in zip(self.topk, totals[2:])}
        if self.confusion is not None:
            self.confusion = xp.asarray(group.all_reduce_array(host.ascontiguousarray(to_host(self.confusion))))
        return self

    def result(self, prefix=""):
        """{'loss': mean loss, 'accuracy': top-1, 'top5': ...} with an optional key prefix ('val_')."""
        out = {f"{prefix}loss": self.loss_sum / self.count if self.count else float("nan")}
        for k in self.topk:
            out[f"{prefix}{'accuracy' if k == 1 else f'top{k}'}"] = self.correct[k] / self.count if self.count else float("nan")
        return out
