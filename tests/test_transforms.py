"""Transforms on known arrays: ToTensor, Normalize, fitted preprocessing (statistics from the training split
applied unchanged to the test split), flips, crops with padding, Resize (a hand-computed bilinear case and
torch's interpolate under both align_corners conventions), RandomResizedCrop, Grayscale weights,
ColorJitter against the direct formulas (and colorsys for hue); per-sample independence of random
parameters in a batch, reproducibility with seeds, single image == batch of one, dtypes."""

import colorsys

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from helpers import assert_close

import ember
from ember.data import TensorDataset, rng_scope
from ember.data import transforms as T


def _images(shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).random(shape).astype(dtype)


def _np(x):
    return x.numpy() if isinstance(x, ember.Tensor) else np.asarray(x)


# ---- conversion -----------------------------------------------------------------------------------------


def test_to_tensor_hwc_uint8():
    pic = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3) * 14  # H=2, W=3, C=3, values up to 238
    pic[0, 0, 0] = 255
    out = T.ToTensor()(pic)
    assert isinstance(out, ember.Tensor) and out.shape == (3, 2, 3) and out.dtype == ember.float32
    expected = pic.transpose(2, 0, 1).astype(np.float32) / np.float32(255)
    np.testing.assert_array_equal(out.numpy(), expected)
    assert out.numpy()[0, 0, 0] == 1.0 and out.numpy()[1, 0, 0] == np.float32(14 / 255)
    np.testing.assert_array_equal(out.numpy()[:, 1, 2], pic[1, 2] / np.float32(255))


def test_to_tensor_grayscale_and_batches():
    grey = np.array([[0, 51], [102, 255]], dtype=np.uint8)
    np.testing.assert_allclose(T.ToTensor()(grey).numpy(), [[[0, 0.2], [0.4, 1]]], rtol=1e-7)
    batch = np.random.default_rng(0).integers(0, 256, (4, 5, 6, 3), dtype=np.uint8)
    out = T.ToTensor()(batch)
    assert out.shape == (4, 3, 5, 6)
    np.testing.assert_array_equal(out.numpy()[2], T.ToTensor()(batch[2]).numpy())
    mnist = np.random.default_rng(1).integers(0, 256, (7, 28, 28), dtype=np.uint8)
    assert T.ToTensor()(mnist).shape == (7, 1, 28, 28)  # a (B, H, W) batch: last axis > 4
    assert T.ToTensor(batched=True)(mnist[:, :3, :3]).shape == (7, 1, 3, 3)  # the override
    floats = np.full((2, 2, 3), 0.7, dtype=np.float32)
    np.testing.assert_array_equal(T.ToTensor()(floats).numpy(), np.full((3, 2, 2), 0.7, np.float32))
    with pytest.raises(ValueError, match="expected"):
        T.ToTensor()(np.zeros(5))


def test_to_dtype_scales():
    chw = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
    out = T.ToDtype(ember.float32, scale=True)(chw)
    assert out.shape == (1, 2, 2) and out.dtype == ember.float32
    np.testing.assert_allclose(out.numpy(), [[[0, 1], [0.2, 0.4]]], rtol=1e-7)
    np.testing.assert_array_equal(T.ToDtype(ember.uint8, scale=True)(out).numpy(), chw)
    assert T.ToDtype("float64")(chw).numpy()[0, 0, 1] == 255.0


def test_normalize_per_channel():
    x = np.full((2, 3, 2, 2), 0.5, dtype=np.float32)
    x[1, 2] = 1.0
    out = T.Normalize((0.5, 0.25, 0.0), (0.5, 0.25, 2.0))(x)
    assert isinstance(out, ember.Tensor) and out.dtype == ember.float32
    np.testing.assert_array_equal(out.numpy()[0, :, 0, 0], [0.0, 1.0, 0.25])
    np.testing.assert_array_equal(out.numpy()[1, :, 0, 0], [0.0, 1.0, 0.5])
    np.testing.assert_array_equal(T.Normalize((0.5, 0.25, 0.0), (0.5, 0.25, 2.0))(x[1]).numpy(), out.numpy()[1])
    with pytest.raises(ValueError, match="division by zero"):
        T.Normalize((0,), (0,))
    with pytest.raises(ValueError, match="channels on axis"):
        T.Normalize((0, 0), (1, 1))(x)
    with pytest.raises(TypeError, match="ToTensor"):
        T.Normalize((0,), (1,))(np.zeros((1, 2, 2), np.uint8))


