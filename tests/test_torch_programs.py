"""A corpus of PyTorch programs (tests/torch_programs/), each run unchanged through `ember run`.

They are written as their sources teach (pytorch/examples, d2l, CS231n, the PyTorch tutorials) and read
their data where torchvision would have put it, which the fixtures fill: real MNIST digits (DigitsMini) in
``data/MNIST/raw`` and ``data/FashionMNIST/raw`` as IDX files, generated CIFAR-10 batches in
``datasets/cifar-10-batches-py`` and a folder of generated images for ImageFolder.
"""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from dataset_fakes import write_cifar_python_folder
from ember.data.datasets import DigitsMini
from ember.data.datasets.idx import idx_bytes

PROGRAMS = pathlib.Path(__file__).parent / "torch_programs"


def _write_mnist_layout(folder):
    """DigitsMini's 1,600 train / 400 test real digits as torchvision's raw IDX files."""
    folder.mkdir(parents=True)
    for split, prefix in ((True, "train"), (False, "t10k")):
        ds = DigitsMini(train=split)
        (folder / f"{prefix}-images-idx3-ubyte").write_bytes(idx_bytes(ds.data))
        (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(idx_bytes(ds.targets.astype(np.uint8)))
    _not_official(folder)


def _not_official(folder):
    """The note that says these files are not the official release (so its MD5s do not apply)."""
    (folder / "ember-source.json").write_text('{"source": "test fixture (not the official files)"}')


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("programs")
    _write_mnist_layout(root / "data" / "MNIST" / "raw")
    _write_mnist_layout(root / "data" / "FashionMNIST" / "raw")
    (root / "work").mkdir()
    write_cifar_python_folder(root / "work" / "datasets", n=100)
    _not_official(root / "work" / "datasets" / "cifar-10-batches-py")
    return root / "work"


def run_program(name, workdir, *args, timeout=600):
    result = subprocess.run([sys.executable, "-m", "ember.run", str(PROGRAMS / name), *map(str, args)],
                            cwd=workdir, capture_output=True, text=True, timeout=timeout,
                            env={**os.environ, "PYTHONWARNINGS": "ignore",  # this checkout's ember, first
                                 "PYTHONPATH": os.pathsep.join([str(PROGRAMS.parent.parent), os.environ.get("PYTHONPATH", "")])})
    assert result.returncode == 0, f"{name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return result.stdout


def test_pytorch_examples_mnist(workdir):
    out = run_program("mnist_examples.py", workdir, "--epochs", "1", "--save-model")
    accuracy = int(out.split("Accuracy: ")[1].split("/")[0])
    assert accuracy >= 240, out  # of 400 real test digits, after one epoch on 1,600 unshuffled (chance: 40)
    assert (workdir / "mnist_cnn.pt").exists()


def test_d2l_lenet_on_fashion_mnist_layout(workdir):
    out = run_program("d2l_lenet_fashion.py", workdir, 3)
    assert "Sigmoid output shape: \t ember.Size([1, 6, 28, 28])" in out or "output shape" in out
    assert out.count("epoch ") == 3 and "training on cpu" in out


def test_cs231n_pytorch_notebook(workdir):
    out = run_program("cs231n_pytorch.py", workdir)
    assert "using device: cpu" in out and "final test accuracy" in out


def test_custom_dataset_samplers_and_checkpoints(workdir):
    out = run_program("data_pipeline_checkpoint.py", workdir, workdir / "ckpt.pt")
    assert "validation accuracy" in out


def test_d2l_rnns_from_scratch_and_concise(workdir):
    out = run_program("rnn_d2l.py", workdir)
    assert "scratch final perplexity" in out and out.count("final perplexity") == 4


def test_transfer_learning_tutorial(workdir, tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    for split, n in (("train", 6), ("val", 4)):
        for label, colour in (("ants", (200, 40, 40)), ("bees", (40, 40, 200))):
            folder = tmp_path / split / label
            folder.mkdir(parents=True)
            for i in range(n):
                pixels = np.clip(rng.normal(colour, 30, (80, 90, 3)), 0, 255).astype(np.uint8)
                Image.fromarray(pixels).save(folder / f"{i}.jpg")
    out = run_program("transfer_learning.py", workdir, tmp_path)
    assert "['ants', 'bees']" in out and "grid (3," in out and "Training complete" in out


def test_transformer_encoder_classifier(workdir):
    out = run_program("transformer_classifier.py", workdir)
    assert "accuracy" in out
