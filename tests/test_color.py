"""ember.data.color: known colours in HSV/HSL, agreement with Python's colorsys on random colours, round
trips to 1e-6 (random colours, greys, pure hues), hue in [0, 1), the channel axis and batch dimensions,
luma weights, the adjust_* operations, dtypes and errors."""

import colorsys

import numpy as np
import pytest

import ember
from ember.data import color

# (name, RGB, HSV, HSL) with hue as a fraction of the wheel.
KNOWN = [
    ("red", (1, 0, 0), (0, 1, 1), (0, 1, 0.5)),
    ("green", (0, 1, 0), (1 / 3, 1, 1), (1 / 3, 1, 0.5)),
    ("blue", (0, 0, 1), (2 / 3, 1, 1), (2 / 3, 1, 0.5)),
    ("yellow", (1, 1, 0), (1 / 6, 1, 1), (1 / 6, 1, 0.5)),
    ("cyan", (0, 1, 1), (1 / 2, 1, 1), (1 / 2, 1, 0.5)),
    ("magenta", (1, 0, 1), (5 / 6, 1, 1), (5 / 6, 1, 0.5)),
    ("white", (1, 1, 1), (0, 0, 1), (0, 0, 1)),
    ("black", (0, 0, 0), (0, 0, 0), (0, 0, 0)),
    ("grey", (0.5, 0.5, 0.5), (0, 0, 0.5), (0, 0, 0.5)),
    ("dark red", (0.5, 0, 0), (0, 1, 0.5), (0, 1, 0.25)),
    ("pink", (1, 0.5, 0.5), (0, 0.5, 1), (0, 1, 0.75)),
]


def _pixels(colours, dtype="float64"):
    """A (3, 1, N) image whose pixels are the given colours."""
    return np.asarray(colours, dtype=dtype).T[:, None, :]


def _random_colours(n, seed=0):
    """Random colours plus the awkward ones: greys, pure and secondary hues, channel ties, near-black."""
    rng = np.random.default_rng(seed)
    special = [(g, g, g) for g in np.linspace(0, 1, 11)]
    special += [c[1] for c in KNOWN] + [(1, 1, 0.5), (0.5, 1, 1), (1, 0.5, 1), (0.3, 0.3, 0.9), (1e-4, 0, 0)]
    return np.concatenate([rng.random((n, 3)), np.asarray(special, dtype=float)])


@pytest.mark.parametrize("name,rgb,hsv,hsl", KNOWN, ids=[k[0] for k in KNOWN])
def test_known_colours(name, rgb, hsv, hsl):
    image = _pixels([rgb])
    np.testing.assert_allclose(color.rgb_to_hsv(image)[:, 0, 0], hsv, atol=1e-12, err_msg=f"{name} to HSV")
    np.testing.assert_allclose(color.rgb_to_hsl(image)[:, 0, 0], hsl, atol=1e-12, err_msg=f"{name} to HSL")
    np.testing.assert_allclose(color.hsv_to_rgb(_pixels([hsv]))[:, 0, 0], rgb, atol=1e-12, err_msg=f"{name} from HSV")
    np.testing.assert_allclose(color.hsl_to_rgb(_pixels([hsl]))[:, 0, 0], rgb, atol=1e-12, err_msg=f"{name} from HSL")


def test_agrees_with_colorsys_on_random_colours():
    colours = _random_colours(500)
    hsv = color.rgb_to_hsv(_pixels(colours))[:, 0, :].T
    hsl = color.rgb_to_hsl(_pixels(colours))[:, 0, :].T
    expected_hsv = np.asarray([colorsys.rgb_to_hsv(*c) for c in colours])
    expected_hls = np.asarray([colorsys.rgb_to_hls(*c) for c in colours])
    np.testing.assert_allclose(hsv, expected_hsv, atol=1e-12)
    np.testing.assert_allclose(hsl, expected_hls[:, [0, 2, 1]], atol=1e-12)  # colorsys says H, L, S
    back = color.hsv_to_rgb(_pixels(expected_hsv))[:, 0, :].T
    np.testing.assert_allclose(back, [colorsys.hsv_to_rgb(*c) for c in expected_hsv], atol=1e-12)
    back = color.hsl_to_rgb(_pixels(expected_hls[:, [0, 2, 1]]))[:, 0, :].T
    np.testing.assert_allclose(back, [colorsys.hls_to_rgb(*c) for c in expected_hls], atol=1e-12)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("space", ["hsv", "hsl"])
