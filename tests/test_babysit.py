"""ember.tools.babysit and `ember check`: every check passes on a healthy LeNet-5 and fails on the broken ones.

The data is DigitsMini (it ships with Ember): the training split ``ember train --dataset digits-mini`` uses.
The broken networks are the ones the issue names: every bias at -10 (dead ReLUs), every parameter at 0
(symmetry), and a learning rate of 10. The overfit runs of the broken networks get 10 steps instead of 200
(to keep the tests fast): the healthy network needs about 60, and a broken one stays at chance however
long it runs (200 steps were seen to end at 20 % for each).
"""

import json
import math
import subprocess
import sys

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember import backend
from ember.app.optimizers import make_optimizer
from ember.app.probes import build_model, training_data
from ember.cli import main
from ember.tools import babysit as B

SHORT = 10  # overfit steps for networks that must fail


@pytest.fixture(scope="module")
def data():
    d = training_data("digits-mini", seed=0)
    images, labels = d.batch(64)
    return d, images, labels


def lenet(data, seed=0):
    backend.manual_seed(seed)
    return build_model("lenet5", data[0].info)


def sgd(lr=0.01):
    return lambda params: make_optimizer("sgd", params, lr, 0.9, 0.0)


def weights_of(model):
    return {k: v.array.copy() for k, v in model.state_dict().items()}


@pytest.fixture(scope="module")
def healthy(data):
    model = lenet(data)
    before = weights_of(model)
    report = B.babysit(model, data[1], data[2], sgd())
    return model, before, report


# ---- a healthy LeNet-5 passes every check, with the numbers the notes predict -----------------------------


def test_healthy_lenet_passes_every_check(healthy):
    _, _, report = healthy
    assert [c.name for c in report.checks] == list(B.CHECKS)
    assert report.passed and report.failed == [], str(report)
    assert "all checks passed" in str(report)


def test_healthy_numbers(healthy):
    _, _, report = healthy
    initial = report["initial-loss"].values
    assert initial["expected"] == pytest.approx(math.log(10))
    assert abs(initial["loss"] - math.log(10)) < 0.05  # small random weights: every digit about equally likely
    reg = report["regularization"].values
    assert reg["regularized_loss"] == pytest.approx(reg["data_loss"] + reg["penalty"])
    assert reg["penalty"] > 1  # ½‖W‖² of LeNet-5's default initialisation is about 40
    overfit = report["overfit"].values
    assert overfit["best_accuracy"] == 1.0 and 1 < overfit["steps"] <= 200
    grads = report["gradcheck"].values["errors"]
    assert len(grads) == 10 and max(grads.values()) < 1e-6  # five weights and five biases
    ratios = report["update-ratio"].values["ratios"]
    assert set(ratios) == {"features.0.weight", "features.3.weight", "classifier.1.weight",
                           "classifier.3.weight", "classifier.5.weight"}
    assert all(1e-4 <= r <= 1e-2 for r in ratios.values())


def test_checks_leave_the_model_as_it_was(healthy):
    model, before, _ = healthy
    after = weights_of(model)
    assert before.keys() == after.keys()
    assert all(np.array_equal(before[k], after[k]) for k in before)
    assert all(p.grad is None or not p.grad.array.any() for p in model.parameters())
    assert all(p.dtype == np.float32 for p in model.parameters())  # the float64 gradcheck ran on a copy


def test_report_api(healthy):
    _, _, report = healthy
    d = report.to_dict()
    assert d["passed"] is True and [c["name"] for c in d["checks"]] == list(B.CHECKS)
    assert str(report).count("PASS") == 5
    with pytest.raises(KeyError, match="no check named"):
        report["nope"]


# ---- each check fails where it must -------------------------------------------------------------------------


def test_initial_loss_fails_for_overconfident_weights(data):
    model = lenet(data)
    with ember.no_grad():
        model.classifier[5].weight.mul_(100)  # logits 100 times too large: confident and wrong from the start
    check = B.check_initial_loss(model, data[1], data[2])
    assert not check.passed and check.values["relative_error"] > 0.25
    assert "FAIL" in str(check)


def test_dead_relu_network(data):
    model = B.kill_relus(lenet(data))
    with ember.no_grad():
        assert not model.features(data[1]).array.any()  # every ReLU outputs 0 for every example
    report = B.babysit(model, data[1], data[2], sgd(), overfit_steps=SHORT)
    assert report.failed == ["overfit", "update-ratio"], str(report)
    assert report["overfit"].values["best_accuracy"] < 0.5
    assert all(r == 0 for r in report["update-ratio"].values["ratios"].values())  # no gradient reaches them
    assert report["gradcheck"].passed  # the gradients are right: they are zero


def test_zero_initialised_network(data):
    model = B.zero_init(lenet(data))
    report = B.babysit(model, data[1], data[2], sgd(), overfit_steps=SHORT)
    assert report.failed == ["regularization", "overfit", "update-ratio"], str(report)
    assert report["initial-loss"].values["loss"] == pytest.approx(math.log(10))  # all logits 0: exactly ln 10
    assert report["regularization"].values["penalty"] == 0
    assert "the weights are zero" in str(report["update-ratio"])