# ---- fitted preprocessing -------------------------------------------------------------------------------


def _splits():
    r = np.random.default_rng(7)
    scale = np.array([1.0, 2.0, 0.5]).reshape(1, 3, 1, 1)
    train = (r.normal(0.3, 1.0, (200, 3, 4, 5)) * scale + np.array([0.1, -2, 5]).reshape(1, 3, 1, 1))
    test = r.normal(0, 1, (50, 3, 4, 5))
    return train.astype(np.float32), test.astype(np.float32)


def test_standardize_fitted_on_train_applies_to_test():
    train, test = _splits()
    t = T.Standardize("channel").fit(train)
    mean = train.astype(np.float64).mean(axis=(0, 2, 3), keepdims=True)[0]
    std = train.astype(np.float64).std(axis=(0, 2, 3), keepdims=True)[0]
    np.testing.assert_allclose(t.mean, mean, rtol=1e-12)
    np.testing.assert_allclose(t.std, std, rtol=1e-12)
    z = t(train).numpy()
    assert z.dtype == np.float32
    np.testing.assert_allclose(z.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(axis=(0, 2, 3)), 1, atol=1e-5)
    # The test split is transformed with the *training* statistics (so it is not itself standardised).
    out = t(test).numpy()
    np.testing.assert_allclose(out, (test - mean) / std, rtol=1e-5, atol=1e-6)
    assert abs(out[:, 1].mean() - (0 - mean[1, 0, 0]) / std[1, 0, 0]) < 0.1
    np.testing.assert_array_equal(t(test[3]).numpy(), out[3])  # one image or a batch


def test_standardize_image_mode_and_constant_pixels():
    train, _ = _splits()
    train[:, 0, 0, 0] = 4.0  # a constant pixel: σ = 0, so it is only centred
    t = T.Standardize("image").fit(train)
    assert t.mean.shape == (3, 4, 5)
    expected = (train - train.mean(axis=0)) / np.where(train.std(axis=0) == 0, 1, train.std(axis=0))
    np.testing.assert_allclose(t(train).numpy(), expected, rtol=1e-4, atol=1e-5)
    assert np.all(t(train).numpy()[:, 0, 0, 0] == 0)
    g = T.Standardize("global").fit(train)
    assert g.mean.shape == (1, 1, 1)
    np.testing.assert_allclose(g.std.item(), train.astype(np.float64).std(), rtol=1e-10)


def test_fit_streams_over_batches():
    train, _ = _splits()
    whole = T.Standardize("channel").fit(train)
    loader = ember.data.DataLoader(TensorDataset(train, np.zeros(200, np.int64)), batch_size=33)
    streamed = T.Standardize("channel").fit(loader)
    np.testing.assert_allclose(streamed.mean, whole.mean, rtol=1e-12)
    np.testing.assert_allclose(streamed.std, whole.std, rtol=1e-10)
    big = np.concatenate([train] * 6)  # more than one internal chunk of 1024 samples
    np.testing.assert_allclose(T.Standardize("image").fit(big).std, train.astype(np.float64).std(axis=0), rtol=1e-10)


