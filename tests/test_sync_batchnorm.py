"""SyncBatchNorm (ember.ops.sync_norm, ember.nn.SyncBatchNorm) against torch.

The op is run by W "ranks" in threads that share a fake process group (gathers and sums through a
threading.Barrier); each rank gets its slice of a batch, and what they compute together must be what torch's
F.batch_norm computes on the WHOLE batch. The 2-process test over real MPI lives with the lead's distributed
tests (tests of ember.distributed and DistributedDataParallel), which own the mpirun launch.
"""

import threading

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import ember
import ember.distributed as dist
import ember.nn as enn
from ember.ops.sync_norm import SyncBatchNorm as SyncBatchNormFunction
from ember.ops.sync_norm import sync_batch_norm
from helpers import assert_close, check_module, copy_weights, random_array

# ----------------------------------------------------------------------------------------------------
# A fake process group of threads.


class _Shared:
    """What the ranks of one fake group share: a barrier and one slot per rank."""

    def __init__(self, world):
        self.world = world
        self.barrier = threading.Barrier(world, timeout=30)
        self.slots = [None] * world


class FakeGroup:
    """One rank's view of a fake process group, with the two array collectives the op relies on; counts its
    calls. Its all_reduce_array works in place on its argument, as a real one may."""

    def __init__(self, shared, rank):
        self.shared, self.rank, self.world = shared, rank, shared.world
        self.gathers = self.reduces = 0

    def all_gather_array(self, a):
        self.gathers += 1
        return self._gather(a)

    def all_reduce_array(self, a):
        self.reduces += 1
        a[...] = self._gather(a).sum(axis=0)
        return a

    def _gather(self, a):
        s = self.shared
        s.slots[self.rank] = np.array(a, copy=True)
        s.barrier.wait()
        out = np.stack(s.slots)
        s.barrier.wait()  # nobody overwrites a slot before every rank has read them all
        return out


