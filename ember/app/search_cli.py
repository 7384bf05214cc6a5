"""``ember search`` and ``ember trajectories``: their arguments, and the calls behind them.

    ember search lenet5 --dataset mnist --lr 1e-4:1:log --weight-decay 1e-6:1e-2:log --trials 8 --subset 10000
    ember search mlp --dataset fashion-mnist --dropout 0:0.5 --grid
    ember trajectories --surface saddle --out runs/trajectories
"""

import argparse

from .usage import UsageError

RANGE_HELP = "LOW:HIGH (linear), LOW:HIGH:log, or one value to fix it"


def add_parser(commands):
    """Add the ``search`` and ``trajectories`` subcommands to ``commands`` (argparse sub-parsers)."""
    from ..tools.trajectories import OPTIMIZERS, SURFACES
    from .flags import type_for as F
    from .recipes import DATASETS, DEFAULTS, OPTIMIZERS as TRAIN_OPTIMIZERS, SCHEDULERS

    search = commands.add_parser("search", help="random (or grid) hyper-parameter search with short training "
                                 "runs, coarse to fine: a CSV of the trials and a scatter plot")
    search.add_argument("model", help="model name (see `ember models`), e.g. lenet5")
    search.add_argument("--dataset", default=DEFAULTS["dataset"], choices=list(DATASETS),
                        help=f"default {DEFAULTS['dataset']}")
    ranges = search.add_argument_group("ranges", "each " + RANGE_HELP)
    ranges.add_argument("--lr", type=_range("lr"), default=None, metavar="RANGE", help="default 1e-4:1:log")
    ranges.add_argument("--weight-decay", type=_range("weight_decay"), default=None, metavar="RANGE",
                        help="default 1e-6:1e-2:log")
    ranges.add_argument("--momentum", type=_range("momentum"), default=None, metavar="RANGE",
                        help=f"sgd and rmsprop only (default: fixed at {DEFAULTS['momentum']}), e.g. 0.5:0.99")
    ranges.add_argument("--dropout", type=_range("dropout"), default=None, metavar="RANGE",
                        help="models with dropout layers only (mlp, alexnet, vgg...), e.g. 0:0.5")
    search.add_argument("--trials", type=F("trials"), default=8, help="random trials in the coarse stage (default 8)")
    search.add_argument("--fine-trials", type=F("fine_trials"), default=None,
                        help="trials around the best coarse one (default: half of --trials; 0 with --grid)")
    search.add_argument("--grid", action="store_true", help="a grid instead of the random coarse stage")
    search.add_argument("--grid-points", type=F("grid_points"), default=3, help="values per range (default 3)")
    search.add_argument("--epochs", type=F("epochs"), default=1, help="epochs per trial (default 1)")
    search.add_argument("--subset", type=F("subset"), default=None,
                        help="train each trial on this many images (default: the whole training split)")
    search.add_argument("--batch-size", type=F("batch_size"), default=None, help=f"default {DEFAULTS['batch_size']}")
    search.add_argument("--optimizer", default=None, choices=TRAIN_OPTIMIZERS, help=f"default {DEFAULTS['optimizer']}")
    search.add_argument("--scheduler", default=None, choices=SCHEDULERS, help=f"default {DEFAULTS['scheduler']}")
    search.add_argument("--seed", type=F("seed"), default=None,
                        help=f"draws the trials and seeds every run (default {DEFAULTS['seed']})")
    search.add_argument("--val-size", type=F("val_size"), default=None, help="training images held out to judge trials")
    search.add_argument("--root", default=None, help="dataset folder (default: $EMBER_DATA or ~/.cache/ember)")
    search.add_argument("--out", default=None, help="output folder (default runs/search-MODEL-DATASET)")
    search.add_argument("--resume", action="store_true", help="continue the search in --out (the default: "
                        "trials already in its trials.csv are skipped)")
    search.add_argument("--fresh", action="store_true", help="start over: forget the trials in --out's trials.csv")

    paths = commands.add_parser("trajectories", help="the paths of SGD, momentum, Nesterov, AdaGrad, RMSprop, "
                                "Adam and AdaBound on 2-D loss surfaces: a PNG and an animated GIF each")
    paths.add_argument("--surface", default="all", choices=[*SURFACES, "all"], help="default all")
    paths.add_argument("--steps", type=F("steps"), default=None, help="steps per path (default: the surface's own)")
    paths.add_argument("--optimizers", nargs="+", default=None, choices=list(OPTIMIZERS), metavar="NAME",
                       help=f"some of: {' '.join(OPTIMIZERS)} (default all)")
    paths.add_argument("--out", default="runs/trajectories", help="output folder (default runs/trajectories)")
    paths.add_argument("--no-gif", dest="gif", action="store_false", help="the PNGs only (faster)")


def _range(name):
    """The argparse ``type=`` for a range flag: a bad range stops at parsing, in one line."""

    def convert(text):
        from ..tools.search import SearchError
        from .search import parse_range

        try:
            return parse_range(name, text)
        except SearchError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    convert.__name__ = "range"
    return convert


def run(args):
    if args.command == "trajectories":
        from ..tools.trajectories import draw

        surfaces = None if args.surface == "all" else [args.surface]
        written = draw(surfaces, args.optimizers, args.steps, args.out, gif=args.gif)
        print("wrote " + ", ".join(written))
        return
    from ..tools.search import SearchError
    from .search import run_search, train_command

    if args.resume and args.fresh:
        raise UsageError("--resume and --fresh contradict each other: give one")
    ranges = {name: getattr(args, name) for name in ("lr", "weight_decay", "momentum", "dropout")
              if getattr(args, name) is not None}
    try:
        result = run_search(args.model, args.dataset, ranges, args.trials, args.fine_trials, args.grid,
                            args.grid_points, args.epochs, args.subset, args.batch_size, args.optimizer,
                            args.scheduler, args.seed, args.val_size, args.root, args.out, args.fresh)
    except SearchError as error:
        raise UsageError(str(error)) from error
    best = result["best"]
    if best is None:
        print(f"every trial diverged; see {result['csv']}")
        return
    searched = [r for r in result["ranges"] if not r.fixed]
    setting = ", ".join(f"{r.name} {float(best[r.name]):.3g}" for r in searched)
    print(f"best: {best['stage']} trial {best['trial']}: val_accuracy {float(best['val_accuracy']):.4f} with {setting}")
    dropout = " (dropout is the model's own argument: ember.models.create(..., dropout=...))" if any(
        r.name == "dropout" for r in result["ranges"]) else ""
    print(f"train it: {train_command(result)}{dropout}")
    print(f"wrote {result['csv']}" + (f", {result['plot']}" if result["plot"] else ""))
