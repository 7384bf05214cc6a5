"""The notes' weight-initialisation experiment (CS231n lecture 6; seeds 000 and 003): a 10-layer network of
500 units fed random data, initialised four ways, and the distribution of every layer's activations.

    python examples/init_experiment.py                 # prints the tables, writes init_experiment.png

Each layer is h = f(W x) (no bias), W drawn from N(0, σ²), x a batch of 1,000 random 500-dimensional inputs:

    tanh, σ = 0.01      activations shrink by about 0.01·√500 ≈ 0.22 per layer and collapse to zero:
                        the gradients, which are multiplied by the same small W on the way back, vanish too
    tanh, σ = 1         W x has std ≈ √500 ≈ 22, so tanh sits at ±1: the units saturate, tanh' ≈ 0, and
                        no gradient flows
    tanh, Xavier        σ = 1/√fan_in (Glorot & Bengio 2010; nn.init.xavier_normal_ gives √(2/(fan_in +
                        fan_out)), the same for a square layer): the variance is kept, the distribution stays
                        spread over (-1, 1) all the way up
    ReLU, Xavier        ReLU zeroes half of its inputs, so the variance halves at every layer and the
                        activations drift towards zero again
    ReLU, He            σ = √(2/fan_in) (He et al. 2015; nn.init.kaiming_normal_): the factor 2 makes up for
                        the half ReLU discards, and the distribution stays healthy

(Note 003 writes Xavier as ``randn(fan_in, fan_out) / sqrt(fan_in / 2)``; that is He's rule, the one for
ReLU. Note 000 has both right: ``/ sqrt(fan_in)`` for Xavier, ``/ sqrt(fan_in / 2)`` with ReLU.)

The numbers come from ``ember.tools.visualize.layer_statistics`` (forward hooks on every activation
layer), the picture from ``plot_statistics``: one row of histograms per initialisation, one per layer.
"""

import argparse
import os

import ember
import ember.nn as nn
from ember.tools import visualize as viz

LAYERS, WIDTH, BATCH = 10, 500, 1000

#: name -> (activation module, how to initialise a Linear's weight)
SCHEMES = {
    "tanh, std 0.01": (nn.Tanh, lambda w: nn.init.normal_(w, std=0.01)),
    "tanh, std 1.0": (nn.Tanh, lambda w: nn.init.normal_(w, std=1.0)),
    "tanh, Xavier": (nn.Tanh, lambda w: nn.init.xavier_normal_(w)),
    "ReLU, Xavier": (nn.ReLU, lambda w: nn.init.xavier_normal_(w)),
    "ReLU, He": (nn.ReLU, lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu")),
}


def network(activation, init, layers=LAYERS, width=WIDTH):
    """``layers`` × (Linear(width, width, bias=False), activation), each weight set by ``init``."""
    modules = []
    for _ in range(layers):
        linear = nn.Linear(width, width, bias=False)
        init(linear.weight)
        modules += [linear, activation()]
    return nn.Sequential(*modules)


def run(seed=0, layers=LAYERS, width=WIDTH, batch=BATCH):
    """``{scheme: [LayerStats of each activation layer]}`` for one random batch (the same for every scheme)."""
    ember.manual_seed(seed)
    x = ember.randn(batch, width)
    results = {}
    for name, (activation, init) in SCHEMES.items():
        model = network(activation, init, layers, width)
        names = [str(2 * i + 1) for i in range(layers)]  # the activation after each Linear
        results[name] = viz.layer_statistics(model, x, layers=names)
    return results


def table(results, key, fmt):
    """One row per scheme, one column per layer, of each LayerStats' ``key``."""
    layers = len(next(iter(results.values())))
    width = max(len(name) for name in results)
    lines = [" " * width + "".join(f"{'layer ' + str(i + 1):>10}" for i in range(layers))]
    for name, stats in results.items():
        cells = [getattr(s, key) for s in stats]
        lines.append(name.ljust(width) + "".join(f"{'-' if c is None else fmt(c):>10}" for c in cells))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="folder for init_experiment.png (default: here)")
    args = parser.parse_args(argv)
    results = run()
    print(f"{LAYERS} layers of {WIDTH} units, {BATCH} random inputs\n")
    print("std of each layer's activations:")
    print(table(results, "std", lambda v: f"{v:.2g}"))
    print("\nsaturated (tanh: |h| > 0.99):")
    print(table({k: v for k, v in results.items() if k.startswith("tanh")}, "saturated", lambda v: f"{v:.0%}"))
    print("\ndead units (ReLU: 0 for every input):")
    print(table({k: v for k, v in results.items() if k.startswith("ReLU")}, "dead", lambda v: f"{v:.1%}"))
    for name, stats in results.items():
        last = stats[-1]
        verdict = ("collapsed to zero" if last.std < 1e-3 else
                   "saturated at ±1" if (last.saturated or 0) > 0.5 else
                   "shrinking" if last.std < 0.1 else "healthy")
        print(f"{name:>15}: last layer std {last.std:.2g} -> {verdict}")
    os.makedirs(args.out, exist_ok=True)
    path = viz.plot_statistics(results, os.path.join(args.out, "init_experiment.png"), columns=LAYERS,
                               title=f"activations of a {LAYERS}-layer, {WIDTH}-unit network on random data, "
                               "per initialisation (rows) and layer (columns)")
    print(f"\nwrote {path}")
    return results


if __name__ == "__main__":
    main()
