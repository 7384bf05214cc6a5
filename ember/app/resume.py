"""Honest resumption: a run continued from a checkpoint is the run the checkpoint describes.

``merge(checkpoint_config, requested)`` is a pure function: the checkpoint's settings (model, dataset,
optimizer, learning rate, scheduler, batch size, seed, data split, epoch plan, ...) fill every option the
user did not give; an option the user gave that differs from the checkpoint's is refused in one line
naming both values, because the checkpoint's optimizer and scheduler state, random generators and data
split only mean something with the settings that made them::

    --scheduler cosine contradicts the checkpoint's onecycle; drop --scheduler to resume, or start a new
    run (without --resume) in another --out folder

Only what does not change the run itself may differ: more epochs (except for the schedules fixed by the
epoch plan when they are created: OneCycle's total steps, cosine's period, step's decay points), the
samples' prompt, temperature and length, early stopping's patience, the progress bar, the output folder
and the dataset folder.

``check_state`` refuses a checkpoint that has no run configuration or names a model that is not
registered, before anything is built from it. (Opening the output folder is rundir.RunDirectory's job.)
"""

import math

#: Options that may differ from the checkpoint's: they do not change what the run computes.
FREE = frozenset({"epochs", "prompt", "temperature", "sample_length", "patience", "progress", "out", "root",
                  "resume"})
#: Schedules whose shape is fixed by the epoch plan when they are created (what resuming cannot change).
PLANNED = {
    "onecycle": "OneCycle's total number of steps is fixed when it is created",
    "cosine": "the cosine schedule's period (T_max) is fixed when it is created, and past it the learning rate "
    "sits at its minimum",
    "step": "the step schedule's decay points (every third of the plan) are fixed when it is created",
}
#: What an image model's checkpoint must say to rebuild the model and its input pipeline.
IMAGE_NEEDS = ("num_classes", "in_channels", "input_size", "standardize")
#: Config entries that are derived from the options, not options themselves.
DERIVED = frozenset({"num_classes", "in_channels", "input_size", "standardize", "classes", "vocab"})


def _flag(key):
    return "--" + key.replace("_", "-")


def _given(value):
    # store_true flags (--augment) read False when absent: only True says the user asked for something
    return value is not None and value is not False


def _same(a, b):
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=0.0) or a == b
    return a == b


def _usage_error(message):
    from .usage import UsageError

    return UsageError(message)


def merge(checkpoint_config, requested, epochs_done=0, allowed=None):
    """The options of a resumed run: ``requested`` with every option it leaves out (None) taken from the
    checkpoint. Raises UsageError when a given option contradicts the checkpoint (see the module docstring).

    Args:
        checkpoint_config: the ``config`` dict saved in the checkpoint.
        requested: the options as given (None or False: not given); 'model' is the model asked for.
        epochs_done: epochs the checkpoint has completed.
        allowed: option names the run accepts (default: the keys of ``requested``); checkpoint settings
            outside it are left out of the result.
    """
    allowed = set(requested) if allowed is None else set(allowed) | {"model"}
    merged = dict(requested)
    saved_model, asked_model = checkpoint_config.get("model"), requested.get("model")
    if asked_model is not None and asked_model != saved_model:
        raise _usage_error(
            f"the model {asked_model} contradicts the checkpoint's {saved_model}; resume it with "
            f"`ember train {saved_model} --resume ...`, or train {asked_model} from scratch without --resume"
        )
    for key, saved in checkpoint_config.items():
        if key in DERIVED or key not in allowed or key == "model":
            continue
        asked = requested.get(key)
        if key not in FREE and _given(asked) and not _same(asked, saved):
            raise _usage_error(
                f"{_flag(key)} {asked} contradicts the checkpoint's {saved}; drop {_flag(key)} to resume, "
                f"or start a new run (without --resume) in another --out folder"
            )
        if not _given(asked):
            merged[key] = saved
    plan = checkpoint_config.get("epochs")
    asked_epochs = requested.get("epochs")
    if asked_epochs is not None and plan is not None and asked_epochs != plan:
        scheduler = checkpoint_config.get("scheduler")
        if scheduler in PLANNED:
            raise _usage_error(
                f"--epochs {asked_epochs} cannot change this {scheduler} run's plan of {plan} epochs: "
                f"{PLANNED[scheduler]}, so a resumed {scheduler} run cannot be extended or shortened; drop --epochs "
                f"to finish it, or start a new run (without --resume) in another --out folder"
            )
        if asked_epochs <= epochs_done:
            raise _usage_error(
                f"--epochs {asked_epochs} leaves nothing to train: the checkpoint has already completed "
                f"{epochs_done} epochs; ask for more than {epochs_done}, or use `ember evaluate` on it"
            )
    if "epochs" in merged and merged.get("epochs") is None:
        merged["epochs"] = plan
    return merged


def check_state(path, state):
    """Refuse a checkpoint that cannot describe a run: no config, no model name, an unknown model, no
    weights. Returns its config."""
    from .. import models

    config = state.get("config") if isinstance(state, dict) else None
    if not isinstance(config, dict) or not config:
        raise _usage_error(
            f"{path} has no run configuration (no 'config' inside): it was not written by `ember train`, so "
            f"there is no way to know which model, data and settings it belongs to"
        )
    name = config.get("model")
    if not isinstance(name, str):
        raise _usage_error(f"{path}: its configuration names no model (found {name!r}); not a checkpoint of "
                           "`ember train`")
    if name != "char-lm" and name not in models.list_models():
        raise _usage_error(f"{path} is a checkpoint of model '{name}', which is not registered in this Ember "
                           f"(see `ember models`); it cannot be rebuilt")
    if name == "char-lm" and not isinstance(config.get("vocab"), dict):
        raise _usage_error(f"{path}: a char-lm checkpoint without its vocabulary; it cannot be rebuilt")
    missing = [key for key in IMAGE_NEEDS if key not in config] if name != "char-lm" else []
    if missing:
        raise _usage_error(f"{path}: its configuration lacks {', '.join(missing)}, which `ember train` writes; the "
                           f"{name} model and its input pipeline cannot be rebuilt from it")
    if not isinstance(state.get("model"), dict) or not state["model"]:
        raise _usage_error(f"{path} holds no model weights ('model' is missing or empty)")
    return config


def resume_options(options, image_keys, lm_keys):
    """``options`` (a train call's) merged with the checkpoint named by ``options['resume']``."""
    from .usage import read_checkpoint

    path = options["resume"]
    state = read_checkpoint(path)
    config = check_state(path, state)
    for key in ("optimizer", "epoch", "history"):
        if key not in state:
            raise _usage_error(f"{path} cannot be resumed: it holds no '{key}' (weights only?); start a new run")
    allowed = lm_keys if config["model"] == "char-lm" else image_keys
    epochs_done = state["epoch"] if isinstance(state["epoch"], int) else 0
    return merge(config, options, epochs_done=epochs_done, allowed=allowed)
