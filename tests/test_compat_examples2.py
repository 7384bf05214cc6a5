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
    with pytest.raises(RuntimeError, match="not started by an MPI launcher"):
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


# ---- share_memory_: Hogwild (mnist_hogwild) trains one model from several processes ----------------------------

def _hogwild_step(model, value):
    with ember.no_grad():
        for p in model.parameters():
            p -= value  # what an optimizer's in-place step does


def _sgd_step(model):
    opt = ember.optim.SGD(model.parameters(), lr=0.5)
    model(ember.ones(1, 3)).sum().backward()
    opt.step()


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_shared_parameters_see_a_child_processs_update(method):
    ember.manual_seed(0)
    model = ember.nn.Linear(3, 2)
    before = [p.detach().clone() for p in model.parameters()]
    assert model.share_memory() is model
    assert all(p.is_shared() for p in model.parameters())
    child = multiprocessing.get_context(method).Process(target=_hogwild_step, args=(model, 1.0))
    child.start()
    child.join()
    assert child.exitcode == 0
    for old, new in zip(before, model.parameters()):
        assert (new - old).tolist() == (ember.zeros_like(old) - 1.0).tolist()


def test_optimizer_step_in_a_child_matches_torchs_in_process_step():
    ember.manual_seed(0)
    ours = ember.nn.Linear(3, 2).share_memory()
    start = ours.weight.tolist()
    theirs = torch.nn.Linear(3, 2)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.tolist()))
        theirs.bias.copy_(torch.tensor(ours.bias.tolist()))
    child = multiprocessing.get_context("fork").Process(target=_sgd_step, args=(ours,))
    child.start()
    child.join()
    opt = torch.optim.SGD(theirs.parameters(), lr=0.5)
    theirs(torch.ones(1, 3)).sum().backward()
    opt.step()
    for mine, torchs in ((ours.weight, theirs.weight), (ours.bias, theirs.bias)):
        assert mine.detach().numpy().ravel().tolist() == pytest.approx(torchs.detach().numpy().ravel().tolist(),
                                                                        rel=1e-6)
    assert ours.weight.tolist() != start  # the child's step moved the parent's weights


def test_shared_tensor_arithmetic_is_private_and_views_pickle_as_copies():
    import pickle
    x = ember.arange(6.0).reshape(2, 3)
    assert not x.is_shared() and x.share_memory_() is x and x.is_shared()
    y = x + 1
    assert not y.is_shared() and y.tolist() == [[1, 2, 3], [4, 5, 6]]
    again = pickle.loads(pickle.dumps(x.array))  # the whole block: by reference, same memory
    again[0, 0] = 7.0
    assert x[0, 0].item() == 7.0
    import copy
    assert not copy.deepcopy(x).is_shared() and not x.clone().is_shared()  # copies are private, as in torch
    part = pickle.loads(pickle.dumps(x.array[1]))  # a view of part of it: a private copy
    part[0] = -1.0
    assert x[1, 0].item() == 3.0


def test_ember_run_maps_torch_in_spawned_children(tmp_path):
    import subprocess
    import sys
    program = tmp_path / "prog.py"
    program.write_text(
        "import torch\n"
        "import torch.multiprocessing as mp\n"
        "def work(i, q):\n"
        "    q.put((i, torch.__name__, torch.ones(2).sum().item()))\n"
        "if __name__ == '__main__':\n"
        "    mp.set_start_method('spawn', force=True)\n"
        "    q = mp.get_context('spawn').SimpleQueue()\n"
        "    mp.spawn(work, args=(q,), nprocs=2)\n"
        "    print(sorted([q.get(), q.get()]))\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root)
    out = subprocess.run([sys.executable, "-m", "ember.run", str(program)], capture_output=True, text=True,
                         env=env, cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[(0, 'ember', 2.0), (1, 'ember', 2.0)]"



def test_data_parallel_function_without_a_gpu_raises_like_torch():
    # dcgan's older main.py calls nn.parallel.data_parallel(self.main, input, None) in every forward.
    from ember.nn.parallel import data_parallel
    with pytest.raises(RuntimeError) as theirs:
        torch.nn.parallel.data_parallel(torch.nn.Linear(4, 3), torch.ones(2, 4), None)
    with pytest.raises(RuntimeError) as ours:
        data_parallel(ember.nn.Linear(4, 3), ember.ones(2, 4), None)
    assert str(ours.value).startswith(str(theirs.value))
