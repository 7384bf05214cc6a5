"""Text data (d2l chapter 8): tokenize, Vocab (order, min_freq, unk, reserved tokens, JSON round trip),
encode/decode, both minibatch samplers (shapes, labels shifted by one, random sampling uses each
subsequence once, sequential batches continue row by row, seeded, too-short corpus), SeqDataLoader (len,
Tensors, state_dict resume), and the standard-library corpus."""

import itertools
import json
import os

import numpy as np
import pytest

from ember.data import (
    SeqDataLoader,
    Vocab,
    count_corpus,
    decode,
    encode,
    load_corpus,
    load_text,
    python_stdlib_corpus,
    seq_data_iter_random,
    seq_data_iter_sequential,
    tokenize,
)
from ember.tensor import Tensor

SAMPLERS = [seq_data_iter_random, seq_data_iter_sequential]


# ---- tokens and the vocabulary --------------------------------------------------------------------------


def test_tokenize_char_and_word():
    lines = ["the time machine", "", "by  h g wells"]
    assert tokenize(lines, "char") == [list("the time machine"), [], list("by  h g wells")]
    assert tokenize(lines) == tokenize(lines, "char")
    assert tokenize(lines, "word") == [["the", "time", "machine"], [], ["by", "h", "g", "wells"]]


def test_tokenize_bad_kind_names_the_allowed_values():
    with pytest.raises(ValueError, match="char.*word"):
        tokenize(["abc"], "byte")


def test_count_corpus_flat_and_nested():
    assert count_corpus(["a", "b", "a"]) == {"a": 2, "b": 1}
    assert count_corpus([["a", "b"], ["a"], []]) == {"a": 2, "b": 1}
    assert count_corpus([]) == {}


def test_vocab_order_by_frequency_then_token():
    tokens = [list("banana"), list("cab")]  # a: 4, b: 2, n: 2, c: 1
    vocab = Vocab(tokens)
    assert vocab.idx_to_token == ["<unk>", "a", "b", "n", "c"]
    assert vocab.token_to_idx == {"<unk>": 0, "a": 1, "b": 2, "n": 3, "c": 4}
    assert vocab.token_freqs == [("a", 4), ("b", 2), ("n", 2), ("c", 1)]
    assert len(vocab) == 5
    # the tie between b and n is broken by the token, not by which came first
    assert Vocab(list("nnbb")).idx_to_token == ["<unk>", "b", "n"]


def test_vocab_min_freq_unk_and_reserved_tokens():
    vocab = Vocab(list("aaabbc"), min_freq=2, reserved_tokens=["<pad>", "<bos>"])
    assert vocab.idx_to_token == ["<unk>", "<pad>", "<bos>", "a", "b"]
    assert vocab.unk == 0
    assert vocab["c"] == 0 and vocab["zzz"] == 0  # dropped by min_freq / never seen
    assert vocab["<pad>"] == 1 and vocab["a"] == 3
    assert "a" in vocab and "c" not in vocab
    assert vocab[["a", "b", "c"]] == [3, 4, 0]
    assert vocab[("b",)] == [4]
    assert Vocab().idx_to_token == ["<unk>"]


def test_vocab_to_tokens_round_trip():
    vocab = Vocab(tokenize(["the cat sat on the mat"], "word"))
    words = ["the", "mat", "sat", "cat", "on"]
    indices = vocab[words]
    assert vocab.to_tokens(indices) == words
    assert vocab.to_tokens(np.asarray(indices)) == words
    assert vocab.to_tokens(indices[0]) == "the"
    assert vocab.to_tokens(vocab["dog"]) == "<unk>"


def test_vocab_state_dict_json_round_trip():
    vocab = Vocab(list("hello world"), reserved_tokens=["<eos>"])
    state = json.loads(json.dumps(vocab.state_dict()))
    assert state == {"idx_to_token": vocab.idx_to_token}
    restored = Vocab.from_state_dict(state)
    assert restored.idx_to_token == vocab.idx_to_token
    assert restored.token_to_idx == vocab.token_to_idx
    assert restored[list("hello?")] == vocab[list("hello?")]
    with pytest.raises(ValueError, match="<unk>"):
        Vocab.from_state_dict({"idx_to_token": ["a", "b"]})
    with pytest.raises(ValueError, match="repeated"):
        Vocab.from_state_dict({"idx_to_token": ["<unk>", "a", "a"]})