def test_exploding_learning_rate(data):
    report = B.babysit(lenet(data), data[1], data[2], sgd(lr=10), overfit_steps=SHORT)
    assert "overfit" in report.failed and "update-ratio" in report.failed, str(report)
    assert all(r > 1e-2 for r in report["update-ratio"].values["ratios"].values())
    assert report["initial-loss"].passed and report["gradcheck"].passed  # nothing wrong before the first step


def test_tiny_learning_rate_is_flagged(data):
    check = B.check_update_ratios(lenet(data), data[1], data[2], sgd(lr=1e-5))
    assert not check.passed and all(r < 1e-4 for r in check.values["ratios"].values())
    assert "too small" in str(check)


def test_overfit_reports_divergence(data):
    model = lenet(data)
    x = data[1][:20] * 1e30  # the first forward pass already overflows to inf
    check = B.check_overfit(model, x, data[2][:20], sgd(), steps=5)
    assert not check.passed and check.values["diverged"] and "NaN/inf" in check.summary


class WrongDouble(ember.autograd.Function):
    """y = 2x with a backward that claims 3: the bug the gradient check exists to catch."""

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * 3


class Buggy(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden, self.out = nn.Linear(784, 16), nn.Linear(16, 10)

    def forward(self, x):
        return self.out(WrongDouble.apply(self.hidden(x.flatten(1))).relu())


def test_gradcheck_catches_a_wrong_backward(data):
    backend.manual_seed(0)
    check = B.check_gradients(Buggy(), data[1][:2], data[2][:2])
    errors = check.values["errors"]
    assert not check.passed
    assert errors["hidden.weight"] > 0.1 and errors["hidden.bias"] > 0.1  # behind the wrong op: 50 % off
    assert errors["out.weight"] < 1e-6 and errors["out.bias"] < 1e-6  # in front of it: right
    assert "hidden.weight" in str(check)


def test_gradcheck_steps_below_a_kink():
    """A ReLU unit whose input is 1e-7: a step of ε = 1e-6 crosses its kink and the difference is wrong, a
    step of 1e-8 does not. The default step sizes (1e-6, then 1e-7, 1e-8) pass; 1e-6 alone fails."""
    backend.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    x, y = ember.tensor([[1.0, -1.0, 0.5, 2.0]]), ember.tensor([1])
    with ember.no_grad():
        model[0].bias.array[0] = 1e-7 - float(model[0].weight.array[0] @ x.array[0])  # unit 0's input: 1e-7
    assert B.check_gradients(model, x, y).passed
    only_large = B.check_gradients(model, x, y, eps=1e-6)
    assert not only_large.passed and {"0.weight", "0.bias"} & set(n for n in only_large.values["errors"]
                                                                   if only_large.values["errors"][n] > 1e-6)


def test_gradcheck_with_dropout_and_batchnorm(data):
    """Training mode: dropout draws the same mask in every forward pass, batch norm uses batch statistics."""
    backend.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.5),
                          nn.Linear(16, 10))
    check = B.check_gradients(model, data[1][:4], data[2][:4])
    assert check.passed, str(check)
    assert model.training and model[1].weight.dtype == np.float32
    # The bias in front of batch norm has a gradient of exactly 0 (the mean is subtracted again): the
    # differences give round-off, a relative error of about 1 that is reported as unmeasurable, not a failure.
    assert check.values["unmeasurable"] == ["1.bias"] and check.values["worst"] != "1.bias"
    assert check.values["errors"][check.values["worst"]] < 1e-6


def test_frozen_parameters_are_left_out(data):
    """LeNet-5 (1998)'s RBF codes are frozen: no gradient to check, no update to measure, no penalty."""
    backend.manual_seed(0)
    model = build_model("lenet5_classic", data[0].info)
    assert not model.output.weight.requires_grad
    assert "output.weight" not in B.check_gradients(model, data[1][:2], data[2][:2]).values["errors"]
    assert "output.weight" not in B.check_update_ratios(model, data[1], data[2], sgd(1e-3)).values["ratios"]


class WithAuxiliaryHead(nn.Module):
    """Returns (logits, auxiliary logits) and its own training loss, as GoogLeNet does in training mode."""

    def __init__(self):
        super().__init__()
        self.main, self.aux = nn.Linear(784, 10), nn.Linear(784, 10)

    def forward(self, x):
        x = x.flatten(1)
        return (self.main(x), self.aux(x)) if self.training else self.main(x)

    def loss(self, outputs, target, loss_fn):
        logits, aux = outputs
        return loss_fn(logits, target) + 0.3 * loss_fn(aux, target)


