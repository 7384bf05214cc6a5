"""The multiclass SVM (hinge) loss and the softmax (cross-entropy) loss of a linear classifier, with dW.

A linear classifier scores every class with one matrix product, s = X·W: X is (N, D) (a column of ones
appended for the bias: the "bias trick"), W is (D, C), s is (N, C). The loss is the notes' one,

    L = (1/N) Σ_i L_i + λ·R(W),   R(W) = Σ_k Σ_l W_kl²   (λ = ``reg``; so dR/dW = 2·W)

with, for the SVM (margin Δ = 1) and for softmax,

    SVM:      L_i = Σ_{j≠y_i} max(0, s_j - s_{y_i} + Δ)
    softmax:  L_i = -log( e^{s_{y_i}} / Σ_j e^{s_j} )

Each comes twice, as in CS231n's assignment 1: a ``_naive`` version that loops over examples (and classes)
and says the formula plainly, and a vectorised one for training; the tests check that they agree, and
agree with a numerical gradient and with Ember's autograd. Every function returns ``(loss, dW)``.
"""

from ..backend import xp

__all__ = ["svm_loss_naive", "svm_loss", "softmax_loss_naive", "softmax_loss"]

MARGIN = 1.0  # Δ: the SVM wants the right class ahead of every other by at least this much


def svm_loss_naive(W, X, y, reg):
    """Hinge loss and dW with loops. Inputs: W (D, C), X (N, D), y (N,) in 0..C-1, reg = λ.

    A class j ≠ y_i whose margin s_j - s_{y_i} + Δ is positive adds that margin to the loss; its gradient
    pushes W[:, j] by +x_i and W[:, y_i] by -x_i.
    """
    dW = xp.zeros_like(W)
    num_train, num_classes = X.shape[0], W.shape[1]
    loss = 0.0
    for i in range(num_train):
        scores = X[i] @ W  # (C,)
        correct_class_score = scores[y[i]]
        for j in range(num_classes):
            if j == y[i]:
                continue
            margin = scores[j] - correct_class_score + MARGIN
            if margin > 0:
                loss += margin
                dW[:, j] += X[i]
                dW[:, y[i]] -= X[i]
    loss /= num_train
    dW /= num_train
    loss += reg * xp.sum(W * W)
    dW += 2 * reg * W
    return float(loss), dW


def svm_loss(W, X, y, reg):
    """Hinge loss and dW, vectorised: the same numbers as ``svm_loss_naive`` without a Python loop.

    coeff[i, j] = 1 where margin_ij > 0 (j ≠ y_i), and coeff[i, y_i] = -(number of such j): then
    dW = Xᵀ·coeff / N, one matrix product.
    """
    num_train = X.shape[0]
    rows = xp.arange(num_train)
    scores = X @ W  # (N, C)
    correct = scores[rows, y][:, None]  # (N, 1)
    margins = xp.maximum(0, scores - correct + MARGIN)  # (N, C)
    margins[rows, y] = 0  # the right class is not compared with itself
    loss = xp.sum(margins) / num_train + reg * xp.sum(W * W)

    coeff = (margins > 0).astype(W.dtype)  # (N, C)
    coeff[rows, y] = -xp.sum(coeff, axis=1)
    dW = X.T @ coeff / num_train + 2 * reg * W  # (D, C)
    return float(loss), dW


def softmax_loss_naive(W, X, y, reg):
    """Cross-entropy loss and dW with a loop over examples. Inputs as ``svm_loss_naive``.

    The scores are shifted by their maximum before exponentiating: e^{s - max} never overflows, and the
    shift cancels between numerator and denominator. dL_i/ds_j = p_j - [j = y_i].
    """
    dW = xp.zeros_like(W)
    num_train = X.shape[0]
    loss = 0.0
    for i in range(num_train):
        scores = X[i] @ W  # (C,)
        scores = scores - xp.max(scores)
        exp_scores = xp.exp(scores)
        sum_exp = xp.sum(exp_scores)
        probs = exp_scores / sum_exp  # (C,)
        loss += xp.log(sum_exp) - scores[y[i]]  # -log p_{y_i}, without log(0) when p_{y_i} underflows
        dscores = probs.copy()
        dscores[y[i]] -= 1  # p - onehot
        dW += xp.outer(X[i], dscores)  # (D, C)
    loss /= num_train
    dW /= num_train
    loss += reg * xp.sum(W * W)
    dW += 2 * reg * W
    return float(loss), dW


def softmax_loss(W, X, y, reg):
    """Cross-entropy loss and dW, vectorised: log-softmax by the max shift, dW = Xᵀ·(P - Y) / N."""
    num_train = X.shape[0]
    rows = xp.arange(num_train)
    scores = X @ W  # (N, C)
    scores = scores - xp.max(scores, axis=1, keepdims=True)
    log_norm = xp.log(xp.sum(xp.exp(scores), axis=1, keepdims=True))  # (N, 1)
    log_probs = scores - log_norm  # (N, C)
    loss = -xp.sum(log_probs[rows, y]) / num_train + reg * xp.sum(W * W)

    dscores = xp.exp(log_probs)  # P, (N, C)
    dscores[rows, y] -= 1  # P - onehot
    dW = X.T @ dscores / num_train + 2 * reg * W  # (D, C)
    return float(loss), dW
