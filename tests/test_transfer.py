"""Fine-tuning (`ember train --init --freeze --head --head-lr`) and the L1 penalty (`--l1`).

Real runs are tiny: DigitsMini, 256 training images, one or two epochs."""

import numpy as np
import pytest

import ember
from ember import models
from ember.app import transfer
from ember.app.usage import UsageError
from ember.cli import main
from ember.train import checkpoint

TINY = ["--dataset", "digits-mini", "--train-size", "256", "--val-size", "100", "--batch-size", "64",
        "--no-progress"]


def train(out, *flags, model="lenet5", epochs=1):
    assert main(["train", model, "--epochs", str(epochs), "--out", str(out), *TINY, *flags]) == 0
    return checkpoint.load(out / "last.npz")


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    """A LeNet-5 trained for one epoch: the 'pretrained' weights of every test here."""
    out = tmp_path_factory.mktemp("pretrained")
    train(out)
    return out / "last.npz"


def torch_state_file(state, path):
    """``state`` (name -> array) written by torch.save, as a PyTorch user would hand it over."""
    import torch

    torch.save({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()}, path)
    return path


# ---- loading ------------------------------------------------------------------------------------------------


def test_init_from_a_checkpoint_copies_the_body_and_keeps_a_new_head(pretrained, capsys):
    weights = transfer.read_weights(str(pretrained))
    model = models.create("lenet5", num_classes=10)
    fresh = {k: v.array.copy() for k, v in model.state_dict().items()}
    loaded = transfer.load_pretrained(model, weights, new={"classifier.5.weight", "classifier.5.bias"})
    state = model.state_dict()
    assert loaded == set(weights) - {"classifier.5.weight", "classifier.5.bias"}
    for name in loaded:
        np.testing.assert_array_equal(state[name].array, weights[name], err_msg=name)
    np.testing.assert_array_equal(state["classifier.5.weight"].array, fresh["classifier.5.weight"])
    assert "kept freshly initialised (--head): classifier.5.weight, classifier.5.bias" in capsys.readouterr().err


def test_init_from_a_torch_file_skips_the_head_of_another_shape(pretrained, tmp_path, capsys):
    weights = transfer.read_weights(str(pretrained))
    path = torch_state_file(weights, tmp_path / "lenet.pt")
    model = models.create("lenet5", num_classes=4)  # a new task with 4 classes: the classifier's shape differs
    loaded = transfer.load_pretrained(model, transfer.read_weights(str(path)))
    assert "classifier.5.weight" not in loaded and "classifier.5.bias" not in loaded
    np.testing.assert_array_equal(model.state_dict()["features.0.weight"].array, weights["features.0.weight"])
    err = capsys.readouterr().err
    assert "classifier.5.weight (10, 84) -> (4, 84)" in err and "classifier.5.bias (10,) -> (4,)" in err


def test_init_reads_ember_save_npz_and_nested_training_dicts(pretrained, tmp_path):
    weights = transfer.read_weights(str(pretrained))
    ember.save({"epoch": 3, "model_state_dict": {k: ember.tensor(v) for k, v in weights.items()}},
               tmp_path / "e.pt")
    np.savez(tmp_path / "plain.npz", **weights)
    for path in (tmp_path / "e.pt", tmp_path / "plain.npz"):
        again = transfer.read_weights(str(path))
        assert set(again) == set(weights)
        np.testing.assert_array_equal(again["features.3.weight"], weights["features.3.weight"])


def test_a_torch_pickle_that_would_run_code_is_refused_without_running_it(tmp_path):
    import torch

    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('this must never run')",))

    bad = tmp_path / "bad.pt"
    torch.save({"w": torch.ones(2), "x": Boom()}, bad)
    with pytest.raises(UsageError, match="--init .*bad.pt could not be read"):
        transfer.read_weights(str(bad))


# ---- the whole recipe ---------------------------------------------------------------------------------------


def test_fine_tuning_freezes_and_uses_two_learning_rates(pretrained, tmp_path, capsys):
    base = checkpoint.load(pretrained)["model"]
    state = train(tmp_path / "ft", "--init", str(pretrained), "--freeze", "features.*", "--head", "classifier.5.*",
                  "--head-lr", "0.05", "--lr", "0.01", "--scheduler", "none")
    for name in ("features.0.weight", "features.0.bias", "features.3.weight", "features.3.bias"):
        np.testing.assert_array_equal(state["model"][name], base[name], err_msg=f"{name} is frozen")
    assert not np.array_equal(state["model"]["classifier.1.weight"], base["classifier.1.weight"])
    groups = state["optimizer"]["param_groups"]
    assert [g["lr"] for g in groups] == [0.01, 0.05]
    assert [len(g["params"]) for g in groups] == [4, 2]  # classifier.1, classifier.3 | classifier.5; features: frozen
    assert state["config"]["head_params"] == ["classifier.5.bias", "classifier.5.weight"]
    assert "--init: loaded 8 of the model's 10 tensors" in capsys.readouterr().err