def test_round_trips_from_rgb(dtype, space):
    to, back = getattr(color, f"rgb_to_{space}"), getattr(color, f"{space}_to_rgb")
    image = _pixels(_random_colours(2000, seed=1), dtype)
    converted = to(image)
    assert converted.dtype == np.dtype(dtype)
    restored = back(converted)
    assert restored.dtype == np.dtype(dtype)
    np.testing.assert_allclose(restored, image, rtol=0, atol=1e-6)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("space", ["hsv", "hsl"])
def test_round_trips_to_rgb(dtype, space):
    """From the other side: (H, S, V/L) -> RGB -> (H, S, V/L). Hue is only defined for saturated colours
    and compared around the circle (H = 0.999... and H = 0 are neighbours)."""
    rng = np.random.default_rng(2)
    n = 2000
    h = np.concatenate([rng.random(n), np.arange(6) / 6])  # pure hues too
    s = np.concatenate([rng.uniform(0.05, 1, n), np.ones(6)])
    third = np.concatenate([rng.uniform(0.05, 0.95, n), np.full(6, 0.5)])
    image = np.stack([h, s, third])[:, None, :].astype(dtype)
    to, back = getattr(color, f"{space}_to_rgb"), getattr(color, f"rgb_to_{space}")
    restored = back(to(image))
    dh = np.abs(restored[0] - image[0])
    assert np.all(np.minimum(dh, 1 - dh) < 1e-6)
    np.testing.assert_allclose(restored[1:], image[1:], rtol=0, atol=1e-6)


def test_hue_lies_in_zero_one():
    # Colours just below red on the wheel (B a hair above G, R max) have H = 1 - tiny, which float32
    # rounds to exactly 1.0 unless the conversion folds it back to 0.
    rng = np.random.default_rng(3)
    eps = np.asarray([1e-9, 1e-8, 1e-7, 3e-8], dtype=np.float32)
    tricky = np.stack([np.ones(4), np.full(4, 0.5), 0.5 + eps]).astype(np.float32)[:, None, :]
    many = rng.random((3, 64, 64)).astype(np.float32)
    for image in (tricky, many, many.astype(np.float64)):
        for h in (color.rgb_to_hsv(image)[0], color.rgb_to_hsl(image)[0]):
            assert h.min() >= 0 and h.max() < 1


def test_channel_axis_and_batch_dims():
    rng = np.random.default_rng(4)
    batch = rng.random((2, 5, 3, 4, 6))  # channels on axis -3 under two batch dims
    hsv = color.rgb_to_hsv(batch)
    assert hsv.shape == batch.shape
    last = color.rgb_to_hsv(np.moveaxis(batch, -3, -1), dim=-1)  # channels last
    np.testing.assert_allclose(np.moveaxis(last, -1, -3), hsv, atol=0)
    first = color.rgb_to_hsl(np.moveaxis(batch, -3, 0), dim=0)
    np.testing.assert_allclose(np.moveaxis(first, 0, -3), color.rgb_to_hsl(batch), atol=0)
    single = color.rgb_to_hsv(batch[1, 2])
    np.testing.assert_array_equal(single, hsv[1, 2])
    pixel = [1.0, 0.5, 0.6]  # one colour, channels on axis 0
    np.testing.assert_allclose(color.rgb_to_hsv(pixel, dim=0), colorsys.rgb_to_hsv(*pixel), atol=1e-12)
    np.testing.assert_allclose(color.hsl_to_rgb(color.rgb_to_hsl(pixel, dim=0), dim=0), pixel, atol=1e-12)


