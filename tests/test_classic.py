"""ember.classic: kNN, the SVM and softmax losses, the linear classifiers and the perceptron, and `ember classic`.

Distances: the three versions (two loops, one loop, none) against each other and against plain-Python brute
force. Losses: naive vs vectorised (float64, 1e-9), vs a central-difference numerical gradient, and vs the
same loss built from Ember ops and differentiated by autograd. Classifiers: well above chance (10 %) on
DigitsMini. The CLI: exit status 0 for every method, 2 for bad flags.
"""

import math

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.cli import main
from ember.classic import (KNearestNeighbors, LinearSVM, Perceptron, SoftmaxClassifier, compute_distances_no_loops,
                           compute_distances_one_loop, compute_distances_two_loops, cross_validate_k, majority_vote,
                           pairwise_distances, plot_cross_validation, softmax_loss, softmax_loss_naive, svm_loss,
                           svm_loss_naive)
from ember.classic import knn as knn_module
from ember.data import datasets as D

from helpers import assert_close


def _brute_distance(a, b, metric):
    if metric == "l2":
        return math.sqrt(sum((float(p) - float(q)) ** 2 for p, q in zip(a, b)))
    return sum(abs(float(p) - float(q)) for p, q in zip(a, b))


@pytest.fixture(scope="module")
def digits():
    """DigitsMini as float rows in [0, 1]: (1600, 784) train, (400, 784) test."""
    train, test = D.DigitsMini(train=True), D.DigitsMini(train=False)
    flat = lambda ds: (ds.data.reshape(len(ds.data), -1).astype(np.float64) / 255, np.asarray(ds.targets))
    return flat(train) + flat(test)


# ---------------------------------------------------------------- distances

@pytest.mark.parametrize("metric", ["l2", "l1"])
def test_three_distance_versions_agree_with_brute_force(metric):
    rng = np.random.default_rng(0)
    X, X_train = rng.normal(size=(7, 5)), rng.normal(size=(9, 5))
    brute = np.array([[_brute_distance(a, b, metric) for b in X_train] for a in X])
    assert_close(compute_distances_two_loops(X, X_train, metric), brute)
    assert_close(compute_distances_one_loop(X, X_train, metric), brute)
    assert_close(pairwise_distances(X, X_train, metric), brute)
    if metric == "l2":
        assert_close(compute_distances_no_loops(X, X_train), brute)
    else:  # a block size that forces several blocks, one of them short
        assert_close(pairwise_distances(X, X_train, "l1", max_elements=2 * X_train.size), brute)


@pytest.mark.parametrize("metric", ["l2", "l1"])
def test_distances_of_uint8_pixels_do_not_wrap_around(metric):
    X, X_train = np.array([[3, 250]], dtype=np.uint8), np.array([[5, 0], [3, 250]], dtype=np.uint8)
    expected = [[math.hypot(2, 250), 0.0]] if metric == "l2" else [[252.0, 0.0]]
    for version in (compute_distances_two_loops, compute_distances_one_loop, pairwise_distances):
        assert_close(version(X, X_train, metric), np.array(expected))


def test_no_loop_l2_never_goes_negative_for_identical_rows():
    X = np.random.default_rng(1).normal(size=(4, 30)) * 1e3
    d = compute_distances_no_loops(X, X)
    assert np.all(d >= 0) and np.all(np.isfinite(d))
    assert np.allclose(np.diag(d), 0, atol=1e-4)


def test_distances_refuse_bad_shapes_and_metrics():
    with pytest.raises(ValueError, match="same D"):
        pairwise_distances(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="metric"):
        pairwise_distances(np.zeros((2, 3)), np.zeros((2, 3)), metric="cosine")


# ---------------------------------------------------------------- kNN

def test_majority_vote_breaks_ties_towards_the_smallest_label():
    closest_y = np.array([[2, 1, 2, 1], [0, 3, 3, 0], [4, 4, 1, 2], [5, 5, 5, 5]])
    assert majority_vote(closest_y, 6).tolist() == [1, 0, 4, 5]


