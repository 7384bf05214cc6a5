"""Datasets: TensorDataset, Subset, ConcatDataset (per-sample and batched access agree), random_split
(disjoint, complete, torch's lengths for fractions, reproducible), default_collate, errors."""

from collections import namedtuple

import numpy as np
import pytest
import torch

import ember
from ember.data import ConcatDataset, Dataset, Subset, TensorDataset, default_collate, random_split


class Plain(Dataset):
    """A dataset with only __getitem__/__len__ (no batched access), counting its calls."""

    def __init__(self, n, offset=0):
        self.n, self.offset, self.calls = n, offset, 0

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        self.calls += 1
        return np.full((2, 2), i + self.offset, dtype=np.float32), i + self.offset

    def __len__(self):
        return self.n


class Batched(Plain):
    """Plain plus __getitems__, recording the index arrays it is asked for."""

    def __init__(self, n, offset=0):
        super().__init__(n, offset)
        self.batches = []

    def __getitems__(self, indices):
        self.batches.append(np.asarray(indices).copy())
        values = np.asarray(indices) + self.offset
        return np.repeat(values.astype(np.float32), 4).reshape(-1, 2, 2), values


def _numpy(batch):
    return tuple(b.numpy() if isinstance(b, ember.Tensor) else np.asarray(b) for b in batch)


def test_dataset_is_abstract():
    with pytest.raises(NotImplementedError):
        Dataset()[0]
    with pytest.raises(NotImplementedError):
        len(Dataset())


def test_tensor_dataset_rows():
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = ember.arange(10)
    ds = TensorDataset(x, y)
    assert len(ds) == 10
    xi, yi = ds[3]
    assert isinstance(xi, ember.Tensor) and isinstance(yi, ember.Tensor)
    np.testing.assert_array_equal(xi.numpy(), [6, 7])
    assert yi.item() == 3
    np.testing.assert_array_equal(ds[-1][0].numpy(), [18, 19])
    bx, by = ds.__getitems__(np.array([4, 0, 9]))
    np.testing.assert_array_equal(bx.numpy(), x[[4, 0, 9]])
    np.testing.assert_array_equal(by.numpy(), [4, 0, 9])
    assert by.dtype == ember.int64
    with pytest.raises(IndexError):
        ds[10]
    assert len(list(iter(ds))) == 10  # the sequence protocol stops at IndexError


