"""ember.utils.data against torch.utils.data: module paths, default_collate / default_convert output types,
dtypes and shapes, DataLoader errors (the same texts), lengths and batches, IterableDataset with and
without workers, and the workers themselves: the same batches as num_workers=0, really in parallel,
worker_init_fn, get_worker_info, exceptions naming the worker, timeout, shutdown on break, persistence."""

import collections
import gc
import multiprocessing
import os
import threading
import time

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import ember
import ember.data
from ember.utils.data import DataLoader, Dataset, IterableDataset, TensorDataset, get_worker_info
from ember.utils.data import dataloader as loader_module
from ember.utils.data._utils.random import rng

Point = collections.namedtuple("Point", "x y")


def test_torch_paths_resolve():
    from ember.utils.data.dataloader import default_collate  # noqa: F401
    from ember.utils.data.dataset import Dataset as D  # noqa: F401
    from ember.utils.data.distributed import DistributedSampler  # noqa: F401
    from ember.utils.data.sampler import SubsetRandomSampler  # noqa: F401

    assert ember.utils.data.DataLoader is DataLoader and ember.utils.data.dataloader.default_convert
    for name in tud.__all__:
        if not name.startswith("_") and "DataPipe" not in name and name not in ("DataChunk", "argument_validation",
                "functional_datapipe", "guaranteed_datapipes_determinism", "non_deterministic",
                "runtime_validation", "runtime_validation_disabled"):
            assert hasattr(ember.utils.data, name), name
    # ember.data's datasets are the same classes; its DataLoader is torch's with ember's extras.
    assert ember.data.Dataset is Dataset and ember.data.TensorDataset is TensorDataset
    assert issubclass(ember.data.DataLoader, DataLoader)