def test_the_head_is_what_init_did_not_provide(pretrained, tmp_path):
    other = tmp_path / "four.pt"
    model = models.create("lenet5", num_classes=4)
    torch_state_file({k: v.array for k, v in model.state_dict().items()}, other)
    state = train(tmp_path / "ft", "--init", str(other), "--head-lr", "0.05", "--lr", "0.01", "--scheduler", "none")
    assert state["config"]["head_params"] == ["classifier.5.bias", "classifier.5.weight"]


def test_a_fine_tuned_run_resumes_bit_for_bit(pretrained, tmp_path):
    flags = ["--init", str(pretrained), "--freeze", "features.0.*", "--head", "classifier.*", "--head-lr", "0.05",
             "--lr", "0.01", "--l1", "1e-4"]
    straight = train(tmp_path / "straight", *flags, epochs=2)
    assert main(["train", "lenet5", "--epochs", "2", "--out", str(tmp_path / "resumed"), *TINY,
                 "--resume", str(tmp_path / "straight" / "epoch-1.npz")]) == 0
    resumed = checkpoint.load(tmp_path / "resumed" / "last.npz")
    for name, weights in straight["model"].items():
        np.testing.assert_array_equal(resumed["model"][name], weights, err_msg=name)


@pytest.mark.parametrize("flags, message", [
    (["--init", "missing.pt"], "--init: no file at missing.pt"),
    (["--init", "{ckpt}", "--freeze", "conv*"], "--freeze conv* matches no parameter"),
    (["--init", "{ckpt}", "--freeze", "*"], "freezes every parameter"),
    (["--init", "{ckpt}", "--head", "fc.*"], "--head fc.* matches no parameter"),
    (["--init", "{ckpt}", "--head-lr", "0.1"], "--init provided every parameter"),
    (["--head-lr", "0.1"], "--head-lr needs to know which parameters are the head"),
    (["--head", "classifier.*"], "give --init FILE or --head-lr LR too"),
    (["--head-lr", "0"], "--head-lr must be a positive number"),
    (["--l1", "-1"], "--l1 must be a number >= 0"),
    (["--alpha", "0.5"], "--alpha applies to distillation"),
    (["--init", "{plain}"], "none of the file's 1 tensors has a name of this model"),
])
def test_mistakes_are_one_line(flags, message, pretrained, tmp_path, capsys):
    np.savez(tmp_path / "plain.npz", weights=np.ones(3))
    flags = [f.format(ckpt=pretrained, plain=tmp_path / "plain.npz") for f in flags]
    assert main(["train", "lenet5", "--epochs", "1", "--out", str(tmp_path / "x"), *TINY, *flags]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert message in err[-1] and err[-1].startswith("ember train: error:")


def test_transfer_flags_do_not_apply_to_char_lm(tmp_path, capsys):
    assert main(["train", "char-lm", "--init", "x.pt", "--out", str(tmp_path)]) == 2
    assert "--init does not apply to char-lm" in capsys.readouterr().err


# ---- L1 -------------------------------------------------------------------------------------------------------


def test_l1_term_is_lambda_times_the_weights_absolute_sum_without_biases():
    model = models.create("lenet5")
    expected = sum(np.abs(p.array).sum() for name, p in model.named_parameters() if not name.endswith("bias"))
    term = transfer.l1_term(model, 1e-3)
    np.testing.assert_allclose(term.item(), 1e-3 * expected, rtol=1e-6)
    term.backward()
    weight = model.features[0].weight
    np.testing.assert_array_equal(weight.grad.array, 1e-3 * np.sign(weight.array).astype(weight.array.dtype))
    assert model.features[0].bias.grad is None  # biases are not penalised


def test_the_training_objective_is_the_loss_plus_the_penalty():
    model = models.create("lenet5")
    x, y = ember.randn(4, 1, 28, 28), ember.tensor(np.array([1, 2, 3, 4]))
    loss_fn = ember.nn.CrossEntropyLoss()
    objective = transfer.objective(model, loss_fn, l1=1e-3)
    outputs = model(x)
    expected = loss_fn(outputs, y).item() + transfer.l1_term(model, 1e-3).item()
    assert objective(x, outputs, y).item() == pytest.approx(expected, rel=1e-6)
    assert transfer.objective(model, loss_fn) is None  # no teacher, no penalty: the Trainer's own loss


def test_l1_shrinks_weights_toward_zero(tmp_path):
    # 24 steps at lr 0.1: λ=0.02 moves each weight up to 0.1·0.02·24 ≈ 0.05 toward zero (weights are ~0.1)
    flags = ["--weight-decay", "0", "--scheduler", "none", "--lr", "0.1", "--batch-size", "32"]
    plain = train(tmp_path / "plain", *flags, epochs=3)
    sparse = train(tmp_path / "l1", *flags, "--l1", "0.02", epochs=3)
    for name in ("features.0.weight", "classifier.1.weight", "classifier.3.weight"):
        a, b = np.abs(plain["model"][name]), np.abs(sparse["model"][name])
        assert b.sum() < 0.8 * a.sum(), name
        assert (b < 1e-3).mean() > (a < 1e-3).mean(), name
    np.testing.assert_array_less(0, sparse["history"][-1]["loss"] - plain["history"][-1]["loss"])  # the penalty
