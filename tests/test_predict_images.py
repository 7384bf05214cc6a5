"""``ember predict``'s image loading (ember/app/images.py): a light background is inverted for the dark-
background digit models, and said so; transparency lies on white; colour models are left alone."""

import numpy as np
import pytest
from PIL import Image

from ember.app.images import border_brightness, load_image
from ember.cli import main
from ember.data.datasets import DigitsMini


@pytest.fixture(scope="module")
def digit():
    return DigitsMini(train=False).data[0]  # (28, 28) uint8, white stroke on black


def test_dark_background_is_kept(digit, tmp_path):
    Image.fromarray(digit).save(tmp_path / "d.png")
    notes = []
    array = load_image(tmp_path / "d.png", 28, 1, "mnist", notes.append)
    np.testing.assert_array_equal(array[..., 0], digit)
    assert notes == []


def test_light_background_is_inverted_and_said(digit, tmp_path):
    Image.fromarray(255 - digit).save(tmp_path / "ink.png")  # black ink on white paper
    notes = []
    array = load_image(tmp_path / "ink.png", 28, 1, "mnist", notes.append)
    np.testing.assert_array_equal(array[..., 0], digit)
    assert notes == [f"{tmp_path / 'ink.png'}: light background, inverted to white-on-black as in MNIST"]


def test_transparent_canvas_lies_on_white(digit, tmp_path):
    rgba = np.zeros((28, 28, 4), np.uint8)
    rgba[..., 3] = digit  # black ink where the digit is, transparent elsewhere
    Image.fromarray(rgba, "RGBA").save(tmp_path / "t.png")
    notes = []
    array = load_image(tmp_path / "t.png", 28, 1, "mnist", notes.append)
    assert len(notes) == 1 and border_brightness(array[..., 0]) < 0.1
    assert np.corrcoef(array[..., 0].ravel(), digit.ravel())[0, 1] > 0.95


def test_colour_models_are_not_inverted(tmp_path):
    Image.fromarray(np.full((32, 32, 3), 240, np.uint8)).save(tmp_path / "sky.png")
    notes = []
    array = load_image(tmp_path / "sky.png", 32, 3, "cifar10", notes.append)
    assert array.shape == (32, 32, 3) and array.min() == 240 and notes == []


def test_border_brightness():
    image = np.zeros((10, 10), np.uint8)
    assert border_brightness(image) == 0.0
    image[0, :] = image[-1, :] = image[:, 0] = image[:, -1] = 255
    assert border_brightness(image) == 1.0


def test_predict_says_it_inverted_and_classifies_like_the_dark_digit(digit, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "lenet5", "--dataset", "digits-mini", "--train-size", "64", "--epochs", "1",
                 "--val-size", "50", "--out", str(run), "--no-progress"]) == 0
    Image.fromarray(digit).save(tmp_path / "dark.png")
    Image.fromarray(255 - digit).save(tmp_path / "light.png")
    capsys.readouterr()
    assert main(["predict", str(run / "last.npz"), str(tmp_path / "dark.png"), str(tmp_path / "light.png")]) == 0
    captured = capsys.readouterr()
    dark, light = captured.out.strip().splitlines()
    assert dark.split(": ", 1)[1] == light.split(": ", 1)[1]  # the same probabilities
    assert captured.err.strip() == f"{tmp_path / 'light.png'}: light background, inverted to white-on-black as in MNIST"