def _same(ours, theirs):
    """ember output == torch output: the same containers, Tensors of the same dtype, shape and values."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, ember.Tensor), type(ours)
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", ""), (ours.dtype, theirs.dtype)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    elif isinstance(theirs, dict):
        assert type(ours) is type(theirs) and list(ours) == list(theirs)
        for key in theirs:
            _same(ours[key], theirs[key])
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), (type(ours), type(theirs))
        for a, b in zip(ours, theirs):
            _same(a, b)
    else:
        assert type(ours) is type(theirs) and ours == theirs


SAMPLES = {
    "arrays": [np.full((2, 3), i, dtype=np.float32) for i in range(3)],
    "uint8": [np.full((2, 2), i, dtype=np.uint8) for i in range(3)],
    "python floats": [0.5, 1.5, 2.0],
    "python ints": [1, 2, 3],
    "bools": [True, False, True],
    "numpy scalars": [np.int32(1), np.int32(4)],
    "numpy float64 scalars": [np.float64(0.25), np.float64(1.0)],
    "strings": ["a", "b"],
    "tuples": [(np.zeros(2, np.float32), 1), (np.ones(2, np.float32), 2)],
    "lists": [[1, 2.0], [3, 4.0]],
    "dicts": [{"x": np.arange(3), "name": "a", "w": 0.1}, {"x": np.arange(3) + 1, "name": "b", "w": 0.2}],
    "namedtuples": [Point(1, 2.0), Point(3, 4.0)],
    "nested": [{"p": (Point(np.zeros(1), 1), [2, 3])}, {"p": (Point(np.ones(1), 4), [5, 6])}],
}


@pytest.mark.parametrize("name", list(SAMPLES))
def test_default_collate_as_torch(name):
    samples = SAMPLES[name]
    _same(ember.utils.data.default_collate(samples), tud.default_collate(samples))


def test_default_collate_of_tensors_and_errors_as_torch():
    ours = ember.utils.data.default_collate([ember.tensor([1.0, 2.0]), ember.tensor([3.0, 4.0])])
    _same(ours, tud.default_collate([torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0])]))
    for bad, kind in [([np.zeros(2), np.zeros(3)], RuntimeError), ([(1, 2), (1,)], RuntimeError),
                      ([object(), object()], TypeError), ([np.array(["a"]), np.array(["b"])], TypeError)]:
        with pytest.raises(kind) as theirs:
            tud.default_collate(bad)
        with pytest.raises(kind) as ours:
            ember.utils.data.default_collate(bad)
        if kind is RuntimeError and "equal size" in str(theirs.value):
            assert str(ours.value).startswith(str(theirs.value).split(" (")[0])


@pytest.mark.parametrize("data", [np.arange(3), np.float32(2.5), 3, "s", (np.zeros(2), 1), [np.zeros(1)], Point(np.zeros(1), 2),
                                  {"a": np.ones(2), "b": [np.int64(1)]}])
def test_default_convert_as_torch(data):
    _same(ember.utils.data.default_convert(data), tud.default_convert(data))


class Squares(Dataset):
    def __init__(self, n=10):
        self.n = n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return np.array([i, i * i], dtype=np.float32), i

    def __len__(self):
        return self.n


ERROR_CASES = [
    dict(batch_sampler=[[0, 1]], batch_size=2), dict(batch_sampler=[[0, 1]], shuffle=True),
    dict(batch_sampler=[[0, 1]], sampler=[0, 1]), dict(batch_sampler=[[0, 1]], drop_last=True),
    dict(sampler=[0, 1], shuffle=True), dict(batch_size=None, drop_last=True), dict(num_workers=-1),
    dict(timeout=-1), dict(prefetch_factor=2), dict(num_workers=1, prefetch_factor=-1), dict(persistent_workers=True),
    dict(multiprocessing_context="fork"), dict(num_workers=1, multiprocessing_context="nonsense"),
    dict(num_workers=1, multiprocessing_context=3), dict(batch_size=0), dict(batch_size=-2),
]


@pytest.mark.parametrize("kwargs", ERROR_CASES, ids=lambda k: ",".join(k))
def test_dataloader_errors_as_torch(kwargs):
    with pytest.raises(Exception) as theirs:
        tud.DataLoader(Squares(), **kwargs)
    with pytest.raises(type(theirs.value)) as ours:
        DataLoader(Squares(), **kwargs)
    assert str(ours.value) == str(theirs.value)


class Stream(IterableDataset):
    """0..n-1, split between workers as torch's documentation shows."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = get_worker_info() or tud.get_worker_info()
        if info is None:
            return iter(range(self.n))
        per = -(-self.n // info.num_workers)
        return iter(range(info.id * per, min(self.n, (info.id + 1) * per)))

    def __len__(self):
        return self.n


class TorchStream(Stream, tud.IterableDataset):
    pass


@pytest.mark.parametrize("kwargs", [dict(shuffle=True), dict(sampler=[0]), dict(batch_sampler=[[0]])], ids=str)
def test_iterable_dataset_option_errors_as_torch(kwargs):
    with pytest.raises(ValueError) as theirs:
        tud.DataLoader(TorchStream(5), **kwargs)
    with pytest.raises(ValueError) as ours:
        DataLoader(Stream(5), **kwargs)
    assert str(ours.value).split(" option, but got")[0] == str(theirs.value).split(" option, but got")[0]


def test_too_many_workers_warn_as_in_torch():
    many = len(os.sched_getaffinity(0)) + 1
    with pytest.warns(UserWarning) as theirs:
        tud.DataLoader(Squares(), num_workers=many)
    with pytest.warns(UserWarning) as ours:
        DataLoader(Squares(), num_workers=many)
    assert str(ours[0].message) == str(theirs[0].message)


def test_setting_options_after_construction_is_refused_as_in_torch():
    loader = DataLoader(Squares())
    with pytest.raises(ValueError, match="batch_size attribute should not be set after DataLoader is initialized"):
        loader.batch_size = 4


def _batches(loader):
    return [b for b in loader]


@pytest.mark.parametrize("kwargs", [dict(), dict(batch_size=3), dict(batch_size=3, drop_last=True), dict(batch_size=None),
                                    dict(batch_sampler=[[3, 1], [0], [9, 8, 7]]), dict(sampler=[5, 2, 2], batch_size=2),
                                    dict(batch_size=4, collate_fn=lambda s: [x[1] for x in s])], ids=str)
def test_batches_and_len_as_torch(kwargs):
    ours, theirs = DataLoader(Squares(), **kwargs), tud.DataLoader(Squares(), **kwargs)
    assert len(ours) == len(theirs)
    for _ in range(2):  # iterating twice gives the same epoch
        a, b = _batches(ours), _batches(theirs)
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)


class ListOfSamples(Squares):
    """torch's __getitems__ convention: a list of samples, which the loader collates."""

    def __getitems__(self, indices):
        return [self[i] for i in indices]


def test_getitems_conventions_and_subsets_as_torch():
    ours = list(DataLoader(ListOfSamples(), batch_size=4))
    theirs = list(tud.DataLoader(ListOfSamples(), batch_size=4))
    for a, b in zip(ours, theirs, strict=True):
        _same(a, b)
    parts = ember.utils.data.random_split(Squares(), [0.7, 0.3], generator=np.random.default_rng(0))
    indices = parts[0].indices.tolist()
    ours = list(DataLoader(parts[0], batch_size=3))
    theirs = list(tud.DataLoader(tud.Subset(Squares(), indices), batch_size=3))
    for a, b in zip(ours, theirs, strict=True):
        _same(a, b)


