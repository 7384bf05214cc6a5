"""``ember`` on the command line: parses arguments and calls ember.app.recipes — nothing else.

    ember train lenet5 --dataset mnist --epochs 5
    ember evaluate runs/lenet5-mnist/best.npz
    ember predict runs/lenet5-mnist/best.npz digit.png
    ember models
    ember summary resnet50 --input-size 3 224 224
    ember train char-lm --cell lstm --epochs 10          (a character language model on Python's stdlib)
    ember sample runs/char-lm-lstm/best.npz --prompt "def "
    ember run train.py --epochs 1          (an unmodified PyTorch program, torch mapped to ember)
    ember classic knn --dataset mnist      (kNN, linear SVM, softmax, perceptron: ember/app/classic_cli.py)

Every numeric flag is checked as it is parsed (ember/app/flags.py). Every failure is one line on stderr,
``ember COMMAND: error: ...``, and exit status 2; ``--debug`` (before or after the command) shows the
traceback instead. Ctrl-C exits with 130.
"""

import argparse
import re
import sys


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``ember train: error: --clip must be ...`` and exit status 2.

    argparse prints the whole usage before its message; here the message alone, with a pointer to -h.
    """

    def error(self, message):
        # "argument --clip: --clip must be ..." says the flag twice: keep the message's own sentence.
        message = re.sub(r"^argument (\S+): (?=\1 )", "", message)
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} -h)\n")


#: Subcommands that live in a module of their own in ember/app (each has ``add_parser(commands)`` and
#: ``run(args)``): the command's name -> the module.
TOOLS = {
    "check": "check_cli",          # CS231n's babysitting checks
    "lr-find": "lr_find_cli",      # the learning-rate range test
    "search": "search_cli",        # random / coarse-to-fine / grid hyper-parameter search
    "trajectories": "search_cli",  # optimizers' paths on 2-D surfaces
    "visualize": "visualize_cli",  # filters, feature maps, statistics, saliency, Grad-CAM, deconvnet
    "graph": "graph_cli",          # the autograd graph of one training step
    "classic": "classic_cli",      # kNN, linear SVM, softmax, perceptron
}


def _tool(module):
    import importlib

    return importlib.import_module(f".app.{module}", __package__)


def _debug_flag(parser, default):
    parser.add_argument("--debug", action="store_true", default=default,
                        help="show the full traceback of a failure instead of one line")


def _parser():
    from .app.flags import type_for as F
    from .app.language import LM_DEFAULTS
    from .app.recipes import DATASETS, DEFAULTS, OPTIMIZERS, SCHEDULERS
    from .app import transfer_cli

    lm = LM_DEFAULTS

    parser = _Parser(prog="ember", description="Train, evaluate and use Ember models.")
    _debug_flag(parser, False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    train = commands.add_parser("train", help="train a model (see `ember models`) on a dataset, or char-lm on text")
    train.add_argument("model", help="model name, e.g. lenet5, resnet20, or char-lm (a character language model)")
    train.add_argument("--epochs", type=F("epochs"), default=None, help=f"default {DEFAULTS['epochs']}; char-lm {lm['epochs']}")
    train.add_argument("--batch-size", type=F("batch_size"), default=None,
                       help=f"default {DEFAULTS['batch_size']}; char-lm {lm['batch_size']}")
    train.add_argument("--optimizer", default=None, choices=OPTIMIZERS,
                       help=f"default {DEFAULTS['optimizer']}; char-lm {lm['optimizer']}")
    train.add_argument("--lr", type=F("lr"), default=None,
                       help=f"learning rate, the peak for onecycle (default {DEFAULTS['lr']}, or the model's own, "
                       f"e.g. 0.01 for lenet5_classic; char-lm {lm['lr']})")
    train.add_argument("--momentum", type=F("momentum"), default=None,
                       help=f"for sgd (Nesterov) and rmsprop (default {DEFAULTS['momentum']})")
    train.add_argument("--weight-decay", type=F("weight_decay"), default=None,
                       help=f"default {DEFAULTS['weight_decay']}; char-lm {lm['weight_decay']}")
    train.add_argument("--seed", type=F("seed"), default=None, help=f"default {DEFAULTS['seed']}")
    train.add_argument("--out", default=None, help="output folder (default: runs/MODEL-DATASET, runs/char-lm-CELL)")
    train.add_argument("--resume", default=None, metavar="CHECKPOINT", help="continue a run from its checkpoint")
    train.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    train.add_argument("--scheduler", default=None, choices=SCHEDULERS,
                       help=f"learning-rate schedule (default {DEFAULTS['scheduler']}; char-lm {lm['scheduler']})")
    train.add_argument("--nproc", type=F("nproc"), default=None,
                       help="train on N processes (data-parallel over MPI; --batch-size stays the global batch; "
                       "needs: pip install 'ember[distributed]')")
    train.add_argument("--sync-bn", action="store_true",
                       help="with --nproc: batch norm over the whole global batch (SyncBatchNorm)")
    train.add_argument("--tensorboard", action="store_true",
                       help="also write TensorBoard event files to OUT/tensorboard "
                       "(needs: pip install 'ember[tensorboard]')")

    images = train.add_argument_group("image models")
    images.add_argument("--dataset", default=None, choices=list(DATASETS), help=f"default {DEFAULTS['dataset']}")
    images.add_argument("--augment", action="store_true", help="random crops (and flips where they make sense)")
    images.add_argument("--val-size", type=F("val_size"), default=None,
                        help=f"training images held out for validation (default {DEFAULTS['val_size']})")
    images.add_argument("--aux-logits", action="store_const", const=True, default=None,
                        help="train with the auxiliary classifiers (googlenet, inception_v3), weighted as in the papers")
    images.add_argument("--train-size", type=F("train_size"), default=None,
                        help="train on only this many images of the training split (quick runs)")
    images.add_argument("--patience", type=F("patience"), default=None, help="stop early after this many epochs without "
                        "a better validation accuracy")
    images.add_argument("--root", default=None, help="dataset folder (default: $EMBER_DATA or ~/.cache/ember)")
    transfer_cli.add_arguments(train)

    text = train.add_argument_group("char-lm (character language model)")
    text.add_argument("--text", default=None, metavar="FILE",
                      help="UTF-8 text to learn (default: the source of Python's standard library)")
    text.add_argument("--max-chars", type=F("max_chars"), default=None, help=f"use at most this many characters "
                      f"(default {lm['max_chars']:,})")
    text.add_argument("--cell", default=None, choices=("rnn", "gru", "lstm"), help=f"default {lm['cell']}")
    text.add_argument("--hidden-size", type=F("hidden_size"), default=None, help=f"default {lm['hidden_size']}")
    text.add_argument("--num-layers", type=F("num_layers"), default=None, help=f"default {lm['num_layers']}")
    text.add_argument("--embedding-dim", type=F("embedding_dim"), default=None, help="0 feeds one-hot vectors (default 0)")
    text.add_argument("--dropout", type=F("dropout"), default=None, help="between recurrent layers (default 0)")
    text.add_argument("--seq-len", type=F("seq_len"), default=None,
                      help=f"time steps per minibatch, the BPTT truncation (default {lm['seq_len']})")
    text.add_argument("--sampling", default=None, choices=("sequential", "random"),
                      help="minibatch sampling; sequential carries the state across minibatches (default)")
    text.add_argument("--clip", type=F("clip"), default=None, help=f"gradient-norm clipping (default {lm['clip']})")
    text.add_argument("--prompt", default=None, help=f"sample from this prompt each epoch (default {lm['prompt']!r})")
    text.add_argument("--temperature", type=F("temperature"), default=None, help=f"default {lm['temperature']}")
    text.add_argument("--sample-length", type=F("sample_length"), default=None, help=f"default {lm['sample_length']}")

    evaluate = commands.add_parser("evaluate", help="test-set loss, accuracy and confusion matrix of a checkpoint")
    evaluate.add_argument("checkpoint")
    evaluate.add_argument("--dataset", default=None, choices=list(DATASETS), help="default: the training dataset")
    evaluate.add_argument("--root", default=None)

    predict = commands.add_parser("predict", help="classify image files with a checkpoint")
    predict.add_argument("checkpoint")
    predict.add_argument("images", nargs="+", metavar="IMAGE")
    predict.add_argument("--topk", type=F("topk"), default=3)

    sample = commands.add_parser("sample", help="generate text with a char-lm checkpoint")
    sample.add_argument("checkpoint")
    sample.add_argument("--prompt", default=None, help="text to continue (default: the training prompt)")
    sample.add_argument("--length", type=F("length"), default=200, help="characters to generate")
    sample.add_argument("--temperature", type=F("temperature"), default=0.8, help="below 1 sharper, above 1 more random; "
                        "0 always takes the likeliest character")
    sample.add_argument("--seed", type=F("seed"), default=None)

    commands.add_parser("models", help="list the registered models")

    run = commands.add_parser("run", help="run an unmodified PyTorch program with torch and torchvision mapped "
                              "to ember (everything after SCRIPT goes to the program)")
    run.add_argument("script", metavar="SCRIPT")
    run.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS")

    summary = commands.add_parser("summary", help="a model's layers: output shapes, parameters, MACs, "
                                  "connections, receptive fields and memory")
    summary.add_argument("model", help="model name (see `ember models`)")
    summary.add_argument("--input-size", type=F("input_size"), nargs=3, metavar=("C", "H", "W"), default=None,
                         help="one input's shape (default: the model's own, e.g. 1 28 28 for lenet5)")
    summary.add_argument("--num-classes", type=F("num_classes"), default=None, help="default: the model's own")
    summary.add_argument("--compute", action="store_true",
                         help="run the real arithmetic (default: shapes only, which gives the same counts)")
    for module in dict.fromkeys(TOOLS.values()):  # each tool's own subcommands, in that order
        _tool(module).add_parser(commands)
    for subparser in commands.choices.values():
        if subparser.prog != "ember run":  # after SCRIPT, every flag is the program's
            _debug_flag(subparser, argparse.SUPPRESS)  # SUPPRESS: never overwrite a --debug given before
    return parser


def main(argv=None):
    """Run ``ember ARGV``; returns the exit status: 0, 2 for any failure (one line on stderr), 130 on Ctrl-C."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["run"] and len(argv) > 1 and argv[1] not in ("-h", "--help"):
        from . import run  # the program's own flags (even -h) belong to the program, not to this parser

        return run.main(argv[1:])
    try:
        args = _parser().parse_args(argv)
    except SystemExit as stop:  # -h, --help or a parse error (already printed on one line)
        return stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 2)
    if getattr(args, "nproc", None) and args.nproc > 1 and not _inside_mpi():  # re-run on N processes
        from .app.data_parallel import launch, refuse

        try:
            if args.model == "char-lm":
                refuse("char-lm", args.nproc)
            return launch(args.nproc, _without_nproc(argv))
        except Exception as error:  # noqa: BLE001 (no mpirun installed, or a recipe of one process)
            print(f"ember {args.command}: error: {one_line(error)}", file=sys.stderr)
            return 2
    try:
        _dispatch(args)
    except KeyboardInterrupt:
        from .app.data_parallel import interrupted

        if interrupted():  # rank 0 of several processes, or a single process: say so once
            print(f"ember {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the output was piped into `head` or similar, which stopped reading
        sys.stderr.close()
        return 0
    except Exception as error:  # noqa: BLE001 (every failure becomes one line, unless --debug)
        if args.debug:
            raise
        print(f"ember {args.command}: error: {one_line(error)}", file=sys.stderr)
        from .app.data_parallel import fail

        fail(2)  # on several processes: stop the others too
        return 2
    return 0


def _inside_mpi():
    from .distributed.mpi import launched_by_mpi

    return launched_by_mpi()


def _without_nproc(argv):
    """``argv`` without ``--nproc N`` / ``--nproc=N`` (the processes it starts run the same command alone)."""
    out, skip = [], False
    for i, arg in enumerate(argv):
        if skip:
            skip = False
        elif arg == "--nproc":
            skip = True
        elif not arg.startswith("--nproc="):
            out.append(arg)
    return out


def one_line(error):
    """An exception as one readable line: a usage error as it is, a file error with its path, others typed."""
    from .app.flags import FlagError
    from .app.usage import UsageError
    from .train import NonFiniteLossError

    if isinstance(error, (UsageError, FlagError, NonFiniteLossError)):
        text = str(error)
    elif isinstance(error, OSError) and (error.filename or error.strerror):
        text = _os_error(error)
    else:
        text = f"{type(error).__name__}: {error} (--debug shows the traceback)"
    return " ".join(text.split())  # newlines inside a message would break the one-line promise


def _os_error(error):
    import errno

    where = f"{error.filename}: " if error.filename else ""
    reason = error.strerror or str(error)
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"{where}{reason} (the disk is full: free some space, or write elsewhere with --out)"
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{where}{reason} (choose a folder you can write to with --out, or fix its permissions)"
    if error.errno == errno.ENOENT:
        return f"{where}{reason}"
    return f"{where}{reason} ({type(error).__name__})"


def _dispatch(args):
    from .app import recipes

    if args.command == "train":
        options = dict(vars(args))
        options.pop("command")
        options.pop("debug")
        recipes.train(**options)
    elif args.command == "evaluate":
        result = recipes.evaluate(args.checkpoint, dataset=args.dataset, root=args.root)
        if "val_perplexity" in result:
            print(f"validation perplexity {result['val_perplexity']:.3f} over {result['tokens']:,} characters")
            return
        print(f"loss {result['loss']:.4f}  accuracy {result['accuracy']:.4f}  top-5 {result['top5']:.4f}")
        print("confusion matrix (rows: true class, columns: predicted):")
        print(result["confusion"])
    elif args.command == "predict":
        for path, ranked in zip(args.images, recipes.predict(args.checkpoint, args.images, args.topk)):
            print(f"{path}: " + ", ".join(f"{name} {p:.1%}" for name, p in ranked))
    elif args.command == "sample":
        from .app.language import sample

        print(sample(args.checkpoint, args.prompt, args.length, args.temperature, args.seed))
    elif args.command == "models":
        from . import models

        print("\n".join(models.list()))
        print("char-lm  (character language model: ember train char-lm --text FILE --cell lstm)")
    elif args.command == "summary":
        print(recipes.summary(args.model, args.input_size, args.num_classes, dry_run=not args.compute))
    elif args.command in TOOLS:
        _tool(TOOLS[args.command]).run(args)


if __name__ == "__main__":
    sys.exit(main())
