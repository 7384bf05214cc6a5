"""Rosenblatt's perceptron (1958): a linear unit with a step activation, learning from its mistakes.

One perceptron answers a yes/no question. With the bias trick (x ← [x, 1]) it outputs

    ŷ = step(w·x),   step(z) = 1 if z > 0 else 0       (the notes: threshold 0, output 1 or 0)

and Rosenblatt's rule changes w only when ŷ is wrong, one example at a time:

    w ← w + η·(t - ŷ)·x          (t ∈ {0, 1} the target; no change when t = ŷ)

For C classes this is **one-vs-rest**: C perceptrons side by side, the c-th asked "is it class c?" (target
t_c = [y = c]), all updated by the rule above on every example (a matrix W of shape (D + 1, C), one
column each). Several may say yes, or none, so the predicted class is the one whose perceptron is most
sure: argmax_c w_c·x, the raw score before the step. If the classes can be separated from the rest by a
hyperplane, each perceptron stops making mistakes after finitely many updates (Novikoff's theorem); on
real data they never quite do, so training runs a fixed number of epochs.
"""

from ..backend import host, xp
from .base import Classifier, check_data
from .linear import with_bias

__all__ = ["Perceptron", "step"]


def step(z):
    """The Heaviside step activation: 1 where z > 0, else 0 (in z's dtype)."""
    return (z > 0).astype(z.dtype)


class Perceptron(Classifier):
    """Multiclass perceptron, one-vs-rest, trained online by Rosenblatt's rule.

    ``lr``: η; ``epochs``: passes over the data, each in a fresh random order (``seed``).
    ``mistakes_`` counts, per epoch, the examples on which at least one of the C perceptrons was wrong.
    """

    def __init__(self, lr=1.0, epochs=5, seed=0, dtype="float64"):
        if not (isinstance(lr, (int, float)) and lr > 0):
            raise ValueError(f"Perceptron: lr must be a positive number, got {lr!r}")
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"Perceptron: epochs must be a whole number >= 1, got {epochs!r}")
        self.lr, self.epochs, self.seed, self.dtype = lr, epochs, seed, xp.dtype(dtype)
        self.W = None
        self.mistakes_ = []

    def fit(self, X, y):
        """Rosenblatt's rule over the data ``epochs`` times, from W = 0; returns self."""
        X, y = check_data(X, y, "Perceptron")
        if len(X) == 0:
            raise ValueError("Perceptron: fit needs at least one training example, got none")
        X = with_bias(X.astype(self.dtype))  # (N, D + 1)
        num_classes = int(y.max()) + 1
        targets = (y[:, None] == xp.arange(num_classes)).astype(self.dtype)  # (N, C): t_c = [y = c]
        self.W = xp.zeros((X.shape[1], num_classes), dtype=self.dtype)  # (D + 1, C)
        rng = host.random.default_rng(self.seed)
        self.mistakes_ = []
        for _ in range(self.epochs):
            mistakes = 0
            for i in rng.permutation(len(X)):  # online: each update changes the next prediction
                x = X[i]  # (D + 1,)
                error = targets[i] - step(x @ self.W)  # (C,): t - ŷ, in {-1, 0, 1}
                if error.any():
                    self.W += self.lr * xp.outer(x, error)  # every wrong perceptron moves towards its target
                    mistakes += 1
            self.mistakes_.append(mistakes)
        return self

    def decision_function(self, X):
        """The C perceptrons' raw scores w_c·[x, 1], (N, C)."""
        self._check_fitted("W")
        X = check_data(X, who="Perceptron")
        if X.shape[1] + 1 != self.W.shape[0]:
            raise ValueError(f"Perceptron: expected {self.W.shape[0] - 1} features per row (as in fit), "
                             f"got {X.shape[1]}")
        return with_bias(X.astype(self.dtype)) @ self.W

    def predict(self, X):
        """The class whose perceptron scores highest (its step output alone could tie)."""
        return xp.argmax(self.decision_function(X), axis=1)
