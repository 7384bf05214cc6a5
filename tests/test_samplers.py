"""Samplers against torch.utils.data's: the same indices and lengths where the order is deterministic
(Sequential, Batch, Distributed without shuffle), torch's errors, and for the random samplers the
properties torch promises (a permutation per epoch, reproducible per generator, weights respected).
Also the one adapter that reads every ``generator=`` argument."""

import collections

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import ember
from ember.utils.data import (
    BatchSampler,
    DistributedSampler,
    RandomSampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from ember.utils.data._utils.random import numpy_generator


def _error(fn):
    try:
        fn()
    except Exception as error:  # noqa: BLE001 -- the test compares the exception itself
        return type(error), str(error)
    return None


@pytest.mark.parametrize("n", [0, 1, 7])
def test_sequential_sampler_as_torch(n):
    assert list(SequentialSampler(range(n))) == list(tud.SequentialSampler(range(n)))
    assert len(SequentialSampler(range(n))) == n


@pytest.mark.parametrize("n,batch_size,drop_last", [(10, 3, False), (10, 3, True), (9, 3, False), (9, 3, True),
                                                    (2, 5, False), (2, 5, True), (0, 2, False), (7, 1, True)])
def test_batch_sampler_as_torch(n, batch_size, drop_last):
    ours = BatchSampler(SequentialSampler(range(n)), batch_size, drop_last)
    theirs = tud.BatchSampler(tud.SequentialSampler(range(n)), batch_size, drop_last)
    assert list(ours) == list(theirs)
    assert len(ours) == len(theirs)
    assert list(BatchSampler(range(n), batch_size, drop_last)) == list(theirs)  # any iterable of indices


@pytest.mark.parametrize("batch_size,drop_last", [(0, False), (-1, False), (True, False), (2.0, False), (2, 1), (2, None)])
def test_batch_sampler_errors_as_torch(batch_size, drop_last):
    ours = _error(lambda: BatchSampler(range(4), batch_size, drop_last))
    assert ours is not None and ours == _error(lambda: tud.BatchSampler(range(4), batch_size, drop_last))


def test_random_sampler_is_a_new_permutation_every_epoch():
    sampler = RandomSampler(range(50), generator=np.random.default_rng(0))
    first, second = list(sampler), list(sampler)
    assert sorted(first) == sorted(second) == list(range(50)) and first != second
    assert len(sampler) == 50
    again = RandomSampler(range(50), generator=np.random.default_rng(0))
    assert list(again) == first and list(again) == second  # reproducible from the same generator


def test_random_sampler_without_generator_draws_from_the_global_one():
    ember.manual_seed(4)
    a = list(RandomSampler(range(30)))
    state = ember.get_rng_state()
    ember.manual_seed(4)
    assert list(RandomSampler(range(30))) == a
    assert ember.get_rng_state() == state  # one seed drawn per epoch, as torch does
    ember.manual_seed(5)
    assert list(RandomSampler(range(30))) != a


def test_random_sampler_num_samples_and_replacement():
    # Without replacement and num_samples > n: whole permutations, then part of one (torch's rule).
    drawn = list(RandomSampler(range(4), num_samples=10, generator=np.random.default_rng(1)))
    assert len(drawn) == 10 and sorted(drawn[:4]) == sorted(drawn[4:8]) == [0, 1, 2, 3] and len(set(drawn[8:])) == 2
    assert len(list(tud.RandomSampler(range(4), num_samples=10))) == 10
    drawn = list(RandomSampler(range(3), replacement=True, num_samples=200, generator=np.random.default_rng(2)))
    assert len(drawn) == 200 and set(drawn) == {0, 1, 2}


@pytest.mark.parametrize("kwargs", [dict(replacement=1), dict(num_samples=0), dict(num_samples=-3), dict(num_samples=2.5)])
def test_random_sampler_errors_as_torch(kwargs):
    ours = _error(lambda: RandomSampler(range(5), **kwargs))
    assert ours is not None and ours == _error(lambda: tud.RandomSampler(range(5), **kwargs))


def test_subset_random_sampler():
    indices = [10, 3, 7, 42, 5]
    sampler = SubsetRandomSampler(indices, generator=np.random.default_rng(3))
    first, second = list(sampler), list(sampler)
    assert sorted(first) == sorted(indices) == sorted(second) and first != second and len(sampler) == 5
    ember.manual_seed(0)
    a = list(SubsetRandomSampler(range(100, 120)))
    ember.manual_seed(0)
    assert list(SubsetRandomSampler(range(100, 120))) == a and sorted(a) == list(range(100, 120))
    assert len(SubsetRandomSampler(range(100, 120))) == len(tud.SubsetRandomSampler(range(100, 120)))


def test_weighted_random_sampler_follows_the_weights():
    weights = [0.0, 1.0, 3.0, 0.0, 4.0]
    drawn = list(WeightedRandomSampler(weights, 8000, generator=np.random.default_rng(4)))
    counts = collections.Counter(drawn)
    assert len(drawn) == 8000 and counts[0] == counts[3] == 0
    np.testing.assert_allclose([counts[1] / 8000, counts[2] / 8000, counts[4] / 8000], [0.125, 0.375, 0.5], atol=0.03)
    unique = list(WeightedRandomSampler(ember.tensor([1.0, 2.0, 3.0, 4.0]), 4, replacement=False,
                                        generator=np.random.default_rng(5)))
    assert sorted(unique) == [0, 1, 2, 3]
    assert len(WeightedRandomSampler(weights, 3)) == len(tud.WeightedRandomSampler(weights, 3)) == 3


@pytest.mark.parametrize("args", [([1.0, 2.0], 0), ([1.0, 2.0], 2, 1), ([[1.0, 2.0]], 2), ([1.0, 2.0], True)])
def test_weighted_random_sampler_errors_as_torch(args):
    ours = _error(lambda: WeightedRandomSampler(*args))
    assert ours is not None and ours == _error(lambda: tud.WeightedRandomSampler(*args))


def test_weighted_random_sampler_edge_cases_as_torch():
    # Without replacement, zero weights come only after the positive ones run out (torch.multinomial on CPU).
    for seed in range(5):
        drawn = list(WeightedRandomSampler([1.0, 0.0, 2.0], 3, replacement=False, generator=np.random.default_rng(seed)))
        assert sorted(drawn[:2]) == [0, 2] and drawn[2] == 1
    for weights, n, replacement in [([1.0, 0.0, 2.0], 4, False), ([0.0, 0.0], 1, True), ([1.0, -1.0], 1, True)]:
        ours = _error(lambda: list(WeightedRandomSampler(weights, n, replacement)))
        theirs = _error(lambda: list(tud.WeightedRandomSampler(weights, n, replacement)))
        assert ours is not None and ours[0] is theirs[0] is RuntimeError
        if weights != [1.0, -1.0]:  # torch's text for a negative weight differs in wording only
            assert ours == theirs


@pytest.mark.parametrize("n,replicas,drop_last", [(10, 3, False), (10, 3, True), (9, 3, False), (2, 4, False), (11, 2, True)])
def test_distributed_sampler_unshuffled_as_torch(n, replicas, drop_last):
    for rank in range(replicas):
        ours = DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = tud.DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_distributed_sampler_shuffled_partitions_and_set_epoch():
    shards = [DistributedSampler(range(12), 3, r, seed=7) for r in range(3)]
    parts = [list(s) for s in shards]
    assert sorted(sum(parts, [])) == list(range(12))  # disjoint and complete
    assert [list(s) for s in shards] == parts  # the same order until set_epoch
    for s in shards:
        s.set_epoch(1)
    assert [list(s) for s in shards] != parts
    with pytest.raises(ValueError, match="Invalid rank 3"):
        DistributedSampler(range(12), 3, 3)


def test_generator_arguments_are_read_in_one_place():
    class EmberLikeGenerator:  # what ember.Generator looks like: a NumPy generator inside
        def __init__(self, seed):
            self.numpy_generator = np.random.default_rng(seed)

    g = np.random.default_rng(0)
    assert numpy_generator(g) is g and numpy_generator(None) is None
    wrapped = EmberLikeGenerator(3)
    assert numpy_generator(wrapped) is wrapped.numpy_generator
    assert list(RandomSampler(range(20), generator=EmberLikeGenerator(3))) == list(
        RandomSampler(range(20), generator=np.random.default_rng(3)))
    seeded, same = RandomSampler(range(20), generator=9), RandomSampler(range(20), generator=np.random.default_rng(9))
    assert list(seeded) == list(same) and list(seeded) == list(same)  # an int seed's stream goes on each epoch
    with pytest.raises(TypeError, match="generator must be"):
        list(RandomSampler(range(3), generator=torch.Generator()))
