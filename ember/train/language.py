"""What ``ember train char-lm`` does: train a character-level language model and report its perplexity.

The loop is d2l's ``train_ch8``: minibatches of (batch, steps) characters from a ``SeqDataLoader``; with
sequential sampling the recurrent state is carried from one minibatch to the next but *detached*
(truncated backpropagation through time: the gradient stops at the minibatch's first step), with random
sampling it starts from zeros each time; the gradient norm is clipped before every update, because
gradients through time can explode. After each epoch: training and validation perplexity
exp(mean cross-entropy per character), characters per second, and a sample continued from a prompt.

The text is a file (``--text``) or, with none, the source code of Python's own standard library (a fixed
list of modules, ``ember.data.text.python_stdlib_corpus``): real text every Python installation carries.
The last ``val_fraction`` of the text is held out for validation. Checkpoints keep the vocabulary in
their JSON, so ``ember sample`` and ``ember evaluate`` rebuild everything from the file.
"""

import json
import math
import os
import sys
import time

from .. import backend, models, optim
from ..autograd.grad_mode import no_grad
from ..backend import xp
from ..data import text as T
from ..nn.utils import clip_grad_norm_
from . import checkpoint
from .usage import UsageError, read_checkpoint
from ..app.resume import open_run_dir

try:
    from tqdm.auto import tqdm
except ImportError:  # the progress bar is optional
    tqdm = None

LM_DEFAULTS = dict(
    text=None, max_chars=1_000_000, min_freq=3, val_fraction=0.05, cell="lstm", hidden_size=256, num_layers=1,
    embedding_dim=0, dropout=0.0, epochs=10, batch_size=32, seq_len=35, sampling="sequential", optimizer="adam",
    lr=0.002, momentum=0.9, weight_decay=0.0, clip=1.0, prompt="def ", temperature=0.8, sample_length=200,
    seed=0, out=None, progress=True, resume=None,
)
OPTIMIZERS = {"sgd": optim.SGD, "adam": optim.Adam, "adamw": optim.AdamW, "rmsprop": optim.RMSprop,
              "adagrad": optim.Adagrad}


def corpus_text(config):
    """The training text named by a config: the user's file, else the standard-library corpus."""
    try:
        text = T.load_text(config["text"]) if config.get("text") else T.python_stdlib_corpus(config["max_chars"])
    except (OSError, RuntimeError) as error:
        raise UsageError(str(error)) from error
    return text[: config["max_chars"]] if config.get("max_chars") else text


def split_corpus(text, vocab, val_fraction):
    """(train, validation) token arrays: the validation text is the end of the file, never seen in training."""
    corpus = T.encode(text, vocab)
    cut = int(len(corpus) * (1 - val_fraction))
    return corpus[:cut], corpus[cut:]


def build_model(config, vocab_size):
    return models.CharLM(vocab_size, hidden_size=config["hidden_size"], num_layers=config["num_layers"],
                         cell=config["cell"], embedding_dim=config["embedding_dim"] or None, dropout=config["dropout"])


def _check(config):
    for key in ("epochs", "batch_size", "seq_len", "hidden_size", "num_layers", "sample_length"):
        if int(config[key]) < (0 if key == "sample_length" else 1):
            raise UsageError(f"--{key.replace('_', '-')} must be at least 1, got {config[key]}")
    if config["cell"] not in models.charlm.CELLS:
        raise UsageError(f"unknown cell '{config['cell']}'; choose one of: {', '.join(models.charlm.CELLS)}")
    if config["optimizer"] not in OPTIMIZERS:
        raise UsageError(f"unknown optimizer '{config['optimizer']}'; choose one of: {', '.join(OPTIMIZERS)}")
    if config["sampling"] not in ("sequential", "random"):
        raise UsageError(f"--sampling must be 'sequential' or 'random', got '{config['sampling']}'")
    if config["lr"] <= 0 or not 0 < config["val_fraction"] < 1:
        raise UsageError("--lr must be positive and the validation fraction between 0 and 1")


