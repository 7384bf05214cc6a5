"""``ember`` on the command line: parses arguments and calls ember.train.recipes — nothing else.

    ember train lenet5 --dataset mnist --epochs 5
    ember evaluate runs/lenet5-mnist/best.npz
    ember predict runs/lenet5-mnist/best.npz digit.png
    ember models
    ember summary resnet50 --input-size 3 224 224
"""

import argparse
import sys


def _parser():
    from .train.recipes import DATASETS, DEFAULTS, OPTIMIZERS, SCHEDULERS

    parser = argparse.ArgumentParser(prog="ember", description="Train, evaluate and use Ember models.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    train = commands.add_parser("train", help="train a model (see `ember models`) on a dataset",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    train.add_argument("model", help="model name, e.g. lenet5 or mlp")
    train.add_argument("--dataset", default="mnist", choices=list(DATASETS))
    train.add_argument("--epochs", type=int, default=DEFAULTS["epochs"])
    train.add_argument("--batch-size", type=int, default=DEFAULTS["batch_size"])
    train.add_argument("--optimizer", default=DEFAULTS["optimizer"], choices=OPTIMIZERS)
    train.add_argument("--lr", type=float, default=None,
                       help=f"learning rate, the peak for onecycle (default: {DEFAULTS['lr']}, or the model's own, "
                       "e.g. 0.01 for lenet5_classic)")
    train.add_argument("--momentum", type=float, default=DEFAULTS["momentum"], help="for sgd (Nesterov) and rmsprop")
    train.add_argument("--weight-decay", type=float, default=DEFAULTS["weight_decay"])
    train.add_argument("--scheduler", default=DEFAULTS["scheduler"], choices=SCHEDULERS)
    train.add_argument("--augment", action="store_true", help="random crops (and flips where they make sense)")
    train.add_argument("--seed", type=int, default=DEFAULTS["seed"])
    train.add_argument("--val-size", type=int, default=DEFAULTS["val_size"],
                       help="training images held out for validation")
    train.add_argument("--aux-logits", action="store_const", const=True, default=None,
                       help="train with the auxiliary classifiers (googlenet, inception_v3), weighted as in the papers")
    train.add_argument("--train-size", type=int, default=None,
                       help="train on only this many images of the training split (quick runs)")
    train.add_argument("--patience", type=int, default=None, help="stop early after this many epochs without "
                       "a better validation accuracy")
    train.add_argument("--out", default=None, help="output folder (default: runs/MODEL-DATASET)")
    train.add_argument("--root", default=None, help="dataset folder (default: $EMBER_DATA or ~/.cache/ember)")
    train.add_argument("--resume", default=None, metavar="CHECKPOINT", help="continue a run from its checkpoint")
    train.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")

    evaluate = commands.add_parser("evaluate", help="test-set loss, accuracy and confusion matrix of a checkpoint")
    evaluate.add_argument("checkpoint")
    evaluate.add_argument("--dataset", default=None, choices=list(DATASETS), help="default: the training dataset")
    evaluate.add_argument("--root", default=None)

    predict = commands.add_parser("predict", help="classify image files with a checkpoint")
    predict.add_argument("checkpoint")
    predict.add_argument("images", nargs="+", metavar="IMAGE")
    predict.add_argument("--topk", type=int, default=3)

    commands.add_parser("models", help="list the registered models")

    summary = commands.add_parser("summary", help="a model's layers: output shapes, parameters, MACs, "
                                  "connections, receptive fields and memory")
    summary.add_argument("model", help="model name (see `ember models`)")
    summary.add_argument("--input-size", type=int, nargs=3, metavar=("C", "H", "W"), default=None,
                         help="one input's shape (default: the model's own, e.g. 1 28 28 for lenet5)")
    summary.add_argument("--num-classes", type=int, default=None, help="default: the model's own")
    summary.add_argument("--compute", action="store_true",
                         help="run the real arithmetic (default: shapes only, which gives the same counts)")
    return parser


def main(argv=None):
    args = _parser().parse_args(argv)
    from .train import recipes

    try:
        if args.command == "train":
            options = dict(vars(args))
            options.pop("command")
            recipes.train(**options)
        elif args.command == "evaluate":
            result = recipes.evaluate(args.checkpoint, dataset=args.dataset, root=args.root)
            print(f"loss {result['loss']:.4f}  accuracy {result['accuracy']:.4f}  top-5 {result['top5']:.4f}")
            print("confusion matrix (rows: true class, columns: predicted):")
            print(result["confusion"])
        elif args.command == "predict":
            for path, ranked in zip(args.images, recipes.predict(args.checkpoint, args.images, args.topk)):
                print(f"{path}: " + ", ".join(f"{name} {p:.1%}" for name, p in ranked))
        elif args.command == "models":
            from . import models

            print("\n".join(models.list()))
        elif args.command == "summary":
            from .tools.summary import summarize

            print(summarize(args.model, args.input_size, args.num_classes, dry_run=not args.compute))
    except recipes.UsageError as error:
        print(f"ember {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the output was piped into `head` or similar, which stopped reading
        sys.stderr.close()
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
