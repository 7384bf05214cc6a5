"""The `ember` command end to end on the shipped DigitsMini subset (no download), and its errors."""

import json
import subprocess
import sys

import numpy as np
import pytest

from ember.cli import main
from ember.data.datasets import DigitsMini
from ember.train import checkpoint


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    code = main(["train", "lenet5", "--dataset", "digits-mini", "--epochs", "4", "--batch-size", "64",
                 "--val-size", "200", "--out", str(out), "--no-progress", "--seed", "1"])
    assert code == 0
    return out


def test_train_writes_checkpoints_metrics_and_curves(run_dir):
    names = {p.name for p in run_dir.iterdir()}
    assert {"last.npz", "best.npz", "metrics.json", "curves.png", "epoch-1.npz", "epoch-4.npz"} <= names
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert [h["epoch"] for h in metrics["history"]] == [1, 2, 3, 4]
    assert metrics["history"][-1]["loss"] < metrics["history"][0]["loss"]
    assert metrics["test"]["test_accuracy"] > 0.8  # 1,400 training digits, 4 epochs; chance is 0.1
    assert metrics["config"]["model"] == "lenet5" and metrics["config"]["dataset"] == "digits-mini"
    assert (run_dir / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate_reports_the_test_accuracy(run_dir, capsys):
    assert main(["evaluate", str(run_dir / "last.npz")]) == 0
    out = capsys.readouterr().out
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert f"accuracy {metrics['test']['test_accuracy']:.4f}" in out
    assert "confusion matrix" in out


def test_predict_classifies_image_files(run_dir, tmp_path, capsys):
    from PIL import Image

    test = DigitsMini(train=False)
    paths = []
    for i in range(5):
        path = tmp_path / f"digit{i}.png"
        Image.fromarray(test.data[i]).save(path)
        paths.append(str(path))
    assert main(["predict", str(run_dir / "best.npz"), *paths, "--topk", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 5 and all(line.startswith(p) for line, p in zip(lines, paths))
    predicted = [int(line.split(": ")[1].split(" ")[0]) for line in lines]
    assert np.mean(np.array(predicted) == test.targets[:5]) >= 0.6


def test_resume_continues_a_run_bit_for_bit(run_dir, tmp_path):
    out = tmp_path / "resumed"
    code = main(["train", "lenet5", "--dataset", "digits-mini", "--epochs", "4", "--batch-size", "64",
                 "--val-size", "200", "--out", str(out), "--no-progress", "--seed", "1",
                 "--resume", str(run_dir / "epoch-2.npz")])
    assert code == 0
    resumed, straight = checkpoint.load(out / "last.npz"), checkpoint.load(run_dir / "last.npz")
    assert resumed["epoch"] == 4 and len(resumed["history"]) == 4
    for name, weights in straight["model"].items():
        np.testing.assert_array_equal(resumed["model"][name], weights, err_msg=name)


@pytest.mark.parametrize("argv, message", [
    (["train", "lenet9", "--dataset", "digits-mini"], "unknown model 'lenet9'"),
    (["train", "lenet5", "--dataset", "digits-mini", "--epochs", "0"], "--epochs must be a whole number >= 1"),
    (["train", "lenet5", "--dataset", "digits-mini", "--lr", "-1"], "--lr must be a positive number"),
    (["evaluate", "no/such/file.npz"], "no checkpoint at no/such/file.npz"),
])
def test_mistakes_get_one_line_errors(argv, message, capsys, tmp_path):
    assert main(argv + (["--out", str(tmp_path)] if argv[0] == "train" else [])) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_bad_flags_are_rejected_by_the_parser(capsys):
    assert main(["train", "lenet5", "--dataset", "imagenet"]) == 2  # main returns the status, as for any failure
    err = capsys.readouterr().err
    assert "invalid choice: 'imagenet'" in err and len(err.strip().splitlines()) == 1


def test_console_script_is_installed():
    result = subprocess.run([sys.executable, "-m", "ember.cli", "models"], capture_output=True, text=True, check=True)
    assert "lenet5" in result.stdout.split()


def test_missing_data_is_one_line_with_the_fix(monkeypatch, capsys, tmp_path):
    import ember.data.datasets as datasets

    def unreachable(**kwargs):
        raise datasets.DownloadError("MNIST: every source failed:\n  - https://example: refused\nplace them at ...")

    monkeypatch.setattr(datasets, "MNIST", unreachable)
    assert main(["train", "lenet5", "--dataset", "mnist", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "could not download mnist" in err and "--root" in err and "MNIST(download=True)" in err


def test_googlenet_trains_with_its_auxiliary_classifiers(tmp_path, capsys):
    code = main(["train", "googlenet", "--dataset", "digits-mini", "--epochs", "1", "--aux-logits", "--train-size", "128",
                 "--val-size", "100", "--batch-size", "64", "--out", str(tmp_path), "--no-progress"])
    assert code == 0
    state = checkpoint.load(tmp_path / "last.npz")
    assert state["config"]["aux_logits"] is True
    assert any(key.startswith("aux1.") for key in state["model"])
    assert main(["evaluate", str(tmp_path / "last.npz")]) == 0  # the checkpoint rebuilds the heads
    assert main(["train", "lenet5", "--dataset", "digits-mini", "--aux-logits", "--out", str(tmp_path)]) == 2
    assert "does not take aux_logits" in capsys.readouterr().err
