"""ember.vision.utils: make_grid and save_image, against torchvision's algorithm and hand-computed grids.

torchvision is not installed; ``torchvision_make_grid`` below is its make_grid transcribed line for line
in torch (torchvision/utils.py), so the comparison runs the real arithmetic (float32 clamp/sub/div) in torch.
"""

import io
import math
import os

import numpy as np
import pytest
import torch
from PIL import Image

import ember
from ember.vision.utils import make_grid, save_image


def torchvision_make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False,
                          pad_value=0.0):
    if isinstance(tensor, list):
        tensor = torch.stack(tensor, dim=0)
    if tensor.dim() == 2:
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 3:
        if tensor.size(0) == 1:
            tensor = torch.cat((tensor, tensor, tensor), 0)
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 4 and tensor.size(1) == 1:
        tensor = torch.cat((tensor, tensor, tensor), 1)
    if normalize is True:
        tensor = tensor.clone()

        def norm_ip(img, low, high):
            img.clamp_(min=low, max=high)
            img.sub_(low).div_(max(high - low, 1e-5))

        def norm_range(t, value_range):
            if value_range is not None:
                norm_ip(t, value_range[0], value_range[1])
            else:
                norm_ip(t, float(t.min()), float(t.max()))

        if scale_each is True:
            for t in tensor:
                norm_range(t, value_range)
        else:
            norm_range(tensor, value_range)
    if tensor.size(0) == 1:
        return tensor.squeeze(0)
    nmaps = tensor.size(0)
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(float(nmaps) / xmaps))
    height, width = int(tensor.size(2) + padding), int(tensor.size(3) + padding)
    grid = tensor.new_full((tensor.size(1), height * ymaps + padding, width * xmaps + padding), pad_value)
    k = 0
    for y in range(ymaps):
        for x in range(xmaps):
            if k >= nmaps:
                break
            grid.narrow(1, y * height + padding, height - padding).narrow(2, x * width + padding,
                                                                          width - padding).copy_(tensor[k])
            k = k + 1
    return grid


def test_hand_computed_grid():
    # Three 1×2×2 images of constant 1, 2, 3; two per row, padding 1, pad value 9: a 3×7×7 grid.
    images = ember.tensor(np.array([1.0, 2.0, 3.0], dtype=np.float32)[:, None, None, None] * np.ones((3, 1, 2, 2),
                                                                                                    np.float32))
    grid = make_grid(images, nrow=2, padding=1, pad_value=9)
    expected = np.array([
        [9, 9, 9, 9, 9, 9, 9],
        [9, 1, 1, 9, 2, 2, 9],
        [9, 1, 1, 9, 2, 2, 9],
        [9, 9, 9, 9, 9, 9, 9],
        [9, 3, 3, 9, 9, 9, 9],
        [9, 3, 3, 9, 9, 9, 9],
        [9, 9, 9, 9, 9, 9, 9],
    ], dtype=np.float32)  # fmt: skip
    assert isinstance(grid, ember.Tensor) and grid.dtype == ember.float32
    np.testing.assert_array_equal(grid.numpy(), np.stack([expected] * 3))  # grey -> 3 equal channels


def test_default_layout_sizes():
    # 64 MNIST-sized images, nrow 8, padding 2: 8 × (28 + 2) + 2 = 242 pixels each way.
    assert tuple(make_grid(ember.rand(64, 1, 28, 28)).shape) == (3, 242, 242)
    assert tuple(make_grid(ember.rand(10, 3, 32, 32), nrow=4).shape) == (3, 3 * 34 + 2, 4 * 34 + 2)
    assert tuple(make_grid(ember.rand(3, 3, 5, 5), nrow=8).shape) == (3, 7 + 2, 3 * 7 + 2)  # nrow > B: one row
    one = ember.rand(1, 3, 6, 7)
    np.testing.assert_array_equal(make_grid(one).numpy(), one.numpy()[0])  # one image: no padding


