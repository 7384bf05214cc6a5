"""One training loop: the char-LM trains through Trainer (recurrent mode: the state carried and detached
between sequential minibatches, zeros for random ones), with the same optimizer and scheduler table as
every model; the command-line application lives in ember/app, above train and tools."""

import ast
import importlib.util
import json
import math
import pathlib

import numpy as np
import pytest

import ember
from ember import optim
from ember.app.optimizers import OPTIMIZERS, SCHEDULERS, make_optimizer, make_scheduler
from ember.cli import main
from ember.data import text as T
from ember.models import CharLM
from ember.nn.utils import clip_grad_norm_
from ember.train import RecurrentState, Trainer, checkpoint, detach_state

TEXT = "the quick brown fox jumps over the lazy dog. " * 30
EMBER = pathlib.Path(ember.__file__).parent


def reference_epoch(model, loader, optimizer, clip):
    """d2l's train_ch8 epoch, written out: what the Trainer's recurrent mode must do, number for number."""
    params = [p for g in optimizer.param_groups for p in g["params"]]
    state, losses = None, []
    for X, Y in loader:
        if loader.random_iter:
            state = None
        elif state is not None:
            state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
        logits, state = model(X, state)
        loss = model.loss(logits, Y)
        optimizer.zero_grad()
        loss.backward()
        clip_grad_norm_(params, clip)
        optimizer.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("random_iter", [False, True])
def test_the_trainer_is_truncated_bptt_number_for_number(cell, random_iter):
    vocab = T.Vocab(list(TEXT))
    corpus = T.encode(TEXT, vocab)
    runs = []
    for use_trainer in (False, True):
        ember.manual_seed(0)
        model = CharLM(len(vocab), hidden_size=12, cell=cell)
        opt = optim.Adam(model.parameters(), lr=0.01)
        loader = T.SeqDataLoader(corpus, 4, 10, random_iter=random_iter, generator=0)
        if use_trainer:
            trainer = Trainer(model, opt, clip_grad_norm=0.5, recurrent=True, progress=False, log=lambda m: None)
            result = [trainer.train_epoch(loader)["loss"] for _ in range(2)]
        else:
            losses = [reference_epoch(model, loader, opt, 0.5) for _ in range(2)]
            result = [float(np.mean(epoch)) for epoch in losses]
        runs.append((result, [p.array.copy() for p in model.parameters()]))
    (ref_loss, ref_params), (loss, params) = runs
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-12)  # the epoch mean: summed in another order
    for a, b in zip(ref_params, params):
        np.testing.assert_array_equal(a, b)


class Spy(ember.nn.Module):
    """A 'recurrent model' that records the state it is given and returns a new one that needs grad."""

    def __init__(self):
        super().__init__()
        self.w = ember.nn.Parameter(ember.ones(1))
        self.seen = []

    def forward(self, x, state=None):
        self.seen.append(state)
        h = x.float().mean() * self.w
        return (x.float().unsqueeze(-1) * self.w).repeat(1, 1, 3), h.reshape(1)


@pytest.mark.parametrize("random_iter", [False, True])
def test_the_state_is_carried_detached_or_reset(random_iter):
    loader = T.SeqDataLoader(np.arange(200) % 3, 2, 5, random_iter=random_iter, generator=0)
    model = Spy()
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.0), recurrent=True, progress=False,
                      log=lambda m: None)
    trainer.fit(loader, 2)
    per_epoch = len(loader)
    assert len(model.seen) == 2 * per_epoch
    assert model.seen[0] is None and model.seen[per_epoch] is None  # every epoch starts from zeros
    carried = [s for i, s in enumerate(model.seen) if i % per_epoch]
    if random_iter:
        assert all(s is None for s in carried)
    else:
        assert all(s is not None and not s.requires_grad and s.grad_fn is None for s in carried)
    model.seen.clear()
    trainer.evaluate(loader)
    assert model.seen[0] is None


def test_detach_state_keeps_values_and_tuples():
    h = ember.ones(2, requires_grad=True) * 3
    c = ember.ones(2, requires_grad=True) * 4
    out = detach_state((h, c))
    assert isinstance(out, tuple) and not out[0].requires_grad and out[1].tolist() == [4.0, 4.0]
    assert detach_state(None) is None
    assert RecurrentState(object()).carry  # a loader that does not say is sequential, as SeqDataLoader's default


def test_recurrent_metrics_are_per_token_with_perplexity():
    vocab = T.Vocab(list(TEXT))
    loader = T.SeqDataLoader(T.encode(TEXT, vocab), 4, 10, generator=0)
    ember.manual_seed(0)
    model = CharLM(len(vocab), hidden_size=8)
    trainer = Trainer(model, optim.Adam(model.parameters(), lr=0.01), recurrent=True, progress=False,
                      log=lambda m: None)
    train = trainer.train_epoch(loader)
    assert train["perplexity"] == math.exp(train["loss"]) and train["tokens_per_s"] > 0
    assert "images_per_s" not in train and 0 <= train["accuracy"] <= 1
    held = Trainer(model, recurrent=True, progress=False).evaluate(loader, prefix="val_")
    assert held["val_perplexity"] == math.exp(held["val_loss"])


# ---- one optimizer and scheduler table --------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("text") / "corpus.txt"
    path.write_text(TEXT * 2)
    return path