def test_encode_decode_round_trip():
    text = "def f(x):\n    return x ** 2  # π ≈ 3.14\n"
    vocab = Vocab(list(text))
    corpus = encode(text, vocab)
    assert corpus.dtype == np.int64 and corpus.shape == (len(text),)
    np.testing.assert_array_equal(corpus, vocab[list(text)])
    assert decode(corpus, vocab) == text
    assert decode(Tensor(corpus), vocab) == text
    assert decode(corpus.tolist(), vocab) == text
    assert encode("x?", vocab).tolist() == [vocab["x"], vocab.unk]  # '?' is outside the vocabulary


def test_encode_decode_words():
    vocab = Vocab(["a", "b", "a"])
    indices = encode(["a", "b", "c"], vocab)
    assert indices.dtype == np.int64 and indices.tolist() == [1, 2, 0]
    assert decode(indices, vocab, sep=" ") == "a b <unk>"


def test_load_corpus_char_and_word():
    corpus, vocab = load_corpus("abca\nbca")
    assert decode(corpus, vocab) == "abca\nbca"
    corpus, vocab = load_corpus("abca\nbca", max_tokens=3)
    assert decode(corpus, vocab) == "abc"
    corpus, vocab = load_corpus("to be or\nnot to be", token="word")
    assert decode(corpus, vocab, sep=" ") == "to be or not to be"
    assert vocab.idx_to_token[:3] == ["<unk>", "be", "to"]


# ---- the samplers ---------------------------------------------------------------------------------------


def _positions(n=1000):
    """A corpus whose tokens are their own positions, so a batch shows where it was taken from."""
    return np.arange(n, dtype=np.int64)


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_sampler_shapes_and_labels_shifted_by_one(sampler):
    rng = np.random.default_rng(0)
    corpus = rng.integers(0, 50, size=997)
    batches = list(sampler(corpus, 4, 7, 0))
    assert len(batches) == (997 - 7) // (4 * 7)
    positions = list(sampler(_positions(997), 4, 7, 0))  # same seed: the same positions
    for (X, Y), (P, Q) in zip(batches, positions):
        assert X.shape == Y.shape == (4, 7) and X.dtype == Y.dtype == np.int64
        np.testing.assert_array_equal(Q, P + 1)  # labels are the next token
        np.testing.assert_array_equal(P[:, 1:], P[:, :-1] + 1)  # each row is a contiguous piece of text
        np.testing.assert_array_equal(X, corpus[P])
        np.testing.assert_array_equal(Y, corpus[Q])


