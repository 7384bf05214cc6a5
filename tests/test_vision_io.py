"""ember.vision.io: image files to (C, H, W) uint8 tensors, as torchvision.io."""

import numpy as np
import pytest
from PIL import Image

from ember.vision.io import ImageReadMode, decode_image, read_file, read_image, write_jpeg, write_png


def test_read_image_modes(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "a.png")
    t = read_image(str(tmp_path / "a.png"))
    assert t.dtype == np.uint8 and tuple(t.shape) == (3, 5, 7)
    np.testing.assert_array_equal(t.numpy(), rgb.transpose(2, 0, 1))
    grey = read_image(tmp_path / "a.png", ImageReadMode.GRAY).numpy()
    np.testing.assert_array_equal(grey[0], np.asarray(Image.fromarray(rgb).convert("L")))
    assert read_image(tmp_path / "a.png", ImageReadMode.RGB_ALPHA).shape == (4, 5, 7)
    assert decode_image(read_file(tmp_path / "a.png")).shape == (3, 5, 7)


def test_write_png_round_trip_and_jpeg(tmp_path):
    img = np.random.default_rng(1).integers(0, 256, (1, 4, 6), dtype=np.uint8)
    from ember import tensor

    write_png(tensor(img), tmp_path / "g.png")
    np.testing.assert_array_equal(read_image(tmp_path / "g.png").numpy(), img)
    write_jpeg(tensor(np.repeat(img, 3, 0)), tmp_path / "g.jpg", quality=95)
    assert read_image(tmp_path / "g.jpg").shape == (3, 4, 6)
    with pytest.raises(RuntimeError, match=r"expected a uint8 tensor of shape \(C, H, W\)"):
        write_png(tensor(img.astype(np.float32)), tmp_path / "x.png")