def train_char_lm(**options):
    """Train a CharLM (see the module docstring); returns the metrics dict written to metrics.json."""
    config = dict(LM_DEFAULTS)
    config.update({k: v for k, v in options.items() if v is not None})
    config["model"] = "char-lm"
    _check(config)
    log = lambda message: print(message, file=sys.stderr)  # noqa: E731
    out = open_run_dir(config["out"] or os.path.join("runs", f"char-lm-{config['cell']}"))
    backend.manual_seed(config["seed"])

    text = corpus_text(config)
    resumed = _load(config["resume"]) if config["resume"] else None
    if resumed is not None:
        vocab = T.Vocab.from_state_dict(resumed["config"]["vocab"])
    else:
        vocab = T.Vocab(list(text), min_freq=config["min_freq"])
    train_ids, val_ids = split_corpus(text, vocab, config["val_fraction"])
    bs, steps = int(config["batch_size"]), int(config["seq_len"])
    try:
        loader = T.SeqDataLoader(train_ids, bs, steps, random_iter=config["sampling"] == "random",
                                 generator=config["seed"])
        T.SeqDataLoader(val_ids, 1, steps)  # fails early, with the sizes, if the held-out text is too short
    except ValueError as error:
        raise UsageError(str(error)) from error
    model = build_model(config, len(vocab))
    cls = OPTIMIZERS[config["optimizer"]]
    extra = {"momentum": config["momentum"]} if config["optimizer"] in ("sgd", "rmsprop") else {}
    optimizer = cls(model.parameters(), lr=config["lr"], weight_decay=config["weight_decay"], **extra)
    saved = {k: v for k, v in config.items() if k not in ("out", "progress", "resume")}
    saved["vocab"] = vocab.state_dict()
    epoch, history, best = 0, [], math.inf
    sample_rng = xp.random.default_rng(config["seed"])  # the samples' own stream, saved with the run
    if resumed is not None:
        model.load_state_dict(resumed["model"])
        optimizer.load_state_dict(resumed["optimizer"])
        loader.load_state_dict(resumed["rng"]["loader"])
        backend.set_rng_state(resumed["rng"]["ember"])
        epoch, history = resumed["epoch"], list(resumed["history"])
        best = min((h["val_perplexity"] for h in history), default=math.inf)
        sample_rng.bit_generator.state = resumed["rng"]["sample"]
    log(f"char-lm: {len(text):,} characters ({'file ' + config['text'] if config['text'] else 'Python stdlib'}), "
        f"vocabulary {len(vocab)}, {len(train_ids):,} train / {len(val_ids):,} validation tokens, "
        f"{sum(p.array.size for p in model.parameters()):,} parameters")
    start_fit = time.perf_counter()
    while epoch < config["epochs"]:
        logs = {"epoch": epoch + 1}
        logs.update(train_epoch(model, loader, optimizer, config["clip"], config["progress"],
                                f"epoch {epoch + 1}/{config['epochs']}"))
        logs["val_perplexity"] = perplexity(model, val_ids, bs, steps)
        prompt = config["prompt"] or text[0]
        logs["sample"] = generate_text(model, vocab, prompt, config["sample_length"], config["temperature"],
                                       sample_rng)
        epoch += 1
        history.append(logs)
        log(f"epoch {epoch}: perplexity {logs['perplexity']:.2f}, val_perplexity {logs['val_perplexity']:.2f}, "
            f"{logs['seconds']:.1f} s, {logs['tokens_per_s']:,.0f} chars/s")
        log(f"  sample: {logs['sample']!r}")
        state = {"epoch": epoch, "history": history, "config": saved, "model": model.state_dict(),
                 "optimizer": optimizer.state_dict(),
                 "rng": {"ember": backend.get_rng_state(), "loader": loader.state_dict(),
                         "sample": sample_rng.bit_generator.state}}
        checkpoint.save(os.path.join(out, "last.npz"), state)
        if logs["val_perplexity"] < best:
            best = logs["val_perplexity"]
            checkpoint.save(os.path.join(out, "best.npz"), state)
    metrics = {"config": saved, "history": history, "fit_seconds": time.perf_counter() - start_fit}
    checkpoint.write_atomically(os.path.join(out, "metrics.json"),
                                lambda f: f.write(json.dumps(metrics, indent=2).encode()))
    log(f"wrote {out}/last.npz, best.npz, metrics.json")
    return metrics


