"""Conv2d's Winograd F(2×2, 3×3) path (ember/ops/winograd.py) against torch: forward, input, weight and bias
gradients in float32 and float64 over odd sizes, padding 0/1/2 and asymmetric, bias or none, every
combination of needs_input_grad, batch of 1 and batches that the shard size does not divide; which
convolutions take the path; the same bits with any thread count; gradcheck; the transforms' own algebra."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F
from ember.ops import conv, winograd
from helpers import assert_close, assert_same_bits, check_op, gradcheck, random_array, runs_with_threads

DTYPES = ["float64", "float32"]

# (input shape, out_channels, padding, bias)
CASES = {
    "pad 1, odd sizes": ((2, 3, 7, 9), 4, 1, True),
    "pad 0, even": ((3, 5, 8, 8), 2, 0, False),
    "pad 2": ((1, 2, 5, 6), 3, 2, True),
    "pad (1, 0)": ((2, 3, 6, 5), 5, (1, 0), True),
    "pad (0, 2)": ((2, 2, 5, 4), 3, (0, 2), False),
    "same": ((2, 3, 6, 7), 4, "same", True),
    "1x1 image, pad 1": ((3, 2, 1, 1), 3, 1, True),
    "3x3 image, pad 0": ((2, 4, 3, 3), 2, 0, True),
    "batch of 1": ((1, 3, 9, 9), 4, 1, True),
    "one channel in and out": ((2, 1, 6, 6), 1, 1, False),
}


@pytest.fixture
def winograd_always(monkeypatch):
    """Every 3×3 stride-1 convolution takes the Winograd path, whatever its channel count."""
    monkeypatch.setattr(conv, "WINOGRAD_MIN_CHANNELS", 1)


def mode_of(out):
    return out.grad_fn.geometry[-1]


def conv_pair(padding, bias):
    def ember_fn(x, w, *b):
        return F.conv2d(x, w, b[0] if bias else None, 1, padding)

    def torch_fn(x, w, *b):
        return TF.conv2d(x, w, b[0] if bias else None, 1, padding)

    return ember_fn, torch_fn


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name, dtype, winograd_always):
    shape, o, padding, bias = CASES[name]
    shapes = [shape, (o, shape[1], 3, 3)] + ([(o,)] if bias else [])
    e_fn, t_fn = conv_pair(padding, bias)
    (out,) = check_op(e_fn, t_fn, shapes, dtype=dtype)
    assert mode_of(out) == "winograd"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [1, 5, 7])
def test_batches_the_shard_size_does_not_divide(batch, dtype, winograd_always, monkeypatch):
    # two images per shard: a batch of 5 or 7 ends with a shard of one image
    c, o, tiles = 3, 4, winograd.tiles_of((6, 5))
    monkeypatch.setattr(winograd, "SHARD_BYTES", 2 * 16 * (c + o) * tiles[0] * tiles[1] * np.dtype(dtype).itemsize)
    assert winograd.images_per_shard(c, o, tiles, np.dtype(dtype).itemsize) == 2
    e_fn, t_fn = conv_pair(1, True)
    check_op(e_fn, t_fn, [(batch, c, 6, 5), (o, c, 3, 3), (o,)], dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("needs", [(True, False, False), (False, True, False), (False, False, True),
                                   (True, True, False), (False, True, True), (True, False, True),
                                   (True, True, True), (False, False, False)])
def test_needs_input_grad_combinations(needs, dtype, winograd_always):
    rng = np.random.default_rng(1)
    arrays = [random_array(s, dtype, rng) for s in ((3, 4, 7, 6), (5, 4, 3, 3), (5,))]
    e_in = [ember.Tensor(a.copy(), requires_grad=r) for a, r in zip(arrays, needs)]
    t_in = [torch.tensor(a, requires_grad=r) for a, r in zip(arrays, needs)]
    e_out, t_out = F.conv2d(*e_in, padding=1), TF.conv2d(*t_in, padding=1)
    assert_close(e_out, t_out, dtype, "output")
    if not any(needs):
        assert e_out.grad_fn is None
        return
    assert mode_of(e_out) == "winograd"
    u = random_array(tuple(t_out.shape), dtype, rng)
    t_out.backward(torch.tensor(u))
    e_out.backward(u)
    for i, (ei, ti, r) in enumerate(zip(e_in, t_in, needs)):
        if r:
            assert ei.grad.dtype == ei.dtype
            assert_close(ei.grad, ti.grad, dtype, f"gradient of input {i}")
        else:
            assert ei.grad is None


@pytest.mark.parametrize("dtype", DTYPES)
def test_non_contiguous_input_and_weight(dtype, winograd_always):
    e_fn, t_fn = conv_pair(1, True)
    check_op(e_fn, t_fn, [(3, 4, 6, 7), (2, 4, 3, 3), (2,)], dtype=dtype, noncontiguous=True)


@pytest.mark.parametrize("shape,o", [((3, 128, 8, 8), 128), ((2, 128, 6, 6), 256), ((2, 256, 5, 7), 128)])
def test_real_sizes_float32_default_threshold(shape, o):
    """The layers Winograd is meant for (VGG-small's 128- and 256-channel ones) at torch's default init scale:
    output and input gradient within the float32 tolerances of torch's; the weight gradient (sums of a few
    hundred products near 50, where float32 itself differs by 1e-5 between any two summation orders) no
    further from the float64 result than twice torch's own float32 error."""
    c = shape[1]
    rng = np.random.default_rng(2)
    x, b = rng.standard_normal(shape), rng.uniform(-0.1, 0.1, o)
    w, u = rng.uniform(-1, 1, (o, c, 3, 3)) / np.sqrt(9 * c), rng.standard_normal((shape[0], o) + shape[2:])
    results = {}
    for dtype in ("float64", "float32"):
        xt, wt = (torch.tensor(a.astype(dtype), requires_grad=True) for a in (x, w))
        out = TF.conv2d(xt, wt, torch.tensor(b.astype(dtype)), padding=1)
        out.backward(torch.tensor(u.astype(dtype)))
        results[dtype] = (out.detach().numpy(), xt.grad.numpy(), wt.grad.numpy())
    xe, we = (ember.Tensor(a.astype("float32"), requires_grad=True) for a in (x, w))
    out = F.conv2d(xe, we, ember.Tensor(b.astype("float32")), padding=1)
    assert mode_of(out) == "winograd"
    out.backward(u.astype("float32"))
    assert out.dtype == xe.grad.dtype == we.grad.dtype == ember.float32
    assert_close(out, results["float32"][0], "float32", "output")
    assert_close(xe.grad, results["float32"][1], "float32", "input gradient")
    torch_error = np.abs(results["float32"][2] - results["float64"][2]).max()
    assert np.abs(we.grad.numpy() - results["float64"][2]).max() <= 2 * torch_error + 1e-6


