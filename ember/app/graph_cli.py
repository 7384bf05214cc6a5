"""``ember graph MODEL``: the autograd graph of one forward pass and loss of a zoo model (tools.graph).

    ember graph lenet5                          the graph as an indented tree on the terminal
    ember graph lenet5 --out lenet5.svg         drawn by Graphviz (.svg .png .pdf), or .dot / .txt as text
    ember graph resnet20 --input-size 3 32 32 --out resnet20.pdf

The model runs in training mode (so dropout and batch norm appear as they do while training) on two random
inputs, and the loss is the cross-entropy against labels 0 and 1: the graph ``loss.backward()`` would walk.
"""

import sys
import warnings

from .. import random
from ..backend import xp
from ..factories import randn
from ..ops.loss import cross_entropy
from ..tensor import Tensor
from ..tools.graph import draw_graph, file_format
from ..tools.summary import build_model
from .flags import type_for as F
from .usage import UsageError

BATCH = 2  # two examples: batch norm needs more than one value per channel to take statistics in training


def add_parser(commands):
    graph = commands.add_parser("graph", help="draw the autograd graph of one forward pass and loss of a model")
    graph.add_argument("model", help="model name (see `ember models`)")
    graph.add_argument("--input-size", type=F("input_size"), nargs=3, metavar=("C", "H", "W"), default=None,
                       help="one input's shape (default: the model's own, e.g. 1 28 28 for lenet5)")
    graph.add_argument("--num-classes", type=F("num_classes"), default=None, help="default: the model's own")
    graph.add_argument("--out", default=None, metavar="FILE",
                       help="write the graph to FILE: .svg, .png or .pdf (needs Graphviz: pip install "
                       "'ember[graph]' and the dot program), .dot (DOT source) or .txt (the tree); "
                       "default: print the tree")
    graph.add_argument("--seed", type=F("seed"), default=0, help="seed of the random inputs and weights")
    return graph


def model_graph(name, input_size=None, num_classes=None, seed=0):
    """The ``tools.graph.Graph`` of ``cross_entropy(model(x), y)`` for the zoo model ``name``."""
    random.manual_seed(seed)
    try:
        model, input_size = build_model(name, input_size, num_classes)
    except ValueError as error:
        raise UsageError(str(error.args[0]) if error.args else str(error)) from error
    model.train()
    x = randn(BATCH, *input_size)
    try:
        out = model(x)
    except (ValueError, RuntimeError) as error:
        size = "×".join(map(str, input_size))
        raise UsageError(f"{name} on a {size} input: {str(error).splitlines()[0]}") from error
    logits = out if isinstance(out, Tensor) else out[0]  # GoogLeNet / Inception in training: (logits, aux...)
    labels = Tensor(xp.arange(BATCH) % logits.shape[1])
    loss = cross_entropy(logits, labels)
    return draw_graph(loss, params=dict(model.named_parameters()))


def run(args):
    if args.out is not None:
        try:
            file_format(args.out)  # before the model runs: a wrong extension is known at once
        except ValueError as error:
            raise UsageError("--out: " + str(error).replace("draw_graph: ", "")) from error
    graph = model_graph(args.model, args.input_size, args.num_classes, args.seed)
    if args.out is None:
        print(graph.text())
        return
    with warnings.catch_warnings():  # the note is printed below, once
        warnings.simplefilter("ignore", RuntimeWarning)
        written = graph.save(args.out)
    if graph.note:
        print(graph.note, file=sys.stderr)
    print(f"{args.model}: {len(graph.functions())} functions, {len(graph.leaves())} parameters, "
          f"{len(graph.edges)} tensors; wrote {written}")
