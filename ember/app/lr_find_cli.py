"""``ember lr-find MODEL --dataset D``: the learning-rate range test (ember.tools.lr_finder), a CSV and a plot.

    ember lr-find lenet5 --dataset mnist                  SGD with momentum, lr 1e-7 .. 10 over 100 steps
    ember lr-find lenet5 --dataset mnist --optimizer adam --steps 300

It trains the model ``ember train`` would build on the same minibatches, then puts the weights back; it
writes OUT/lr_find.csv (step, lr, loss, smoothed loss) and OUT/lr_find.png, and prints the suggestion.
"""

import os

from ..tools.lr_finder import SUGGESTIONS, lr_find
from .optimizers import OPTIMIZERS, make_optimizer
from .probes import build_model, known_model, training_data
from .recipes import DATASETS, DEFAULTS
from .usage import UsageError

LR_FIND_DEFAULTS = dict(dataset=DEFAULTS["dataset"], optimizer="sgd", momentum=DEFAULTS["momentum"],
                        weight_decay=DEFAULTS["weight_decay"], batch_size=DEFAULTS["batch_size"], start_lr=1e-7,
                        end_lr=10.0, steps=100, suggest="steepest", seed=DEFAULTS["seed"], out=None, root=None,
                        progress=True)


def add_parser(commands):
    from .flags import type_for as F

    d = LR_FIND_DEFAULTS
    find = commands.add_parser("lr-find", help="the learning-rate range test: loss against an exponentially "
                               "growing lr, a plot and a suggested rate")
    find.add_argument("model", help="model name (see `ember models`)")
    find.add_argument("--dataset", default=d["dataset"], choices=list(DATASETS), help=f"default {d['dataset']}")
    find.add_argument("--optimizer", default=d["optimizer"], choices=OPTIMIZERS,
                      help=f"default {d['optimizer']} (Nesterov momentum, as `ember train` builds it)")
    find.add_argument("--momentum", type=F("momentum"), default=d["momentum"], help=f"default {d['momentum']}")
    find.add_argument("--weight-decay", type=F("weight_decay"), default=d["weight_decay"],
                      help=f"default {d['weight_decay']}, as for training")
    find.add_argument("--batch-size", type=F("batch_size"), default=d["batch_size"], help=f"default {d['batch_size']}")
    find.add_argument("--start-lr", type=F("start_lr"), default=d["start_lr"], help=f"default {d['start_lr']:g}")
    find.add_argument("--end-lr", type=F("end_lr"), default=d["end_lr"], help=f"default {d['end_lr']:g}")
    find.add_argument("--steps", type=F("lr_find_steps", "--steps"), default=d["steps"],
                      help=f"minibatches, one per learning rate (default {d['steps']}; 100 to 300 is usual)")
    find.add_argument("--suggest", default=d["suggest"], choices=SUGGESTIONS,
                      help="steepest: where the smoothed loss falls fastest (default); "
                      "minimum: a tenth of the rate at its lowest point")
    find.add_argument("--seed", type=F("seed"), default=d["seed"], help=f"default {d['seed']}")
    find.add_argument("--out", default=None, help="output folder (default: runs/lr-find-MODEL-DATASET)")
    find.add_argument("--root", default=None, help="dataset folder (default: $EMBER_DATA or ~/.cache/ember)")
    find.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")


def find_lr(model, dataset=LR_FIND_DEFAULTS["dataset"], optimizer="sgd", momentum=LR_FIND_DEFAULTS["momentum"],
            weight_decay=LR_FIND_DEFAULTS["weight_decay"], batch_size=LR_FIND_DEFAULTS["batch_size"],
            start_lr=1e-7, end_lr=10.0, steps=100, suggest="steepest", seed=LR_FIND_DEFAULTS["seed"], out=None,
            root=None, progress=False):
    """Run the range test on the model and data ``ember train`` would use; writes OUT/lr_find.csv and
    OUT/lr_find.png and returns (result, out folder)."""
    from .. import backend

    if not start_lr < end_lr:
        raise UsageError(f"--start-lr ({start_lr:g}) must be below --end-lr ({end_lr:g}): the rate grows from one to "
                         "the other")
    known_model(model)
    out = out or os.path.join("runs", f"lr-find-{model}-{dataset}")
    os.makedirs(out, exist_ok=True)  # before the test: a folder that cannot be made fails at once
    data = training_data(dataset, root, seed)
    backend.manual_seed(seed)  # seeded before the model is built, as `ember train --seed SEED` does
    net = build_model(model, data.info)
    opt = make_optimizer(optimizer, net.parameters(), start_lr, momentum, weight_decay)
    result = lr_find(net, opt, data.loader(batch_size, seed), start_lr=start_lr, end_lr=end_lr, steps=steps,
                     suggest=suggest, progress=progress)
    result.to_csv(os.path.join(out, "lr_find.csv"))
    result.plot(os.path.join(out, "lr_find.png"),
                title=f"lr range test: {model} on {dataset} ({optimizer}, batch {batch_size})")
    return result, out


def run(args):
    options = {k: getattr(args, k) for k in LR_FIND_DEFAULTS}
    result, out = find_lr(args.model, **options)
    print(result.describe())
    print(f"wrote {os.path.join(out, 'lr_find.csv')}, {os.path.join(out, 'lr_find.png')}")