def test_mean_subtract_modes():
    train, test = _splits()
    image = T.MeanSubtract("image").fit(train)
    np.testing.assert_allclose(image(test).numpy(), test - train.astype(np.float64).mean(axis=0), rtol=1e-5, atol=1e-6)
    channel = T.MeanSubtract("channel").fit(train)
    centred = channel(train).numpy()
    np.testing.assert_allclose(centred.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    assert not np.allclose(centred.mean(axis=0), 0, atol=1e-3)  # per channel, not per pixel
    state = channel.state_dict()
    restored = T.MeanSubtract().load_state_dict(state)
    np.testing.assert_array_equal(restored(test).numpy(), channel(test).numpy())


def test_fitted_transforms_check_their_input():
    with pytest.raises(RuntimeError, match="not fitted"):
        T.Standardize()(np.zeros((3, 4, 5), np.float32))
    t = T.Standardize().fit(np.ones((4, 3, 4, 5), np.float32))
    with pytest.raises(ValueError, match="fitted on samples of shape"):
        t(np.zeros((1, 28, 28), np.float32))
    with pytest.raises(ValueError, match="mode"):
        T.MeanSubtract("pixel")


def test_min_max_scale():
    train, test = _splits()
    t = T.MinMaxScale().fit(train)
    out = t(train).numpy()
    assert out.min() == 0 and abs(out.max() - 1) < 1e-6
    np.testing.assert_allclose(t(test).numpy(), (test - train.min()) / (train.max() - train.min()), rtol=1e-5, atol=1e-6)
    fixed = T.MinMaxScale(feature_range=(-1, 1), data_range=(0, 255))
    np.testing.assert_allclose(fixed(np.array([[[0, 127.5, 255]]], np.float32)).numpy(), [[[-1, 0, 1]]])
    per_channel = T.MinMaxScale(mode="channel").fit(train)(train).numpy()
    np.testing.assert_allclose(per_channel.min(axis=(0, 2, 3)), 0, atol=1e-6)
    np.testing.assert_allclose(per_channel.max(axis=(0, 2, 3)), 1, atol=1e-6)


# ---- flips and crops ----------------------------------------------------------------------------------------


def test_flips_exact():
    x = np.arange(2 * 2 * 3, dtype=np.float32).reshape(1, 2, 2, 3)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1)(x), [[[[2, 1, 0], [5, 4, 3]], [[8, 7, 6], [11, 10, 9]]]])
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=1)(x), [[[[3, 4, 5], [0, 1, 2]], [[9, 10, 11], [6, 7, 8]]]])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=0)(x), x)
    single = T.RandomHorizontalFlip(p=1)(ember.tensor(x[0]))
    assert isinstance(single, ember.Tensor) and single.shape == (2, 2, 3)


def test_flip_decisions_are_per_sample_and_reproducible():
    x = np.broadcast_to(np.arange(5, dtype=np.float32), (64, 1, 1, 5)).copy()
    with rng_scope(3):
        out = T.RandomHorizontalFlip(p=0.5)(x)
    flipped = out[:, 0, 0, 0] == 4
    assert np.all(flipped | (out[:, 0, 0, 0] == 0))  # each image is itself or its mirror
    assert 10 < flipped.sum() < 54  # independent decisions, not one for the whole batch
    np.testing.assert_array_equal(flipped, np.random.default_rng(3).random(64) < 0.5)
    with rng_scope(3):
        np.testing.assert_array_equal(T.RandomHorizontalFlip(p=0.5)(x), out)


def test_random_crop_with_padding_exact():
    x = np.arange(1, 10, dtype=np.float32).reshape(1, 3, 3)
    full = T.RandomCrop(5, padding=1)(x)  # the crop is the whole padded image: the padding is visible
    np.testing.assert_array_equal(full[0], [[0, 0, 0, 0, 0], [0, 1, 2, 3, 0], [0, 4, 5, 6, 0], [0, 7, 8, 9, 0],
                                            [0, 0, 0, 0, 0]])
    np.testing.assert_array_equal(T.RandomCrop((3, 5), padding=(1, 0), fill=-1)(x)[0],
                                  [[-1, 1, 2, 3, -1], [-1, 4, 5, 6, -1], [-1, 7, 8, 9, -1]])
    reflect = T.RandomCrop(5, padding=1, padding_mode="reflect")(x)
    np.testing.assert_array_equal(reflect, np.pad(x, ((0, 0), (1, 1), (1, 1)), mode="reflect"))
    with pytest.raises(ValueError, match="larger than"):
        T.RandomCrop(4)(x)
    padded = T.RandomCrop(4, pad_if_needed=True)(x)
    assert padded.shape == (1, 4, 4)


