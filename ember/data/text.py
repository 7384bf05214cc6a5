"""Text as data for language models (*Dive into Deep Learning*, chapter 8): tokens, a vocabulary, and
minibatches of token subsequences.

The pipeline, as d2l builds it::

    text = python_stdlib_corpus()             # raw text: one str
    lines = text.split("\\n")
    tokens = tokenize(lines, "char")          # [['i', 'm', 'p', ...], ...]: a list of tokens per line
    vocab = Vocab(tokens)                     # token <-> index; index 0 is '<unk>'
    corpus = encode(text, vocab)              # int64 array of the whole text's indices, shape (T,)
    for X, Y in SeqDataLoader(corpus, batch_size=32, num_steps=35, generator=0):
        ...                                   # X, Y: int64 (32, 35); Y is X shifted one token ahead

A language model reads tokens x_1..x_t and predicts x_{t+1}; so a minibatch is ``batch_size``
subsequences of ``num_steps`` tokens, and its labels are the same subsequences moved one token on.
d2l §8.3 samples them in two ways:

- *random sampling* (``seq_data_iter_random``): the text is cut into non-overlapping subsequences, which
  are dealt out in a random order; two consecutive minibatches are unrelated pieces of text, so a
  recurrent model must start every minibatch from a fresh hidden state.
- *sequential partitioning* (``seq_data_iter_sequential``): the text is cut into ``batch_size`` long
  streams laid side by side, and minibatch i+1 continues minibatch i row by row; a recurrent model may
  carry its hidden state from one minibatch to the next (detaching it: truncated backpropagation
  through time).

Both start each epoch at a random offset in [0, num_steps), so that over the epochs every split point is
seen. The offset and the order come from a ``numpy.random.Generator``, never from ember's global one
(see dataloader.py), and ``SeqDataLoader.state_dict()`` holds its state to resume a run exactly.
"""

import collections
import os
import sysconfig

from ..backend import xp
from ..tensor import Tensor
from .dataloader import as_generator, generator_state, loader_generator, restore_generator

# ---- tokens and the vocabulary --------------------------------------------------------------------------

_TOKEN_KINDS = ("char", "word")


def tokenize(lines, token="char"):
    """Split each line into tokens: characters (``token="char"``) or whitespace-separated words
    (``token="word"``, ``str.split()``). Returns one list of tokens per line."""
    if token == "char":
        return [list(line) for line in lines]
    if token == "word":
        return [line.split() for line in lines]
    raise ValueError(f"tokenize: token should be one of {_TOKEN_KINDS}, got {token!r}")


def count_corpus(tokens):
    """How often each token occurs, as a ``collections.Counter``; ``tokens`` is a flat list of tokens or
    a list of token lists (one per line)."""
    if len(tokens) > 0 and isinstance(tokens[0], (list, tuple)):
        return collections.Counter(token for line in tokens for token in line)
    return collections.Counter(tokens)


