"""Resume is honest: the checkpoint's settings are the run's, a contradicting flag is refused naming both
values, a OneCycle plan is not extended, and a checkpoint that cannot describe a run is refused."""

import numpy as np
import pytest

from ember.app.resume import check_state, merge
from ember.cli import main
from ember.train import checkpoint
from ember.app.usage import UsageError

SAVED = dict(model="lenet5", dataset="mnist", optimizer="sgd", lr=0.1, momentum=0.9, weight_decay=5e-4,
             scheduler="onecycle", epochs=4, batch_size=128, augment=False, seed=0, val_size=5000, train_size=None,
             aux_logits=None, num_classes=10, in_channels=1, input_size=28, standardize={"mean": [0.1]})


def asked(**given):
    options = {k: None for k in SAVED if k not in ("num_classes", "in_channels", "input_size", "standardize")}
    options.update(model="lenet5", augment=False, out=None, progress=True, resume="x.npz", patience=None)
    options.update(given)
    return options


def test_the_checkpoint_fills_what_was_not_given():
    merged = merge(SAVED, asked(), epochs_done=2)
    for key in ("dataset", "optimizer", "lr", "scheduler", "epochs", "batch_size", "val_size", "seed"):
        assert merged[key] == SAVED[key], key
    assert "standardize" not in merged and "num_classes" not in merged  # derived, not options


@pytest.mark.parametrize("flag, value", [
    ("dataset", "fashion-mnist"), ("optimizer", "adam"), ("scheduler", "cosine"), ("batch_size", 64),
    ("lr", 0.05), ("momentum", 0.5), ("weight_decay", 0.0), ("seed", 3), ("val_size", 100), ("train_size", 500),
    ("augment", True),
])
def test_a_contradicting_flag_is_refused_naming_both_values(flag, value):
    with pytest.raises(UsageError) as info:
        merge(SAVED, asked(**{flag: value}), epochs_done=2)
    text = str(info.value)
    name = "--" + flag.replace("_", "-")
    assert f"{name} {value} contradicts the checkpoint's {SAVED[flag]}" in text and f"drop {name}" in text


def test_the_same_value_given_again_is_fine_and_free_options_may_change():
    merged = merge(SAVED, asked(lr=0.1, dataset="mnist", patience=3, out="elsewhere"), epochs_done=2)
    assert merged["patience"] == 3 and merged["out"] == "elsewhere"


def test_plans_fixed_at_creation_cannot_be_extended_other_schedules_can():
    with pytest.raises(UsageError, match="OneCycle's total number of steps is fixed"):
        merge(SAVED, asked(epochs=8), epochs_done=4)
    for fixed in ("cosine", "step"):
        with pytest.raises(UsageError, match=f"this {fixed} run's plan of 4 epochs"):
            merge(dict(SAVED, scheduler=fixed), asked(epochs=8), epochs_done=4)
    for free in ("none", "exponential", "plateau"):
        assert merge(dict(SAVED, scheduler=free), asked(epochs=8), epochs_done=4)["epochs"] == 8
    with pytest.raises(UsageError, match="already completed 4 epochs"):
        merge(dict(SAVED, scheduler="none"), asked(epochs=3), epochs_done=4)


def test_another_model_is_refused():
    with pytest.raises(UsageError, match="the model mlp contradicts the checkpoint's lenet5"):
        merge(SAVED, asked(model="mlp"))


def test_check_state_refuses_what_cannot_describe_a_run():
    weights = {"w": np.ones(2)}
    with pytest.raises(UsageError, match="no run configuration"):
        check_state("a.npz", {"model": weights})
    with pytest.raises(UsageError, match="names no model"):
        check_state("a.npz", {"config": {"dataset": "mnist"}, "model": weights})
    with pytest.raises(UsageError, match="'lenet55', which is not registered"):
        check_state("a.npz", {"config": {"model": "lenet55"}, "model": weights})
    with pytest.raises(UsageError, match="without its vocabulary"):
        check_state("a.npz", {"config": {"model": "char-lm"}, "model": weights})
    with pytest.raises(UsageError, match="no model weights"):
        check_state("a.npz", {"config": dict(model="lenet5", num_classes=10, in_channels=1, input_size=28,
                                             standardize={})})
    with pytest.raises(UsageError, match="lacks in_channels, standardize"):
        check_state("a.npz", {"config": {"model": "lenet5", "num_classes": 10, "input_size": 28}, "model": weights})
    config = dict(model="lenet5", num_classes=10, in_channels=1, input_size=28, standardize={})
    assert check_state("a.npz", {"config": config, "model": weights}) == config


def test_a_resumed_run_keeps_its_settings_and_can_be_extended(tmp_path, capsys):
    first = tmp_path / "first"
    base = ["train", "lenet5", "--dataset", "digits-mini", "--no-progress"]
    assert main(base + ["--train-size", "64", "--epochs", "1", "--val-size", "50", "--batch-size", "32",
                        "--scheduler", "exponential", "--optimizer", "adam", "--lr", "0.003", "--out", str(first)]) == 0
    second = tmp_path / "second"
    # No flag but the model and --epochs: dataset, optimizer, lr, schedule, batch and split come from the file.
    assert main(["train", "lenet5", "--resume", str(first / "last.npz"), "--epochs", "2", "--out", str(second),
                 "--no-progress"]) == 0
    state = checkpoint.load(second / "last.npz")
    config = state["config"]
    assert state["epoch"] == 2 and len(state["history"]) == 2
    assert (config["dataset"], config["optimizer"], config["scheduler"]) == ("digits-mini", "adam", "exponential")
    assert (config["lr"], config["batch_size"], config["train_size"], config["val_size"]) == (0.003, 32, 64, 50)
    assert state["history"][1]["lr"] == pytest.approx(0.003 * 0.9)  # the schedule went on from its state
    assert config["epochs"] == 2  # the checkpoint records the extended plan