def _brute_knn(X_train, y_train, X, k, metric):
    labels = []
    for a in X:
        order = sorted(range(len(X_train)), key=lambda j: (_brute_distance(a, X_train[j], metric), j))[:k]
        votes = [int(y_train[j]) for j in order]
        labels.append(min(set(votes), key=lambda c: (-votes.count(c), c)))
    return labels


@pytest.mark.parametrize("metric", ["l2", "l1"])
@pytest.mark.parametrize("k", [1, 3, 4, 7])
def test_knn_predicts_as_brute_force(metric, k, monkeypatch):
    rng = np.random.default_rng(k)
    X_train, y_train = rng.normal(size=(40, 6)), rng.integers(0, 4, size=40)
    X = rng.normal(size=(13, 6))
    monkeypatch.setattr(knn_module, "ROWS_PER_BLOCK", 5)  # several blocks, the last one short
    predicted = KNearestNeighbors(k=k, metric=metric).fit(X_train, y_train).predict(X)
    assert predicted.tolist() == _brute_knn(X_train, y_train, X, k, metric)


def test_one_nearest_neighbour_remembers_its_training_set():
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(30, 4)), rng.integers(0, 5, size=30)
    assert KNearestNeighbors(k=1).fit(X, y).score(X, y) == 1.0


def test_cross_validate_k_equals_fitting_each_fold_by_hand():
    rng = np.random.default_rng(4)
    X, y = rng.normal(size=(23, 3)), rng.integers(0, 3, size=23)
    ks = [1, 2, 5]
    result = cross_validate_k(X, y, ks, folds=4)
    assert sorted(result) == ks and all(result[k].shape == (4,) for k in ks)
    folds = np.array_split(np.arange(23), 4)
    for f, val in enumerate(folds):
        train = np.concatenate([idx for g, idx in enumerate(folds) if g != f])
        for k in ks:
            expected = KNearestNeighbors(k=k).fit(X[train], y[train]).score(X[val], y[val])
            assert result[k][f] == pytest.approx(expected)


def test_knn_refuses_bad_arguments():
    with pytest.raises(ValueError, match="k must be"):
        KNearestNeighbors(k=0)
    with pytest.raises(ValueError, match="metric"):
        KNearestNeighbors(metric="cosine")
    with pytest.raises(RuntimeError, match="call fit"):
        KNearestNeighbors().predict(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="flatten"):
        KNearestNeighbors().fit(np.zeros((3, 2, 2)), np.zeros(3, dtype=int))
    with pytest.raises(TypeError, match="whole-number"):
        KNearestNeighbors().fit(np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="folds"):
        cross_validate_k(np.zeros((3, 2)), np.zeros(3, dtype=int), [1], folds=1)


def test_cross_validation_plot_is_written(tmp_path):
    path = plot_cross_validation({1: np.array([0.8, 0.9]), 3: np.array([0.7, 0.75])}, str(tmp_path / "a" / "k.png"))
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["k.png"]  # no temporary file left behind


# ---------------------------------------------------------------- losses

def _problem(seed=0, N=9, D=6, C=4):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(D, C)) * 0.5, rng.normal(size=(N, D)), rng.integers(0, C, size=N)


def _numerical_gradient(loss_fn, W, X, y, reg, h=1e-5):
    grad = np.zeros_like(W)
    for idx in np.ndindex(*W.shape):
        old = W[idx]
        W[idx] = old + h
        plus = loss_fn(W, X, y, reg)[0]
        W[idx] = old - h
        minus = loss_fn(W, X, y, reg)[0]
        W[idx] = old
        grad[idx] = (plus - minus) / (2 * h)
    return grad


def _autograd_loss(kind, W, X, y, reg):
    """The same loss from Ember ops; returns (loss, dW) by autograd."""
    Wt = ember.tensor(W, requires_grad=True)
    scores = ember.tensor(X) @ Wt  # (N, C)
    if kind == "svm":
        target = ember.tensor(y.reshape(-1, 1))
        correct = scores.gather(1, target)  # (N, 1)
        not_target = ember.tensor(1.0 - np.eye(W.shape[1])[y])  # the right class is not compared with itself
        data_loss = (F.relu(scores - correct + 1.0) * not_target).sum() / X.shape[0]
    else:
        data_loss = F.cross_entropy(scores, ember.tensor(y))
    loss = data_loss + reg * (Wt * Wt).sum()
    loss.backward()
    return float(loss.item()), Wt.grad.array