def test_tensor_dataset_checks_lengths():
    with pytest.raises(ValueError, match="same first dimension"):
        TensorDataset(np.zeros((3, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()


def test_subset_maps_indices_and_forwards_batches():
    parent = Batched(10)
    sub = Subset(parent, [7, 2, 5])
    assert len(sub) == 3
    assert sub[0][1] == 7 and sub[2][1] == 5
    _, labels = sub.__getitems__(np.array([2, 0]))
    np.testing.assert_array_equal(labels, [5, 7])
    np.testing.assert_array_equal(parent.batches[-1], [5, 7])  # one call to the parent, with parent indices
    assert parent.calls == 2  # only the two __getitem__ calls above


def test_subset_of_a_dataset_without_batched_access_gives_torchs_list_of_samples():
    sub = Subset(Plain(10), [7, 2, 5])
    samples = sub.__getitems__(np.array([2, 0]))
    assert isinstance(samples, list) and [s[1] for s in samples] == [5, 7]  # torch's __getitems__ convention
    images, labels = default_collate(samples)
    assert isinstance(images, ember.Tensor) and images.shape == (2, 2, 2) and images.dtype == ember.float32
    np.testing.assert_array_equal(labels.numpy(), [5, 7])
    assert labels.dtype == ember.int64


def test_concat_dataset_indexing():
    a, b = Batched(3), Plain(4, offset=100)
    ds = a + b
    assert isinstance(ds, ConcatDataset) and len(ds) == 7 and ds.cumulative_sizes == [3, 7]
    assert [ds[i][1] for i in range(7)] == [0, 1, 2, 100, 101, 102, 103]
    assert ds[-1][1] == 103 and ds[-7][1] == 0
    for bad in (7, -8):
        with pytest.raises(IndexError):
            ds[bad]


def test_concat_dataset_batches_match_per_sample_access():
    ds = ConcatDataset([Batched(3), Plain(4, offset=100), Batched(2, offset=200)])
    order = np.array([5, 0, 7, 3, 8, 1, 6, -1])
    samples = ds.__getitems__(order)  # a part without batched access: torch's list of samples
    assert isinstance(samples, list) and len(samples) == len(order)
    images, labels = _numpy(default_collate(samples))
    batched = ConcatDataset([Batched(3), Batched(2, offset=200)])
    b_images, b_labels = _numpy(batched.__getitems__(np.array([4, 0, 3])))  # every part batched: one batch
    np.testing.assert_array_equal(b_labels, [201, 0, 200])
    np.testing.assert_array_equal(b_images[:, 0, 0], [201, 0, 200])
    expected = [ds[int(i)] for i in order]
    np.testing.assert_array_equal(labels, [e[1] for e in expected])
    np.testing.assert_array_equal(images, np.stack([e[0] for e in expected]))
    with pytest.raises(IndexError):
        ds.__getitems__(np.array([0, 9]))


def test_random_split_is_disjoint_complete_and_reproducible():
    ds = TensorDataset(np.arange(50))
    parts = random_split(ds, [20, 25, 5], generator=7)
    assert [len(p) for p in parts] == [20, 25, 5]
    seen = np.concatenate([p.indices for p in parts])
    assert sorted(seen.tolist()) == list(range(50))  # disjoint and complete
    values = np.concatenate([[p[i][0].item() for i in range(len(p))] for p in parts])
    np.testing.assert_array_equal(values, seen)
    again = random_split(ds, [20, 25, 5], generator=np.random.default_rng(7))
    assert all(np.array_equal(p.indices, q.indices) for p, q in zip(parts, again))
    other = random_split(ds, [20, 25, 5], generator=8)
    assert not np.array_equal(parts[0].indices, other[0].indices)
    assert not np.array_equal(np.sort(parts[0].indices), np.arange(20))  # actually shuffled


def test_random_split_default_generator_is_the_global_one_as_in_torch():
    ds = TensorDataset(np.arange(30))
    ember.manual_seed(3)
    state = ember.get_rng_state()
    first = random_split(ds, [0.5, 0.5])
    assert ember.get_rng_state() != state  # torch draws from its default generator
    ember.manual_seed(3)
    second = random_split(ds, [0.5, 0.5])
    np.testing.assert_array_equal(first[0].indices, second[0].indices)


@pytest.mark.parametrize("n,fractions", [(10, [0.3, 0.3, 0.4]), (7, [0.5, 0.5]), (11, [0.1, 0.2, 0.7]), (5, [1.0])])
def test_random_split_fractions_match_torch(n, fractions):
    ours = [len(p) for p in random_split(TensorDataset(np.arange(n)), fractions, generator=0)]
    theirs = [len(p) for p in torch.utils.data.random_split(range(n), fractions)]
    assert ours == theirs and sum(ours) == n


def test_random_split_rejects_bad_lengths():
    ds = TensorDataset(np.arange(10))
    with pytest.raises(ValueError, match="does not equal the length"):
        random_split(ds, [3, 3])
    with pytest.raises(ValueError, match="does not equal the length"):
        random_split(ds, [0.5, 0.4])
    with pytest.raises(TypeError, match="generator"):
        random_split(ds, [5, 5], generator="seed")


def test_default_collate_stacks_nested_samples():
    Point = namedtuple("Point", "x y")
    samples = [
        {"image": np.full((2, 3), i, dtype=np.float32), "label": i, "weight": 0.5 * i, "name": f"s{i}",
         "pair": (ember.tensor([i, i]), np.int32(i)), "point": Point(i, float(i))}
        for i in range(4)
    ]
    batch = default_collate(samples)
    assert batch["image"].shape == (4, 2, 3) and batch["image"].dtype == ember.float32
    assert batch["label"].dtype == ember.int64 and batch["label"].tolist() == [0, 1, 2, 3]
    assert batch["weight"].dtype == ember.float64  # torch: Python floats -> float64
    assert batch["name"] == ["s0", "s1", "s2", "s3"]
    assert isinstance(batch["pair"], list) and batch["pair"][0].shape == (4, 2)  # torch: tuples -> lists
    assert batch["pair"][1].dtype == ember.int32  # NumPy scalars keep their dtype
    assert isinstance(batch["point"], Point) and batch["point"].y.tolist() == [0.0, 1.0, 2.0, 3.0]
    lists = default_collate([[1, 2.0], [3, 4.0]])
    assert isinstance(lists, list) and lists[0].tolist() == [1, 3]


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match="same shape"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(RuntimeError, match="should be of equal size"):
        default_collate([(1, 2), (1,)])
    with pytest.raises(TypeError, match="collate_fn"):
        default_collate([object(), object()])
