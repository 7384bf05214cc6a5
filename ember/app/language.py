"""What ``ember train char-lm`` does: train a character-level language model and report its perplexity.

The model trains through the one ``Trainer`` (``recurrent=True``): minibatches of (batch, steps) characters
from a ``SeqDataLoader``; with sequential sampling the recurrent state is carried from one minibatch to the
next but *detached* (truncated backpropagation through time), with random sampling it starts from zeros
each time; the gradient norm is clipped before every update (``--clip``), because gradients through time
can explode. Every ``--optimizer`` and ``--scheduler`` of the image models applies. After each epoch:
training and validation perplexity exp(mean cross-entropy per character), characters per second, and a
sample continued from a prompt (``SampleText``).

The text is a file (``--text``) or, with none, the source code of Python's own standard library (a fixed
list of modules, ``ember.data.text.python_stdlib_corpus``): real text every Python installation carries.
The last ``val_fraction`` of the text is held out for validation. Checkpoints keep the vocabulary in
their JSON, so ``ember sample`` and ``ember evaluate`` rebuild everything from the file.
"""

import os

from .. import backend, models
from ..backend import xp
from ..data import text as T
from ..train import Callback, ModelCheckpoint, Trainer
from .flags import check_options
from .optimizers import OPTIMIZERS, SCHEDULERS, make_optimizer, make_scheduler
from .rundir import RunDirectory
from .usage import UsageError, read_checkpoint

LM_DEFAULTS = dict(
    text=None, max_chars=1_000_000, min_freq=3, val_fraction=0.05, cell="lstm", hidden_size=256, num_layers=1,
    embedding_dim=0, dropout=0.0, epochs=10, batch_size=32, seq_len=35, sampling="sequential", optimizer="adam",
    lr=0.002, momentum=0.9, weight_decay=0.0, scheduler="none", clip=1.0, prompt="def ", temperature=0.8,
    sample_length=200, seed=0, out=None, progress=True, resume=None, tensorboard=False,
)


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
    check_options(config)  # every number, by the flags' own rules
    if config["cell"] not in models.charlm.CELLS:
        raise UsageError(f"unknown cell '{config['cell']}'; choose one of: {', '.join(models.charlm.CELLS)}")
    if config["optimizer"] not in OPTIMIZERS:
        raise UsageError(f"unknown optimizer '{config['optimizer']}'; choose one of: {', '.join(OPTIMIZERS)}")
    if config["scheduler"] not in SCHEDULERS:
        raise UsageError(f"unknown scheduler '{config['scheduler']}'; choose one of: {', '.join(SCHEDULERS)}")
    if config["sampling"] not in ("sequential", "random"):
        raise UsageError(f"--sampling must be 'sequential' or 'random', got '{config['sampling']}'")
    if not 0 < config["val_fraction"] < 1:
        raise UsageError(f"the validation fraction must be between 0 and 1, got {config['val_fraction']}")


