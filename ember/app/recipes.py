"""What ``ember train / evaluate / predict / summary`` do, as plain functions (the CLI only parses arguments).

``train(config)`` builds the data (a validation split carved from the training set, statistics fitted
on the training split only), the model from the registry, the optimizer and schedule (optimizers.py, the
same table for every model), and a Trainer; it fits, checkpoints every epoch, evaluates once on the test
set, and fills the run directory (rundir.py: metrics.json, steps.jsonl, curves.png, even after Ctrl-C).
``evaluate`` and ``predict`` rebuild the model from a checkpoint's config.
"""

import os
import sys
from dataclasses import dataclass

from .. import backend, models
from ..autograd.grad_mode import no_grad
from ..backend import xp
from ..data import DataLoader, Subset, random_split, transforms
from ..data import datasets as D
from ..nn.loss import CrossEntropyLoss
from ..tools.summary import summarize
from ..train import EarlyStopping, ModelCheckpoint, NonFiniteLossError, Trainer
from . import data_parallel, language, transfer
from .optimizers import OPTIMIZERS, SCHEDULERS, make_optimizer, make_scheduler
from .rundir import RunDirectory
from .flags import check_options, check_topk, validation_size
from .images import load_images
from .resume import resume_options
from .usage import UsageError, read_checkpoint

__all__ = ["DATASETS", "DEFAULTS", "OPTIMIZERS", "SCHEDULERS", "NonFiniteLossError", "UsageError", "train",
           "evaluate", "predict", "summary"]


@dataclass(frozen=True)
class DataInfo:
    factory: str
    channels: int
    size: int
    classes: int
    flip: bool  # horizontal flips are a fair augmentation (not for digits: a mirrored 2 is no 2)


DATASETS = {
    "mnist": DataInfo("MNIST", 1, 28, 10, False),
    "fashion-mnist": DataInfo("FashionMNIST", 1, 28, 10, True),
    "cifar10": DataInfo("CIFAR10", 3, 32, 10, True),
    "digits-mini": DataInfo("DigitsMini", 1, 28, 10, False),
}

DEFAULTS = dict(
    dataset="mnist", epochs=5, batch_size=128, optimizer="sgd", lr=0.1, momentum=0.9, weight_decay=5e-4, scheduler="onecycle",
    augment=False, seed=0, val_size=5000, train_size=None, aux_logits=None, out=None, root=None, progress=True, patience=None, resume=None,
    tensorboard=False, nproc=None, sync_bn=False,
    # transfer learning, distillation and L1 (transfer.py); None: not used
    init=None, freeze=None, head=None, head_lr=None, l1=None, teacher=None, temperature=None, alpha=None,
)


def _data_info(name):
    if name not in DATASETS:
        raise UsageError(f"unknown dataset '{name}'; choose one of: {', '.join(DATASETS)}")
    return DATASETS[name]


def _dataset(name, train, root):
    info = _data_info(name)
    cls = getattr(D, info.factory)
    try:
        if info.factory == "DigitsMini":
            return cls(train=train)
        return cls(root=root, train=train, download=True)
    except D.DownloadError as error:
        raise UsageError(
            f"could not download {name} ({str(error).splitlines()[0].rstrip(':')}). Put the official files in "
            f"{D.cache_root() if root is None else root} by hand or pass --root DIR; in Python, "
            f"ember.data.datasets.{info.factory}(download=True) lists every file and where it goes"
        ) from error
    except (OSError, ValueError) as error:
        raise UsageError(f"{name}: {str(error).splitlines()[0]}") from error


def _standardizer(images, stats=None):
    """Per-channel standardisation fitted on the training images (or rebuilt from saved statistics)."""
    tf = transforms.Standardize(mode="channel")
    if stats is None:
        return tf.fit(transforms.ToTensor()(images))
    tf.load_state_dict(stats)
    return tf


def _eval_transform(standardize):
    return transforms.Compose([transforms.ToTensor(), standardize])