def test_random_crop_offsets_are_per_sample():
    x = np.broadcast_to(np.arange(36, dtype=np.float32).reshape(6, 6), (50, 2, 6, 6)).copy()
    with rng_scope(5):
        out = T.RandomCrop(3, padding=2, fill=-1)(x)
    g = np.random.default_rng(5)
    top, left = g.integers(0, 8, size=50), g.integers(0, 8, size=50)
    padded = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)), constant_values=-1)
    for b in range(50):
        np.testing.assert_array_equal(out[b], padded[b, :, top[b] : top[b] + 3, left[b] : left[b] + 3])
    assert len({(t, l) for t, l in zip(top, left)}) > 20


def test_center_crop():
    x = np.arange(20, dtype=np.float32).reshape(1, 4, 5)
    np.testing.assert_array_equal(T.CenterCrop(2)(x)[0], [[7, 8], [12, 13]])  # offsets round(1) = 1, round(1.5) = 2
    np.testing.assert_array_equal(T.CenterCrop((4, 3))(x)[0], x[0, :, 1:4])


# ---- resampling -----------------------------------------------------------------------------------------------


def test_resize_hand_computed_bilinear():
    x = np.array([[[0, 1], [2, 3]]], dtype=np.float32)
    # align_corners=False: output pixel d samples (d + 0.5)/2 - 0.5 = -0.25 (clamped to 0), 0.25, 0.75, 1.25.
    expected = [[0, 0.25, 0.75, 1], [0.5, 0.75, 1.25, 1.5], [1.5, 1.75, 2.25, 2.5], [2, 2.25, 2.75, 3]]
    np.testing.assert_array_equal(T.Resize((4, 4))(x)[0], expected)
    np.testing.assert_array_equal(T.Resize((3, 3), align_corners=True)(x)[0], [[0, 0.5, 1], [1, 1.5, 2], [2, 2.5, 3]])
    assert T.Resize(4)(x).dtype == np.float32


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("in_hw,out_hw", [((5, 7), (9, 4)), ((8, 8), (3, 3)), ((6, 10), (12, 20)), ((4, 6), (1, 1)),
                                          ((7, 5), (7, 5)), ((170, 6), (20, 9))])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("path", ["dense", "gather"])
def test_resize_matches_torch_interpolate(align_corners, in_hw, out_hw, dtype, path, monkeypatch):
    # Both implementations: interpolation matrices (small images) and per-pixel gathers (large ones).
    monkeypatch.setattr(T.geometry, "_DENSE_MAX", 10**6 if path == "dense" else 0)
    x = _images((2, 3) + in_hw, seed=1, dtype=dtype)
    ours = T.Resize(out_hw, align_corners=align_corners)(ember.tensor(x))
    theirs = TF.interpolate(torch.tensor(x), size=out_hw, mode="bilinear", align_corners=align_corners)
    assert isinstance(ours, ember.Tensor) and str(ours.dtype) == dtype
    assert_close(ours, theirs, dtype)


def test_resize_sizes_and_integers():
    x = _images((3, 10, 20))
    assert T.Resize(5)(x).shape == (3, 5, 10)  # the shorter edge becomes 5
    assert T.Resize(5)(x.transpose(0, 2, 1)).shape == (3, 10, 5)
    u8 = (x * 255).astype(np.uint8)
    out = T.Resize((7, 9))(u8)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, np.clip(np.rint(T.Resize((7, 9))(u8.astype(np.float32))), 0, 255))


