"""Checkpoints: data only (npz + JSON, no pickle), exact round trips, atomic writes."""

import os

import numpy as np
import pytest

import ember
from ember.train import checkpoint


def test_round_trip_keeps_structure_arrays_and_numbers(tmp_path):
    tree = {
        "epoch": 3,
        "model": {"w": ember.randn(3, 2), "b": np.arange(4, dtype=np.int64)},
        "optimizer": {"state": {0: {"step": 7, "exp_avg": np.ones(3, np.float32)}}, "param_groups": [{"lr": 0.1,
                      "betas": (0.9, 0.999), "params": [0]}]},
        "rng": ember.get_rng_state(),
        "none": None,
        "flag": True,
        "scalar": np.float32(1.5),
    }
    path = tmp_path / "c.npz"
    checkpoint.save(path, tree)
    back = checkpoint.load(path)
    np.testing.assert_array_equal(back["model"]["w"], tree["model"]["w"].numpy())
    assert back["model"]["w"].dtype == np.float32
    assert back["model"]["b"].dtype == np.int64
    assert back["optimizer"]["state"][0]["step"] == 7  # int keys survive JSON
    assert back["optimizer"]["param_groups"][0]["betas"] == [0.9, 0.999]
    assert back["rng"] == tree["rng"]
    assert back["none"] is None and back["flag"] is True and back["scalar"] == 1.5


def test_file_loads_without_pickle(tmp_path):
    path = tmp_path / "c.npz"
    checkpoint.save(path, {"a": np.zeros(2)})
    with np.load(path, allow_pickle=False) as npz:  # would raise if anything inside were pickled
        assert set(npz.files) == {"a", "__meta__.json"}


def test_objects_are_refused(tmp_path):
    with pytest.raises(TypeError, match="only data"):
        checkpoint.save(tmp_path / "c.npz", {"f": lambda: 0})
    with pytest.raises(TypeError, match="dtype"):
        checkpoint.save(tmp_path / "c.npz", {"o": np.array([object()])})


def test_crash_mid_save_keeps_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "last.npz"
    checkpoint.save(path, {"epoch": 1, "w": np.ones(3)})

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.save(path, {"epoch": 2, "w": np.zeros(3)})
    assert checkpoint.load(path)["epoch"] == 1
    assert os.listdir(tmp_path) == ["last.npz"]  # no temporary file left behind


def test_not_a_checkpoint(tmp_path):
    path = tmp_path / "x.npz"
    np.savez(path, a=np.zeros(1))
    with pytest.raises(ValueError, match="not an Ember checkpoint"):
        checkpoint.load(path)