class Vocab:
    """A vocabulary: the map between tokens (strings) and the integer indices a model works with.

    Index 0 is the unknown token ``"<unk>"``, which every token outside the vocabulary maps to; the
    ``reserved_tokens`` follow (``"<pad>"``, ``"<bos>"``, ``"<eos>"``, ...); then every token of ``tokens``
    that occurs at least ``min_freq`` times, the most frequent first (frequent tokens get small indices),
    equally frequent ones in sorted order so that the same text always gives the same vocabulary.

    ``vocab[token]`` is an index, ``vocab[[t1, t2]]`` a list of them; ``vocab.to_tokens`` goes back.
    ``state_dict()`` is plain JSON-able data, for checkpoints.
    """

    def __init__(self, tokens=None, min_freq=0, reserved_tokens=None):
        counter = count_corpus(tokens if tokens is not None else [])
        # Sorted by count, then by token: Counter's order (first occurrence) would tie-break by accident.
        self.token_freqs = sorted(counter.items(), key=lambda item: (-item[1], item[0]))
        self.idx_to_token = ["<unk>"]
        self.token_to_idx = {"<unk>": 0}
        for token in list(reserved_tokens or []) + [t for t, freq in self.token_freqs if freq >= min_freq]:
            if token not in self.token_to_idx:
                self.token_to_idx[token] = len(self.idx_to_token)
                self.idx_to_token.append(token)

    @property
    def unk(self):
        """The index of the unknown token: 0."""
        return 0

    def __len__(self):
        return len(self.idx_to_token)

    def __contains__(self, token):
        return token in self.token_to_idx

    def __getitem__(self, tokens):
        if isinstance(tokens, (list, tuple)):
            return [self.token_to_idx.get(token, 0) for token in tokens]
        return self.token_to_idx.get(tokens, 0)

    def to_tokens(self, indices):
        """The token of an index, or the list of tokens of a list (or int array) of indices."""
        if isinstance(indices, Tensor):
            indices = indices.array
        if isinstance(indices, (xp.ndarray, xp.generic)):
            indices = indices.tolist()
        if isinstance(indices, (list, tuple)):
            return [self.idx_to_token[index] for index in indices]
        return self.idx_to_token[indices]

    def state_dict(self):
        """``{"idx_to_token": [...]}``: the whole map, as JSON-able data (the counts are not kept)."""
        return {"idx_to_token": list(self.idx_to_token)}

    @classmethod
    def from_state_dict(cls, state):
        """The vocabulary saved by ``state_dict()``: the same indices for the same tokens."""
        idx_to_token = list(state["idx_to_token"])
        if not idx_to_token or idx_to_token[0] != "<unk>":
            raise ValueError("Vocab.from_state_dict: idx_to_token should start with '<unk>' (index 0)")
        if len(set(idx_to_token)) != len(idx_to_token):
            raise ValueError("Vocab.from_state_dict: idx_to_token has repeated tokens; it is not a vocabulary")
        vocab = cls()
        vocab.idx_to_token = idx_to_token
        vocab.token_to_idx = {token: index for index, token in enumerate(idx_to_token)}
        return vocab

    def __repr__(self):
        head = ", ".join(repr(t) for t in self.idx_to_token[:8])
        return f"Vocab({len(self)} tokens: {head}{', ...' if len(self) > 8 else ''})"


def encode(text, vocab):
    """The indices of ``text`` as an int64 array of shape (T,). A str is read as characters (for a
    character vocabulary); a list or tuple as tokens (for a word vocabulary, ``text.split()``).
    Tokens outside the vocabulary become ``vocab.unk``."""
    if isinstance(text, str):
        # One dict lookup per *distinct* character, then a gather: a million characters in milliseconds.
        codes = xp.frombuffer(text.encode("utf-32-le"), dtype=xp.uint32)
        distinct, inverse = xp.unique(codes, return_inverse=True)
        table = xp.asarray([vocab[chr(c)] for c in distinct.tolist()], dtype=xp.int64)
        return table[inverse.reshape(-1)]
    return xp.asarray(vocab[list(text)], dtype=xp.int64).reshape(-1)


def decode(indices, vocab, sep=""):
    """The text of a sequence of indices (list, int array or Tensor): its tokens joined by ``sep``
    (``""`` for characters, ``" "`` for words)."""
    if isinstance(indices, Tensor):
        indices = indices.array
    return sep.join(vocab.to_tokens(xp.asarray(indices).reshape(-1).tolist()))


def load_corpus(text, token="char", min_freq=0, max_tokens=None):
    """d2l's ``load_corpus_time_machine`` for any text: ``(corpus, vocab)``, the int64 indices of the
    whole text's tokens (shape (T,), the first ``max_tokens`` of them when given) and the vocabulary
    built from them."""
    if token == "char":
        vocab = Vocab(list(text), min_freq=min_freq)
        corpus = encode(text, vocab)
    else:
        words = [word for line in tokenize(text.split("\n"), token) for word in line]
        vocab = Vocab(words, min_freq=min_freq)
        corpus = encode(words, vocab)
    if max_tokens is not None and max_tokens >= 0:
        corpus = corpus[:max_tokens]
    return corpus, vocab


# ---- minibatches of subsequences ------------------------------------------------------------------------