def run_ranks(world, fn):
    """[fn(rank, group) for every rank], each rank in its own thread; an error on any rank is raised here."""
    shared = _Shared(world)
    groups = [FakeGroup(shared, r) for r in range(world)]
    results, errors = [None] * world, []

    def target(rank):
        try:
            results[rank] = fn(rank, groups[rank])
        except BaseException as error:  # noqa: BLE001  (re-raised below, in the test's thread)
            errors.append(error)
            shared.barrier.abort()  # the other ranks stop waiting for this one

    threads = [threading.Thread(target=target, args=(r,)) for r in range(world)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    real = [e for e in errors if not isinstance(e, threading.BrokenBarrierError)]
    if errors:
        raise (real or errors)[0]
    return results, groups


def _bounds(sizes):
    edges = np.cumsum([0] + list(sizes))
    return list(zip(edges[:-1], edges[1:]))


# ----------------------------------------------------------------------------------------------------
# The op: W ranks on slices of a batch = torch on the whole batch.

CASES = [  # (shard sizes along the batch, the shape of one sample)
    ((4, 4), (3,)),
    ((5, 3), (3,)),
    ((3, 4, 2), (2, 5)),
    ((1, 4, 3), (3, 4, 5)),
    ((5, 0, 3), (2, 3, 3)),  # an empty shard takes part in the collectives and adds nothing
    ((2, 3), (2, 3, 2, 2)),  # 5-D
    ((4, 4), (2, 64, 64)),  # 16384 values per channel per rank: one channel at a time (norm._per_channel)
]


def _whole_batch_case(sizes, sample, dtype, affine=True, momentum=0.1, seed=0):
    rng = np.random.default_rng(seed)
    shape = (sum(sizes),) + sample
    channels = sample[0]
    x = random_array(shape, dtype, rng) * 3 + 2  # a mean away from 0
    g = random_array(shape, dtype, rng)
    w = random_array((channels,), dtype, rng) if affine else None
    b = random_array((channels,), dtype, rng) if affine else None
    rm, rv = random_array((channels,), dtype, rng), random_array((channels,), dtype, rng, 0.5, 2.0)

    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(w, requires_grad=True) if affine else None
    tb = torch.tensor(b, requires_grad=True) if affine else None
    trm, trv = torch.tensor(rm), torch.tensor(rv)
    ty = TF.batch_norm(tx, trm, trv, tw, tb, training=True, momentum=momentum, eps=1e-5)
    ty.backward(torch.tensor(g))

    def rank(r, group):
        lo, hi = _bounds(sizes)[r]
        ex = ember.Tensor(x[lo:hi].copy(), requires_grad=True)
        ew = ember.Tensor(w.copy(), requires_grad=True) if affine else None  # every rank its own replica
        eb = ember.Tensor(b.copy(), requires_grad=True) if affine else None
        erm, erv = ember.Tensor(rm.copy()), ember.Tensor(rv.copy())
        ey = sync_batch_norm(ex, ew, eb, erm, erv, 1e-5, momentum, group)
        ey.backward(g[lo:hi].copy())
        return ey, ex, ew, eb, erm, erv

    results, groups = run_ranks(len(sizes), rank)
    return (ty, tx, tw, tb, trm, trv), results, groups


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("sizes,sample", CASES, ids=[f"{s}x{c}" for s, c in CASES])
def test_ranks_together_equal_torch_on_the_whole_batch(sizes, sample, dtype):
    torch_side, results, groups = _whole_batch_case(sizes, sample, dtype)
    ty, tx, tw, tb, trm, trv = torch_side
    y = np.concatenate([r[0].detach().numpy() for r in results])
    dx = np.concatenate([r[1].grad.numpy() for r in results])
    assert y.dtype == np.dtype(dtype) and dx.dtype == np.dtype(dtype)
    assert_close(y, ty, dtype, "output")
    assert_close(dx, tx.grad, dtype, "input gradient")
    # Each rank's dγ, dβ are its local sums: DDP averages them; summed they are torch's on the whole batch.
    assert_close(sum(r[2].grad.numpy() for r in results), tw.grad, dtype, "weight gradient")
    assert_close(sum(r[3].grad.numpy() for r in results), tb.grad, dtype, "bias gradient")
    for r, (_, _, _, _, erm, erv) in enumerate(results):
        assert erm.dtype == getattr(ember, dtype) and erv.dtype == getattr(ember, dtype)
        assert_close(erm, trm, dtype, f"rank {r} running_mean")
        assert_close(erv, trv, dtype, f"rank {r} running_var")
    for group in groups:  # one all_gather forward, one all_reduce backward
        assert (group.gathers, group.reduces) == (1, 1)


@pytest.mark.parametrize("sizes,sample", [((5, 3), (4,)), ((2, 3, 3), (3, 2, 2))])
def test_without_affine_and_with_momentum_zero(sizes, sample):
    torch_side, results, _ = _whole_batch_case(sizes, sample, "float64", affine=False, momentum=0.0, seed=1)
    ty, tx, _, _, trm, trv = torch_side
    assert_close(np.concatenate([r[0].detach().numpy() for r in results]), ty, what="output")
    assert_close(np.concatenate([r[1].grad.numpy() for r in results]), tx.grad, what="input gradient")
    for r in results:
        assert_close(r[4], trm, what="running_mean")
        assert_close(r[5], trv, what="running_var")


def test_the_local_weight_gradients_differ_between_ranks():
    """Not all-reduced: each rank keeps its own dγ, dβ (summing them again in DDP would count them W times)."""
    _, results, _ = _whole_batch_case((4, 4), (3, 5), "float64")
    assert not np.allclose(results[0][2].grad.numpy(), results[1][2].grad.numpy())
    assert not np.allclose(results[0][3].grad.numpy(), results[1][3].grad.numpy())


def test_no_all_reduce_when_the_input_needs_no_gradient():
    """As torch: the input gradient is the only thing the backward's all_reduce serves."""
    x = random_array((6, 3, 4), "float64")

    def rank(r, group):
        ew = ember.Tensor(np.ones(3), requires_grad=True)
        y = sync_batch_norm(ember.Tensor(x[3 * r:3 * r + 3].copy()), ew, None, None, None, 1e-5, 0.1, group)
        y.sum().backward()
        return ew.grad.numpy()

    grads, groups = run_ranks(2, rank)
    assert [(g.gathers, g.reduces) for g in groups] == [(1, 0), (1, 0)]
    tw = torch.ones(3, dtype=torch.float64, requires_grad=True)
    TF.batch_norm(torch.tensor(x), None, None, tw, None, training=True).sum().backward()
    assert_close(grads[0] + grads[1], tw.grad, what="weight gradient")


def test_a_large_mean_does_not_cancel_the_variance():
    """Two-pass local moments and Chan's merge: no E[x²] - μ² anywhere (it would lose every digit here)."""
    x = 1e8 + random_array((8, 2, 5), "float64")
    rm, rv = np.zeros(2), np.ones(2)

    def rank(r, group):
        erm, erv = ember.Tensor(rm.copy()), ember.Tensor(rv.copy())
        y = sync_batch_norm(ember.Tensor(x[4 * r:4 * r + 4].copy()), None, None, erm, erv, 1e-5, 1.0, group)
        return y.numpy(), erv.numpy()

    results, _ = run_ranks(2, rank)
    expected = TF.batch_norm(torch.tensor(x), None, None, training=True)
    assert_close(np.concatenate([r[0] for r in results]), expected, rtol=1e-6)
    assert_close(results[0][1], x.transpose(1, 0, 2).reshape(2, -1).var(axis=1, ddof=1), rtol=1e-6)


# ----------------------------------------------------------------------------------------------------
# One rank: the op is BatchNorm.


class OneRank:
    def all_gather_array(self, a):
        return a[None].copy()

    def all_reduce_array(self, a):
        return a


def test_every_function_is_gradchecked():
    from helpers import function_classes, gradcheck

    import ember.ops.sync_norm as module
    assert function_classes(module) == {"SyncBatchNorm"}
    group = OneRank()
    gradcheck(lambda x, w, b: sync_batch_norm(x, w, b, None, None, 1e-5, 0.1, group), (4, 3, 2), (3,), (3,))
    gradcheck(lambda x: sync_batch_norm(x, None, None, None, None, 1e-5, 0.1, group), (5, 2))
    assert SyncBatchNormFunction is module.SyncBatchNorm


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 4)])
def test_one_rank_equals_batch_norm(shape):
    from ember.ops.norm import batch_norm

    x, g = random_array(shape, "float64"), random_array(shape, "float64", np.random.default_rng(1))
    outs = []
    for norm in (lambda *a: sync_batch_norm(*a[:3], *a[3:5], 1e-5, 0.1, OneRank()),
                 lambda x, w, b, rm, rv: batch_norm(x, rm, rv, w, b, True, 0.1, 1e-5)):
        ex, ew, eb = (ember.Tensor(a, requires_grad=True) for a in (x.copy(), np.full(3, 1.5), np.full(3, 0.5)))
        erm, erv = ember.Tensor(np.zeros(3)), ember.Tensor(np.ones(3))
        y = norm(ex, ew, eb, erm, erv)
        y.backward(g)
        outs.append([t.detach().numpy() for t in (y, ex.grad, ew.grad, eb.grad, erm, erv)])
    for a, b, what in zip(*outs, ("output", "dx", "dw", "db", "running_mean", "running_var")):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15, err_msg=what)