def test_the_models_own_training_loss_is_used(data):
    """The auxiliary head learns only through the model's own loss: the checks must train it too."""
    backend.manual_seed(0)
    model = WithAuxiliaryHead()
    ratios = B.check_update_ratios(model, data[1], data[2], sgd()).values["ratios"]
    assert ratios["aux.weight"] > 1e-4 and ratios["main.weight"] > 1e-4
    assert set(B.check_gradients(model, data[1][:2], data[2][:2]).values["errors"]) == {
        "main.weight", "main.bias", "aux.weight", "aux.bias"}
    assert B.check_initial_loss(model, data[1], data[2]).passed  # ln C of the main logits
    assert B.check_overfit(model, data[1][:20], data[2][:20], sgd(0.1), steps=50).passed


def test_breaking_needs_biases():
    with pytest.raises(ValueError, match="no biases"):
        B.kill_relus(nn.Linear(3, 2, bias=False))
    with pytest.raises(ValueError, match="needs at least 20"):
        B.babysit(nn.Linear(3, 2), ember.randn(5, 3), ember.tensor([0, 1, 0, 1, 0]), sgd())


def test_l2_penalty_is_half_the_squared_norm_of_the_weights():
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))
    expected = 0.5 * sum(float((p.array.astype(np.float64) ** 2).sum()) for p in (model[0].weight, model[2].weight))
    assert B.l2_penalty(model).item() == pytest.approx(expected, rel=1e-6)  # biases are not penalised


# ---- the command line ---------------------------------------------------------------------------------------


def test_cli_healthy_exit_0(capsys, tmp_path):
    assert main(["check", "lenet5", "--dataset", "digits-mini", "--batch-size", "64",
                 "--json", str(tmp_path / "check.json")]) == 0
    out = capsys.readouterr().out
    assert "ember check lenet5 on digits-mini (sgd, lr 0.01)" in out
    assert out.count("PASS") == 5 and "all checks passed" in out
    record = json.loads((tmp_path / "check.json").read_text())
    assert record["passed"] is True and record["lr"] == 0.01 and record["dataset"] == "digits-mini"
    assert [c["name"] for c in record["checks"]] == list(B.CHECKS)
    assert set(record["checks"][4]["ratios"]) == {"features.0.weight", "features.3.weight", "classifier.1.weight",
                                                  "classifier.3.weight", "classifier.5.weight"}


@pytest.mark.parametrize("argv, failed", [
    (["--break", "dead-relu"], "overfit, update-ratio"),
    (["--break", "zero-init"], "regularization, overfit, update-ratio"),
    (["--lr", "10"], "overfit, update-ratio"),
])
def test_cli_broken_models_exit_1_naming_the_checks(argv, failed, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["check", "lenet5", "--dataset", "digits-mini", "--batch-size", "32", "--overfit-steps", "5", *argv])
    assert stop.value.code == 1
    captured = capsys.readouterr()
    assert captured.err.strip() == f"ember check: failed: {failed}"
    assert f"FAILED: {failed}" in captured.out


def test_cli_exit_status_of_the_process():
    result = subprocess.run([sys.executable, "-m", "ember.cli", "check", "lenet5", "--dataset", "digits-mini",
                             "--break", "zero-init", "--batch-size", "20", "--overfit-steps", "3"],
                            capture_output=True, text=True)
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip() == "ember check: failed: regularization, overfit, update-ratio"


@pytest.mark.parametrize("argv, message", [
    (["--batch-size", "10"], "--batch-size must be at least --overfit-size (20)"),
    (["--overfit-steps", "0"], "--overfit-steps must be a whole number >= 1"),
    (["--lr", "-1"], "--lr must be a positive number"),
    (["--break", "gently"], "invalid choice"),
])
def test_cli_usage_errors_exit_2(argv, message, capsys):
    assert main(["check", "lenet5", "--dataset", "digits-mini", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_cli_unknown_model_exit_2(capsys):
    assert main(["check", "lenet6", "--dataset", "digits-mini"]) == 2
    captured = capsys.readouterr()
    assert "unknown model 'lenet6'. Did you mean 'lenet5'" in captured.err and captured.out == ""


def test_other_optimizers_run(data):
    """The same checks with Adam (its own default lr, 1e-3): its first step moves every weight by about lr,
    so the ratio is lr / rms(W) — above 1e-2 for LeNet-5's large fully connected layers, as the check says."""
    model = lenet(data)
    adam = lambda params: make_optimizer("adam", params, 1e-3, 0.9, 0.0)  # noqa: E731
    check = B.check_update_ratios(model, data[1], data[2], adam)
    rms = float(np.sqrt((model.classifier[1].weight.array.astype(np.float64) ** 2).mean()))
    ratio = check.values["ratios"]["classifier.1.weight"]
    # lr · g / (|g| + 1e-8) per element: a little under lr where some gradients are tiny or zero (dead units)
    assert 0.8 * 1e-3 / rms < ratio <= 1e-3 / rms and ratio > 1e-2 and not check.passed
    assert B.check_overfit(model, data[1][:20], data[2][:20], adam, steps=100).passed
