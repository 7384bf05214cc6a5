"""Knowledge distillation: ``ember.nn.functional.distillation_loss`` against torch's kl_div + cross_entropy,
and ``ember train STUDENT --teacher CHECKPOINT`` (tiny DigitsMini runs)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F
from ember.cli import main
from ember.train import checkpoint

from helpers import assert_close, gradcheck


def torch_distillation(s, t, y, T, alpha):
    """The reference, written as the docstring says."""
    soft = TF.kl_div(TF.log_softmax(s / T, 1), TF.softmax(t / T, 1), reduction="batchmean")
    return alpha * T * T * soft + (1 - alpha) * TF.cross_entropy(s, y)


@pytest.mark.parametrize("T, alpha", [(4.0, 0.9), (1.0, 0.5), (2.5, 0.0), (10.0, 1.0), (3, 0.3)])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_matches_torch_kl_div_plus_cross_entropy(T, alpha, dtype):
    rng = np.random.default_rng(0)
    s, t = (rng.normal(0, 3, (16, 10)).astype(dtype) for _ in range(2))
    y = rng.integers(0, 10, 16)
    student = ember.tensor(s, requires_grad=True)
    loss = F.distillation_loss(student, ember.tensor(t), ember.tensor(y), T=T, alpha=alpha)
    loss.backward()
    ts = torch.tensor(s, requires_grad=True)
    expected = torch_distillation(ts, torch.tensor(t), torch.tensor(y), T, alpha)
    expected.backward()
    assert_close(loss.array, expected.detach().numpy(), dtype, "loss")
    assert_close(student.grad.array, ts.grad.numpy(), dtype, "student gradient")


def test_gradcheck_float64():
    y = ember.tensor(np.array([0, 3, 2, 1, 3]))
    t = ember.tensor(np.random.default_rng(3).normal(size=(5, 4)))  # the teacher is a constant
    assert gradcheck(lambda s: F.distillation_loss(s, t, y, T=3.0, alpha=0.7), (5, 4))


def test_no_gradient_reaches_the_teacher():
    rng = np.random.default_rng(1)
    s = ember.tensor(rng.normal(size=(4, 3)), requires_grad=True)
    t = ember.tensor(rng.normal(size=(4, 3)), requires_grad=True)
    F.distillation_loss(s, t, ember.tensor(np.array([0, 1, 2, 0]))).backward()
    assert s.grad is not None and t.grad is None


def test_alpha_zero_is_cross_entropy_and_matching_logits_leave_only_it():
    rng = np.random.default_rng(2)
    s = ember.tensor(rng.normal(size=(8, 5)))
    y = ember.tensor(rng.integers(0, 5, 8))
    ce = F.cross_entropy(s, y).item()
    assert F.distillation_loss(s, ember.tensor(rng.normal(size=(8, 5))), y, alpha=0.0).item() == pytest.approx(ce)
    # KL(p ‖ p) = 0: a student that already says what the teacher says pays only the label term
    assert F.distillation_loss(s, s, y, T=4.0, alpha=0.9).item() == pytest.approx(0.1 * ce, abs=1e-12)


@pytest.mark.parametrize("kwargs, message", [
    (dict(T=0), "temperature T must be a positive number"),
    (dict(T=-2.0), "temperature T must be a positive number"),
    (dict(alpha=1.5), "alpha is the weight of the teacher's term"),
])
def test_bad_arguments(kwargs, message):
    s, y = ember.zeros(2, 3), ember.tensor(np.array([0, 1]))
    with pytest.raises(ValueError, match=message):
        F.distillation_loss(s, s, y, **kwargs)


def test_shapes_must_agree():
    with pytest.raises(ValueError, match=r"student's logits \(2, 3\) and the teacher's \(2, 4\)"):
        F.distillation_loss(ember.zeros(2, 3), ember.zeros(2, 4), ember.tensor(np.array([0, 1])))


# ---- ember train --teacher ------------------------------------------------------------------------------------

TINY = ["--dataset", "digits-mini", "--train-size", "256", "--val-size", "100", "--batch-size", "64",
        "--no-progress"]


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
    out = tmp_path_factory.mktemp("teacher")
    assert main(["train", "lenet5", "--epochs", "2", "--out", str(out), *TINY]) == 0
    return out / "best.npz"


def test_distilling_into_a_student_trains_it_and_leaves_the_teacher_alone(teacher, tmp_path, capsys):
    before = checkpoint.load(teacher)["model"]
    assert main(["train", "mlp", "--epochs", "1", "--out", str(tmp_path / "s"), *TINY, "--teacher", str(teacher),
                 "--temperature", "3", "--alpha", "0.8"]) == 0
    assert "--teacher: distilling lenet5 into mlp" in capsys.readouterr().err
    state = checkpoint.load(tmp_path / "s" / "last.npz")
    assert state["config"]["teacher"] == str(teacher)
    assert (state["config"]["temperature"], state["config"]["alpha"]) == (3.0, 0.8)
    after = checkpoint.load(teacher)["model"]
    for name in before:
        np.testing.assert_array_equal(after[name], before[name])


def test_alpha_zero_trains_exactly_like_no_teacher(teacher, tmp_path):
    """With alpha 0 the objective is the cross-entropy: the same weights, bit for bit, as a plain run."""
    assert main(["train", "mlp", "--epochs", "1", "--out", str(tmp_path / "a"), *TINY]) == 0
    assert main(["train", "mlp", "--epochs", "1", "--out", str(tmp_path / "b"), *TINY, "--teacher", str(teacher),
                 "--alpha", "0"]) == 0
    a, b = (checkpoint.load(tmp_path / name / "last.npz")["model"] for name in "ab")
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_a_distillation_run_resumes_bit_for_bit(teacher, tmp_path):
    flags = [*TINY, "--teacher", str(teacher)]
    assert main(["train", "mlp", "--epochs", "2", "--out", str(tmp_path / "straight"), *flags]) == 0
    assert main(["train", "mlp", "--epochs", "2", "--out", str(tmp_path / "resumed"), *TINY,
                 "--resume", str(tmp_path / "straight" / "epoch-1.npz")]) == 0
    a, b = (checkpoint.load(tmp_path / name / "last.npz")["model"] for name in ("straight", "resumed"))
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


@pytest.mark.parametrize("flags, message", [
    (["--teacher", "missing.npz"], "no checkpoint at missing.npz"),
    (["--teacher", "{teacher}", "--temperature", "0"], "--temperature must be positive for distillation"),
    (["--temperature", "2"], "--temperature applies to distillation; give --teacher"),
    (["--teacher", "{teacher}", "--alpha", "1.5"], "--alpha must be a number in [0, 1]"),
    (["--teacher", "{teacher}", "--dataset", "mnist"], "was trained on digits-mini, this run is on mnist"),
    (["--teacher", "{teacher}", "--aux-logits"], "--teacher distils the main output only"),
])
def test_mistakes_are_one_line(flags, message, teacher, tmp_path, capsys):
    flags = [f.format(teacher=teacher) for f in flags]
    assert main(["train", "mlp", "--epochs", "1", "--out", str(tmp_path / "x"), *TINY, *flags]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert message in err[-1] and err[-1].startswith("ember train: error:")
