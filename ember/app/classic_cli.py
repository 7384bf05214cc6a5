"""``ember classic {knn,svm,softmax,perceptron}``: the course's first classifiers on an image dataset.

    ember classic knn --dataset mnist --subset 10000 --k 3
    ember classic knn --dataset digits-mini --k-folds 5 --k 1 3 5 8 10 20     (picks k, plots accuracy vs k)
    ember classic svm --dataset fashion-mnist --epochs 5
    ember classic softmax --dataset mnist --lr 0.1 --reg 1e-4
    ember classic perceptron --dataset mnist --epochs 3

The data comes from the same loader as ``ember train`` (recipes.py). Images become rows of D = H·W·C
numbers in [0, 1]; the linear classifiers and the perceptron also subtract the training set's mean image
(CS231n's preprocessing; a shift changes no kNN distance, so kNN skips it). ``--subset N`` trains on N
training images drawn at random (``--seed``); the test set is always whole. Prints the test accuracy.
"""

import argparse
import os

from ..backend import host, xp
from .flags import Rule, type_for
from .recipes import DATASETS, _dataset
from .usage import UsageError

__all__ = ["add_parser", "run", "classic"]

METHODS = ("knn", "svm", "softmax", "perceptron")

#: Defaults per method (tried on DigitsMini and MNIST; the accuracies they reach are in ember/classic/__init__.py).
DEFAULTS = {
    "svm": dict(lr=1e-2, reg=1e-3, epochs=5, batch_size=200),
    "softmax": dict(lr=0.1, reg=1e-4, epochs=5, batch_size=200),
    "perceptron": dict(lr=1.0, epochs=3),
}

#: This command's own numeric flags, with the same kind of rule as flags.RULES.
RULES = {
    "k": Rule(int, low=1, meaning="neighbours that vote"),
    "k_folds": Rule(int, low=2, meaning="cross-validation folds"),
    "subset": Rule(int, low=1, meaning="training images to use", fix="leave --subset out to use them all"),
    "reg": Rule(float, low=0, meaning="the L2 strength λ in λ·ΣW²"),
}


def _rule_type(dest):
    """argparse ``type=`` for one of RULES (the message as flags.parse writes it)."""
    rule, flag = RULES[dest], "--" + dest.replace("_", "-")

    def convert(text):
        try:
            value = int(text, 10) if rule.kind is int else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} must be {rule.expected()} ({rule.meaning}), got {text!r}") from None
        if rule.problem(value) is not None:
            raise argparse.ArgumentTypeError(rule.message(flag, value))
        return value

    convert.__name__ = rule.kind.__name__
    return convert


def add_parser(commands):
    """The ``classic`` subcommand on ``ember``'s subparsers."""
    p = commands.add_parser("classic", help="kNN, linear SVM, softmax or perceptron on an image dataset "
                            "(CS231n assignment 1)")
    p.add_argument("method", choices=METHODS)
    p.add_argument("--dataset", default="mnist", choices=list(DATASETS), help="default mnist")
    p.add_argument("--root", default=None, help="dataset folder (default: $EMBER_DATA or ~/.cache/ember)")
    p.add_argument("--subset", type=_rule_type("subset"), default=None,
                   help="train on this many training images, drawn at random (default: all)")
    p.add_argument("--seed", type=type_for("seed"), default=0, help="the subset, the shuffles, the initial W")
    knn = p.add_argument_group("knn")
    knn.add_argument("--k", type=_rule_type("k"), nargs="+", default=None,
                     help="neighbours that vote (default 1); with --k-folds, the values to compare "
                     "(default 1 3 5 8 10 12 15 20 50 100)")
    knn.add_argument("--metric", choices=("l2", "l1"), default=None, help="distance (default l2)")
    knn.add_argument("--k-folds", type=_rule_type("k_folds"), default=None,
                     help="choose k by cross-validation with this many folds, plot accuracy against k, "
                     "then test with the best k")
    knn.add_argument("--out", default=None, help="where the plot goes (default runs/classic-knn-DATASET)")
    linear = p.add_argument_group("svm, softmax, perceptron")
    linear.add_argument("--lr", type=type_for("lr"), default=None,
                        help="step size (default: svm 0.01, softmax 0.1, perceptron 1)")
    linear.add_argument("--reg", type=_rule_type("reg"), default=None,
                        help="λ in λ·ΣW² (default: svm 1e-3, softmax 1e-4)")
    linear.add_argument("--epochs", type=type_for("epochs"), default=None, help="default: svm/softmax 5, perceptron 3")
    linear.add_argument("--batch-size", type=type_for("batch_size"), default=None, help="default 200")
    return p


def _flatten(dataset):
    """Images (N, H, W[, C]) as float rows (N, D) in [0, 1], and the labels (N,)."""
    images = xp.asarray(dataset.data)
    X = images.reshape(len(images), -1).astype(xp.float32)
    X /= 255.0
    return X, xp.asarray(dataset.targets).astype(xp.int64)


