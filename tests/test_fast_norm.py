"""The fast paths of issue 11 outside convolutions, against torch and against themselves.

Batch norm's fused training pass keeps x - μ (not x̂) when affine and runs its element-wise passes channel by
channel on large channels (norm._per_channel); the engine sums a gradient that reaches a value over several
paths into the buffer it allocated for the first sum (engine._sum). Each is checked for torch parity (float64
at 1e-9, float32 at 1e-5), gradcheck, the same bits with 1 or 2 threads, and that no array it does not own is
written.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F
from ember.autograd import engine
from ember.ops import norm
from helpers import assert_close, assert_same_bits, gradcheck, random_array, runs_with_threads

DTYPES = ["float64", "float32"]
# (8, 3, 48, 48): 18432 values per channel, the per-channel path; (4, 3, 5, 5): the whole-shard path.
SHAPES = [(8, 3, 48, 48), (4, 3, 5, 5), (6, 5, 3000), (64, 6)]
AFFINE = {"weight and bias": (True, True), "weight only": (True, False), "bias only": (False, True),
          "neither": (False, False)}


@pytest.fixture(params=[1, 2], ids=["1 thread", "2 threads"])
def threads(request):
    before = ember.get_num_threads()
    ember.set_num_threads(request.param)
    yield request.param
    ember.set_num_threads(before)


def _batch_norm_both(shape, dtype, affine, seed=0):
    """Ember's and torch's F.batch_norm in training mode: outputs, input/weight/bias gradients, running stats."""
    rng = np.random.default_rng(seed)
    x = random_array(shape, dtype, rng) * 3 + 1.5  # an offset mean, as after a convolution
    channels = shape[1]
    w = random_array((channels,), dtype, rng) if affine[0] else None
    b = random_array((channels,), dtype, rng) if affine[1] else None
    u = random_array(shape, dtype, rng)
    results = []
    for lib in (ember, torch):
        tensor = (lambda a: ember.Tensor(a.copy(), requires_grad=True)) if lib is ember else (
            lambda a: torch.tensor(a, requires_grad=True))
        xs, ws, bs = tensor(x), (tensor(w) if w is not None else None), (tensor(b) if b is not None else None)
        rm, rv = lib.zeros(channels, dtype=getattr(lib, dtype)), lib.ones(channels, dtype=getattr(lib, dtype))
        fn = F.batch_norm if lib is ember else TF.batch_norm
        y = fn(xs, rm, rv, ws, bs, training=True, momentum=0.1, eps=1e-5)
        y.backward(ember.Tensor(u) if lib is ember else torch.tensor(u))
        results.append((y, xs.grad, ws.grad if ws is not None else None, bs.grad if bs is not None else None, rm, rv))
    return results


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("affine", list(AFFINE.values()), ids=list(AFFINE))
def test_batch_norm_training_matches_torch(shape, dtype, affine, threads):
    mine, theirs = _batch_norm_both(shape, dtype, affine)
    for what, a, b in zip(("output", "input grad", "weight grad", "bias grad", "running_mean", "running_var"),
                          mine, theirs):
        if b is None:
            assert a is None, what
            continue
        assert a.dtype == ember.Tensor(b.detach().numpy()).dtype, what  # float32 in, float32 out
        assert_close(a, b, dtype, what)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(8, 3, 48, 48), (6, 5, 3000)], ids=str)
def test_batch_norm_same_bits_with_any_thread_count(shape, dtype):
    def run():
        y, dx, dw, db, rm, rv = _batch_norm_both(shape, dtype, (True, True))[0]
        return [np.asarray(t.array).copy() for t in (y, dx, dw, db, rm, rv)]

    assert_same_bits(runs_with_threads((1, 2, 1), run))


@pytest.mark.parametrize("per_channel_min", [1, 10 ** 9], ids=["per channel", "whole shard"])
@pytest.mark.parametrize("affine", list(AFFINE.values()), ids=list(AFFINE))
def test_batch_norm_training_gradcheck(per_channel_min, affine, monkeypatch):
    monkeypatch.setattr(norm, "_PER_CHANNEL_MIN", per_channel_min)

    def fn(x, w, b):
        return F.batch_norm(x, None, None, w if affine[0] else None, b if affine[1] else None, training=True)

    assert gradcheck(fn, (3, 2, 3, 2), (2,), (2,))


def test_batch_norm_backward_twice_with_retain_graph():
    """The kept x - μ is read, never written, by backward: a second backward gives the same gradients."""
    rng = np.random.default_rng(1)
    x = ember.Tensor(random_array((8, 3, 48, 48), "float32", rng), requires_grad=True)
    w = ember.Tensor(random_array((3,), "float32", rng), requires_grad=True)
    y = F.batch_norm(x, None, None, w, None, training=True)
    u = random_array(y.shape, "float32", rng)
    y.backward(u, retain_graph=True)
    first = x.grad.array.copy(), w.grad.array.copy()
    x.grad, w.grad = None, None
    y.backward(u)
    assert np.array_equal(first[0], x.grad.array) and np.array_equal(first[1], w.grad.array)


def test_relu_in_place_on_batch_norm_output_matches_torch():
    """bn → relu_(…) as in ResNet's blocks: the in-place ReLU may overwrite the output, which backward
    does not need (batch norm keeps x - μ)."""
    rng = np.random.default_rng(2)
    x, w, b = random_array((8, 3, 48, 48), "float64", rng), random_array((3,), "float64", rng), random_array(
        (3,), "float64", rng)
    ex, ew, eb = (ember.Tensor(a.copy(), requires_grad=True) for a in (x, w, b))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ey = F.relu_(F.batch_norm(ex, None, None, ew, eb, training=True))
    ty = TF.relu_(TF.batch_norm(tx, None, None, tw, tb, training=True))
    (ey * ey).sum().backward()
    (ty * ty).sum().backward()
    for a, c in ((ey, ty), (ex.grad, tx.grad), (ew.grad, tw.grad), (eb.grad, tb.grad)):
        assert_close(a, c, "float64")


def test_batch_norm_anomaly_mode_still_names_the_forward():
    rng = np.random.default_rng(3)
    x = ember.Tensor(random_array((8, 3, 48, 48), "float32", rng), requires_grad=True)
    with pytest.warns(UserWarning), ember.autograd.detect_anomaly():
        y = F.batch_norm(x, None, None, None, None, training=True)
        u = np.full(y.shape, np.nan, dtype=np.float32)
        with pytest.raises(RuntimeError), pytest.warns(UserWarning):
            y.backward(u)


# ---- the engine's sums and the residual add -----------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_gradient_over_several_paths_matches_torch(dtype, threads):
    """A value used four times (a residual-like fan-out): its gradient is the sum of four paths, the first
    sum in a new buffer and the later ones added into it."""
    rng = np.random.default_rng(4)
    a = random_array((16, 8, 48, 48), dtype, rng)
    results = []
    for lib in (ember, torch):
        x = ember.Tensor(a.copy(), requires_grad=True) if lib is ember else torch.tensor(a, requires_grad=True)
        h = x.exp() if lib is ember else torch.exp(x)
        z = (h + h) + h * 3 + h.sin()
        z.sum().backward()
        results.append(x.grad)
    assert_close(results[0], results[1], dtype)


def test_engine_sum_writes_only_its_own_buffer():
    a, b, c = (np.full((600, 600), v, dtype=np.float32) for v in (1.0, 2.0, 4.0))
    first = engine._sum(a, b)
    assert first is not a and first is not b and np.all(first == 3) and np.all(a == 1) and np.all(b == 2)
    again = engine._sum(first, c, first)
    assert again is first and np.all(first == 7) and np.all(c == 4)
    small = engine._sum(np.ones(3, np.float32), np.ones(3, np.float32), np.zeros(3, np.float32))
    assert np.all(small == 2)
    mixed = engine._sum(np.ones(3, np.float32), np.ones(3, np.float64), np.zeros(3, np.float32))
    assert mixed.dtype == np.float64 and np.all(mixed == 2)  # out refused: the result type differs


@pytest.mark.parametrize("dtype", DTYPES)
def test_residual_add_matches_torch(dtype, threads):
    rng = np.random.default_rng(6)
    a, b = random_array((16, 16, 32, 32), dtype, rng), random_array((16, 16, 32, 32), dtype, rng)
    ea, eb = ember.Tensor(a.copy(), requires_grad=True), ember.Tensor(b.copy(), requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ez, tz = ea + eb, ta + tb
    assert np.array_equal(ez.array, a + b) and ez.dtype == ea.dtype
    u = random_array(a.shape, dtype, rng)
    ez.backward(u)
    tz.backward(torch.tensor(u))
    assert_close(ea.grad, ta.grad, dtype)
    assert_close(eb.grad, tb.grad, dtype)
    assert ea.grad.array is not eb.grad.array  # the add's one gradient is not shared by two .grad


def test_gradient_sums_of_scalars_from_several_paths():
    # Three paths into one 0-d value: the engine's running sum starts as a NumPy scalar, not a buffer.
    x = ember.tensor(2.0, dtype=ember.float64, requires_grad=True)
    y = x * 3
    (y * y + y + y.exp()).backward()
    t = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    u = t * 3
    (u * u + u + u.exp()).backward()
    assert abs(x.grad.item() - t.grad.item()) <= 1e-9 * abs(t.grad.item())