@pytest.mark.parametrize("path", ["dense", "gather"])
def test_random_resized_crop_boxes_and_values(path, monkeypatch):
    monkeypatch.setattr(T.geometry, "_DENSE_MAX", 10**6 if path == "dense" else 0)
    x = _images((40, 3, 12, 16), seed=2)
    t = T.RandomResizedCrop((6, 5), scale=(0.2, 0.9))
    with rng_scope(1):
        top, left, h, w = t.get_params(12, 16, 40)
    assert np.all((top >= 0) & (left >= 0) & (top + h <= 12) & (left + w <= 16) & (h > 0) & (w > 0))
    area = h * w / (12 * 16)
    assert np.all(area > 0.15) and np.all(area < 0.95)  # within the scale range, up to rounding
    assert len(set(zip(top.tolist(), left.tolist(), h.tolist(), w.tolist()))) > 30  # per-sample boxes
    with rng_scope(1):
        out = t(x)
    assert out.shape == (40, 3, 6, 5) and out.dtype == np.float32
    for b in (0, 17, 39):  # each image is its own box, resized
        crop = x[b, :, top[b] : top[b] + h[b], left[b] : left[b] + w[b]]
        np.testing.assert_allclose(out[b], T.Resize((6, 5))(crop), rtol=1e-6, atol=1e-7)


def test_random_resized_crop_whole_image_and_fallback():
    x = _images((2, 3, 8, 8), seed=3)
    whole = T.RandomResizedCrop(4, scale=(1, 1), ratio=(1, 1))(x)
    np.testing.assert_allclose(whole, T.Resize(4)(x), rtol=1e-6)
    t = T.RandomResizedCrop(4, scale=(3, 4), ratio=(1, 1))  # never fits: central crop of the whole image
    top, left, h, w = t.get_params(8, 10, 5)
    assert h.tolist() == [8] * 5 and w.tolist() == [8] * 5 and left.tolist() == [1] * 5 and top.tolist() == [0] * 5


# ---- colour -----------------------------------------------------------------------------------------------------


def _grey(x):
    return 0.2989 * x[..., 0, :, :] + 0.587 * x[..., 1, :, :] + 0.114 * x[..., 2, :, :]


def _brightness(x, f):
    return np.clip(f * x, 0, 1)


def _contrast(x, f):
    return np.clip(f * x + (1 - f) * _grey(x).mean(), 0, 1)


def _saturation(x, f):
    return np.clip(f * x + (1 - f) * _grey(x)[None], 0, 1)


def _hue(x, f):
    """Through Python's colorsys, pixel by pixel: an independent oracle for the HSV route."""
    out = np.empty_like(x)
    for i in range(x.shape[1]):
        for j in range(x.shape[2]):
            h, s, v = colorsys.rgb_to_hsv(*x[:, i, j])
            out[:, i, j] = colorsys.hsv_to_rgb((h + f) % 1.0, s, v)
    return out


FORMULAS = [_brightness, _contrast, _saturation, _hue]


@pytest.mark.parametrize("k,factor", [(0, 0.6), (0, 1.7), (1, 0.4), (1, 1.8), (2, 0.0), (2, 1.5), (3, 0.25), (3, -0.4)])
def test_color_jitter_fixed_factors_match_the_formulas(k, factor):
    x = _images((3, 5, 6), seed=4, dtype=np.float64)
    ranges = [None, None, None, None]
    ranges[k] = (factor, factor)
    t = T.ColorJitter(*(r if r is not None else 0 for r in ranges))
    np.testing.assert_allclose(t(x), FORMULAS[k](x, factor), rtol=1e-10, atol=1e-12)
    out32 = t(x.astype(np.float32))
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, FORMULAS[k](x, factor), atol=2e-6)