def test_tensor_dataset_batches_as_torch():
    x, y = np.random.default_rng(0).random((7, 3)), np.arange(7)
    ours = list(DataLoader(TensorDataset(x, y), batch_size=3))
    theirs = list(tud.DataLoader(tud.TensorDataset(torch.tensor(x), torch.tensor(y)), batch_size=3))
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        _same(a, b)  # a list [x, y], as torch collates tuples


@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.parametrize("batch_size,drop_last", [(3, False), (3, True), (None, False)])
def test_iterable_dataset_as_torch(workers, batch_size, drop_last):
    ours = DataLoader(Stream(11), batch_size=batch_size, drop_last=drop_last, num_workers=workers)
    theirs = tud.DataLoader(TorchStream(11), batch_size=batch_size, drop_last=drop_last, num_workers=workers)
    a, b = _batches(ours), _batches(theirs)
    plain = lambda t: t.tolist() if hasattr(t, "tolist") else t  # noqa: E731 -- unbatched: plain ints
    assert [plain(t) for t in a] == [plain(t) for t in b]
    assert len(ours) == len(theirs)


def test_shuffle_without_generator_draws_from_the_global_generator():
    ember.manual_seed(1)
    first = [b[1].tolist() for b in DataLoader(Squares(20), batch_size=5, shuffle=True)]
    ember.manual_seed(1)
    assert [b[1].tolist() for b in DataLoader(Squares(20), batch_size=5, shuffle=True)] == first
    assert sorted(sum(first, [])) == list(range(20)) and sum(first, []) != list(range(20))


def test_a_given_generator_spares_the_global_one():
    ember.manual_seed(2)
    state = ember.get_rng_state()
    g = np.random.default_rng(3)
    order = [b[1].tolist() for b in DataLoader(Squares(20), batch_size=5, shuffle=True, generator=g)]
    assert ember.get_rng_state() == state and sorted(sum(order, [])) == list(range(20))
    again = [b[1].tolist() for b in DataLoader(Squares(20), batch_size=5, shuffle=True, generator=np.random.default_rng(3))]
    assert again == order


class Augmented(Dataset):
    """Random per-sample work through rng() (the pipeline's generator) and a label."""

    def __getitem__(self, i):
        return np.float32(i) + rng().random(4, dtype=np.float32), i

    def __len__(self):
        return 37


@pytest.fixture(params=["process", "thread"])
def worker_kind(request, monkeypatch):
    monkeypatch.setattr(loader_module, "WORKER_KIND", request.param)
    return request.param


def test_workers_give_the_same_batches_in_the_same_order(worker_kind):
    def epochs(workers):
        loader = DataLoader(Augmented(), batch_size=4, shuffle=True, num_workers=workers,
                            generator=np.random.default_rng(7))
        return [[(x.numpy(), y.numpy()) for x, y in loader] for _ in range(2)]

    serial, parallel = epochs(0), epochs(2)
    assert len(serial[0]) == 10
    assert [y.tolist() for _, y in serial[0]] != [y.tolist() for _, y in serial[1]]  # reshuffled each epoch
    for e0, e2 in zip(serial, parallel):
        for (x0, y0), (x2, y2) in zip(e0, e2):
            np.testing.assert_array_equal(y0, y2)
            np.testing.assert_array_equal(x0, x2)  # the same augmentation too


class Sleepy(Dataset):
    """Each sample takes 50 ms and reports who made it and when."""

    def __getitem__(self, i):
        start = time.time()
        time.sleep(0.05)
        info = get_worker_info()
        return np.array([start, time.time()]), info.id if info else -1, os.getpid()

    def __len__(self):
        return 8


def test_workers_run_in_parallel(worker_kind):
    batches = list(DataLoader(Sleepy(), batch_size=2, num_workers=2))
    spans = [(w, s, e) for times, ids, _ in batches for (s, e), w in zip(times.numpy(), ids.tolist())]
    assert {w for w, _, _ in spans} == {0, 1}
    overlapping = any(w1 != w2 and s1 < e2 and s2 < e1 for w1, s1, e1 in spans for w2, s2, e2 in spans)
    assert overlapping  # two workers were inside __getitem__ at the same moment
    pids = {p for _, _, ps in batches for p in ps.tolist()}
    assert (len(pids) == 2 and os.getpid() not in pids) if worker_kind == "process" else pids == {os.getpid()}