CASES = [
    dict(shape=(10, 3, 5, 4), kw={}),
    dict(shape=(7, 1, 6, 6), kw=dict(nrow=3, padding=1, pad_value=0.5)),
    dict(shape=(5, 2, 4, 4), kw=dict(nrow=2, padding=0)),
    dict(shape=(6, 3, 4, 5), kw=dict(normalize=True)),
    dict(shape=(6, 3, 4, 5), kw=dict(normalize=True, scale_each=True, padding=3)),
    dict(shape=(6, 1, 4, 5), kw=dict(normalize=True, value_range=(-0.5, 0.5))),
    dict(shape=(4, 3, 4, 4), kw=dict(normalize=True, value_range=(-1, 1), scale_each=True, pad_value=1)),
    dict(shape=(3, 8, 9), kw=dict(normalize=True)),
    dict(shape=(1, 8, 9), kw={}),
    dict(shape=(8, 9), kw={}),
    dict(shape=(1, 3, 4, 4), kw=dict(normalize=True)),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['shape']}-{c['kw']}")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_torchvisions_algorithm(case, dtype):
    x = (np.random.default_rng(0).standard_normal(case["shape"]) * 2).astype(dtype)
    expected = torchvision_make_grid(torch.from_numpy(x.copy()), **case["kw"]).numpy()
    got = make_grid(ember.tensor(x), **case["kw"]).numpy()
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


def test_list_input_and_errors():
    images = [ember.rand(3, 4, 4) for _ in range(3)]
    expected = torchvision_make_grid([torch.from_numpy(t.numpy()) for t in images], nrow=2)
    np.testing.assert_array_equal(make_grid(images, nrow=2).numpy(), expected.numpy())
    with pytest.raises(TypeError, match="tensor or list of tensors expected, got a list containing"):
        make_grid([np.zeros((3, 4, 4))])
    with pytest.raises(TypeError, match="tensor or list of tensors expected, got <class 'numpy.ndarray'>"):
        make_grid(np.zeros((2, 3, 4, 4)))
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        make_grid(ember.rand(2, 3, 4, 4), normalize=True, value_range=[0, 1])


def test_no_graph_and_integer_images():
    x = ember.rand(4, 3, 5, 5, requires_grad=True)
    assert make_grid(x).requires_grad is False  # torchvision runs make_grid under no_grad
    pixels = ember.tensor(np.arange(2 * 3 * 2 * 2, dtype=np.uint8).reshape(2, 3, 2, 2))
    np.testing.assert_array_equal(make_grid(pixels, padding=1).numpy(),
                                  torchvision_make_grid(torch.from_numpy(pixels.numpy()), padding=1).numpy())
    with pytest.raises(RuntimeError, match="needs a floating-point tensor"):
        make_grid(pixels, normalize=True)
    with pytest.raises(RuntimeError, match="save_image expects a floating-point tensor"):
        save_image(pixels, io.BytesIO(), format="PNG")


def test_input_is_not_modified_by_normalize():
    x = ember.randn(4, 3, 5, 5)
    before = x.numpy().copy()
    make_grid(x, normalize=True)
    np.testing.assert_array_equal(x.numpy(), before)


def torchvision_pixels(x, **kwargs):
    grid = torchvision_make_grid(torch.from_numpy(x.copy()), **kwargs)
    return grid.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to("cpu", torch.uint8).numpy()


def test_save_image_pixels_are_torchvisions(tmp_path):
    x = np.random.default_rng(1).uniform(-0.2, 1.2, (5, 3, 6, 7)).astype(np.float32)
    x[0, 0, 0, :4] = [0.5 / 255, 1.5 / 255, 254.5 / 255, 1.0]  # the rounding edges
    path = tmp_path / "grid.png"
    save_image(ember.tensor(x), path, nrow=3, padding=1)
    saved = np.asarray(Image.open(path))
    np.testing.assert_array_equal(saved, torchvision_pixels(x, nrow=3, padding=1))
    assert saved.shape == (2 * 7 + 1, 3 * 8 + 1, 3)
    assert os.listdir(tmp_path) == ["grid.png"]  # written under a temporary name, then renamed


def test_save_image_grey_batch_normalised(tmp_path):
    x = np.random.default_rng(2).standard_normal((4, 1, 5, 5)).astype(np.float32)
    save_image(ember.tensor(x), str(tmp_path / "g.png"), normalize=True, nrow=2)
    saved = Image.open(tmp_path / "g.png")
    assert saved.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(saved), torchvision_pixels(x, normalize=True, nrow=2))


def test_save_image_to_a_file_object_and_formats(tmp_path):
    x = ember.rand(2, 3, 4, 4)
    buffer = io.BytesIO()
    save_image(x, buffer, format="PNG")
    assert buffer.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
    save_image(x, tmp_path / "a.jpg")
    assert (tmp_path / "a.jpg").read_bytes()[:2] == b"\xff\xd8"  # JPEG, chosen from the extension
    with pytest.raises(ValueError, match="unknown file extension: .xyz"):
        save_image(x, tmp_path / "a.xyz")
    assert sorted(os.listdir(tmp_path)) == ["a.jpg"]
