"""DataLoader: every sample once per epoch, len and drop_last as torch, shuffle reproducible per seed and
new every epoch, batch types and dtypes, the __getitems__ and per-sample paths agree, prefetching gives
the same batches, re-raises the thread's exceptions, runs ahead by a bounded amount and leaves no thread
behind, state_dict resumes the order, and the pipeline's randomness never touches ember's generator."""

import json
import subprocess
import sys
import threading
import time
from collections import namedtuple

import numpy as np
import pytest
import torch

import ember
from ember.data import DataLoader, Dataset, Subset, TensorDataset, rng, rng_scope
from ember.data import transforms as T


class Plain(Dataset):
    """The same samples as ``TensorDataset(images, labels)``, one at a time (no __getitems__)."""

    def __init__(self, images, labels):
        self.images, self.labels = images, labels

    def __getitem__(self, i):
        return self.images[i], self.labels[i]

    def __len__(self):
        return len(self.labels)


class Failing(Plain):
    def __getitem__(self, i):
        if i == 5:
            raise ValueError("sample 5 is corrupt")
        return super().__getitem__(i)


class Counting(Plain):
    def __init__(self, images, labels):
        super().__init__(images, labels)
        self.fetched = 0

    def __getitem__(self, i):
        self.fetched += 1
        return super().__getitem__(i)


def _data(n=23, seed=0):
    r = np.random.default_rng(seed)
    return r.random((n, 3, 6, 6), dtype=np.float32), np.arange(n, dtype=np.int64)


def _prefetch_threads():
    return [t for t in threading.enumerate() if t.name == "ember-data-prefetch" and t.is_alive()]


def _epoch(loader):
    return [tuple(b.numpy().copy() for b in batch) for batch in loader]


def _assert_same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        for u, v in zip(x, y):
            np.testing.assert_array_equal(u, v)


AUGMENT = T.Compose([T.RandomCrop(6, padding=2), T.RandomHorizontalFlip(), T.ColorJitter(0.3, 0.3, 0.3, 0.05)])


@pytest.mark.parametrize("n,batch_size,drop_last", [(23, 5, False), (23, 5, True), (20, 5, False), (20, 5, True),
                                                    (7, 1, False), (7, 7, True), (7, 10, False), (7, 10, True)])