_initialised = {}


def _init(worker_id):
    _initialised["id"] = worker_id


class ReportsInit(Dataset):
    def __getitem__(self, i):
        info = get_worker_info()
        return _initialised.get("id", -1), info.id, info.num_workers, info.seed, info.dataset is not None

    def __len__(self):
        return 6


def test_worker_init_fn_and_get_worker_info(worker_kind):
    assert get_worker_info() is None
    batches = list(DataLoader(ReportsInit(), batch_size=1, num_workers=2, worker_init_fn=_init))
    seen = [tuple(int(v.item()) for v in b) for b in batches]
    assert {s[1] for s in seen} == {0, 1} and all(s[2] == 2 and s[4] == 1 for s in seen)
    seeds = {s[1]: s[3] for s in seen}
    assert seeds[1] == seeds[0] + 1  # base_seed + worker_id
    if worker_kind == "process":
        assert all(s[0] == s[1] for s in seen)  # each worker ran worker_init_fn(its id) before loading
    assert get_worker_info() is None


class GlobalRandom(Dataset):
    def __getitem__(self, i):
        return float(ember.rand(1).item()), get_worker_info().id

    def __len__(self):
        return 4


def test_process_workers_have_differently_seeded_global_generators(monkeypatch):
    monkeypatch.setattr(loader_module, "WORKER_KIND", "process")
    values, ids = zip(*[(b[0].item(), b[1].item()) for b in DataLoader(GlobalRandom(), batch_size=1, num_workers=2)])
    assert set(ids) == {0, 1} and len(set(values)) == 4  # no two workers repeat each other's draws


class Corrupt(Squares):
    def __getitem__(self, i):
        if i == 5:
            raise KeyError("sample 5 is corrupt")
        return super().__getitem__(i)


def test_worker_exception_is_raised_again_naming_the_worker(worker_kind):
    got = []
    with pytest.raises(KeyError) as error:
        for _, y in DataLoader(Corrupt(), batch_size=2, num_workers=2):
            got.append(y.tolist())
    assert got == [[0, 1], [2, 3]]  # the batches before the bad one arrived, in order
    assert f"Caught KeyError in DataLoader worker {worker_kind} 0" in str(error.value)
    assert "sample 5 is corrupt" in str(error.value) and "Original Traceback" in str(error.value)


class Slow(Squares):
    def __getitem__(self, i):
        time.sleep(2 if i == 2 else 0)
        return super().__getitem__(i)


def test_timeout_is_honoured(worker_kind):
    loader = DataLoader(Slow(), batch_size=1, num_workers=1, timeout=0.3)
    it = iter(loader)
    next(it), next(it)
    start = time.time()
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0\.3 seconds"):
        next(it)
    assert time.time() - start < 1.5


def _our_children():
    return [p for p in multiprocessing.active_children()]


def test_workers_stop_when_the_iterator_is_dropped(worker_kind):
    before = set(threading.enumerate())  # (a thread left stuck by another test's timeout is not ours)

    def our_threads():
        return [t for t in threading.enumerate() if t.name == "ember-data-worker" and t not in before]

    loader = DataLoader(Sleepy(), batch_size=1, num_workers=2)
    for _ in loader:
        break
    gc.collect()
    assert _our_children() == [] and our_threads() == []
    it = iter(loader)
    next(it)
    assert len(_our_children() if worker_kind == "process" else our_threads()) == 2
    del it
    gc.collect()
    assert _our_children() == [] and our_threads() == []


class Dies(Squares):
    def __getitem__(self, i):
        if i == 3:
            os._exit(1)
        return super().__getitem__(i)


def test_a_dead_worker_process_is_reported(monkeypatch):
    monkeypatch.setattr(loader_module, "WORKER_KIND", "process")
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited unexpectedly"):
        list(DataLoader(Dies(), batch_size=1, num_workers=1))


def test_persistent_workers_keep_their_processes_and_batches(monkeypatch):
    monkeypatch.setattr(loader_module, "WORKER_KIND", "process")
    loader = DataLoader(Sleepy(), batch_size=2, num_workers=2, persistent_workers=True)
    pids = [{p for b in loader for p in b[2].tolist()} for _ in range(2)]
    assert pids[0] == pids[1] and len(pids[0]) == 2
    epoch = [b[1].tolist() for b in loader]
    assert len(epoch) == 4
    it = iter(loader)
    next(it)  # an epoch abandoned half-way: the next one starts afresh
    assert len(list(iter(loader))) == 4
    loader._iterator.close()
    assert _our_children() == []
