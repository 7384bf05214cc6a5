"""The character language model: shapes, learning, generation, and `ember train char-lm` end to end
(training, perplexity, sampling, evaluation, bit-for-bit resume, one-line errors)."""

import json

import numpy as np
import pytest

import ember
from ember.cli import main
from ember.data import text as T
from ember.models import CharLM
from ember.train import Trainer, checkpoint

TEXT = "the quick brown fox jumps over the lazy dog. " * 40


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("embedding_dim", [None, 5])
def test_shapes_and_state(cell, embedding_dim):
    model = CharLM(11, hidden_size=6, num_layers=2, cell=cell, embedding_dim=embedding_dim)
    tokens = ember.tensor(np.arange(12).reshape(3, 4) % 11)
    logits, state = model(tokens)
    assert logits.shape == (3, 4, 11) and logits.dtype == ember.float32
    h = state[0] if cell == "lstm" else state
    assert h.shape == (2, 3, 6)
    loss = model.loss(logits, tokens)
    assert abs(loss.item() - np.log(11)) < 0.5  # an untrained model guesses near-uniformly
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())


def test_an_lstm_learns_a_sentence_and_generates_it():
    ember.manual_seed(0)
    vocab = T.Vocab(list(TEXT))
    loader = T.SeqDataLoader(T.encode(TEXT, vocab), 8, 20, generator=0)
    model = CharLM(len(vocab), hidden_size=48, cell="lstm")
    optimizer = ember.optim.Adam(model.parameters(), lr=0.01)
    trainer = Trainer(model, optimizer, clip_grad_norm=1.0, recurrent=True, progress=False)
    first = trainer.train_epoch(loader)["perplexity"]
    for _ in range(14):
        last = trainer.train_epoch(loader)["perplexity"]
    assert first > 8 and last < 1.5, (first, last)  # 28 characters; the sentence is fully predictable
    greedy = T.decode(model.generate(vocab[list("the quick ")], 30, temperature=0), vocab)
    assert greedy.startswith("the quick brown fox jumps over")


def test_generation_is_seeded_and_temperature_sharpens():
    model = CharLM(7, hidden_size=8)
    a = model.generate([1, 2], 20, temperature=1.0, generator=np.random.default_rng(3))
    b = model.generate([1, 2], 20, temperature=1.0, generator=np.random.default_rng(3))
    assert a == b and len(a) == 22 and a[:2] == [1, 2]
    greedy = model.generate([1, 2], 20, temperature=0)
    assert greedy == model.generate([1, 2], 20, temperature=0)
    with pytest.raises(ValueError, match="bidirectional"):
        CharLM(7, hidden_size=8, bidirectional=True).generate([1], 3)


def test_bidirectional_tagger_sees_both_sides():
    model = CharLM(5, hidden_size=4, bidirectional=True, cell="gru")
    x = ember.tensor([[1, 2, 3, 4]])
    changed = ember.tensor([[1, 2, 3, 0]])  # only the last token differs
    a, b = model(x)[0].detach().numpy(), model(changed)[0].detach().numpy()
    assert not np.allclose(a[0, 0], b[0, 0])  # the first position already depends on the last token


@pytest.fixture(scope="module")
def lm_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("lm")
    (root / "corpus.txt").write_text(TEXT * 3)
    out = root / "run"
    code = main(["train", "char-lm", "--text", str(root / "corpus.txt"), "--epochs", "3", "--hidden-size", "32",
                 "--batch-size", "8", "--seq-len", "16", "--lr", "0.01", "--out", str(out), "--no-progress",
                 "--sample-length", "20"])
    assert code == 0
    return root


def test_cli_trains_reports_perplexity_and_samples(lm_run, capsys):
    metrics = json.loads((lm_run / "run" / "metrics.json").read_text())
    history = metrics["history"]
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert history[-1]["perplexity"] < history[0]["perplexity"] and history[-1]["val_perplexity"] < 5
    assert all(h["sample"].startswith("def ") and len(h["sample"]) == 24 for h in history)
    assert metrics["config"]["vocab"]["idx_to_token"][0] == "<unk>"
    assert main(["sample", str(lm_run / "run" / "best.npz"), "--prompt", "the ", "--length", "15", "--seed", "0"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("the ") and len(out.rstrip("\n")) == 19
    assert main(["evaluate", str(lm_run / "run" / "best.npz")]) == 0
    best = min(h["val_perplexity"] for h in history)
    assert f"validation perplexity {best:.3f}" in capsys.readouterr().out


def test_cli_resume_is_bit_for_bit(lm_run, tmp_path):
    first = tmp_path / "one"
    args = ["train", "char-lm", "--text", str(lm_run / "corpus.txt"), "--hidden-size", "32", "--batch-size", "8",
            "--seq-len", "16", "--lr", "0.01", "--no-progress", "--sample-length", "20"]
    assert main(args + ["--epochs", "2", "--out", str(first)]) == 0
    assert main(args + ["--epochs", "3", "--out", str(tmp_path / "two"), "--resume", str(first / "last.npz")]) == 0
    straight, resumed = checkpoint.load(lm_run / "run" / "last.npz"), checkpoint.load(tmp_path / "two" / "last.npz")
    assert resumed["epoch"] == 3
    for name, weights in straight["model"].items():
        np.testing.assert_array_equal(resumed["model"][name], weights, err_msg=name)
    assert resumed["history"][-1]["sample"] == straight["history"][-1]["sample"]


@pytest.mark.parametrize("argv, message", [
    (["train", "char-lm", "--augment"], "--augment does not apply to char-lm"),
    (["train", "lenet5", "--cell", "gru"], "--cell does not apply to image models"),
    (["train", "char-lm", "--text", "no/such.txt"], "no/such.txt"),
    (["train", "char-lm", "--dataset", "mnist"], "--dataset does not apply to char-lm"),
    (["sample", "no/such.npz"], "no checkpoint at no/such.npz"),
])
def test_mistakes_get_one_line_errors(argv, message, capsys, tmp_path):
    assert main(argv + (["--out", str(tmp_path)] if argv[0] == "train" else [])) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_the_default_corpus_is_pythons_standard_library():
    text = T.python_stdlib_corpus(max_chars=50_000)
    assert len(text) == 50_000 and "def " in text and "import " in text