def _check_corpus(corpus, batch_size, num_steps, who):
    """The corpus as a 1-D int64 array and the number of minibatches an epoch yields, whatever the offset."""
    if isinstance(corpus, Tensor):
        corpus = corpus.array
    corpus = xp.asarray(corpus)
    if corpus.ndim != 1 or (corpus.size and corpus.dtype.kind not in "iu"):
        raise ValueError(f"{who}: corpus should be a 1-D array of token indices, got {corpus.dtype} of shape "
                         f"{corpus.shape}")
    for name, value in (("batch_size", batch_size), ("num_steps", num_steps)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{who}: {name} should be a positive integer, got {value!r}")
    # With the largest offset, num_steps - 1, both samplers have (T - num_steps) tokens left that have a
    # next token; an epoch always yields the batches that fit then, so its length does not depend on luck.
    num_batches = (len(corpus) - num_steps) // (batch_size * num_steps) if len(corpus) >= num_steps else 0
    if num_batches < 1:
        raise ValueError(
            f"{who}: a corpus of {len(corpus)} tokens is too short for one minibatch of batch_size={batch_size} "
            f"x num_steps={num_steps} (it needs at least (batch_size + 1) * num_steps = "
            f"{(batch_size + 1) * num_steps} tokens); use a longer text or a smaller batch_size or num_steps"
        )
    return corpus.astype(xp.int64, copy=False), num_batches


def seq_data_iter_random(corpus, batch_size, num_steps, generator=None):
    """Minibatches of randomly sampled subsequences (d2l §8.3.2.1), one epoch.

    Drop a random offset of [0, num_steps) tokens, cut the rest into non-overlapping subsequences of
    ``num_steps`` tokens, shuffle them and deal them out ``batch_size`` at a time: each subsequence is
    used at most once, and consecutive minibatches are not neighbours in the text.

    Returns an iterator of ``(X, Y)`` int64 arrays of shape (batch_size, num_steps), ``Y[:, t] = X[:, t]``'s
    next token. ``generator`` (int seed or ``numpy.random.Generator``; default: the pipeline generator,
    ``ember.data.rng()``) draws the offset and the order, both at this call.
    """
    corpus, num_batches = _check_corpus(corpus, batch_size, num_steps, "seq_data_iter_random")
    generator = as_generator(generator)
    offset = int(generator.integers(num_steps))
    num_subseqs = (len(corpus) - offset - 1) // num_steps  # the last token has no label: hence the - 1
    order = generator.permutation(num_subseqs)[: num_batches * batch_size]
    starts = (offset + order * num_steps).reshape(num_batches, batch_size)
    return _gather_batches(corpus, starts, num_steps)


def _gather_batches(corpus, starts, num_steps):
    steps = xp.arange(num_steps)
    for batch_starts in starts:
        positions = batch_starts[:, None] + steps  # (batch_size, num_steps): one gather per minibatch
        yield corpus[positions], corpus[positions + 1]


def seq_data_iter_sequential(corpus, batch_size, num_steps, generator=None):
    """Minibatches by sequential partitioning (d2l §8.3.2.2), one epoch.

    Drop a random offset of [0, num_steps) tokens and reshape the rest into ``batch_size`` streams of
    equal length, one per row; minibatch i is columns [i * num_steps, (i + 1) * num_steps) of the streams.
    So row r of minibatch i+1 starts exactly where row r of minibatch i ended, and a recurrent model can
    carry its hidden state across minibatches.

    Returns an iterator of ``(X, Y)`` int64 arrays of shape (batch_size, num_steps), ``Y`` being ``X``
    shifted one token ahead. ``generator`` as in ``seq_data_iter_random``; the offset is drawn at this call.
    """
    corpus, num_batches = _check_corpus(corpus, batch_size, num_steps, "seq_data_iter_sequential")
    generator = as_generator(generator)
    offset = int(generator.integers(num_steps))
    stream = (len(corpus) - offset - 1) // batch_size  # tokens per row that have a label
    Xs = corpus[offset : offset + batch_size * stream].reshape(batch_size, stream)
    Ys = corpus[offset + 1 : offset + 1 + batch_size * stream].reshape(batch_size, stream)
    return _slice_batches(Xs, Ys, num_batches, num_steps)


def _slice_batches(Xs, Ys, num_batches, num_steps):
    for i in range(0, num_batches * num_steps, num_steps):
        # Copies, not views: a caller editing a batch in place must not edit the corpus.
        yield Xs[:, i : i + num_steps].copy(), Ys[:, i : i + num_steps].copy()


class SeqDataLoader:
    """Iterate over a token corpus in minibatches ``(X, Y)`` of int64 Tensors of shape
    (batch_size, num_steps), one epoch per ``for`` loop (d2l's ``SeqDataLoader``).

    Args:
        corpus: a 1-D int array (or Tensor) of token indices, e.g. ``encode(text, vocab)``.
        batch_size: subsequences per minibatch.
        num_steps: tokens per subsequence (the length backpropagation through time unrolls).
        random_iter: random sampling (``seq_data_iter_random``) instead of sequential partitioning.
        generator: an int seed or a ``numpy.random.Generator``: each epoch draws a new offset (and order)
            from it. By default one seeded from the pipeline generator, which ``ember.manual_seed`` seeds.

    ``len(loader)`` is the number of minibatches of every epoch; ``state_dict()`` holds the generator's
    state, so a resumed run sees the same epochs.
    """

    def __init__(self, corpus, batch_size, num_steps, random_iter=False, generator=None):
        self.corpus, self._num_batches = _check_corpus(corpus, batch_size, num_steps, "SeqDataLoader")
        self.batch_size = batch_size
        self.num_steps = num_steps
        self.random_iter = bool(random_iter)
        self.generator = loader_generator(generator)  # as DataLoader's

    def __len__(self):
        return self._num_batches

    def __iter__(self):
        sampler = seq_data_iter_random if self.random_iter else seq_data_iter_sequential
        batches = sampler(self.corpus, self.batch_size, self.num_steps, self.generator)
        return ((Tensor(X), Tensor(Y)) for X, Y in batches)

    def state_dict(self):
        return generator_state(self.generator)

    def load_state_dict(self, state):
        self.generator = restore_generator(self.generator, state)

    def __repr__(self):
        kind = "random" if self.random_iter else "sequential"
        return (f"SeqDataLoader({len(self.corpus)} tokens, batch_size={self.batch_size}, "
                f"num_steps={self.num_steps}, {kind}, {len(self)} minibatches)")


# ---- text to train on -----------------------------------------------------------------------------------

# Well-known pure-Python modules of the standard library, in a fixed order. Files that a Python version
# lacks (pathlib and zipfile became packages in 3.13; re was a single file before 3.11) are skipped; the
# first ones exist in every version from 3.10 on, so the default corpus starts the same way everywhere.
STDLIB_FILES = (
    "textwrap.py", "string.py", "heapq.py", "bisect.py", "random.py", "fractions.py", "statistics.py",
    "shlex.py", "difflib.py", "argparse.py", "calendar.py", "csv.py", "dataclasses.py", "functools.py",
    "json/decoder.py", "json/encoder.py", "pprint.py", "queue.py", "sched.py", "selectors.py",
    "tempfile.py", "threading.py", "tokenize.py", "traceback.py", "uuid.py", "abc.py", "base64.py",
    "contextlib.py", "copy.py", "fnmatch.py", "glob.py", "gzip.py", "numbers.py", "operator.py",
    "timeit.py", "types.py", "weakref.py", "collections/__init__.py", "logging/__init__.py",
    "email/message.py", "http/client.py", "urllib/parse.py", "ast.py", "enum.py", "inspect.py",
    "typing.py", "datetime.py", "ipaddress.py", "shutil.py", "subprocess.py", "tarfile.py",
    "unittest/case.py", "pathlib.py", "zipfile.py", "re/__init__.py",
)

_MIN_STDLIB_CHARS = 10_000


def python_stdlib_corpus(max_chars=1_000_000):
    """A real text corpus that every Python installation carries offline: the source code of Python's own
    standard library, the files of ``STDLIB_FILES`` read from ``sysconfig.get_paths()["stdlib"]`` in that
    order, joined with a newline, cut to ``max_chars`` characters (``None``: all of them, about 2 million).

    The same Python gives the same text every time; another Python version gives a slightly different one.
    """
    root = sysconfig.get_paths()["stdlib"]
    parts, size = [], 0
    for name in STDLIB_FILES:
        path = os.path.join(root, *name.split("/"))
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8", errors="replace") as file:
            parts.append(file.read())
        size += len(parts[-1]) + 1
        if max_chars is not None and size >= max(max_chars, _MIN_STDLIB_CHARS):
            break  # enough text: do not read files that would be cut off anyway
    text = "\n".join(parts)
    if len(text) < _MIN_STDLIB_CHARS:
        raise RuntimeError(
            f"python_stdlib_corpus: found only {len(text)} characters of standard-library source under {root!r} "
            f"(this Python may ship compiled files only); read another text with load_text(path) instead"
        )
    return text if max_chars is None else text[:max_chars]


def load_text(path):
    """The contents of a text file as one str, read as UTF-8 (undecodable bytes become U+FFFD)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load_text: no text file at {os.path.abspath(path)!r}; check the path")
    with open(path, encoding="utf-8", errors="replace") as file:
        return file.read()
