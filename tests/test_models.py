"""The model registry and the first models (lenet5, mlp)."""

import numpy as np
import pytest
import torch

import ember
import ember.models as models
from helpers import check_module


def test_registry_lists_and_creates():
    assert {"lenet5", "mlp"} <= set(models.list())
    model = models.create("lenet5", num_classes=7)
    assert model(ember.randn(2, 1, 28, 28)).shape == (2, 7)
    assert models.create("mlp", in_channels=3, input_size=32)(ember.randn(2, 3, 32, 32)).shape == (2, 10)


def test_unknown_model_suggests_close_names():
    with pytest.raises(KeyError, match="Did you mean 'lenet5'"):
        models.create("lenet")


def test_unexpected_argument_is_an_error_but_none_is_ignored():
    with pytest.raises(TypeError, match="does not take depth"):
        models.create("lenet5", depth=3)
    assert isinstance(models.create("lenet5", dropout=None), models.LeNet5)


@pytest.mark.parametrize("size", [28, 32])
def test_lenet5_matches_torch(size):
    tnn = torch.nn
    padding = 2 if size == 28 else 0
    reference = tnn.Sequential()
    reference.add_module("features", tnn.Sequential(
        tnn.Conv2d(1, 6, 5, padding=padding), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2)))
    reference.add_module("classifier", tnn.Sequential(
        tnn.Flatten(), tnn.Linear(400, 120), tnn.ReLU(), tnn.Linear(120, 84), tnn.ReLU(), tnn.Linear(84, 10)))
    check_module(models.create("lenet5", input_size=size), reference, [(3, 1, size, size)])


def test_mlp_layers_and_dropout():
    model = models.create("mlp", hidden=(32,), dropout=0.5)
    names = [type(m).__name__ for m in model.layers]
    assert names == ["Flatten", "Linear", "ReLU", "Dropout", "Linear"]
    model.eval()
    x = ember.randn(4, 1, 28, 28)
    np.testing.assert_array_equal(model(x).detach().numpy(), model(x).detach().numpy())  # dropout off at eval


def test_training_hints_give_the_cli_a_learning_rate_the_model_can_learn_with(tmp_path):
    from ember.cli import main
    from ember.train import checkpoint

    assert models.training_hints("lenet5_classic") == {"lr": 0.01}
    assert models.training_hints("lenet5") == {}
    with pytest.raises(KeyError, match="unknown model"):
        models.training_hints("lenet6")
    code = main(["train", "lenet5_classic", "--dataset", "digits-mini", "--epochs", "1", "--train-size", "128",
                 "--val-size", "100", "--out", str(tmp_path), "--no-progress"])
    assert code == 0
    assert checkpoint.load(tmp_path / "last.npz")["config"]["lr"] == 0.01