@pytest.mark.parametrize("kwargs,shape,o,k", [
    (dict(stride=2, padding=1), (2, 128, 6, 6), 128, 3),
    (dict(padding=2, dilation=2), (2, 128, 6, 6), 128, 3),
    (dict(padding=1, groups=2), (2, 256, 6, 6), 256, 3),
    (dict(padding=3), (2, 128, 6, 6), 128, 3),
    (dict(padding=2), (2, 128, 6, 6), 128, 5),
    (dict(padding=1), (2, 64, 6, 6), 128, 3),
    (dict(padding=1), (2, 128, 6, 6), 64, 3),
])
def test_other_convolutions_keep_their_paths(kwargs, shape, o, k):
    x = ember.randn(*shape, requires_grad=True)
    w = ember.randn(o, shape[1] // kwargs.get("groups", 1), k, k, requires_grad=True)
    assert mode_of(F.conv2d(x, w, **kwargs)) != "winograd"


def test_same_bits_with_any_thread_count(winograd_always, monkeypatch):
    monkeypatch.setattr(winograd, "SHARD_BYTES", 1)  # one image per shard: nine shards
    rng = np.random.default_rng(3)
    x0, w0 = rng.standard_normal((9, 4, 10, 10)).astype("float32"), rng.standard_normal((6, 4, 3, 3)).astype("float32")
    u = rng.standard_normal((9, 6, 10, 10)).astype("float32")

    def run():
        x, w = ember.Tensor(x0.copy(), requires_grad=True), ember.Tensor(w0.copy(), requires_grad=True)
        out = F.conv2d(x, w, padding=1)
        out.backward(u)
        return out.detach().numpy(), x.grad.numpy(), w.grad.numpy()

    assert_same_bits(runs_with_threads((1, 2, 3), run))


def test_gradcheck(winograd_always):
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, padding=1), (2, 3, 5, 4), (2, 3, 3, 3), (2,))
    assert gradcheck(lambda x, w: F.conv2d(x, w, padding=(0, 2)), (1, 2, 4, 5), (3, 2, 3, 3))


def test_in_place_change_of_the_saved_weight_is_caught(winograd_always):
    x = ember.randn(2, 3, 5, 5, requires_grad=True)
    w = ember.randn(4, 3, 3, 3, requires_grad=True)
    out = F.conv2d(x, w, padding=1)
    w.data.add_(1)  # the weight was saved for the input gradient
    with pytest.raises(RuntimeError):
        out.sum().backward()


def test_empty_batch(winograd_always):
    x = ember.zeros(0, 3, 5, 5, requires_grad=True)
    w = ember.randn(4, 3, 3, 3, requires_grad=True)
    out = F.conv2d(x, w, padding=1)
    assert out.shape == (0, 4, 5, 5)
    out.sum().backward()
    assert x.grad.shape == (0, 3, 5, 5) and not np.any(w.grad.numpy())


def test_weight_transform_and_its_adjoint():
    # <winograd_weight(W), dU> = <W, weight_from_domain(dU)>: the weight gradient's transform is the adjoint
    rng = np.random.default_rng(4)
    w, du = rng.standard_normal((5, 3, 3, 3)), rng.standard_normal((16, 3, 5))
    assert np.isclose(np.sum(winograd.winograd_weight(w) * du), np.sum(w * winograd.weight_from_domain(du)))


def test_output_transform_and_its_adjoint():
    rng = np.random.default_rng(5)
    m, o, out_hw = 2, 3, (5, 4)
    tiles = winograd.tiles_of(out_hw)
    mt = rng.standard_normal((16, m * tiles[0] * tiles[1], o))
    dy = rng.standard_normal((m, o) + out_hw)
    y = np.empty((m, o) + out_hw)
    winograd.output_transform(mt, m, tiles, y)
    assert np.isclose(np.sum(y * dy), np.sum(mt * winograd.output_gradient(dy, tiles)))
