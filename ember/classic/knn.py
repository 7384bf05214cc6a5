"""k-nearest neighbours: remember the training set, label a point by a vote of the k closest training points.

Training is nothing but memorising ``X_train`` and ``y_train`` (O(1)); prediction is all the work (O(N·D)
per test point), the opposite of what we want from a classifier, and why the course moves on to linear
classifiers. A test point's label:

    nearest = the k training rows with the smallest d(x, X_train[j])      (distances.py: L2 or L1)
    label   = the most common label among them; a tie goes to the smallest label

``cross_validate_k`` chooses k the way the notes say hyper-parameters are chosen: split the training data
into folds, train on all folds but one, measure accuracy on the one held out, and average over the folds.
"""

from ..backend import host, xp
from ..tools.figure import save_figure
from .base import Classifier, accuracy, check_data
from .distances import METRICS, pairwise_distances

__all__ = ["KNearestNeighbors", "nearest_indices", "majority_vote", "cross_validate_k", "plot_cross_validation"]

#: Test rows whose distances are computed at once: bounds the (rows, N) matrix, not the result.
ROWS_PER_BLOCK = 1000


def nearest_indices(dists, k):
    """Column indices of the k smallest entries of each row of ``dists`` (M, N), nearest first: (M, k).

    ``argpartition`` finds the k smallest in O(N) per row; only those k are then sorted. (Which of several
    training points at exactly the k-th distance is kept is up to the partition.)
    """
    k = min(k, dists.shape[1])
    if k < dists.shape[1]:
        part = xp.argpartition(dists, k - 1, axis=1)[:, :k]  # (M, k), unordered
    else:
        part = xp.broadcast_to(xp.arange(k), dists.shape)
    order = xp.argsort(xp.take_along_axis(dists, part, axis=1), axis=1, kind="stable")  # (M, k)
    return xp.take_along_axis(part, order, axis=1)


def majority_vote(closest_y, num_classes):
    """The most common label in each row of ``closest_y`` (M, k); ties go to the smallest label.

    counts[i, c] = how many of row i's neighbours have label c; ``argmax`` returns the first of equal
    maxima, which is the smallest label.
    """
    counts = (closest_y[:, :, None] == xp.arange(num_classes)).sum(axis=1)  # (M, k, C) -> (M, C)
    return xp.argmax(counts, axis=1)


class KNearestNeighbors(Classifier):
    """kNN classifier. ``k``: neighbours that vote; ``metric``: 'l2' (Euclidean) or 'l1' (Manhattan).

    >>> knn = KNearestNeighbors(k=5).fit(X_train, y_train)     # X: (N, D), y: (N,)
    >>> knn.score(X_test, y_test)                              # accuracy
    """

    def __init__(self, k=1, metric="l2"):
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"KNearestNeighbors: k must be a whole number >= 1, got {k!r}")
        if metric not in METRICS:
            raise ValueError(f"KNearestNeighbors: metric must be one of {METRICS}, got {metric!r}")
        self.k, self.metric = k, metric
        self.X_train = self.y_train = None

    def fit(self, X, y):
        """Memorise the training data (that is all kNN's training is)."""
        self.X_train, self.y_train = check_data(X, y, "KNearestNeighbors")
        if len(self.y_train) == 0:
            raise ValueError("KNearestNeighbors: fit needs at least one training example, got none")
        self.num_classes = int(self.y_train.max()) + 1
        return self

    def predict(self, X, k=None):
        """One label per row of X (M, D), by a vote of its k nearest training rows (``k`` overrides self.k)."""
        self._check_fitted("X_train")
        X = check_data(X, who="KNearestNeighbors")
        k = self.k if k is None else k
        labels = xp.empty(len(X), dtype=xp.int64)
        for start in range(0, len(X), ROWS_PER_BLOCK):  # the (M, N) matrix for all of MNIST is 800 MB: in blocks
            dists = pairwise_distances(X[start:start + ROWS_PER_BLOCK], self.X_train, self.metric)  # (m, N)
            closest_y = self.y_train[nearest_indices(dists, k)]  # (m, k)
            labels[start:start + ROWS_PER_BLOCK] = majority_vote(closest_y, self.num_classes)
        return labels


def cross_validate_k(X, y, ks, folds=5, metric="l2", seed=None):
    """Accuracy of kNN for every k in ``ks`` on every one of ``folds`` held-out folds: {k: array (folds,)}.

    The training data is split into ``folds`` equal parts (in order, as in the assignment; shuffled first
    when a ``seed`` is given). For fold f, the other folds are the training set and fold f the validation
    set. The distances of a fold are computed once and serve every k: the k nearest are the first k of
    the max(ks) nearest.
    """
    X, y = check_data(X, y, "cross_validate_k")
    ks = [int(k) for k in ks]
    if not ks or min(ks) < 1:
        raise ValueError(f"cross_validate_k: ks must be whole numbers >= 1, got {ks}")
    if not 2 <= folds <= len(X):
        raise ValueError(f"cross_validate_k: folds must be between 2 and the {len(X)} examples, got {folds}")
    order = xp.arange(len(X))
    if seed is not None:
        order = xp.asarray(host.random.default_rng(seed).permutation(len(X)))
    fold_indices = xp.array_split(order, folds)
    num_classes = int(y.max()) + 1
    accuracies = {k: xp.zeros(folds) for k in ks}
    for f, val in enumerate(fold_indices):
        train = xp.concatenate([idx for g, idx in enumerate(fold_indices) if g != f])
        if max(ks) > len(train):
            raise ValueError(f"cross_validate_k: k={max(ks)} is more than the {len(train)} training examples of a fold")
        nearest = xp.empty((len(val), max(ks)), dtype=xp.int64)
        for start in range(0, len(val), ROWS_PER_BLOCK):
            dists = pairwise_distances(X[val[start:start + ROWS_PER_BLOCK]], X[train], metric)  # (m, N_train)
            nearest[start:start + ROWS_PER_BLOCK] = nearest_indices(dists, max(ks))
        closest_y = y[train][nearest]  # (N_val, max k), nearest first
        for k in ks:
            accuracies[k][f] = accuracy(majority_vote(closest_y[:, :k], num_classes), y[val])
    return accuracies


def plot_cross_validation(accuracies, path, title="kNN: cross-validation accuracy against k"):
    """The assignment's plot: every fold's accuracy as a dot, and the mean ± std over folds as error bars.

    Written to ``path`` (PNG) under a temporary name first, so a crash never leaves half a picture.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError("plot_cross_validation needs matplotlib: pip install 'ember[plot]'") from error
    ks = sorted(accuracies)
    means = [float(xp.mean(accuracies[k])) for k in ks]
    stds = [float(xp.std(accuracies[k])) for k in ks]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for k in ks:
        ax.scatter([k] * len(accuracies[k]), accuracies[k], color="tab:gray", s=12, alpha=0.7)
    ax.errorbar(ks, means, yerr=stds, color="tab:blue", marker="o", capsize=4, label="mean ± std over folds")
    best = ks[int(xp.argmax(xp.asarray(means)))]
    ax.axvline(best, color="tab:green", linestyle=":", label=f"best k = {best}")
    ax.set(xlabel="k (neighbours that vote)", ylabel="validation accuracy", title=title)
    ax.legend()
    fig.tight_layout()
    try:
        save_figure(fig, path, dpi=110)
    finally:
        plt.close(fig)
    return path
