"""ember/parallel.py, the thread pool behind the sharded ops: results in order, errors raised, nesting and
concurrent callers, BLAS's thread count given back, EMBER_PARALLEL=0; and the sharded ops (conv, batch
norm, ReLU, max-pool) against torch with many shards, the same bits on every run and with 1 or 2 threads."""

import threading

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F
from ember import backend, parallel
from ember.ops import conv
from helpers import assert_close, assert_same_bits, runs_with_threads


@pytest.fixture
def threads():
    """Run a test with 2 threads, then give back the thread count it found."""
    before = backend.intra_op_threads()
    ember.set_num_threads(2)
    yield
    ember.set_num_threads(before)


def test_run_keeps_task_order(threads):
    assert parallel.run(lambda t: t * t, range(50)) == [t * t for t in range(50)]


def test_run_raises_a_task_error_after_all_tasks(threads):
    done = []

    def work(t):
        if t == 3:
            raise ValueError("task 3 failed")
        done.append(t)
        return t

    with pytest.raises(ValueError, match="task 3 failed"):
        parallel.run(work, range(8))
    assert 3 not in done and len(done) >= 1


def test_nested_run_is_inline(threads):
    names = parallel.run(lambda t: parallel.run(lambda u: threading.current_thread().name, range(3)), range(4))
    for inner in names:
        assert len(set(inner)) == 1  # every inner task ran in the thread of its outer task


def test_blas_threads_given_back(threads):
    lib = backend._openblas()
    if lib is None:
        pytest.skip("no OpenBLAS found through ctypes: nothing to give back")
    before = int(lib[1]())
    inside = parallel.run(lambda t: int(lib[1]()), range(4))
    assert inside == [1, 1, 1, 1]  # one BLAS thread per shard while sharded work runs
    assert int(lib[1]()) == before
    assert ember.get_num_threads() == 2


def test_parallel_off_by_environment(monkeypatch, threads):
    monkeypatch.setenv("EMBER_PARALLEL", "0")
    assert parallel.num_threads() == 1
    main = threading.current_thread().name
    assert set(parallel.run(lambda t: threading.current_thread().name, range(6))) == {main}


def test_set_num_threads_one_runs_inline():
    before = backend.intra_op_threads()
    ember.set_num_threads(1)
    try:
        main = threading.current_thread().name
        assert set(parallel.run(lambda t: threading.current_thread().name, range(6))) == {main}
    finally:
        ember.set_num_threads(before)


