"""ember.distributed and DistributedDataParallel in one process (no launcher): what torch does there, and the
errors (the 2-process behaviour is in tests/test_distributed_mpi.py)."""

import datetime

import pytest
import torch
import torch.distributed as tdist

import ember
import ember.distributed as dist
from ember import nn
from ember.cli import _without_nproc
from ember.utils.data import DistributedSampler
from ember.utils.data.distributed import torch_randperm


@pytest.fixture
def group():
    dist.destroy_process_group()
    dist.init_process_group("gloo", world_size=1, rank=0)
    yield dist.group.WORLD
    dist.destroy_process_group()


def test_ddp_needs_a_process_group():
    dist.destroy_process_group()
    with pytest.raises(ValueError, match="has not been initialized"):
        nn.parallel.DistributedDataParallel(nn.Linear(2, 2))


def test_ddp_of_one_process_is_the_module(group):
    ember.manual_seed(0)
    net = nn.Linear(3, 2)
    ddp = nn.parallel.DistributedDataParallel(net)
    assert list(ddp.state_dict()) == ["module.weight", "module.bias"]  # torch's keys
    x = ember.randn(4, 3)
    ddp(x).sum().backward()
    expected = ember.ones(4, 2).t() @ x
    assert ember.allclose(net.weight.grad, expected)


def test_ddp_refuses_what_torch_refuses(group):
    frozen = nn.Linear(2, 2).requires_grad_(False)
    with pytest.raises(RuntimeError, match="doesn't have any parameter that requires a gradient"):
        nn.parallel.DistributedDataParallel(frozen)
    with pytest.raises(ValueError, match="device_ids and output_device arguments only work"):
        nn.parallel.DistributedDataParallel(nn.Linear(2, 2), device_ids=[0])
    with pytest.raises(TypeError, match="expected an nn.Module"):
        nn.parallel.DistributedDataParallel("model")


def test_init_process_group_checks(group):
    dist.destroy_process_group()
    with pytest.raises(TypeError, match="datetime.timedelta"):
        dist.init_process_group("mpi", timeout=30)
    with pytest.raises(ValueError, match="Unknown backend"):
        dist.init_process_group("carrier-pigeon")
    with pytest.raises(RuntimeError, match="mpirun -n 4"):
        dist.init_process_group("mpi", world_size=4, rank=1)
    dist.init_process_group("mpi", timeout=datetime.timedelta(seconds=5))
    assert dist.get_backend() == "mpi" and dist.get_world_size() == 1


def test_collectives_check_their_arguments(group):
    with pytest.raises(TypeError, match="ember.Tensor"):
        dist.all_reduce([1.0, 2.0])
    with pytest.raises(TypeError, match="AVG needs a floating-point"):
        dist.all_reduce(ember.tensor([1, 2]), op=dist.ReduceOp.AVG)
    with pytest.raises(ValueError, match="one per process"):
        dist.all_gather([ember.zeros(2), ember.zeros(2)], ember.ones(2))
    with pytest.raises(ValueError, match="it must be another process"):
        dist.send(ember.ones(1), dst=0)
    with pytest.raises(TypeError, match="JSON"):
        dist.all_gather_object([None], object())
    with pytest.raises(ValueError, match="not part of the group"):
        dist.broadcast(ember.ones(1), src=3)


@pytest.mark.parametrize("n, seed", [(1, 0), (2, 9), (10, 3), (1000, 0), (7, 2**40 + 3), (60000, 5)])
def test_permutation_is_torchs_randperm(n, seed):
    generator = torch.Generator()
    generator.manual_seed(seed)
    assert torch_randperm(n, seed) == torch.randperm(n, generator=generator).tolist()


@pytest.mark.parametrize("n, replicas, drop_last", [(10, 3, False), (10, 3, True), (101, 4, False), (7, 2, True)])
def test_distributed_sampler_shuffles_as_torch(n, replicas, drop_last):
    for rank in range(replicas):
        ours = DistributedSampler(range(n), num_replicas=replicas, rank=rank, seed=5, drop_last=drop_last)
        theirs = torch.utils.data.DistributedSampler(range(n), num_replicas=replicas, rank=rank, seed=5,
                                                     drop_last=drop_last)
        for epoch in (0, 3):
            ours.set_epoch(epoch)
            theirs.set_epoch(epoch)
            assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_trainer_sets_the_samplers_epoch(group):
    from ember.train import Trainer
    from ember.utils.data import DataLoader, TensorDataset

    data = TensorDataset(ember.randn(12, 3), ember.tensor([0, 1] * 6))
    sampler = DistributedSampler(data, num_replicas=2, rank=1, seed=0)
    loader = DataLoader(data, batch_size=3, sampler=sampler)
    model = nn.parallel.DistributedDataParallel(nn.Linear(3, 2))
    trainer = Trainer(model, ember.optim.SGD(model.parameters(), lr=0.1), progress=False, log=lambda m: None)
    trainer.fit(loader, epochs=3)
    assert sampler.epoch == 2  # set before each epoch: 0, 1, 2
    assert list(trainer.state_dict()["model"]) == ["weight", "bias"]  # checkpoints hold the unwrapped model


def test_without_nproc():
    assert _without_nproc(["train", "lenet5", "--nproc", "2", "--epochs", "1"]) == ["train", "lenet5", "--epochs", "1"]
    assert _without_nproc(["train", "--nproc=4", "lenet5"]) == ["train", "lenet5"]


def test_uninitialised_messages_match_torch():
    dist.destroy_process_group()
    with pytest.raises(ValueError) as ours:
        dist.get_world_size()
    with pytest.raises(ValueError) as theirs:
        tdist.get_world_size()
    assert str(ours.value) == str(theirs.value)