@pytest.mark.parametrize("kind", ["svm", "softmax"])
@pytest.mark.parametrize("reg", [0.0, 0.1])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_losses_naive_vectorised_numerical_and_autograd_agree(kind, reg, seed):
    naive, fast = (svm_loss_naive, svm_loss) if kind == "svm" else (softmax_loss_naive, softmax_loss)
    W, X, y = _problem(seed)
    loss_naive, dW_naive = naive(W, X, y, reg)
    loss_fast, dW_fast = fast(W, X, y, reg)
    assert loss_fast == pytest.approx(loss_naive, rel=1e-9)
    assert_close(dW_fast, dW_naive)
    loss_auto, dW_auto = _autograd_loss(kind, W, X, y, reg)
    assert loss_auto == pytest.approx(loss_naive, rel=1e-9)
    assert_close(dW_auto, dW_naive)
    # a central difference is O(h²) accurate, and the hinge is smooth away from its kinks (none hit here)
    assert_close(_numerical_gradient(fast, W, X, y, reg), dW_fast, rtol=1e-6, atol=1e-8)


def test_losses_at_zero_weights():
    """W = 0: every score is 0, so each SVM margin is Δ = 1 (loss C - 1) and softmax is uniform (loss log C)."""
    W, X, y = _problem(3, C=5)
    W[:] = 0
    assert svm_loss(W, X, y, 0.5)[0] == pytest.approx(4.0)
    assert softmax_loss(W, X, y, 0.5)[0] == pytest.approx(math.log(5))


def test_svm_loss_on_the_lecture_example():
    """CS231n's cat / car / frog scores: L_i = 2.9, 0 and 12.9 (mean 5.27); X = I makes the scores W's rows."""
    W = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
    X, y = np.eye(3), np.array([0, 1, 2])
    for i, expected in enumerate([2.9, 0.0, 12.9]):
        assert svm_loss(W, X[i:i + 1], y[i:i + 1], 0.0)[0] == pytest.approx(expected)
        assert svm_loss_naive(W, X[i:i + 1], y[i:i + 1], 0.0)[0] == pytest.approx(expected)
    assert svm_loss(W, X, y, 0.0)[0] == pytest.approx(15.8 / 3)


def test_regulariser_is_reg_times_sum_of_squares():
    W, X, y = _problem(4)
    for loss_fn in (svm_loss, softmax_loss, svm_loss_naive, softmax_loss_naive):
        (l0, d0), (l1, d1) = loss_fn(W, X, y, 0.0), loss_fn(W, X, y, 0.3)
        assert l1 - l0 == pytest.approx(0.3 * np.sum(W * W), rel=1e-9)
        assert_close(d1 - d0, 2 * 0.3 * W)


def test_softmax_loss_is_stable_for_huge_scores():
    W, X, y = _problem(5)
    (loss, dW), (loss_naive, dW_naive) = (f(W * 1e4, X, y, 0.0) for f in (softmax_loss, softmax_loss_naive))
    assert math.isfinite(loss) and np.all(np.isfinite(dW)) and loss > 100  # confidently wrong somewhere
    assert loss_naive == pytest.approx(loss, rel=1e-9)
    assert_close(dW_naive, dW)


def test_float32_losses_stay_float32():
    W, X, y = (a.astype(np.float32) if a.dtype.kind == "f" else a for a in _problem(6))
    for loss_fn in (svm_loss, softmax_loss):
        assert loss_fn(W, X, y, 1e-3)[1].dtype == np.float32


# ---------------------------------------------------------------- classifiers on DigitsMini (chance: 10 %)

def test_knn_on_digits_mini(digits):
    X, y, X_test, y_test = digits
    assert KNearestNeighbors(k=1).fit(X, y).score(X_test, y_test) > 0.8
    assert KNearestNeighbors(k=3, metric="l1").fit(X, y).score(X_test, y_test) > 0.8


@pytest.mark.parametrize("cls, settings", [(LinearSVM, dict(lr=1e-2, reg=1e-3, epochs=5)),
                                           (SoftmaxClassifier, dict(lr=0.1, reg=1e-4, epochs=5))])
