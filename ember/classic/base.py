"""What every classical classifier shares: input checks and ``score`` (scikit-learn's shape).

``fit(X, y)`` learns and returns the classifier, ``predict(X)`` gives one label per row, ``score(X, y)`` is
the accuracy: the fraction of rows whose predicted label is the true one. ``X`` is (N, D) — flatten images
first — and ``y`` holds whole-number labels 0..C-1.
"""

from ..backend import xp

__all__ = ["Classifier", "check_data", "accuracy"]


def check_data(X, y=None, who="classifier"):
    """``X`` as a 2-D array (and ``y`` as 1-D integer labels of the same length), or a clear error."""
    X = xp.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"{who}: expected X of shape (N, D), got {tuple(X.shape)}; flatten images first "
                         f"(X.reshape(len(X), -1))")
    if y is None:
        return X
    y = xp.asarray(y)
    if y.ndim != 1 or len(y) != len(X):
        raise ValueError(f"{who}: expected y of shape ({len(X)},) (one label per row of X), got {tuple(y.shape)}")
    if y.dtype.kind not in "iu":
        raise TypeError(f"{who}: expected whole-number class labels in y, got dtype {y.dtype}; "
                        f"use y.astype(int)")
    if len(y) and y.min() < 0:
        raise ValueError(f"{who}: class labels must be 0 or more, got {int(y.min())}")
    return X, y.astype(xp.int64)


def accuracy(predicted, y):
    """The fraction of labels predicted right, as a Python float."""
    return float(xp.mean(xp.asarray(predicted) == xp.asarray(y)))


class Classifier:
    """The common ``score``; subclasses define ``fit`` and ``predict``."""

    def score(self, X, y):
        X, y = check_data(X, y, type(self).__name__)
        return accuracy(self.predict(X), y)

    def _check_fitted(self, attribute):
        if getattr(self, attribute, None) is None:
            raise RuntimeError(f"{type(self).__name__}: call fit(X, y) before predict or score")