def train_epoch(model, loader, optimizer, clip, progress=False, description="train"):
    """One pass with truncated BPTT; returns the training perplexity, seconds and characters/s."""
    model.train()
    params = [p for group in optimizer.param_groups for p in group["params"]]
    state, loss_sum, count = None, 0.0, 0
    bar = tqdm(loader, desc=description, leave=False, dynamic_ncols=True, file=sys.stderr) \
        if progress and tqdm is not None else loader
    start = time.perf_counter()
    for X, Y in bar:
        if loader.random_iter:
            state = None  # random minibatches do not continue each other: start from zeros
        elif state is not None:
            state = _detach(state)  # keep the values, cut the graph: truncated BPTT
        logits, state = model(X, state)
        loss = model.loss(logits, Y)
        optimizer.zero_grad()
        loss.backward()
        if clip:
            clip_grad_norm_(params, clip)
        optimizer.step()
        loss_sum += loss.item() * Y.array.size
        count += Y.array.size
        if bar is not loader:
            bar.set_postfix(ppl=f"{math.exp(loss_sum / count):.2f}", refresh=False)
    seconds = time.perf_counter() - start
    return {"perplexity": math.exp(loss_sum / count), "seconds": seconds, "tokens_per_s": count / seconds}


def perplexity(model, ids, batch_size, steps):
    """exp(mean cross-entropy per character) over ``ids`` read in order, the state carried throughout."""
    rows = max(1, min(batch_size, len(ids) // (steps + 1)))
    loader = T.SeqDataLoader(ids, rows, steps, generator=0)
    was_training = model.training
    model.eval()
    state, loss_sum, count = None, 0.0, 0
    with no_grad():
        for X, Y in loader:
            logits, state = model(X, state)
            loss_sum += model.loss(logits, Y).item() * Y.array.size
            count += Y.array.size
    model.train(was_training)
    return math.exp(loss_sum / count)


def generate_text(model, vocab, prompt, length, temperature=1.0, generator=None):
    """The prompt continued by ``length`` sampled characters."""
    return T.decode(model.generate(vocab[list(prompt)], length, temperature, generator), vocab)


def _detach(state):
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def _load(path):
    state = read_checkpoint(path)
    if state.get("config", {}).get("model") != "char-lm":
        raise UsageError(f"{path} is not a char-lm checkpoint")
    return state


def load_char_lm(path, state=None):
    """(model in eval mode, vocab, config) from a checkpoint written by ``train_char_lm`` (``state``: the
    checkpoint already read from ``path``)."""
    state = _load(path) if state is None else state
    config = state["config"]
    vocab = T.Vocab.from_state_dict(config["vocab"])
    model = build_model(config, len(vocab))
    model.load_state_dict(state["model"])
    model.eval()
    return model, vocab, config


def sample(path, prompt=None, length=200, temperature=0.8, seed=None):
    """Text generated by a checkpoint from ``prompt`` (the training prompt by default)."""
    model, vocab, config = load_char_lm(path)
    prompt = prompt if prompt else config.get("prompt") or vocab.idx_to_token[1]
    return generate_text(model, vocab, prompt, length, temperature, xp.random.default_rng(seed))


def evaluate_char_lm(path, state=None):
    """Validation perplexity of a checkpoint on the held-out end of its own text."""
    model, vocab, config = load_char_lm(path, state)
    _, val_ids = split_corpus(corpus_text(config), vocab, config["val_fraction"])
    return {"val_perplexity": perplexity(model, val_ids, config["batch_size"], config["seq_len"]),
            "tokens": int(len(val_ids))}

