"""Distances between every test row and every training row, three ways (CS231n assignment 1, kNN).

Each function takes ``X`` of shape (M, D) (the test points) and ``X_train`` of shape (N, D), and returns
``dists`` of shape (M, N) with ``dists[i, j]`` the distance from ``X[i]`` to ``X_train[j]``:

    L2 (Euclidean):  d(a, b) = sqrt( Σ_p (a_p - b_p)² )
    L1 (Manhattan):  d(a, b) = Σ_p |a_p - b_p|

The two-loop and one-loop versions are the reference the fast one is checked against; they say the formula
plainly and are far too slow for MNIST. ``pairwise_distances`` is the one kNN uses:

- L2 with no loop at all: expand the square, ‖a - b‖² = ‖a‖² + ‖b‖² - 2·a·b, so the whole (M, N) matrix is
  two row-norm vectors and one matrix product (BLAS). Rounding can make a tiny distance come out slightly
  negative before the square root: clip it at zero.
- L1 has no such identity, so it broadcasts (M, 1, D) against (1, N, D); done for a block of test rows at a
  time, sized so that the (rows, N, D) temporary stays under ``max_elements`` numbers.
"""

from ..backend import xp

__all__ = ["METRICS", "compute_distances_two_loops", "compute_distances_one_loop", "compute_distances_no_loops",
           "pairwise_distances"]

METRICS = ("l2", "l1")

#: The largest temporary the chunked L1 builds: 2²² numbers (32 MiB in float64).
MAX_ELEMENTS = 1 << 22


def _check(X, X_train, metric):
    if metric not in METRICS:
        raise ValueError(f"distances: metric must be one of {METRICS}, got {metric!r}")
    if X.ndim != 2 or X_train.ndim != 2 or X.shape[1] != X_train.shape[1]:
        raise ValueError(
            f"distances: expected X of shape (M, D) and X_train of shape (N, D) with the same D, got "
            f"{tuple(X.shape)} and {tuple(X_train.shape)}; flatten images first (X.reshape(len(X), -1))"
        )


def _float(X):
    """Pixels are often uint8: subtracting two of those wraps around (3 - 5 = 254), so compute in floats."""
    return X if X.dtype.kind == "f" else X.astype(xp.float64)


def compute_distances_two_loops(X, X_train, metric="l2"):
    """dists[i, j] = d(X[i], X_train[j]), one pair at a time (the definition, as a double loop)."""
    _check(X, X_train, metric)
    X, X_train = _float(X), _float(X_train)
    dists = xp.zeros((X.shape[0], X_train.shape[0]), dtype=xp.result_type(X, X_train))  # (M, N)
    for i in range(X.shape[0]):
        for j in range(X_train.shape[0]):
            diff = X[i] - X_train[j]  # (D,)
            dists[i, j] = xp.sqrt(xp.sum(diff * diff)) if metric == "l2" else xp.sum(xp.abs(diff))
    return dists


def compute_distances_one_loop(X, X_train, metric="l2"):
    """One test row against the whole training set at once, by broadcasting (N, D) - (D,)."""
    _check(X, X_train, metric)
    X, X_train = _float(X), _float(X_train)
    dists = xp.zeros((X.shape[0], X_train.shape[0]), dtype=xp.result_type(X, X_train))  # (M, N)
    for i in range(X.shape[0]):
        diff = X_train - X[i]  # (N, D)
        dists[i] = xp.sqrt(xp.sum(diff * diff, axis=1)) if metric == "l2" else xp.sum(xp.abs(diff), axis=1)
    return dists


def compute_distances_no_loops(X, X_train):
    """L2 without a loop: sqrt(‖a‖² + ‖b‖² - 2·a·b), one matrix product for all M·N pairs."""
    _check(X, X_train, "l2")
    X, X_train = _float(X), _float(X_train)
    test_sq = xp.sum(X * X, axis=1)[:, None]  # (M, 1)
    train_sq = xp.sum(X_train * X_train, axis=1)[None, :]  # (1, N)
    squared = test_sq + train_sq - 2 * (X @ X_train.T)  # (M, N)
    return xp.sqrt(xp.maximum(squared, 0, out=squared), out=squared)


def _l1_chunked(X, X_train, max_elements):
    dists = xp.empty((X.shape[0], X_train.shape[0]), dtype=xp.result_type(X, X_train))  # (M, N)
    rows = max(1, max_elements // max(1, X_train.size))  # test rows per block
    for start in range(0, X.shape[0], rows):
        block = X[start:start + rows, None, :]  # (r, 1, D)
        dists[start:start + rows] = xp.sum(xp.abs(block - X_train[None, :, :]), axis=2)  # (r, N, D) -> (r, N)
    return dists


def pairwise_distances(X, X_train, metric="l2", max_elements=MAX_ELEMENTS):
    """The (M, N) distance matrix, fast: L2 by the no-loop identity, L1 by broadcasting in bounded blocks."""
    _check(X, X_train, metric)
    X, X_train = _float(X), _float(X_train)
    if metric == "l2":
        return compute_distances_no_loops(X, X_train)
    return _l1_chunked(X, X_train, max_elements)