# ----------------------------------------------------------------------------------------------------
# The op's bad inputs.


def test_op_bad_inputs():
    x = ember.randn(4, 3)
    with pytest.raises(TypeError, match="all_gather_array"):
        sync_batch_norm(x, None, None, None, None, 1e-5, 0.1, object())
    with pytest.raises(ValueError, match="at least 2 dims"):
        sync_batch_norm(ember.randn(4), None, None, None, None, 1e-5, 0.1, OneRank())
    with pytest.raises(ValueError, match="non-zero"):
        sync_batch_norm(ember.randn(4, 0), None, None, None, None, 1e-5, 0.1, OneRank())
    with pytest.raises(RuntimeError, match="2 channels .from weight"):
        sync_batch_norm(x, ember.ones(2), None, None, None, 1e-5, 0.1, OneRank())
    with pytest.raises(TypeError, match="floating-point"):
        sync_batch_norm(ember.ones(4, 3, dtype=ember.int64), None, None, None, None, 1e-5, 0.1, OneRank())
    with pytest.raises(RuntimeError, match="dtype"):
        sync_batch_norm(x.double(), ember.ones(3), None, None, None, 1e-5, 0.1, OneRank())


def test_one_value_in_the_whole_group_is_refused_on_every_rank():
    def rank(r, group):
        x = ember.randn(1 - r, 3)  # rank 0 one sample, rank 1 none: one value per channel in all
        with pytest.raises(ValueError, match="more than 1 value per channel across the process group"):
            sync_batch_norm(x, None, None, None, None, 1e-5, 0.1, group)
        return True

    assert run_ranks(2, rank)[0] == [True, True]


