"""pytorch/examples programs beyond MNIST (dcgan, imagenet, mnist_hogwild): the torch paths they reach.

torch.distributed over a one-process group, torch.multiprocessing (the standard library's API plus
spawn), compared with torch where torch answers on this machine.
"""

import multiprocessing
import os

import pytest
import torch
import torch.distributed as tdist

import ember
import ember.distributed as dist
import ember.multiprocessing as mp


@pytest.fixture
def fresh_group():
    dist.destroy_process_group()
    yield
    dist.destroy_process_group()


def test_distributed_uninitialised_matches_torch(fresh_group):
    assert dist.is_available() and not dist.is_initialized()
    with pytest.raises(ValueError) as ours:
        dist.get_rank()
    with pytest.raises(ValueError) as theirs:
        tdist.get_rank()
    assert str(ours.value) == str(theirs.value)
    with pytest.raises(ValueError):
        dist.all_reduce(ember.ones(2))


def test_one_process_group_collectives_are_torchs(fresh_group):
    dist.init_process_group("gloo", init_method="tcp://127.0.0.1:23456", world_size=1, rank=0)
    assert dist.is_initialized() and dist.get_rank() == 0 and dist.get_world_size() == 1
    assert dist.get_backend() == "gloo" == dist.Backend.GLOO
    x = ember.tensor([1.5, -2.0])
    for op in (dist.ReduceOp.SUM, dist.ReduceOp.AVG, dist.ReduceOp.MAX, dist.ReduceOp.PRODUCT):
        assert dist.all_reduce(x, op, async_op=False) is None
        assert x.tolist() == [1.5, -2.0]
    assert dist.all_reduce(x, async_op=True).wait() is True
    slots = [ember.zeros(2)]
    dist.all_gather(slots, x)
    assert slots[0].tolist() == [1.5, -2.0]
    with pytest.raises(ValueError, match="twice"):
        dist.init_process_group("gloo", world_size=1, rank=0)
    dist.destroy_process_group()
    assert not dist.is_initialized()


def test_group_of_several_processes_is_refused(fresh_group):
    with pytest.raises(RuntimeError, match="one process only"):
        dist.init_process_group("gloo", init_method="tcp://127.0.0.1:23456", world_size=2, rank=0)
    with pytest.raises(ValueError, match="Unknown backend"):
        dist.Backend("bogus")
    assert not dist.is_initialized()


def test_distributed_sampler_reads_the_one_process_group(fresh_group):
    from ember.utils.data.distributed import DistributedSampler
    dist.init_process_group("gloo", world_size=1, rank=0)
    sampler = DistributedSampler(list(range(10)), shuffle=False)
    assert list(sampler) == list(range(10))


def test_multiprocessing_is_the_standard_librarys_with_torchs_extras():
    import torch.multiprocessing as tmp
    assert mp.Process is multiprocessing.Process and mp.Queue is multiprocessing.Queue
    assert mp.get_start_method(allow_none=True) == multiprocessing.get_start_method(allow_none=True)
    assert set(tmp.__all__) <= set(mp.__all__) | {"init_reductions"}
    assert mp.get_all_sharing_strategies() <= tmp.get_all_sharing_strategies()
    assert mp.get_sharing_strategy() in mp.get_all_sharing_strategies()


def _write_rank(i, path):
    with open(os.path.join(path, f"rank{i}"), "w") as f:
        f.write(str(i))


def _fail(i):
    if i == 1:
        raise ValueError("child one failed")


def test_spawn_runs_fn_with_the_index(tmp_path):
    assert mp.spawn(_write_rank, args=(str(tmp_path),), nprocs=2, start_method="fork") is None
    assert sorted(os.listdir(tmp_path)) == ["rank0", "rank1"]


def test_spawn_reraises_a_childs_exception_with_its_traceback():
    with pytest.raises(mp.ProcessRaisedException, match="child one failed"):
        mp.spawn(_fail, nprocs=2, start_method="fork")