def train_char_lm(**options):
    """Train a CharLM (see the module docstring); returns the metrics dict written to metrics.json."""
    config = dict(LM_DEFAULTS)
    config.update({k: v for k, v in options.items() if v is not None})
    config["model"] = "char-lm"
    _check(config)
    run = RunDirectory(config["out"] or os.path.join("runs", f"char-lm-{config['cell']}"))
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
    except ValueError as error:
        raise UsageError(f"the training text: {error}") from error
    held_out = HeldOut(val_ids, bs, steps)
    model = build_model(config, len(vocab))
    optimizer = make_optimizer(config["optimizer"], model.parameters(), config["lr"], config["momentum"],
                               config["weight_decay"])
    scheduler = make_scheduler(config["scheduler"], optimizer, config["lr"], config["epochs"], len(loader))
    saved = {k: v for k, v in config.items() if k not in ("out", "progress", "resume", "tensorboard")}
    saved["vocab"] = vocab.state_dict()
    callbacks = [SampleText(vocab, config["prompt"] or text[0], config["sample_length"], config["temperature"],
                            config["seed"]),
                 ModelCheckpoint(run.path, monitor="val_perplexity", mode="min"),
                 *run.loggers(config["tensorboard"])]
    trainer = Trainer(model, optimizer, scheduler=scheduler, callbacks=callbacks, clip_grad_norm=config["clip"] or None,
                      progress=config["progress"], config=saved, recurrent=True)
    if resumed is not None:
        trainer.load_state_dict(resumed)
    source = "file " + config["text"] if config["text"] else "Python stdlib"
    trainer.log(f"char-lm: {len(text):,} characters ({source}), "
                f"vocabulary {len(vocab)}, {len(train_ids):,} train / {len(val_ids):,} validation tokens, "
                f"{sum(p.array.size for p in model.parameters()):,} parameters")
    title = f"char-lm ({config['cell']})"
    fit_seconds = run.fit(trainer, loader, config["epochs"], held_out, {"config": saved}, title)
    metrics = {"config": saved, "history": trainer.history, "fit_seconds": fit_seconds}
    run.write(metrics, title, trainer.log)
    trainer.log(f"wrote {run.path}/last.npz, best.npz, metrics.json, steps.jsonl, curves.png")
    return metrics


class HeldOut:
    """The held-out text read in order, from the same offset at every pass, so that epochs (and ``ember
    evaluate`` later) measure the same characters; as many rows as fit, up to ``batch_size``."""

    def __init__(self, ids, batch_size, steps):
        # SeqDataLoader needs (rows + 1) * steps tokens for one minibatch of rows x steps.
        rows = min(batch_size, (len(ids) - steps) // steps)
        if rows < 1:
            raise UsageError(f"the held-out text (the last part of the text, {len(ids)} characters) is too short "
                             f"for --seq-len {steps}: it needs at least {2 * steps} characters; use a longer "
                             f"--text or a smaller --seq-len")
        self.ids, self.rows, self.steps = ids, rows, steps
        self.random_iter = False  # the state is carried through it, as in training

    def __len__(self):
        return len(T.SeqDataLoader(self.ids, self.rows, self.steps, generator=0))

    def __iter__(self):
        return iter(T.SeqDataLoader(self.ids, self.rows, self.steps, generator=0))


class SampleText(Callback):
    """After each epoch, ``logs['sample']``: the prompt continued by ``length`` characters, drawn from its own
    seeded generator (saved with the checkpoints, so a resumed run samples the same text)."""

    def __init__(self, vocab, prompt, length, temperature, seed):
        self.vocab, self.prompt, self.length, self.temperature = vocab, prompt, length, temperature
        self.rng = xp.random.default_rng(seed)

    def on_epoch_end(self, trainer, logs):
        logs["sample"] = generate_text(trainer.model, self.vocab, self.prompt, self.length, self.temperature, self.rng)
        trainer.log(f"  sample: {logs['sample']!r}")

    def state_dict(self):
        return {"rng": self.rng.bit_generator.state}

    def load_state_dict(self, state):
        self.rng.bit_generator.state = state["rng"]


def generate_text(model, vocab, prompt, length, temperature=1.0, generator=None):
    """The prompt continued by ``length`` sampled characters."""
    return T.decode(model.generate(vocab[list(prompt)], length, temperature, generator), vocab)


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
    """Validation perplexity of a checkpoint on the held-out end of its own text (read exactly as during
    training, so it matches the history's ``val_perplexity`` of that epoch)."""
    model, vocab, config = load_char_lm(path, state)
    _, val_ids = split_corpus(corpus_text(config), vocab, config["val_fraction"])
    held_out = HeldOut(val_ids, config["batch_size"], config["seq_len"])
    result = Trainer(model, recurrent=True, progress=False).evaluate(held_out, prefix="val_")
    return {"val_perplexity": result["val_perplexity"], "tokens": int(len(val_ids))}