# ----------------------------------------------------------------------------------------------------
# The layer.


@pytest.fixture
def no_process_group():
    assert not dist.is_initialized()
    yield
    assert not dist.is_initialized()


@pytest.mark.parametrize("shape", [(6, 4), (5, 4, 3), (3, 4, 3, 3), (2, 4, 2, 3, 2)])
@pytest.mark.parametrize("kwargs", [{}, {"momentum": None}, {"affine": False}, {"track_running_stats": False},
                                    {"bias": False}])
def test_layer_without_a_process_group_is_torchs(shape, kwargs, no_process_group):
    layer, torch_layer = enn.SyncBatchNorm(4, **kwargs), tnn.SyncBatchNorm(4, **kwargs)
    for seed in range(2):  # twice: the running statistics (and the cumulative average) move on
        check_module(layer, torch_layer, [shape], seed=seed)
    layer.eval(), torch_layer.eval()
    check_module(layer, torch_layer, [shape], seed=3)  # evaluation: the running statistics normalise


@pytest.mark.parametrize("kind", ["BatchNorm1d", "BatchNorm2d"])
def test_layer_equals_batchnorm_float32(kind, no_process_group):
    shape = (8, 5) if kind == "BatchNorm1d" else (4, 5, 3, 3)
    check_module(enn.SyncBatchNorm(5), getattr(tnn, kind)(5), [shape], dtype="float32")


def test_layer_syncs_over_its_process_group(monkeypatch):
    """Training inside an initialised group of 2: each rank's layer on its half = torch's layer on the whole."""
    monkeypatch.setattr(dist, "is_initialized", lambda: True)
    monkeypatch.setattr(dist, "get_world_size", lambda group=None: group.world)
    x = random_array((7, 3, 2, 2), "float64") + 1
    g = random_array(x.shape, "float64", np.random.default_rng(5))
    torch_layer = tnn.BatchNorm2d(3, momentum=None).double()
    tx = torch.tensor(x, requires_grad=True)
    ty = torch_layer(tx)
    ty.backward(torch.tensor(g))
    sizes = _bounds((4, 3))

    def rank(r, group):
        layer = enn.SyncBatchNorm(3, momentum=None, process_group=group).double()
        lo, hi = sizes[r]
        ex = ember.Tensor(x[lo:hi].copy(), requires_grad=True)
        y = layer(ex)
        y.backward(g[lo:hi].copy())
        return y.detach().numpy(), ex.grad.numpy(), layer

    results, groups = run_ranks(2, rank)
    assert [(g.gathers, g.reduces) for g in groups] == [(1, 1), (1, 1)]
    assert_close(np.concatenate([r[0] for r in results]), ty, what="output")
    assert_close(np.concatenate([r[1] for r in results]), tx.grad, what="input gradient")
    for _, _, layer in results:
        assert_close(layer.running_mean, torch_layer.running_mean, what="running_mean")
        assert_close(layer.running_var, torch_layer.running_var, what="running_var")
        assert int(layer.num_batches_tracked.numpy()) == 1
    assert_close(sum(r[2].weight.grad.numpy() for r in results), torch_layer.weight.grad, what="weight gradient")


def test_layer_uses_the_world_group_by_default_and_never_syncs_in_eval(monkeypatch):
    class EchoWorld(OneRank):  # a world of 2 whose other rank holds the same batch
        world, gathers = 2, 0

        def all_gather_array(self, a):
            self.gathers += 1
            return np.stack([a, a])

    world = EchoWorld()
    monkeypatch.setattr(dist, "is_initialized", lambda: True)
    monkeypatch.setattr(dist, "get_world_size", lambda group=None: group.world)
    monkeypatch.setattr(dist.group, "WORLD", world)
    layer = enn.SyncBatchNorm(2, momentum=1.0).double()
    x = random_array((3, 2, 4), "float64")
    y = layer(ember.Tensor(x))
    assert world.gathers == 1
    assert_close(y, TF.batch_norm(torch.tensor(x), None, None, training=True), what="output")
    # two copies of 12 values per channel: the unbiased variance divides by 23, not 11
    assert_close(layer.running_var, x.transpose(1, 0, 2).reshape(2, -1).var(axis=1) * 24 / 23, what="running_var")
    layer.eval()
    layer(ember.Tensor(x))
    assert world.gathers == 1
    layer.train()
    monkeypatch.setattr(dist, "get_world_size", lambda group=None: 1)  # a world of one: plain batch norm
    layer(ember.Tensor(x))
    assert world.gathers == 1


