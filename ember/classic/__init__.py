"""The course's first classifiers, before neural networks (CS231n assignment 1), in scikit-learn's shape.

    KNearestNeighbors   vote of the k nearest training images (L2 or L1); cross_validate_k picks k
    LinearSVM           linear scores, multiclass hinge loss, minibatch SGD
    SoftmaxClassifier   linear scores, cross-entropy of softmax, minibatch SGD
    Perceptron          Rosenblatt's step-activation rule, one-vs-rest

Each has ``fit(X, y)`` (returns self), ``predict(X)`` and ``score(X, y)`` (accuracy), on arrays: X is (N, D).
These are array algorithms, not autograd: the losses return ``(loss, dW)`` with the gradient by hand, in a
loop version and a vectorised one (losses.py), as the assignment has them.
"""

from .distances import (compute_distances_no_loops, compute_distances_one_loop, compute_distances_two_loops,
                        pairwise_distances)
from .knn import KNearestNeighbors, cross_validate_k, majority_vote, plot_cross_validation
from .linear import LinearClassifier, LinearSVM, SoftmaxClassifier
from .losses import softmax_loss, softmax_loss_naive, svm_loss, svm_loss_naive
from .perceptron import Perceptron

__all__ = ["KNearestNeighbors", "cross_validate_k", "plot_cross_validation", "majority_vote",
           "compute_distances_two_loops", "compute_distances_one_loop", "compute_distances_no_loops",
           "pairwise_distances", "svm_loss_naive", "svm_loss", "softmax_loss_naive", "softmax_loss",
           "LinearClassifier", "LinearSVM", "SoftmaxClassifier", "Perceptron"]