def _only(options, allowed, method):
    stray = [k for k, v in options.items() if v is not None and k not in allowed]
    if stray:
        raise UsageError(f"{', '.join('--' + k.replace('_', '-') for k in stray)} do"
                         f"{'es' if len(stray) == 1 else ''} not apply to {method}")


def classic(method, dataset="mnist", root=None, subset=None, seed=0, k=None, metric=None, k_folds=None,
            out=None, lr=None, reg=None, epochs=None, batch_size=None):
    """Train ``method`` on ``dataset`` and return a dict with the test accuracy (and, for --k-folds, more)."""
    from .. import classic as C

    if method not in METHODS:
        raise UsageError(f"unknown method '{method}'; choose one of: {', '.join(METHODS)}")
    options = dict(k=k, metric=metric, k_folds=k_folds, out=out, lr=lr, reg=reg, epochs=epochs, batch_size=batch_size)
    allowed = {"knn": {"k", "metric", "k_folds", "out"}, "svm": {"lr", "reg", "epochs", "batch_size"},
               "softmax": {"lr", "reg", "epochs", "batch_size"}, "perceptron": {"lr", "epochs"}}[method]
    _only(options, allowed, method)
    if k is not None and len(k) > 1 and k_folds is None:
        raise UsageError("--k takes one value without --k-folds; to compare several, add --k-folds 5")

    X, y = _flatten(_dataset(dataset, True, root))
    X_test, y_test = _flatten(_dataset(dataset, False, root))
    if subset is not None:
        if subset > len(X):
            raise UsageError(f"--subset must be at most the {len(X)} training images of {dataset}, got {subset}")
        chosen = xp.asarray(host.random.default_rng(seed).permutation(len(X))[:subset])
        X, y = X[chosen], y[chosen]
    result = {"method": method, "dataset": dataset, "train_images": int(len(X)), "test_images": int(len(X_test))}

    if method == "knn":
        metric = metric or "l2"
        if k_folds is not None:
            ks = k or [1, 3, 5, 8, 10, 12, 15, 20, 50, 100]
            if k_folds > len(X) or max(ks) > len(X) - -(-len(X) // k_folds):  # the smallest training part of a fold
                raise UsageError(f"--k-folds {k_folds} with --k up to {max(ks)} needs more than the {len(X)} "
                                 f"training images; lower them or raise --subset")
            accuracies = C.cross_validate_k(X, y, ks, folds=k_folds, metric=metric, seed=seed)
            means = {kk: float(xp.mean(a)) for kk, a in accuracies.items()}
            best = max(ks, key=lambda kk: (means[kk], -kk))  # the smaller k among equals
            folder = out or os.path.join("runs", f"classic-knn-{dataset}")
            path = C.plot_cross_validation(accuracies, os.path.join(folder, "k_cross_validation.png"),
                                           title=f"kNN on {dataset} ({len(X)} images, {k_folds} folds, {metric})")
            result.update(cross_validation={kk: [float(v) for v in a] for kk, a in accuracies.items()}, k=best,
                          plot=path)
        else:
            result["k"] = k[0] if k else 1
        result["metric"] = metric
        model = C.KNearestNeighbors(k=result["k"], metric=metric).fit(X, y)
    else:
        settings = {**DEFAULTS[method], **{n: v for n, v in options.items() if v is not None}}
        mean_image = xp.mean(X, axis=0)  # CS231n: centre the data on the training set's mean image
        X, X_test = X - mean_image, X_test - mean_image
        cls = {"svm": C.LinearSVM, "softmax": C.SoftmaxClassifier, "perceptron": C.Perceptron}[method]
        model = cls(seed=seed, **settings).fit(X, y)
        result.update(settings)
        if method == "perceptron":
            result["mistakes_per_epoch"] = list(model.mistakes_)
        else:
            result["final_loss"] = float(xp.mean(xp.asarray(model.loss_history_[-20:])))
    result["test_accuracy"] = model.score(X_test, y_test)
    return result


def run(args):
    """``ember classic ...`` from parsed arguments: prints what was done and the test accuracy."""
    options = {n: v for n, v in vars(args).items() if n not in ("command", "debug")}
    result = classic(**options)
    if "cross_validation" in result:
        for k, accs in result["cross_validation"].items():
            mean = sum(accs) / len(accs)
            std = (sum((a - mean) ** 2 for a in accs) / len(accs)) ** 0.5
            print(f"k = {k:3d}: validation accuracy {mean:.4f} ± {std:.4f}")
        print(f"best k = {result['k']}; plot: {result['plot']}")
    what = {"knn": f"kNN (k={result.get('k')}, {result.get('metric')})", "svm": "linear SVM",
            "softmax": "softmax classifier", "perceptron": "perceptron (one-vs-rest)"}[result["method"]]
    if "final_loss" in result:
        print(f"training loss (last 20 minibatches) {result['final_loss']:.4f}")
    if "mistakes_per_epoch" in result:
        print("training mistakes per epoch: " + ", ".join(str(m) for m in result["mistakes_per_epoch"]))
    print(f"{what} on {result['dataset']}, {result['train_images']} training images: "
          f"test accuracy {result['test_accuracy']:.4f} ({result['test_images']} images)")
    return result