def test_tensors_in_tensors_out():
    image = ember.rand(3, 4, 5)
    out = color.rgb_to_hsv(image)
    assert isinstance(out, ember.Tensor) and out.dtype == ember.float32 and not out.requires_grad
    np.testing.assert_allclose(color.hsv_to_rgb(out).numpy(), image.numpy(), atol=1e-6)


def test_grayscale_uses_torchvisions_luma_weights():
    image = _pixels([(1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 1), (0.2, 0.4, 0.6)])
    grey = color.rgb_to_grayscale(image)
    assert grey.shape == (1, 1, 5)
    np.testing.assert_allclose(grey[0, 0], [0.2989, 0.587, 0.114, 0.9999, 0.2989 * 0.2 + 0.587 * 0.4 + 0.114 * 0.6],
                               atol=1e-12)
    batch = np.random.default_rng(5).random((4, 3, 6, 7)).astype(np.float32)
    grey3 = color.rgb_to_grayscale(batch, num_output_channels=3)
    assert grey3.shape == batch.shape and grey3.dtype == np.float32
    expected = 0.2989 * batch[:, 0] + 0.587 * batch[:, 1] + 0.114 * batch[:, 2]
    for c in range(3):
        np.testing.assert_allclose(grey3[:, c], expected, rtol=1e-6)
    with pytest.raises(ValueError, match="num_output_channels"):
        color.rgb_to_grayscale(batch, num_output_channels=2)


def test_adjust_hue_rotates_the_wheel():
    red = _pixels([(1, 0, 0)])
    np.testing.assert_allclose(color.adjust_hue(red, 1 / 3)[:, 0, 0], (0, 1, 0), atol=1e-12)  # red -> green
    np.testing.assert_allclose(color.adjust_hue(red, -1 / 3)[:, 0, 0], (0, 0, 1), atol=1e-12)  # red -> blue
    np.testing.assert_allclose(color.adjust_hue(red, 0.5)[:, 0, 0], (0, 1, 1), atol=1e-12)  # complement: cyan
    grey = _pixels([(0.3, 0.3, 0.3)])
    np.testing.assert_allclose(color.adjust_hue(grey, 0.25), grey, atol=1e-12)  # greys have no hue
    with pytest.raises(ValueError, match="hue_factor"):
        color.adjust_hue(red, 0.6)


def test_adjust_functions_take_one_factor_per_image():
    rng = np.random.default_rng(6)
    batch = rng.random((3, 3, 4, 4)).astype(np.float32)
    factors = np.asarray([0.5, 1.0, 1.5])
    out = color.adjust_brightness(batch, factors)
    assert out.dtype == np.float32
    for b in range(3):
        np.testing.assert_allclose(out[b], np.clip(batch[b] * factors[b], 0, 1), rtol=1e-6)
        np.testing.assert_allclose(color.adjust_saturation(batch, factors)[b], color.adjust_saturation(batch[b], factors[b]),
                                   rtol=1e-6)
    np.testing.assert_array_equal(color.adjust_contrast(batch, np.ones(3)), np.clip(batch, 0, 1))
    with pytest.raises(ValueError, match="one factor per image"):
        color.adjust_brightness(batch, np.ones(2))


def test_errors_name_the_problem():
    with pytest.raises(TypeError, match="floating-point"):
        color.rgb_to_hsv(np.zeros((3, 2, 2), dtype=np.uint8))
    with pytest.raises(ValueError, match="3 colour channels"):
        color.rgb_to_hsv(np.zeros((4, 2, 2)))
    with pytest.raises(ValueError, match="C = 1 or 3"):
        color.adjust_contrast(np.zeros((2, 2)), 1.0)
