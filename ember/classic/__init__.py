"""The course's first classifiers, before neural networks (CS231n assignment 1), in scikit-learn's shape.

    KNearestNeighbors   vote of the k nearest training images (L2 or L1); cross_validate_k picks k
    LinearSVM           linear scores, multiclass hinge loss, minibatch SGD
    SoftmaxClassifier   linear scores, cross-entropy of softmax, minibatch SGD
    Perceptron          Rosenblatt's step-activation rule, one-vs-rest

Each has ``fit(X, y)`` (returns self), ``predict(X)`` and ``score(X, y)`` (accuracy), on arrays: X is (N, D).
These are array algorithms, not autograd: the losses return ``(loss, dW)`` with the gradient by hand, in a
loop version and a vectorised one (losses.py), as the assignment has them.

What they reach on the whole 10,000-image test sets, pixels in [0, 1] (``ember classic METHOD --dataset ...``
with its defaults; kNN on 10,000 training images drawn at random, the linear ones on all 60,000, 5 epochs;
the perceptron 3 epochs); LeNet-5, a small CNN, gets 99.2 % on MNIST:

    method                         MNIST    Fashion-MNIST
    kNN, k=1, L2 (10k images)      94.9 %   81.7 %
    kNN, k=3, L2 (all 60k)         97.1 %
    linear SVM                     91.0 %   82.7 %
    softmax                        91.1 %   84.0 %
    perceptron (one-vs-rest)       87.0 %   81.2 %
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