def test_random_sampler_uses_each_subsequence_at_most_once():
    num_steps = 5
    for seed in range(10):
        starts = np.concatenate([X[:, 0] for X, _ in seq_data_iter_random(_positions(503), 3, num_steps, seed)])
        assert len(np.unique(starts)) == len(starts)
        assert len(np.unique(starts % num_steps)) == 1  # one offset, non-overlapping subsequences
        assert 0 <= starts.min() and starts.max() + num_steps < 503  # the last label exists
        assert len(starts) == ((503 - num_steps) // (3 * num_steps)) * 3


def test_random_sampler_shuffles_and_seeds_differ():
    def epoch(seed):
        return np.concatenate([X[:, 0] for X, _ in seq_data_iter_random(_positions(), 4, 5, seed)])

    first = epoch(0)
    assert np.any(np.diff(first) < 0)  # not in text order
    np.testing.assert_array_equal(first, epoch(0))
    assert not np.array_equal(first, epoch(1))


def test_sequential_sampler_continues_row_by_row():
    for seed in range(10):
        batches = list(seq_data_iter_sequential(_positions(), 4, 6, seed))
        assert len(batches) == (1000 - 6) // (4 * 6)
        assert 0 <= batches[0][0][0, 0] < 6  # the offset
        for (X, Y), (X_next, _) in itertools.pairwise(batches):
            np.testing.assert_array_equal(X_next[:, 0], X[:, -1] + 1)
            np.testing.assert_array_equal(X_next[:, 0], Y[:, -1])
        # the rows are disjoint streams, in order
        assert np.all(batches[-1][1][:-1, -1] < batches[0][0][1:, 0])


def test_sequential_batches_are_copies():
    corpus = _positions()
    X, _ = next(seq_data_iter_sequential(corpus, 2, 3, 0))
    X[...] = -1
    assert corpus.min() == 0


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_sampler_seeded_reproducible(sampler):
    a = list(sampler(_positions(), 3, 4, 42))
    b = list(sampler(_positions(), 3, 4, np.random.default_rng(42)))
    assert len(a) == len(b)
    for (X, Y), (X2, Y2) in zip(a, b):
        np.testing.assert_array_equal(X, X2)
        np.testing.assert_array_equal(Y, Y2)


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_sampler_too_short_corpus(sampler):
    # (batch_size + 1) * num_steps tokens is the least that always fits a minibatch
    assert len(list(sampler(_positions(3 * 5), 2, 5, 0))) == 1
    with pytest.raises(ValueError, match=r"14 tokens.*batch_size=2.*num_steps=5.*15"):
        sampler(_positions(14), 2, 5, 0)
    with pytest.raises(ValueError, match="num_steps"):
        sampler(_positions(), 2, 0, 0)
    with pytest.raises(ValueError, match="1-D"):
        sampler(np.zeros((10, 10), dtype=np.int64), 2, 2, 0)


# ---- SeqDataLoader --------------------------------------------------------------------------------------


@pytest.mark.parametrize("random_iter", [False, True])
def test_seq_data_loader_len_and_tensors(random_iter):
    loader = SeqDataLoader(_positions(777), 5, 8, random_iter=random_iter, generator=3)
    assert len(loader) == (777 - 8) // (5 * 8)
    for _ in range(6):  # every epoch has len(loader) minibatches, whatever its offset
        batches = list(loader)
        assert len(batches) == len(loader)
    X, Y = batches[0]
    assert isinstance(X, Tensor) and isinstance(Y, Tensor)
    assert X.shape == Y.shape == (5, 8) and X.array.dtype == np.int64
    np.testing.assert_array_equal(Y.array, X.array + 1)


def test_seq_data_loader_new_offset_each_epoch():
    loader = SeqDataLoader(_positions(), 2, 10, generator=0)
    offsets = {int(next(iter(loader))[0].array[0, 0]) for _ in range(20)}
    assert len(offsets) > 1 and all(0 <= o < 10 for o in offsets)


@pytest.mark.parametrize("random_iter", [False, True])
def test_seq_data_loader_state_dict_resumes(random_iter):
    corpus = np.random.default_rng(0).integers(0, 30, size=600)
    loader = SeqDataLoader(corpus, 3, 7, random_iter=random_iter, generator=123)
    list(loader)  # one epoch
    state = json.loads(json.dumps(loader.state_dict()))
    expected = [(X.array, Y.array) for X, Y in loader]

    fresh = SeqDataLoader(corpus, 3, 7, random_iter=random_iter, generator=999)
    fresh.load_state_dict(state)
    resumed = [(X.array, Y.array) for X, Y in fresh]
    assert len(resumed) == len(expected)
    for (X, Y), (X2, Y2) in zip(expected, resumed):
        np.testing.assert_array_equal(X, X2)
        np.testing.assert_array_equal(Y, Y2)


def test_seq_data_loader_too_short():
    with pytest.raises(ValueError, match="SeqDataLoader.*too short"):
        SeqDataLoader(_positions(20), 4, 5)


# ---- corpora --------------------------------------------------------------------------------------------


def test_python_stdlib_corpus_default_deterministic():
    text = python_stdlib_corpus()
    assert isinstance(text, str)
    assert 100_000 <= len(text) <= 1_000_000
    assert "def " in text and "import " in text
    assert python_stdlib_corpus() == text


def test_python_stdlib_corpus_max_chars():
    small = python_stdlib_corpus(max_chars=5_000)
    assert len(small) == 5_000
    assert python_stdlib_corpus().startswith(small)
    assert len(python_stdlib_corpus(max_chars=None)) > 1_000_000


def test_load_text(tmp_path):
    path = tmp_path / "poem.txt"
    path.write_bytes("héllo\nworld\n".encode() + b"\xff")
    assert load_text(path) == "héllo\nworld\n\ufffd"
    assert load_text(os.fspath(path)).startswith("héllo")
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        load_text(tmp_path / "missing.txt")
