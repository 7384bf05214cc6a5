"""examples/init_experiment.py: the notes' initialisation experiment gives the notes' outcome — std 0.01
collapses, std 1 saturates tanh, Xavier keeps tanh alive, He keeps ReLU alive where Xavier lets it fade."""

import importlib.util
import os

import pytest
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))


def load_example():
    spec = importlib.util.spec_from_file_location("init_experiment", os.path.join(HERE, "..", "examples",
                                                                                   "init_experiment.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def results():
    return load_example().run()


def stds(stats):
    return [s.std for s in stats]


def test_every_scheme_records_ten_activation_layers(results):
    assert list(results) == ["tanh, std 0.01", "tanh, std 1.0", "tanh, Xavier", "ReLU, Xavier", "ReLU, He"]
    for name, stats in results.items():
        assert len(stats) == 10 and {s.kind for s in stats} == {"Tanh" if name.startswith("tanh") else "ReLU"}
        assert all(s.shape == (1000, 500) for s in stats)


def test_small_weights_collapse_the_activations_to_zero(results):
    s = stds(results["tanh, std 0.01"])
    assert all(b < 0.3 * a for a, b in zip(s, s[1:]))  # each layer shrinks them by about 0.01·√500 ≈ 0.22
    assert s[-1] < 1e-5


def test_unit_weights_saturate_tanh(results):
    stats = results["tanh, std 1.0"]
    assert all(s.saturated > 0.8 for s in stats) and stats[-1].std > 0.95  # almost every unit at ±1


def test_xavier_keeps_tanh_in_a_healthy_band(results):
    stats = results["tanh, Xavier"]
    assert all(0.15 < s.std < 0.8 for s in stats) and all(s.saturated < 0.05 for s in stats)


def test_relu_needs_he_not_xavier(results):
    he, xavier = stds(results["ReLU, He"]), stds(results["ReLU, Xavier"])
    assert all(0.5 < s < 1.2 for s in he)  # the variance is kept: E[h²] stays ≈ 1, so std ≈ √(1 - 1/π) ≈ 0.83
    assert xavier[-1] < 0.06 and xavier[-1] < he[-1] / 10  # halved variance per layer: (1/√2)^10 ≈ 0.03


def test_the_script_prints_the_tables_and_draws_the_histograms(tmp_path, capsys):
    load_example().main(["--out", str(tmp_path)])
    printed = capsys.readouterr().out
    assert "tanh, std 0.01: last layer std" in printed and "-> collapsed to zero" in printed
    assert "tanh, std 1.0: last layer std 0.98 -> saturated at ±1" in printed
    assert "ReLU, He: last layer std" in printed and printed.count("-> healthy") == 2
    with Image.open(tmp_path / "init_experiment.png") as im:
        assert im.format == "PNG" and im.size[0] > 1500