def lm_args(corpus, out, *extra):
    return ["train", "char-lm", "--text", str(corpus), "--hidden-size", "8", "--batch-size", "4", "--seq-len", "10",
            "--sample-length", "5", "--no-progress", "--out", str(out), *extra]


@pytest.fixture(scope="module")
def adabound_run(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("adabound")
    assert main(lm_args(corpus, out, "--optimizer", "adabound", "--scheduler", "onecycle", "--epochs", "2",
                        "--lr", "0.01")) == 0
    return out


def test_char_lm_trains_with_adabound_through_the_trainer(adabound_run):
    metrics = json.loads((adabound_run / "metrics.json").read_text())
    assert metrics["config"]["optimizer"] == "adabound" and metrics["config"]["scheduler"] == "onecycle"
    history = metrics["history"]
    assert [h["epoch"] for h in history] == [1, 2]
    for h in history:
        assert {"perplexity", "val_perplexity", "tokens_per_s", "sample", "lr"} <= set(h)
        assert h["sample"].startswith("def ") and len(h["sample"]) == 9
    state = checkpoint.load(adabound_run / "last.npz")
    assert state["scheduler"]["total_steps"] == state["step"]  # OneCycle planned for the two epochs taken
    assert state["step"] == len((adabound_run / "steps.jsonl").read_text().splitlines())
    assert any("exp_avg" in s for s in state["optimizer"]["state"].values())  # AdaBound's moments
    assert (adabound_run / "curves.png").exists()


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_optimizer_trains_the_char_lm(name, corpus, tmp_path):
    assert main(lm_args(corpus, tmp_path, "--optimizer", name, "--epochs", "1", "--lr", "0.01")) == 0
    assert checkpoint.load(tmp_path / "last.npz")["config"]["optimizer"] == name


@pytest.mark.parametrize("name", ["plateau", "cosine", "step"])
def test_epoch_schedulers_apply_to_the_char_lm(name, corpus, tmp_path):
    assert main(lm_args(corpus, tmp_path, "--scheduler", name, "--epochs", "2")) == 0
    history = json.loads((tmp_path / "metrics.json").read_text())["history"]
    assert len(history) == 2


def test_the_table_builds_every_entry():
    params = list(ember.nn.Linear(2, 2).parameters())
    for name in OPTIMIZERS:
        opt = make_optimizer(name, params, 0.1, 0.9, 0.0)
        for schedule in SCHEDULERS:
            make_scheduler(schedule, opt, 0.1, 3, 4)


def test_evaluate_builds_no_optimizer(adabound_run, monkeypatch, capsys):
    def refuse(*args, **kwargs):
        raise AssertionError("evaluate must not build an optimizer")

    for name in ("SGD", "Adam", "AdaBound"):
        monkeypatch.setattr(getattr(optim, name), "__init__", refuse)
    assert main(["evaluate", str(adabound_run / "best.npz")]) == 0
    best = min(h["val_perplexity"] for h in json.loads((adabound_run / "metrics.json").read_text())["history"])
    assert f"validation perplexity {best:.3f}" in capsys.readouterr().out


def test_a_short_text_fails_early_with_the_sizes(tmp_path, capsys):
    (tmp_path / "short.txt").write_text("abc def " * 30)  # 240 characters: 12 held out
    assert main(lm_args(tmp_path / "short.txt", tmp_path / "run", "--epochs", "1")) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "held-out text" in err and "--seq-len 10" in err


def test_a_4kb_text_trains_past_the_first_epoch(tmp_path):
    (tmp_path / "small.txt").write_text(("def f(x):\n    return x + 1\n" * 200)[:4096])
    argv = ["train", "char-lm", "--text", str(tmp_path / "small.txt"), "--hidden-size", "8", "--epochs", "2",
            "--sample-length", "5", "--no-progress", "--out", str(tmp_path / "run")]  # default batch 32, seq-len 35
    assert main(argv) == 0


# ---- the application above train and tools --------------------------------------------------------------------


def _imports(folder):
    """(file, module) for every relative import in ember/<folder>/*.py, at any depth in the file."""
    for path in sorted((EMBER / folder).glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                yield path.name, "." * node.level + (node.module or "")


@pytest.mark.parametrize("folder, forbidden", [("train", ("..app", "..tools")), ("tools", ("..app", "..train"))])
def test_imports_point_one_way(folder, forbidden):
    bad = [(f, m) for f, m in _imports(folder) if any(m == x or m.startswith(x + ".") for x in forbidden)]
    assert bad == []


def test_the_application_moved_to_ember_app():
    for name in ("recipes", "usage", "language"):
        assert importlib.util.find_spec(f"ember.train.{name}") is None
        assert importlib.util.find_spec(f"ember.app.{name}") is not None


@pytest.mark.parametrize("flags, message", [
    (["--clip", "-1"], "--clip must be a number >= 0 (the gradient-norm limit; 0 turns clipping off), got -1"),
    (["--clip", "nan"], "--clip must be finite and a number >= 0"),
    (["--lr", "nan"], "--lr must be finite and a positive number"),
])
def test_char_lm_refuses_bad_numbers_in_one_line(flags, message, corpus, tmp_path, capsys):
    assert main(lm_args(corpus, tmp_path, "--epochs", "1", *flags)) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err
