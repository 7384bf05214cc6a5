"""``ember check MODEL --dataset D``: CS231n's babysitting checks (ember.tools.babysit) as a report.

    ember check lenet5 --dataset mnist                    every check passes: exit status 0
    ember check lenet5 --dataset mnist --lr 10            the rate explodes: exit 1, naming the failed checks
    ember check lenet5 --dataset mnist --break dead-relu  every bias at -10 first, to see the checks fail

The checks run on the model and data ``ember train`` would use (probes.py), with regularisation off; the
optimizer is the one ``ember train`` builds (the same table), without weight decay, at a constant rate:
0.01 for SGD (Nesterov momentum 0.9 makes its first step 1.9 · lr · ∇W, near CS231n's ratio of 1e-3 for
LeNet-5) and 1e-3 for the adaptive optimizers. ``ember train``'s 0.1 is a one-cycle peak that it reaches
after a warm-up; from the first step it is too large to memorise 20 examples reliably.
"""

import json
import sys

from ..serialization import write_atomically
from ..tools.babysit import BREAKS, babysit
from .optimizers import OPTIMIZERS, make_optimizer
from .probes import build_model, known_model, training_data
from .recipes import DATASETS, DEFAULTS
from .usage import UsageError

CHECK_LR = {"sgd": 0.01}  # the others: 1e-3 (Adam's own default)
CHECK_DEFAULTS = dict(dataset=DEFAULTS["dataset"], optimizer=DEFAULTS["optimizer"], lr=None,
                      momentum=DEFAULTS["momentum"], batch_size=128, overfit_size=20, overfit_steps=200,
                      seed=DEFAULTS["seed"], root=None, breaks=None)


def add_parser(commands):
    from .flags import type_for as F

    d = CHECK_DEFAULTS
    check = commands.add_parser(
        "check", help="babysit a model before training: initial loss vs ln C, the loss with regularisation, "
        "overfitting 20 examples, a float64 gradient check, update/weight ratios (exit 1 if one fails)")
    check.add_argument("model", help="model name (see `ember models`)")
    check.add_argument("--dataset", default=d["dataset"], choices=list(DATASETS), help=f"default {d['dataset']}")
    check.add_argument("--optimizer", default=d["optimizer"], choices=OPTIMIZERS, help=f"default {d['optimizer']}")
    check.add_argument("--lr", type=F("lr"), default=None,
                       help="constant learning rate (default 0.01 for sgd, 1e-3 for the others)")
    check.add_argument("--momentum", type=F("momentum"), default=d["momentum"], help=f"default {d['momentum']}")
    check.add_argument("--batch-size", type=F("batch_size"), default=d["batch_size"],
                       help=f"training examples for the loss and update-ratio checks (default {d['batch_size']})")
    check.add_argument("--overfit-size", type=F("overfit_size"), default=d["overfit_size"],
                       help=f"examples the model must learn by heart (default {d['overfit_size']})")
    check.add_argument("--overfit-steps", type=F("overfit_steps"), default=d["overfit_steps"],
                       help=f"steps it may take (default {d['overfit_steps']})")
    check.add_argument("--seed", type=F("seed"), default=d["seed"], help=f"default {d['seed']}")
    check.add_argument("--root", default=None, help="dataset folder (default: $EMBER_DATA or ~/.cache/ember)")
    check.add_argument("--break", dest="breaks", default=None, choices=sorted(BREAKS),
                       help="break the model first, to see what the checks say about a network that cannot "
                       "learn: dead-relu (every bias -10) or zero-init (every parameter 0)")
    check.add_argument("--json", default=None, metavar="FILE", help="also write the report's numbers to FILE")


def check(model, dataset=CHECK_DEFAULTS["dataset"], optimizer=CHECK_DEFAULTS["optimizer"], lr=None,
          momentum=CHECK_DEFAULTS["momentum"], batch_size=CHECK_DEFAULTS["batch_size"],
          overfit_size=CHECK_DEFAULTS["overfit_size"], overfit_steps=CHECK_DEFAULTS["overfit_steps"],
          seed=CHECK_DEFAULTS["seed"], root=None, breaks=None):
    """Build ``model`` as ``ember train`` would and run the babysitting checks; returns the Report."""
    from .. import backend

    lr = check_lr(optimizer) if lr is None else lr
    if batch_size < max(overfit_size, 2):
        raise UsageError(f"--batch-size must be at least --overfit-size ({overfit_size}): the subset to memorise "
                         f"is taken from that batch, got {batch_size}")
    if breaks is not None and breaks not in BREAKS:
        raise UsageError(f"unknown --break '{breaks}'; choose one of: {', '.join(sorted(BREAKS))}")
    data = training_data(dataset, root, seed)
    backend.manual_seed(seed)  # seeded before the model is built, as `ember train --seed SEED` does
    net = build_model(model, data.info)
    if breaks is not None:
        BREAKS[breaks](net)
    images, labels = data.batch(batch_size)

    def fresh_optimizer(params):  # regularisation off: no weight decay
        return make_optimizer(optimizer, params, lr, momentum, 0.0)

    return babysit(net, images, labels, fresh_optimizer, overfit_size=overfit_size, overfit_steps=overfit_steps)


def check_lr(optimizer):
    """The default learning rate of the checks for ``optimizer`` (see the module docstring)."""
    return CHECK_LR.get(optimizer, 1e-3)


def run(args):
    """Print the report; exit status 1 (SystemExit) naming the failed checks when one fails."""
    options = {k: getattr(args, k) for k in CHECK_DEFAULTS}
    known_model(args.model)
    lr = options["lr"] if options["lr"] is not None else check_lr(options["optimizer"])
    broken = f", broken: {options['breaks']}" if options["breaks"] else ""
    print(f"ember check {args.model} on {options['dataset']} ({options['optimizer']}, lr {lr:g}{broken})")
    report = check(args.model, **options)
    print(report)
    if args.json:
        record = dict(model=args.model, lr=lr, **{k: v for k, v in options.items() if k != "lr"}, **report.to_dict())
        write_atomically(args.json, lambda f: f.write(json.dumps(record, indent=2).encode()))
    if not report.passed:
        print(f"ember check: failed: {', '.join(report.failed)}", file=sys.stderr)
        raise SystemExit(1)  # not an error of the command (that is status 2): the model failed its checks