def test_layer_bad_inputs_raise_as_torch(no_process_group):
    for module, randn in ((enn, ember.randn), (tnn, torch.randn)):  # the same messages as torch's
        with pytest.raises(ValueError, match=r"expected at least 2D input \(got 1D input\)"):
            module.SyncBatchNorm(3)(randn(3))
        with pytest.raises(ValueError, match="SyncBatchNorm number of input channels should be non-zero"):
            module.SyncBatchNorm(0)(randn(2, 0))
    with pytest.raises(RuntimeError, match="3 channels"):
        enn.SyncBatchNorm(3)(ember.randn(4, 2))
    with pytest.raises(RuntimeError, match="dtype"):
        enn.SyncBatchNorm(3)(ember.randn(4, 3).double())
    with pytest.raises(TypeError, match="must be Tensor"):
        enn.SyncBatchNorm(3)(np.ones((4, 3)))


def test_layer_repr_and_paths():
    from ember.nn.modules.batchnorm import SyncBatchNorm, _BatchNorm

    assert SyncBatchNorm is enn.SyncBatchNorm and issubclass(SyncBatchNorm, _BatchNorm)
    layer = enn.SyncBatchNorm(4, process_group="pg")
    assert layer.process_group == "pg"
    assert repr(layer).startswith("SyncBatchNorm(4, eps=1e-05, momentum=0.1, affine=True")
    assert sorted(layer.state_dict()) == sorted(tnn.SyncBatchNorm(4).state_dict())


# ----------------------------------------------------------------------------------------------------
# convert_sync_batchnorm.


def _net(nn):
    return nn.Sequential(
        nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(),
        nn.Sequential(nn.InstanceNorm2d(4, affine=True, track_running_stats=True), nn.BatchNorm2d(4, affine=False)),
        nn.Flatten(), nn.Linear(4 * 4 * 4, 6), nn.BatchNorm1d(6, momentum=None, track_running_stats=False),
    )


def test_convert_sync_batchnorm_as_torch():
    torch.manual_seed(0)
    torch_net, net = _net(tnn).double(), _net(enn).double()
    torch_net(torch.randn(5, 3, 6, 6, dtype=torch.float64))  # non-trivial running statistics
    copy_weights(torch_net, net)
    for n in (net, torch_net):
        n[1].weight.requires_grad_(False)
        n[3][1].eval()
    old = net[1]
    converted, torch_converted = enn.SyncBatchNorm.convert_sync_batchnorm(net, "pg"), \
        tnn.SyncBatchNorm.convert_sync_batchnorm(torch_net)
    assert converted is net
    kinds = [(name, type(m).__name__) for name, m in converted.named_modules()]
    assert kinds == [(name, type(m).__name__) for name, m in torch_converted.named_modules()]
    assert [k for _, k in kinds].count("SyncBatchNorm") == 3 and ("3.0", "InstanceNorm2d") in kinds
    state, torch_state = converted.state_dict(), torch_converted.state_dict()
    assert list(state) == list(torch_state)
    for key, value in torch_state.items():
        np.testing.assert_array_equal(state[key].numpy(), value.numpy(), err_msg=key)
    new = converted[1]
    assert new.weight is old.weight and new.bias is old.bias and new.running_mean is old.running_mean
    assert not new.weight.requires_grad and new.bias.requires_grad
    assert new.process_group == "pg" and converted[3][1].process_group == "pg"
    assert not converted[3][1].training and converted[1].training and converted[6].momentum is None
    x = random_array((2, 3, 6, 6), "float64")
    assert_close(converted(ember.Tensor(x)), torch_converted(torch.tensor(x)), what="converted output")


def test_convert_a_bare_batchnorm_returns_a_new_layer():
    bn = enn.BatchNorm3d(2, eps=1e-3)
    sync = enn.SyncBatchNorm.convert_sync_batchnorm(bn)
    assert type(sync) is enn.SyncBatchNorm and sync is not bn and sync.eps == 1e-3 and sync.process_group is None
    assert type(enn.SyncBatchNorm.convert_sync_batchnorm(enn.InstanceNorm1d(2))) is enn.InstanceNorm1d