def test_shards_cover_the_range():
    assert parallel.shards(10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert parallel.shards(0, 4) == []
    assert parallel.shards(3, 0) == [(0, 1), (1, 2), (2, 3)]


def _step(seed=0):
    """Forward and backward through conv (stride 1 and 2) → batch norm → ReLU → max-pool; the gradients."""
    rng = np.random.default_rng(seed)
    x = ember.tensor(rng.standard_normal((6, 3, 12, 12)).astype(np.float32), requires_grad=True)
    w1 = ember.tensor(rng.standard_normal((8, 3, 3, 3)).astype(np.float32), requires_grad=True)
    w2 = ember.tensor(rng.standard_normal((5, 8, 3, 3)).astype(np.float32), requires_grad=True)
    gamma = ember.tensor(rng.standard_normal(8).astype(np.float32), requires_grad=True)
    beta = ember.tensor(rng.standard_normal(8).astype(np.float32), requires_grad=True)
    h = F.conv2d(x, w1, padding=1)
    h = F.batch_norm(h, None, None, gamma, beta, training=True)
    h = F.max_pool2d(F.relu(h), 2)
    out = F.conv2d(h, w2, stride=2, padding=1)
    (out * out).sum().backward()
    return [t.grad.numpy() for t in (x, w1, w2, gamma, beta)], (x, w1, w2, gamma, beta)


def _torch_step(tensors):
    x, w1, w2, gamma, beta = (torch.tensor(t.detach().numpy(), requires_grad=True) for t in tensors)
    h = TF.conv2d(x, w1, padding=1)
    h = TF.batch_norm(h, None, None, gamma, beta, training=True)
    h = TF.max_pool2d(TF.relu(h), 2)
    out = TF.conv2d(h, w2, stride=2, padding=1)
    (out * out).sum().backward()
    return [t.grad.numpy() for t in (x, w1, w2, gamma, beta)]


@pytest.mark.parametrize("shard_bytes", [1, 1 << 30])  # one image per shard; the whole batch in one shard
def test_many_shards_match_torch(monkeypatch, threads, shard_bytes):
    monkeypatch.setattr(conv, "SHARD_BYTES", shard_bytes)
    monkeypatch.setattr(parallel, "CHUNK_BYTES", min(shard_bytes, 1 << 20))
    grads, tensors = _step()
    for name, got, want in zip(("x", "w1", "w2", "gamma", "beta"), grads, _torch_step(tensors)):
        assert_close(got, want, "float32", what=f"d{name}", rtol=1e-4, atol=1e-3)  # a sum of squares: large values


def test_same_bits_every_run_and_any_thread_count(monkeypatch):
    monkeypatch.setattr(conv, "SHARD_BYTES", 4096)  # several shards at these small shapes
    assert_same_bits(runs_with_threads((2, 2, 1), lambda: _step()[0]))


def test_concurrent_callers_get_their_own_results(threads):
    rng = np.random.default_rng(1)
    xs = [ember.tensor(rng.standard_normal((4, 3, 10, 10)).astype(np.float32)) for _ in range(4)]
    w = ember.tensor(rng.standard_normal((6, 3, 3, 3)).astype(np.float32))
    expected = [F.conv2d(x, w, padding=1).numpy() for x in xs]
    got = [None] * len(xs)

    def call(i):
        got[i] = F.conv2d(xs[i], w, padding=1).numpy()

    callers = [threading.Thread(target=call, args=(i,)) for i in range(len(xs))]
    for t in callers:
        t.start()
    for t in callers:
        t.join()
    for a, b in zip(got, expected):
        assert np.array_equal(a, b)


# ---- BLAS rests on one thread while the pool does the parallel work -----------------------------------------

def _blas_threads():
    lib = backend._openblas()
    if lib is None:
        pytest.skip("no OpenBLAS found through ctypes")
    return int(lib[1]())


def test_blas_rests_on_one_thread_after_an_op(threads):
    assert _blas_threads() == 2  # set_num_threads(2) gives BLAS its threads at once
    ember.randn(3, 4) @ ember.randn(4, 5)
    assert _blas_threads() == 1  # and the first op puts it to rest
    assert ember.get_num_threads() == 2  # the pool's count is what torch's API reports
    x = ember.randn(5, 6, requires_grad=True)
    (x * 2).sum().backward()
    assert _blas_threads() == 1


def test_every_core_for_big_gemms_only(threads):
    ember.randn(2, 2) + 1  # rest
    with parallel.every_core(parallel.EVERY_CORE_MACS):
        assert _blas_threads() == 2
    assert _blas_threads() == 1
    with parallel.every_core(parallel.EVERY_CORE_MACS - 1):
        assert _blas_threads() == 1
    assert parallel.run(lambda t: parallel.every_core().__enter__() or _blas_threads(), range(2)) == [1, 1]


def test_recurrence_and_big_linear_run_on_every_core(threads, monkeypatch):
    seen = []
    matmul = np.matmul

    def spy(*args, **kwargs):
        seen.append(int(backend._openblas()[1]()))
        return matmul(*args, **kwargs)

    ember.randn(2, 2) + 1  # rest
    monkeypatch.setattr(backend.xp, "matmul", spy)
    F.linear(ember.randn(4, 3), ember.randn(2, 3))  # 24 multiply-adds: one thread
    assert seen and set(seen) == {1}
    seen.clear()
    big = ember.randn(512, 256), ember.randn(128, 256)  # 16.8 M multiply-adds
    F.linear(*big)
    assert set(seen) == {2}
    seen.clear()
    lstm = ember.nn.LSTM(8, 16)
    lstm(ember.randn(5, 3, 8))[0].sum().backward()
    assert 2 in seen
    assert _blas_threads() == 1


def test_no_rest_without_the_pool(monkeypatch):
    before = backend.intra_op_threads()
    try:
        ember.set_num_threads(2)
        monkeypatch.setenv("EMBER_PARALLEL", "0")  # BLAS does all the threading, as before the pool
        ember.randn(3, 4) @ ember.randn(4, 5)
        assert _blas_threads() == 2
    finally:
        ember.set_num_threads(before)
