"""Edge cases where Ember used to answer differently from torch without a word: saving into a folder that
does not exist, adaptive pooling to a zero size."""

import pytest
import torch

import ember


@pytest.mark.parametrize("lib", [torch, ember], ids=["torch", "ember"])
def test_save_into_a_missing_folder_raises(lib, tmp_path):
    target = tmp_path / "no" / "such" / "folder" / "model.pt"
    with pytest.raises(RuntimeError, match="Parent directory .*folder does not exist"):
        lib.save({"w": lib.zeros(2)}, str(target))
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize("size", [0, (0, 2), (None, 2), (3, None), 1, (2, 3)])
@pytest.mark.parametrize("layer", ["AdaptiveMaxPool2d", "AdaptiveAvgPool2d"])
def test_adaptive_pooling_output_sizes_match_torch(layer, size):
    x = torch.randn(2, 3, 5, 4)
    expected = getattr(torch.nn, layer)(size)(x)
    got = getattr(ember.nn, layer)(size)(ember.tensor(x.numpy()))
    assert tuple(got.shape) == tuple(expected.shape)
    assert ember.allclose(got, ember.tensor(expected.numpy()))
