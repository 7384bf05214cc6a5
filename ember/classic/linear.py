"""Linear classifiers trained by minibatch stochastic gradient descent: ``LinearSVM`` and ``SoftmaxClassifier``.

Both score with s = [x, 1]·W (the bias trick: a constant 1 appended to every input, so the bias is W's last
row) and predict argmax_j s_j; they differ only in the loss they minimise (losses.py). Training, as in
CS231n's ``LinearClassifier.train``:

    W ← 0.001·randn(D + 1, C)
    repeat for every minibatch (a fresh shuffle of the training set each epoch):
        loss, dW = loss_fn(W, X_batch, y_batch, reg)
        W ← W - lr·dW

``loss_history_`` keeps every minibatch's loss, to plot and to see that training goes down.
"""

import math

from ..backend import host, xp
from .base import Classifier, check_data
from .losses import softmax_loss, svm_loss

__all__ = ["LinearClassifier", "LinearSVM", "SoftmaxClassifier", "with_bias"]


def with_bias(X):
    """[X, 1]: a column of ones appended, (N, D) -> (N, D + 1), so that X·W includes the bias row of W."""
    return xp.concatenate([X, xp.ones((X.shape[0], 1), dtype=X.dtype)], axis=1)


def _check_hyper(who, lr, reg, epochs, num_iters, batch_size):
    if not (isinstance(lr, (int, float)) and lr > 0 and math.isfinite(lr)):
        raise ValueError(f"{who}: lr must be a positive number, got {lr!r}")
    if not (isinstance(reg, (int, float)) and reg >= 0 and math.isfinite(reg)):
        raise ValueError(f"{who}: reg must be a number >= 0 (the L2 strength λ), got {reg!r}")
    for name, value in (("epochs", epochs), ("batch_size", batch_size)) + ((("num_iters", num_iters),)
                                                                           if num_iters is not None else ()):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{who}: {name} must be a whole number >= 1, got {value!r}")


class LinearClassifier(Classifier):
    """The shared training loop; a subclass sets ``loss_fn`` (a function (W, X, y, reg) -> (loss, dW)).

    ``lr``: step size; ``reg``: λ in λ·ΣW²; ``epochs``: passes over the training set, unless ``num_iters``
    (minibatch steps) is given; ``batch_size``: examples per step; ``seed``: the initial W and the shuffles.
    """

    loss_fn = None

    def __init__(self, lr=1e-3, reg=1e-5, epochs=10, batch_size=200, num_iters=None, seed=0, dtype="float64"):
        _check_hyper(type(self).__name__, lr, reg, epochs, num_iters, batch_size)
        self.lr, self.reg, self.epochs, self.batch_size = lr, reg, epochs, batch_size
        self.num_iters, self.seed, self.dtype = num_iters, seed, xp.dtype(dtype)
        self.W = None
        self.loss_history_ = []

    def _batches(self, num_train, rng):
        """Index arrays of minibatches: consecutive slices of a fresh permutation each epoch."""
        steps_per_epoch = math.ceil(num_train / self.batch_size)
        total = self.num_iters if self.num_iters is not None else self.epochs * steps_per_epoch
        step = 0
        while step < total:
            order = rng.permutation(num_train)
            for start in range(0, num_train, self.batch_size):
                if step == total:
                    return
                yield xp.asarray(order[start:start + self.batch_size])
                step += 1

    def fit(self, X, y):
        """Minibatch SGD on ``loss_fn`` from a small random W; returns self (the losses in loss_history_)."""
        X, y = check_data(X, y, type(self).__name__)
        if len(X) == 0:
            raise ValueError(f"{type(self).__name__}: fit needs at least one training example, got none")
        X = with_bias(X.astype(self.dtype))  # (N, D + 1)
        num_classes = int(y.max()) + 1
        rng = host.random.default_rng(self.seed)
        self.W = xp.asarray(0.001 * rng.standard_normal((X.shape[1], num_classes))).astype(self.dtype)  # (D+1, C)
        self.loss_history_ = []
        for batch in self._batches(len(X), rng):
            loss, dW = type(self).loss_fn(self.W, X[batch], y[batch], self.reg)
            self.loss_history_.append(loss)
            self.W -= self.lr * dW
        return self

    def decision_function(self, X):
        """The class scores s = [X, 1]·W, (N, C)."""
        self._check_fitted("W")
        X = check_data(X, who=type(self).__name__)
        if X.shape[1] + 1 != self.W.shape[0]:
            raise ValueError(f"{type(self).__name__}: expected {self.W.shape[0] - 1} features per row (as in fit), "
                             f"got {X.shape[1]}")
        return with_bias(X.astype(self.dtype)) @ self.W

    def predict(self, X):
        """argmax_j s_j for each row: the class with the highest score."""
        return xp.argmax(self.decision_function(X), axis=1)


class LinearSVM(LinearClassifier):
    """A linear classifier minimising the multiclass hinge loss (margin 1) + λ·ΣW² by minibatch SGD."""

    loss_fn = staticmethod(svm_loss)


class SoftmaxClassifier(LinearClassifier):
    """A linear classifier minimising the cross-entropy of softmax(s) + λ·ΣW² by minibatch SGD
    (multinomial logistic regression)."""

    loss_fn = staticmethod(softmax_loss)

    def predict_proba(self, X):
        """softmax(s) row by row, (N, C): the class probabilities."""
        scores = self.decision_function(X)
        scores = scores - xp.max(scores, axis=1, keepdims=True)
        exp_scores = xp.exp(scores)
        return exp_scores / xp.sum(exp_scores, axis=1, keepdims=True)