def test_color_jitter_per_sample_factors_and_order():
    x = np.broadcast_to(_images((3, 4, 4), seed=5, dtype=np.float64), (12, 3, 4, 4)).copy()
    t = T.ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1)
    with rng_scope(8):
        order, factors = t.get_params(12)
    with rng_scope(8):
        out = t(x)
    assert all(sorted(o) == [0, 1, 2, 3] for o in order.tolist())
    assert len({tuple(o) for o in order.tolist()}) > 3  # the order is drawn per image
    assert np.all((factors[0] >= 0.6) & (factors[0] <= 1.4)) and np.all(np.abs(factors[3]) <= 0.1)
    for b in range(12):
        expected = x[b]
        for k in order[b]:
            expected = FORMULAS[k](expected, factors[k][b])
        np.testing.assert_allclose(out[b], expected, atol=1e-10)
    assert len({out[b].tobytes() for b in range(12)}) == 12  # identical inputs, independent jitter


def test_color_jitter_arguments():
    t = T.ColorJitter(brightness=(0.5, 2), hue=0.2)
    assert t.brightness == (0.5, 2.0) and t.contrast is None and t.hue == (-0.2, 0.2)
    assert T.ColorJitter(brightness=1.5).brightness == (0.0, 2.5)
    with pytest.raises(ValueError, match="hue"):
        T.ColorJitter(hue=0.6)
    with pytest.raises(ValueError, match="non negative"):
        T.ColorJitter(contrast=-0.1)
    with pytest.raises(TypeError, match="ToTensor"):
        T.ColorJitter(brightness=0.5)(np.zeros((3, 2, 2), np.uint8))


def test_grayscale_transforms():
    x = _images((4, 3, 5, 5), seed=6)
    grey = T.Grayscale()(x)
    assert grey.shape == (4, 1, 5, 5) and grey.dtype == np.float32
    np.testing.assert_allclose(grey[:, 0], _grey(x), rtol=1e-6)
    np.testing.assert_allclose(T.Grayscale(3)(ember.tensor(x[0])).numpy(), np.repeat(grey[0], 3, axis=0), rtol=1e-6)
    with rng_scope(2):
        mixed = T.RandomGrayscale(p=0.5)(np.broadcast_to(x[0], (40, 3, 5, 5)))
    is_grey = np.all(mixed[:, 0] == mixed[:, 1], axis=(1, 2))
    assert 5 < is_grey.sum() < 35
    np.testing.assert_array_equal(mixed[~is_grey], np.broadcast_to(x[0], (40, 3, 5, 5))[~is_grey])


# ---- reproducibility and shapes ---------------------------------------------------------------------------------


RANDOM = [T.RandomHorizontalFlip(), T.RandomCrop(5, padding=1), T.RandomResizedCrop(4),
          T.ColorJitter(0.5, 0.5, 0.5, 0.2), T.RandomGrayscale(0.5)]


@pytest.mark.parametrize("t", RANDOM, ids=lambda t: type(t).__name__)
def test_random_transforms_reproducible_with_manual_seed(t):
    x = _images((8, 3, 6, 6), seed=7)
    ember.manual_seed(0)
    state = ember.get_rng_state()
    first = t(x)
    assert ember.get_rng_state() == state  # the model's generator is never drawn from
    ember.manual_seed(0)
    np.testing.assert_array_equal(t(x), first)
    with rng_scope(1):
        other = t(x)
    assert not np.array_equal(other, first)
    with rng_scope(4):
        single = t(x[0])
    with rng_scope(4):
        np.testing.assert_array_equal(single, t(x[:1])[0])  # one image == a batch of one


def test_compose_pipeline_on_a_uint8_batch():
    raw = np.random.default_rng(8).integers(0, 256, (6, 8, 8, 3), dtype=np.uint8)
    pipeline = T.Compose([T.ToTensor(), T.RandomCrop(8, padding=2), T.RandomHorizontalFlip(),
                          T.Normalize((0.5, 0.5, 0.5), (0.25, 0.25, 0.25))])
    with rng_scope(0):
        out = pipeline(raw)
    assert isinstance(out, ember.Tensor) and out.shape == (6, 3, 8, 8) and out.dtype == ember.float32
    assert "RandomCrop" in repr(pipeline)
