"""Bad command lines, fuzz-style: each one ends in exit status 2 and ONE line on stderr that names the flag
or file and the bad value; never a traceback. In-process through ember.cli.main (fast), a few as real
processes. Real runs are tiny: DigitsMini, 64 training images, one epoch."""

import errno
import os
import subprocess
import sys

import numpy as np
import pytest

import ember
from ember.cli import main
from ember.train import checkpoint

LM_TEXT = "def f(x):\n    return x * 2 + 1  # a line of Python\n" * 800  # 40 KB: enough for a validation split


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A tiny image run, a tiny char-lm run, and every kind of file that is not a checkpoint."""
    root = tmp_path_factory.mktemp("bad")
    run = root / "run"
    assert main(["train", "lenet5", "--dataset", "digits-mini", "--train-size", "64", "--epochs", "1",
                 "--val-size", "50", "--batch-size", "32", "--out", str(run), "--no-progress"]) == 0
    text = root / "text.txt"
    text.write_text(LM_TEXT)
    lm = root / "lm"
    assert main(["train", "char-lm", "--text", str(text), "--epochs", "1", "--hidden-size", "8", "--seq-len", "8",
                 "--batch-size", "4", "--sample-length", "3", "--out", str(lm), "--no-progress"]) == 0
    good = run / "last.npz"
    blob = good.read_bytes()
    state = checkpoint.load(good)
    f = {"run": run, "ckpt": good, "lm": lm / "last.npz", "text": text, "missing": root / "missing.npz",
         "folder": root}
    f["empty"] = root / "empty.npz"
    f["empty"].write_bytes(b"")
    f["truncated"] = root / "truncated.npz"
    f["truncated"].write_bytes(blob[: len(blob) // 2])
    f["random"] = root / "random.npz"
    f["random"].write_bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    f["textfile"] = root / "notes.npz"
    f["textfile"].write_text("these are my notes, not a checkpoint\n")
    f["plain"] = root / "plain.npz"
    np.savez(f["plain"], weights=np.ones(3))
    f["npy"] = root / "array.npy"
    np.save(f["npy"], np.ones(3))
    f["torch"] = root / "model.pt"
    f["torch"].write_bytes(_torch_file())
    f["embersave"] = root / "state.pt"
    ember.save({"w": ember.ones(3)}, f["embersave"])
    flipped = bytearray(blob)
    for i in range(len(flipped) // 3, len(flipped) // 3 + 1000):
        flipped[i] ^= 0xFF
    f["flipped"] = root / "flipped.npz"
    f["flipped"].write_bytes(bytes(flipped))
    f["noconfig"] = root / "noconfig.npz"
    checkpoint.save(f["noconfig"], {k: v for k, v in state.items() if k != "config"})
    f["unknown"] = root / "unknown-model.npz"
    checkpoint.save(f["unknown"], dict(state, config=dict(state["config"], model="resnet9000")))
    f["notimage"] = root / "digit.png"
    f["notimage"].write_text("not a picture")
    f["halfpng"] = root / "half.png"
    from PIL import Image

    Image.fromarray(np.zeros((28, 28), np.uint8)).save(f["halfpng"])
    f["halfpng"].write_bytes(f["halfpng"].read_bytes()[:40])
    f["afile"] = root / "a-file"
    f["afile"].write_text("x")
    return f


def _torch_file():
    import io

    import torch

    buffer = io.BytesIO()
    torch.save({"w": torch.ones(3)}, buffer)
    return buffer.getvalue()


T = ["train", "lenet5", "--dataset", "digits-mini", "--no-progress"]
LM = ["train", "char-lm", "--no-progress"]

# (argv, substrings the one-line message must hold); {name} is replaced by the path of files[name].
CASES = [
    # ---- train: numeric flags (refused while parsing)
    (T + ["--epochs", "0"], ["--epochs", "got 0"]),
    (T + ["--epochs", "-3"], ["--epochs", "-3"]),
    (T + ["--epochs", "1.5"], ["--epochs", "1.5"]),
    (T + ["--epochs", "abc"], ["--epochs", "abc"]),
    (T + ["--batch-size", "0"], ["--batch-size", "got 0"]),
    (T + ["--batch-size", "-64"], ["--batch-size", "-64"]),
    (T + ["--lr", "0"], ["--lr", "positive", "got 0"]),
    (T + ["--lr", "-0.1"], ["--lr", "-0.1"]),
    (T + ["--lr", "nan"], ["--lr", "nan"]),
    (T + ["--lr", "inf"], ["--lr", "inf"]),
    (T + ["--lr", "fast"], ["--lr", "fast"]),
    (T + ["--momentum", "1"], ["--momentum", "[0, 1)", "got 1"]),
    (T + ["--momentum", "-0.5"], ["--momentum", "-0.5"]),
    (T + ["--momentum", "nan"], ["--momentum", "nan"]),
    (T + ["--weight-decay", "-1"], ["--weight-decay", "-1"]),
    (T + ["--weight-decay", "inf"], ["--weight-decay", "inf"]),
    (T + ["--seed", "-1"], ["--seed", "-1"]),
    (T + ["--val-size", "-1"], ["--val-size", "-1"]),
    (T + ["--val-size", "0"], ["--val-size", "got 0"]),
    (T + ["--train-size", "0"], ["--train-size", "got 0", "leave --train-size out"]),
    (T + ["--train-size", "-5"], ["--train-size", "-5"]),
    (T + ["--patience", "0"], ["--patience", "got 0"]),
    (T + ["--patience", "-1"], ["--patience", "-1"]),
    (LM + ["--clip", "-1"], ["--clip", ">= 0", "gradient-norm", "got -1"]),
    (LM + ["--clip", "-0.5"], ["--clip", "got -0.5"]),
    (LM + ["--clip", "nan"], ["--clip", "nan"]),
    (LM + ["--dropout", "1"], ["--dropout", "got 1"]),
    (LM + ["--dropout", "-0.1"], ["--dropout", "-0.1"]),
    (LM + ["--seq-len", "0"], ["--seq-len", "got 0"]),
    (LM + ["--hidden-size", "0"], ["--hidden-size", "got 0"]),
    (LM + ["--num-layers", "-2"], ["--num-layers", "-2"]),
    (LM + ["--max-chars", "0"], ["--max-chars", "got 0"]),
    (LM + ["--sample-length", "-1"], ["--sample-length", "-1"]),
    (LM + ["--temperature", "-1"], ["--temperature", "-1"]),
    (LM + ["--temperature", "inf"], ["--temperature", "inf"]),
    (LM + ["--embedding-dim", "-2"], ["--embedding-dim", "-2"]),
    # ---- train: names, sizes that depend on the data, flags of the other kind of model
    (T + ["--optimizer", "adamax"], ["--optimizer", "adamax"]),
    (T + ["--scheduler", "warmup"], ["--scheduler", "warmup"]),
    (["train", "lenet5", "--dataset", "imagenet"], ["--dataset", "imagenet"]),
    (LM + ["--cell", "transformer"], ["--cell", "transformer"]),
    (["train", "lenet9", "--dataset", "digits-mini"], ["lenet9"]),
    (T + ["--train-size", "100000"], ["--train-size", "100000"]),
    (T + ["--val-size", "100000"], ["--val-size", "100000", "1600"]),
    (T + ["--val-size", "1600"], ["--val-size", "1600"]),
    (T + ["--text", "{text}"], ["--text", "lenet5"]),
    (LM + ["--dataset", "mnist"], ["--dataset", "char-lm"]),
    (LM + ["--text", "{missing}"], ["missing.npz"]),
    (T + ["--out", "{afile}/sub"], ["a-file/sub"]),
    # ---- resume: bad files, foreign checkpoints, contradicting flags
    (T + ["--resume", "{missing}"], ["{missing}"]),
    (T + ["--resume", "{random}"], ["{random}", "not an .npz"]),
    (T + ["--resume", "{plain}"], ["{plain}", "not an Ember checkpoint"]),
    (T + ["--resume", "{noconfig}"], ["{noconfig}", "no run configuration"]),
    (T + ["--resume", "{unknown}"], ["{unknown}", "resnet9000", "not registered"]),
    (T + ["--resume", "{ckpt}", "--scheduler", "cosine"], ["--scheduler cosine", "onecycle", "drop --scheduler"]),
    (T + ["--resume", "{ckpt}", "--optimizer", "adam"], ["--optimizer adam", "sgd"]),
    (T + ["--resume", "{ckpt}", "--epochs", "5"], ["--epochs 5", "OneCycle", "cannot be extended"]),
    (["train", "lenet5", "--resume", "{ckpt}", "--dataset", "mnist"], ["--dataset mnist", "digits-mini"]),
    (T + ["--resume", "{ckpt}", "--batch-size", "64"], ["--batch-size 64", "32"]),
    (T + ["--resume", "{ckpt}", "--lr", "0.5"], ["--lr 0.5", "0.1"]),
    (["train", "mlp", "--resume", "{ckpt}"], ["mlp", "lenet5"]),
    (["train", "lenet5", "--resume", "{lm}"], ["lenet5", "char-lm"]),
    (LM + ["--resume", "{lm}", "--hidden-size", "16"], ["--hidden-size 16", "8"]),
    # ---- evaluate: every kind of file that is not a checkpoint
    (["evaluate", "{missing}"], ["no checkpoint at {missing}"]),
    (["evaluate", "{empty}"], ["{empty}", "empty"]),
    (["evaluate", "{truncated}"], ["{truncated}", "truncated"]),
    (["evaluate", "{random}"], ["{random}", "not an Ember checkpoint"]),
    (["evaluate", "{textfile}"], ["{textfile}", "not an Ember checkpoint"]),
    (["evaluate", "{plain}"], ["{plain}", "numpy.savez"]),
    (["evaluate", "{npy}"], ["{npy}", ".npy"]),
    (["evaluate", "{torch}"], ["{torch}", "PyTorch"]),
    (["evaluate", "{embersave}"], ["{embersave}", "ember.save"]),
    (["evaluate", "{flipped}"], ["{flipped}", "damaged"]),
    (["evaluate", "{folder}"], ["{folder}", "folder"]),
    (["evaluate", "{noconfig}"], ["{noconfig}", "no run configuration"]),
    (["evaluate", "{unknown}"], ["{unknown}", "resnet9000"]),
    (["evaluate", "{ckpt}", "--dataset", "imagenet"], ["--dataset", "imagenet"]),
    # ---- predict
    (["predict", "{ckpt}", "{halfpng}", "--topk", "0"], ["--topk", "got 0"]),
    (["predict", "{ckpt}", "{halfpng}", "--topk", "11"], ["--topk", "10 classes", "got 11"]),
    (["predict", "{ckpt}", "{notimage}"], ["{notimage}", "not an image"]),
    (["predict", "{ckpt}", "{halfpng}"], ["{halfpng}"]),
    (["predict", "{ckpt}", "{missing}.png"], ["{missing}.png"]),
    (["predict", "{ckpt}", "{folder}"], ["{folder}", "folder"]),
    (["predict", "{random}", "{halfpng}"], ["{random}"]),
    (["predict", "{lm}", "{halfpng}"], ["{lm}", "char-lm"]),
    # ---- sample
    (["sample", "{lm}", "--length", "-5"], ["--length", "-5"]),
    (["sample", "{lm}", "--length", "0"], ["--length", "got 0"]),
    (["sample", "{lm}", "--temperature", "-1"], ["--temperature", "-1"]),
    (["sample", "{lm}", "--temperature", "nan"], ["--temperature", "nan"]),
    (["sample", "{lm}", "--seed", "-4"], ["--seed", "-4"]),
    (T + ["--seed", str(2**64)], ["--seed", str(2**64)]),
    (["sample", "{ckpt}"], ["{ckpt}", "char-lm"]),
    (["sample", "{truncated}"], ["{truncated}", "truncated"]),
    # ---- summary and the top level
    (["summary", "lenet5", "--input-size", "1", "0", "28"], ["--input-size", "got 0"]),
    (["summary", "lenet5", "--input-size", "1", "-28", "28"], ["--input-size", "-28"]),
    (["summary", "lenet5", "--num-classes", "0"], ["--num-classes", "got 0"]),
    (["summary", "resnet9000"], ["resnet9000"]),
    (["frobnicate"], ["frobnicate"]),
    ([], ["COMMAND"]),
    (["train"], ["model"]),
    (T + ["--bogus", "3"], ["--bogus"]),
]


def _fill(item, files):
    return item.format(**{k: str(v) for k, v in files.items()})


@pytest.mark.parametrize("argv, needles", CASES, ids=[" ".join(a)[-60:] or "no-args" for a, _ in CASES])
def test_bad_command_line_is_one_line_and_exit_2(argv, needles, files, capsys, tmp_path):
    argv = [_fill(a, files) for a in argv]
    if argv[:1] == ["train"] and "--out" not in argv:
        argv += ["--out", str(tmp_path / "out")]
    code = main(argv)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    # Training prints progress on stderr; a failure before any epoch leaves exactly the error line.
    assert len(lines) == 1, err
    assert "Traceback" not in err and "allow_pickle" not in err and "BadZipFile" not in err
    assert lines[0].startswith("ember"), lines[0]
    assert "--debug shows the traceback" not in lines[0], lines[0]  # foreseen: a message, not a bare exception
    for needle in needles:
        assert _fill(needle, files) in lines[0], lines[0]


def test_there_are_at_least_sixty_bad_command_lines():
    assert len(CASES) >= 60


@pytest.mark.parametrize("argv, needle", [
    (["train", "lenet5", "--clip", "-1"], "--clip"),
    (["evaluate", "{random}"], "{random}"),
    (["predict", "{ckpt}", "{notimage}"], "{notimage}"),
    (["sample", "{lm}", "--length", "-5"], "--length"),
])
def test_as_a_real_process(argv, needle, files):
    argv = [_fill(a, files) for a in argv]
    result = subprocess.run([sys.executable, "-m", "ember.cli", *argv], capture_output=True, text=True)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert _fill(needle, files) in result.stderr


def test_debug_shows_the_traceback_before_or_after_the_command(files, capsys):
    from ember.app.usage import UsageError

    with pytest.raises(UsageError, match="not an Ember checkpoint"):
        main(["--debug", "evaluate", str(files["random"])])
    with pytest.raises(UsageError, match="not an Ember checkpoint"):
        main(["evaluate", str(files["random"]), "--debug"])
    result = subprocess.run([sys.executable, "-m", "ember.cli", "evaluate", str(files["torch"]), "--debug"],
                            capture_output=True, text=True)
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_unexpected_exception_is_one_typed_line(monkeypatch, files, capsys):
    from ember.app import recipes

    def broken(*args, **kwargs):
        raise KeyError("step")

    monkeypatch.setattr(recipes, "evaluate", broken)
    assert main(["evaluate", str(files["ckpt"])]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "ember evaluate: error: KeyError: 'step' (--debug shows the traceback)"


def test_ctrl_c_is_exit_130(monkeypatch, files, capsys):
    from ember.app import recipes

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(recipes, "evaluate", interrupted)
    assert main(["evaluate", str(files["ckpt"])]) == 130
    assert "interrupted" in capsys.readouterr().err


def test_full_disk_names_the_path(monkeypatch, tmp_path, capsys):
    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    out = tmp_path / "run"
    assert main(T + ["--train-size", "64", "--epochs", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(out) in err and "No space left on device" in err
    with pytest.raises(OSError) as info:  # below the CLI: the error names the file it was writing
        checkpoint.save(tmp_path / "x.npz", {"a": np.ones(2)})
    assert info.value.filename == str(tmp_path / "x.npz") and info.value.errno == errno.ENOSPC
    assert os.listdir(tmp_path) == ["run"]  # no temporary file left behind


def test_help_is_still_exit_0(capsys):
    assert main(["train", "-h"]) == 0
    assert "--clip" in capsys.readouterr().out