def _train_transform(info, standardize, augment):
    steps = [transforms.ToTensor()]
    if augment:
        steps.append(transforms.RandomCrop(info.size, padding=info.size // 8))
        if info.flip:
            steps.append(transforms.RandomHorizontalFlip())
    steps.append(standardize)
    return transforms.Compose(steps)


def _only(options, allowed, who):
    """The options that apply to ``who``; one that does not, but was given, is a usage error."""
    stray = [k for k, v in options.items() if k not in allowed and v not in (None, False)]
    if stray:
        flags = ", ".join("--" + k.replace("_", "-") for k in stray)
        raise UsageError(f"{flags} do{'es' if len(stray) == 1 else ''} not apply to {who}")
    return {k: v for k, v in options.items() if k in allowed}


def _check_transfer(config):
    """The transfer/distillation flags that only mean something together with another one."""
    if config["head"] and config["head_lr"] is None and not config["init"]:
        raise UsageError("--head names the new head that --init leaves freshly initialised and --head-lr trains "
                         "faster; give --init FILE or --head-lr LR too")
    if config["teacher"] is None:
        for key in ("temperature", "alpha"):
            if config[key] is not None:
                raise UsageError(f"--{key} applies to distillation; give --teacher CHECKPOINT too")
    elif config["aux_logits"]:
        raise UsageError("--teacher distils the main output only; drop --aux-logits")
    elif config["temperature"] is not None and config["temperature"] <= 0:
        raise UsageError(f"--temperature must be positive for distillation (softmax(z/T)), got {config['temperature']}")


def train(**options):
    """Train a registered model on a dataset; returns the final metrics dict (see the module docstring).

    ``model='char-lm'`` trains a character language model instead (``ember.app.language``).
    """
    check_options(options)
    if options.get("resume"):  # the checkpoint's settings are the run's; a contradicting flag is refused
        options = resume_options(options, image_keys={"model", *DEFAULTS}, lm_keys={"model", *language.LM_DEFAULTS})
    if options.get("model") == "char-lm":
        data_parallel.refuse("char-lm", options.get("nproc"))
        return language.train_char_lm(**_only(options, {"model", *language.LM_DEFAULTS}, "char-lm"))
    options = _only(options, {"model", *DEFAULTS}, f"image models like {options.get('model')}")
    config = dict(DEFAULTS)
    config.update({k: v for k, v in options.items() if v is not None})
    if options.get("lr") is None:  # the model's own learning rate where it needs one, else the default
        try:
            config["lr"] = models.training_hints(config["model"]).get("lr", DEFAULTS["lr"])
        except KeyError as error:
            raise UsageError(error.args[0]) from error
    check_options(config)  # the model's own learning rate, too
    _check_transfer(config)
    info = _data_info(config["dataset"])
    rank, world = data_parallel.start()  # (0, 1) unless launched on several processes (--nproc, mpirun)
    data_parallel.per_rank_batch(int(config["batch_size"]), world)
    teacher = None  # checked before any data is read
    if config["teacher"]:
        teacher, teacher_name = transfer.load_teacher(config["teacher"], _load, info.classes, info.channels,
                                                      info.size, config["dataset"])
        if rank == 0:
            print(f"--teacher: distilling {teacher_name} into {config['model']}", file=sys.stderr)
    run = RunDirectory(config["out"] or os.path.join("runs", f"{config['model']}-{config['dataset']}"),
                       writes=rank == 0)  # one process writes the run's files
    backend.manual_seed(config["seed"])

    with data_parallel.rank_zero_first(world):  # one process downloads
        full_train, train_set, val_set, standardize = image_splits(config, options.get("val_size"))
        test = _dataset(config["dataset"], False, config["root"])
    train_loader, val_loader = image_loaders(config, train_set, val_set, standardize, rank, world)
    if world > 1:
        test = data_parallel.shard(test, rank, world)
    test_loader = DataLoader(test, batch_size=512, transform=_eval_transform(standardize), prefetch=2)
    resumed = read_checkpoint(config["resume"]) if config["resume"] else None
    model, optimizer, scheduler, head = image_model(config, len(train_loader), (resumed or {}).get("config"))
    train_loss = transfer.objective(model, CrossEntropyLoss(), teacher, config["temperature"] or 4.0,
                                    0.9 if config["alpha"] is None else config["alpha"], config["l1"])
    if world > 1:
        model = data_parallel.wrap(model, config["sync_bn"])
    callbacks = [ModelCheckpoint(run.path, monitor="val_accuracy", keep_all=True), *run.loggers(config["tensorboard"])]
    callbacks = callbacks if rank == 0 else []
    if config["patience"]:
        callbacks.append(EarlyStopping("val_accuracy", patience=config["patience"]))
    saved = {k: config[k] for k in ("model", "dataset", "optimizer", "lr", "momentum", "weight_decay", "scheduler",
                                    "epochs", "batch_size", "augment", "seed", "val_size", "train_size",
                                    "aux_logits")}
    saved.update({k: config[k] for k in ("init", "freeze", "head", "head_lr", "l1", "teacher", "temperature", "alpha")
                  if config[k] is not None})
    if head is not None:
        saved["head_params"] = sorted(head)  # so a resumed run rebuilds the same parameter groups
    saved.update(num_classes=info.classes, in_channels=info.channels, input_size=info.size,
                 standardize=standardize.state_dict(), classes=list(getattr(full_train, "classes", [])))
    trainer = Trainer(model, optimizer, scheduler=scheduler, callbacks=callbacks, topk=(1, 5),
                      progress=config["progress"] and rank == 0, config=saved, train_loss=train_loss,
                      log=None if rank == 0 else (lambda message: None))
    if resumed is not None:
        trainer.load_state_dict(resumed)
        trainer.config.update(saved)  # the run's plan (e.g. more epochs) is this run's, not the file's
    title = f"{config['model']} on {config['dataset']}"
    fit_seconds = run.fit(trainer, train_loader, config["epochs"], val_loader, {"config": saved}, title)
    test_metrics = trainer.evaluate(test_loader, prefix="test_")
    trainer.log(f"test: loss {test_metrics['test_loss']:.4f}, accuracy {test_metrics['test_accuracy']:.4f}, "
                f"top-5 {test_metrics['test_top5']:.4f}")
    metrics = {"config": saved, "history": trainer.history, "test": test_metrics, "fit_seconds": fit_seconds}
    run.write(metrics, title, trainer.log)
    trainer.log(f"wrote {run.path}/last.npz, best.npz, metrics.json, steps.jsonl, curves.png")
    return metrics


def image_splits(config, requested_val_size=None, size_flag="--train-size"):
    """The training data of an image run: (full training set, training split, validation split, the
    standardisation fitted on the training split). The validation images are carved from the training set
    with the run's seed; ``train_size`` keeps the first N images of the (already shuffled) training split.
    The test set is not touched here: only ``train`` looks at it, once, at the end."""
    full_train = _dataset(config["dataset"], True, config["root"])
    val_size = validation_size(requested_val_size, len(full_train), DEFAULTS["val_size"])
    split_rng = xp.random.default_rng(config["seed"])
    train_set, val_set = random_split(full_train, [len(full_train) - val_size, val_size], generator=split_rng)
    if config["train_size"]:  # a quick run on the first N images of the (already shuffled) training split
        if not 0 < int(config["train_size"]) <= len(train_set):
            raise UsageError(f"{size_flag} must be between 1 and {len(train_set)}, got {config['train_size']}")
        train_set = Subset(full_train, train_set.indices[: int(config["train_size"])])
    standardize = _standardizer(full_train.data[xp.asarray(train_set.indices)])
    return full_train, train_set, val_set, standardize


def image_loaders(config, train_set, val_set, standardize, rank=0, world=1):
    """The training loader (shuffled with the run's seed, augmented if asked) and the validation loader;
    on ``world`` processes, this ``rank``'s share of each (ember/app/data_parallel.py)."""
    info = _data_info(config["dataset"])
    transform = _train_transform(info, standardize, config["augment"])
    if world == 1:
        train_loader = DataLoader(train_set, batch_size=int(config["batch_size"]), shuffle=True,
                                  generator=config["seed"], prefetch=2, transform=transform)
    else:
        sampler = data_parallel.train_sampler(train_set, rank, world, config["seed"])
        train_loader = DataLoader(train_set, batch_size=data_parallel.per_rank_batch(int(config["batch_size"]), world),
                                  sampler=sampler, generator=config["seed"] + rank, prefetch=2, transform=transform)
        val_set = data_parallel.shard(val_set, rank, world)
    val_loader = DataLoader(val_set, batch_size=512, transform=_eval_transform(standardize), prefetch=2)
    return train_loader, val_loader


def image_model(config, steps_per_epoch, resumed_config=None, **model_options):
    """The model (from the registry, shaped for the dataset; --init, --freeze, --head and --head-lr applied
    by ember/app/transfer.py), its optimizer, its schedule, and the names of the head's parameters (None
    without --head-lr). ``resumed_config`` is the config of the checkpoint being resumed; ``model_options``
    go to the model's factory (e.g. ``dropout=0.3``)."""
    info = _data_info(config["dataset"])
    try:
        model = models.create(config["model"], num_classes=info.classes, in_channels=info.channels,
                              input_size=info.size, aux_logits=config.get("aux_logits"), **model_options)
    except (KeyError, TypeError) as error:
        raise UsageError(error.args[0]) from error
    groups, lrs, head = transfer.prepare(model, config, resumed_config)
    optimizer = make_optimizer(config["optimizer"], groups, config["lr"], config["momentum"], config["weight_decay"])
    scheduler = make_scheduler(config["scheduler"], optimizer, lrs if len(lrs) > 1 else lrs[0], config["epochs"],
                               steps_per_epoch)
    return model, optimizer, scheduler, head


def _load(path):
    state = read_checkpoint(path)
    config = state["config"]
    if config.get("model") == "char-lm":
        return None, config, state
    model = models.create(config["model"], num_classes=config["num_classes"], in_channels=config["in_channels"],
                          input_size=config["input_size"], aux_logits=config.get("aux_logits"))
    model.load_state_dict(state["model"])
    model.eval()
    return model, config, state


def evaluate(checkpoint_path, dataset=None, root=None, batch_size=512):
    """Loss, top-1, top-5 and the confusion matrix of a checkpoint on a test set (its own by default);
    for a char-lm checkpoint, the perplexity on its held-out text."""
    model, config, state = _load(checkpoint_path)
    if model is None:
        return language.evaluate_char_lm(checkpoint_path, state)
    name = dataset or config["dataset"]
    standardize = _standardizer(None, config["standardize"])
    loader = DataLoader(_dataset(name, False, root), batch_size=batch_size, transform=_eval_transform(standardize))
    trainer = Trainer(model, topk=(1, 5), progress=False)  # evaluation needs no optimizer
    return trainer.evaluate(loader, confusion=True, num_classes=config["num_classes"])


def predict(checkpoint_path, images, topk=3):
    """Top-k classes and probabilities for image files (PNG/JPEG via Pillow), one list per image."""
    model, config, _ = _load(checkpoint_path)
    if model is None:
        raise UsageError(f"{checkpoint_path} is a char-lm checkpoint; generate text with `ember sample`")
    names = config.get("classes") or [str(i) for i in range(config["num_classes"])]
    check_topk(topk, len(names))
    batch = load_images(images, config["input_size"], config["in_channels"], config.get("dataset"))
    standardize = _standardizer(None, config["standardize"])
    with no_grad():
        logits = model(_eval_transform(standardize)(xp.stack(batch)))
        probs = logits.softmax(1).array
    results = []
    for row in probs:
        best = xp.argsort(-row)[:topk]
        results.append([(names[int(i)], float(row[i])) for i in best])
    return results



def summary(name, input_size=None, num_classes=None, dry_run=True):
    """``ember summary NAME``: the summary table of a registered model, mistakes as one-line UsageErrors."""
    try:
        return summarize(name, input_size, num_classes, dry_run=dry_run)
    except (KeyError, ValueError) as error:
        raise UsageError(str(error.args[0]) if error.args else str(error)) from error