def test_linear_classifiers_on_digits_mini(digits, cls, settings):
    X, y, X_test, y_test = digits
    mean = X.mean(axis=0)
    model = cls(**settings).fit(X - mean, y)
    assert model.score(X_test - mean, y_test) > 0.7
    history = model.loss_history_
    assert len(history) == 5 * math.ceil(1600 / 200)
    assert np.mean(history[-5:]) < 0.5 * np.mean(history[:5])  # training brings the loss down
    again = cls(**settings).fit(X - mean, y)
    assert np.array_equal(again.W, model.W)  # the seed fixes everything


def test_num_iters_overrides_epochs_and_softmax_gives_probabilities(digits):
    X, y, X_test, _ = digits
    model = SoftmaxClassifier(lr=0.1, epochs=50, num_iters=7, batch_size=64).fit(X, y)
    assert len(model.loss_history_) == 7
    proba = model.predict_proba(X_test[:5])
    assert proba.shape == (5, 10) and np.allclose(proba.sum(axis=1), 1)
    assert np.array_equal(np.argmax(proba, axis=1), model.predict(X_test[:5]))


def test_perceptron_on_digits_mini(digits):
    X, y, X_test, y_test = digits
    mean = X.mean(axis=0)
    model = Perceptron(epochs=3).fit(X - mean, y)
    assert model.score(X_test - mean, y_test) > 0.7
    assert len(model.mistakes_) == 3 and model.mistakes_[-1] < model.mistakes_[0]


def test_perceptron_stops_making_mistakes_on_separable_data():
    """Novikoff: linearly separable classes are learned in finitely many updates."""
    rng = np.random.default_rng(7)
    centres = np.array([[5.0, 0.0], [-5.0, 5.0], [-5.0, -5.0]])
    y = rng.integers(0, 3, size=90)
    X = centres[y] + rng.uniform(-1, 1, size=(90, 2))
    model = Perceptron(epochs=20).fit(X, y)
    assert model.mistakes_[-1] == 0 and model.score(X, y) == 1.0


def test_classifiers_refuse_bad_arguments():
    with pytest.raises(ValueError, match="lr"):
        LinearSVM(lr=-1)
    with pytest.raises(ValueError, match="reg"):
        SoftmaxClassifier(reg=-0.1)
    with pytest.raises(ValueError, match="epochs"):
        Perceptron(epochs=0)
    with pytest.raises(RuntimeError, match="call fit"):
        LinearSVM().predict(np.zeros((1, 3)))
    model = LinearSVM(num_iters=1).fit(np.zeros((4, 3)), np.array([0, 1, 0, 1]))
    with pytest.raises(ValueError, match="expected 3 features"):
        model.predict(np.zeros((2, 5)))


# ---------------------------------------------------------------- the CLI

@pytest.mark.parametrize("method", ["knn", "svm", "softmax", "perceptron"])
def test_cli_runs_each_method(method, capsys):
    assert main(["classic", method, "--dataset", "digits-mini", "--subset", "800"]) == 0
    out = capsys.readouterr().out
    accuracy = float(out.split("test accuracy ")[1].split()[0])
    assert accuracy > 0.6


def test_cli_k_folds_writes_the_plot(tmp_path, capsys):
    args = ["classic", "knn", "--dataset", "digits-mini", "--subset", "500", "--k-folds", "3", "--k", "1", "3", "7",
            "--out", str(tmp_path)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "best k =" in out and (tmp_path / "k_cross_validation.png").exists()


@pytest.mark.parametrize("args, message", [
    (["knn", "--k", "0"], "--k must be"),
    (["knn", "--reg", "1"], "--reg does not apply to knn"),
    (["knn", "--k", "1", "3"], "--k-folds"),
    (["svm", "--k", "3"], "--k does not apply to svm"),
    (["softmax", "--subset", "99999"], "--subset must be at most"),
    (["perceptron", "--reg", "0.1"], "--reg does not apply to perceptron"),
    (["svm", "--lr", "-1"], "--lr must be"),
])
def test_cli_refuses_bad_flags(args, message, capsys):
    assert main(["classic", *args, "--dataset", "digits-mini"]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