def test_every_sample_once_per_epoch_and_len_as_torch(n, batch_size, drop_last):
    images, labels = _data(n)
    loader = DataLoader(TensorDataset(images, labels), batch_size=batch_size, shuffle=True, drop_last=drop_last,
                        generator=0)
    t_loader = torch.utils.data.DataLoader(range(n), batch_size=batch_size, drop_last=drop_last)
    assert len(loader) == len(t_loader)
    for _ in range(2):
        batches = _epoch(loader)
        assert len(batches) == len(loader)
        seen = np.concatenate([y for _, y in batches]) if batches else np.zeros(0)
        assert len(set(seen.tolist())) == len(seen)  # no repeats
        if drop_last:
            assert all(len(y) == batch_size for _, y in batches)
            assert len(seen) == (n // batch_size) * batch_size
        else:
            assert sorted(seen.tolist()) == list(range(n))  # each sample exactly once
        for x, y in batches:
            np.testing.assert_array_equal(x, images[y])  # images travel with their labels


def test_unshuffled_order_is_sequential():
    loader = DataLoader(TensorDataset(*_data(10)), batch_size=4)
    assert [y.tolist() for _, y in _epoch(loader)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_shuffle_reproducible_with_a_seed_and_new_each_epoch():
    ds = TensorDataset(*_data(40))

    def orders(loader, epochs=3):
        return [np.concatenate([y for _, y in _epoch(loader)]).tolist() for _ in range(epochs)]

    a = orders(DataLoader(ds, batch_size=8, shuffle=True, generator=11))
    b = orders(DataLoader(ds, batch_size=8, shuffle=True, generator=np.random.default_rng(11)))
    assert a == b
    assert a[0] != a[1] and a[1] != a[2]  # a new permutation every epoch
    assert a[0] != list(range(40))
    assert orders(DataLoader(ds, batch_size=8, shuffle=True, generator=12)) != a


def test_default_generator_follows_manual_seed_and_spares_the_global_generator():
    ds = TensorDataset(*_data(40))
    ember.manual_seed(5)
    state = ember.get_rng_state()
    loader = DataLoader(ds, batch_size=8, shuffle=True, transform=AUGMENT)
    first = _epoch(loader)
    assert ember.get_rng_state() == state  # construction, shuffling and augmentation drew nothing from it
    ember.manual_seed(5)
    _assert_same(_epoch(DataLoader(ds, batch_size=8, shuffle=True, transform=AUGMENT)), first)
    ember.manual_seed(6)
    assert _epoch(DataLoader(ds, batch_size=8, shuffle=True))[0][1].tolist() != first[0][1].tolist()


def test_batch_types_and_dtypes():
    Sample = namedtuple("Sample", "image label")

    class Mixed(Dataset):
        def __getitem__(self, i):
            return {"u8": np.full((2, 2), i, dtype=np.uint8), "f32": np.zeros(3, np.float32), "f64": np.zeros(1),
                    "i32": np.int32(i), "py_int": i, "py_float": 0.5, "name": str(i),
                    "nt": Sample(np.ones(2, np.float32), np.int16(i))}

        def __len__(self):
            return 5

    (batch,) = list(DataLoader(Mixed(), batch_size=5))
    assert isinstance(batch["u8"], ember.Tensor) and batch["u8"].dtype == ember.uint8  # raw images stay uint8
    assert batch["f32"].dtype == ember.float32 and batch["f32"].shape == (5, 3)
    assert batch["f64"].dtype == ember.float64
    assert batch["i32"].dtype == ember.int64 and batch["i32"].tolist() == [0, 1, 2, 3, 4]  # labels -> int64
    assert batch["py_int"].dtype == ember.int64 and batch["py_float"].dtype == ember.float64  # torch: floats -> float64
    assert batch["name"] == ["0", "1", "2", "3", "4"]
    assert isinstance(batch["nt"], Sample) and batch["nt"].label.dtype == ember.int64
    x, y = next(iter(DataLoader(TensorDataset(np.zeros((4, 2), np.float32), np.arange(4, dtype=np.int32)), batch_size=2)))
    assert x.dtype == ember.float32 and y.dtype == ember.int64 and not x.requires_grad


def test_getitems_path_and_per_sample_path_give_the_same_batches():
    images, labels = _data(23)

    def run(ds):
        loader = DataLoader(ds, batch_size=5, shuffle=True, generator=3, transform=AUGMENT)
        return _epoch(loader) + _epoch(loader)

    fast = run(TensorDataset(images, labels))
    slow = run(Plain(images, labels))
    subset = run(Subset(TensorDataset(images, labels), np.arange(23)))
    _assert_same(fast, slow)
    _assert_same(fast, subset)


def test_getitems_is_one_call_per_batch():
    calls = []

    class Spy(TensorDataset):
        def __getitems__(self, indices):
            calls.append(len(indices))
            return super().__getitems__(indices)

        def __getitem__(self, i):
            raise AssertionError("the loader should fetch whole batches")

    list(DataLoader(Spy(*_data(23)), batch_size=5, shuffle=True))
    assert calls == [5, 5, 5, 5, 3]


def test_collate_fn_and_unbatched_mode():
    ds = Plain(*_data(6))
    loader = DataLoader(ds, batch_size=4, collate_fn=lambda samples: np.stack([s[1] for s in samples]) * 10)
    assert [b.tolist() for b in loader] == [[0, 10, 20, 30], [40, 50]]
    single = list(DataLoader(ds, batch_size=None))
    assert len(single) == 6 and single[2][0].shape == (3, 6, 6) and single[2][1].item() == 2
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match="prefetch"):
        DataLoader(ds, prefetch=-1)


def test_transform_acts_on_the_inputs_with_the_loaders_generator():
    seen = []

    def record(x):
        seen.append(rng())
        return x * 2

    ds = TensorDataset(*_data(8))
    loader = DataLoader(ds, batch_size=4, transform=record)
    x, y = next(iter(loader))
    np.testing.assert_array_equal(x.numpy(), ds.tensors[0].numpy()[:4] * 2)
    np.testing.assert_array_equal(y.numpy(), [0, 1, 2, 3])  # labels untouched
    assert seen[0] is not rng()  # a batch generator in scope, the fallback outside
    assert seen[0] is not ember.backend.generator()


def test_prefetch_gives_the_same_batches():
    ds = TensorDataset(*_data(37))
    plain = DataLoader(ds, batch_size=4, shuffle=True, generator=9, transform=AUGMENT)
    ahead = DataLoader(ds, batch_size=4, shuffle=True, generator=9, transform=AUGMENT, prefetch=3)
    for _ in range(2):
        _assert_same(_epoch(ahead), _epoch(plain))
    assert _prefetch_threads() == []


def test_prefetch_reraises_the_threads_exception():
    loader = DataLoader(Failing(*_data(12)), batch_size=2, prefetch=2)
    got = []
    with pytest.raises(ValueError, match="sample 5 is corrupt"):
        for _, y in loader:
            got.append(y.tolist())
    assert got == [[0, 1], [2, 3]]  # the batches before the bad one arrived, in order
    assert _prefetch_threads() == []


def test_prefetch_runs_ahead_by_a_bounded_amount():
    ds = Counting(*_data(40))
    it = iter(DataLoader(ds, batch_size=1, prefetch=3))
    next(it)
    deadline = time.time() + 5
    while ds.fetched < 4 and time.time() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    # One consumed, three waiting in the queue, at most one more made and waiting for room.
    assert 4 <= ds.fetched <= 5
    it.close()
    assert _prefetch_threads() == []


def test_abandoned_iteration_leaves_no_thread():
    loader = DataLoader(TensorDataset(*_data(40)), batch_size=2, prefetch=2)
    for _ in loader:
        break
    assert _prefetch_threads() == []  # the iterator was dropped at `break` and its thread joined
    it = iter(loader)
    next(it)
    assert len(_prefetch_threads()) == 1
    del it
    assert _prefetch_threads() == []


def test_interpreter_exits_with_an_abandoned_prefetch_iterator():
    script = (
        "import numpy as np\n"
        "from ember.data import DataLoader, TensorDataset\n"
        "loader = DataLoader(TensorDataset(np.zeros((1000, 8), np.float32)), batch_size=1, prefetch=2)\n"
        "it = iter(loader)\n"
        "next(it)\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_state_dict_resumes_the_next_epochs():
    ds = TensorDataset(*_data(30))
    loader = DataLoader(ds, batch_size=7, shuffle=True, generator=1, transform=AUGMENT)
    _epoch(loader)
    state = json.loads(json.dumps(loader.state_dict()))  # plain JSON-able data
    expected = [_epoch(loader) for _ in range(2)]
    resumed = DataLoader(ds, batch_size=7, shuffle=True, generator=99, transform=AUGMENT, prefetch=2)
    resumed.load_state_dict(state)
    for epoch in expected:
        _assert_same(_epoch(resumed), epoch)


def test_state_dict_taken_mid_epoch_with_prefetch_is_the_same():
    ds = TensorDataset(*_data(30))
    loader = DataLoader(ds, batch_size=3, shuffle=True, generator=2, prefetch=4, transform=AUGMENT)
    it = iter(loader)
    next(it)
    time.sleep(0.05)  # the thread has run ahead, augmenting; it never draws from the loader's generator
    mid = loader.state_dict()
    list(it)
    assert loader.state_dict() == mid


def test_rng_scope_and_fallback():
    ember.manual_seed(0)
    a = rng().random(3)
    ember.manual_seed(0)
    np.testing.assert_array_equal(rng().random(3), a)
    with rng_scope(42) as g:
        assert rng() is g
        np.testing.assert_array_equal(rng().random(2), np.random.default_rng(42).random(2))
    assert rng() is not g
