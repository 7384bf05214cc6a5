"""Backpropagation as a circuit of gates, worked gate by gate with Ember's autograd (CS231n lecture 4; the
notes in seeds/003: 加法门 "gradient distributor", max门 "gradient router", 乘法门 "gradient switcher").

    python examples/circuit.py                  prints the three circuits below
    python examples/circuit.py circuit.svg      also draws the first one (circuit.dot without Graphviz)

1. f(x, y, z) = (x + y) · z at x = −2, y = 5, z = −4: forward q = 3, f = −12; backward df/dx = −4,
   df/dy = −4, df/dz = 3.
2. f(x, y, z, w) = 2 · (x·y + max(z, w)) at x = 3, y = −4, z = 2, w = −1 (the lecture's "patterns in
   backward flow"): the add gate hands its upstream gradient to both inputs, the max gate routes all of it
   to the larger input (z) and none to the other (w), the mul gate swaps its inputs' values.
3. f(x, y) = x·y + x: x feeds two gates, and the two gradients that come back to it add up.

No number here is typed in by hand: every local gradient is asked of Ember (``ember.autograd.grad`` of the
gate's output with respect to its inputs), every upstream gradient is caught by a hook on the gate's
output during ``backward()``, and the leaves' ``.grad`` is what backward accumulated. The chain rule says
downstream = local × upstream; the script checks it on every gate.
"""

import sys
from dataclasses import dataclass

import ember
from ember.tools import draw_graph


@dataclass
class Gate:
    """One gate after backward: its output, its inputs' values, and the three gradients of each input."""

    label: str  # "q = x + y"
    output: str  # the name of the gate's output ("q")
    value: float  # the forward value of the output
    inputs: dict  # input name -> forward value
    local: dict  # input name -> d output / d input, the gate's own derivative
    upstream: float  # d f / d output, what arrives from above
    downstream: dict  # input name -> d f / d input = local × upstream, what the gate passes on


class Circuit:
    """Builds f gate by gate and remembers each gate: its label, the name and tensor of its output, the
    operation, and its named inputs."""

    def __init__(self):
        self.gates = []

    def gate(self, label, name, op, **inputs):
        out = op(*inputs.values())
        self.gates.append((label, name, op, out, inputs))
        return out


def local_gradients(op, inputs):
    """d op / d input for each input, of the gate on its own: the op re-run on detached copies of its
    inputs, so the derivative does not follow any other path that leads to the same leaves."""
    alone = {k: v.detach().requires_grad_() for k, v in inputs.items()}
    grads = ember.autograd.grad(op(*alone.values()), tuple(alone.values()))
    return {k: g.item() for k, g in zip(alone, grads)}


def backprop(f, circuit, leaves):
    """Run ``f.backward()`` and explain it gate by gate, from the output down; returns the ``Gate``s.

    Each gate's downstream gradients (local × upstream) are checked against what backward delivered: the
    upstream gradient of the gate below, or a leaf's ``.grad``.
    """
    caught = {}
    for label, name, op, out, inputs in circuit.gates:
        # A hook sees the gradient flowing into ``out`` during backward; returning None leaves it unchanged.
        out.register_hook(lambda g, name=name: caught.__setitem__(name, g.item()))
    f.backward()
    result = []
    for label, name, op, out, inputs in reversed(circuit.gates):
        local = local_gradients(op, inputs)
        upstream = caught.get(name, 1.0)  # df/df = 1 at the top
        downstream = {k: local[k] * upstream for k in inputs}
        result.append(Gate(label, name, out.item(), {k: v.item() for k, v in inputs.items()}, local, upstream,
                           downstream))
    # Where a value feeds several gates, the gradients it receives add up (the multivariate chain rule).
    total = {}
    for gate in result:
        for k, g in gate.downstream.items():
            total[k] = total.get(k, 0.0) + g
    for k, g in total.items():
        expected = leaves[k].grad.item() if k in leaves else caught[k]
        assert abs(g - expected) < 1e-12, f"{k}: the chain rule gives {g}, backward gave {expected}"
    return result


def show(title, result, leaves):
    print(title)
    print("  forward: " + ",  ".join(f"{g.label} = {g.value:g}" for g in reversed(result)))
    print("  backward, from the output down:")
    for g in result:
        ins = ", ".join(f"{k} = {v:g}" for k, v in g.inputs.items())
        local = ", ".join(f"∂{g.output}/∂{k} = {v:g}" for k, v in g.local.items())
        down = ", ".join(f"∂f/∂{k} = {v:g}" for k, v in g.downstream.items())
        print(f"    {g.label:<16} inputs {ins:<16} local {local:<28} upstream ∂f/∂{g.output} = {g.upstream:<4g}"
              f" → {down}")
    print("  leaves: " + ", ".join(f"∂f/∂{k} = {t.grad.item():g}" for k, t in leaves.items()))
    print()


def leaf(value):
    return ember.tensor(value, dtype=ember.float64, requires_grad=True)


def add_mul(draw_to=None):
    """f = (x + y)·z at x = −2, y = 5, z = −4."""
    x, y, z = leaf(-2.0), leaf(5.0), leaf(-4.0)
    c = Circuit()
    q = c.gate("q = x + y", "q", lambda x, y: x + y, x=x, y=y)
    f = c.gate("f = q · z", "f", lambda q, z: q * z, q=q, z=z)
    leaves = dict(x=x, y=y, z=z)
    graph = draw_graph(f, params=leaves)  # drawn before backward, which frees the graph
    if draw_to:
        graph.save(draw_to)
    return backprop(f, c, leaves), leaves, graph


def max_gate():
    """f = 2·(x·y + max(z, w)) at x = 3, y = −4, z = 2, w = −1."""
    x, y, z, w = leaf(3.0), leaf(-4.0), leaf(2.0), leaf(-1.0)
    c = Circuit()
    p = c.gate("p = x · y", "p", lambda x, y: x * y, x=x, y=y)
    m = c.gate("m = max(z, w)", "m", ember.maximum, z=z, w=w)
    s = c.gate("s = p + m", "s", lambda p, m: p + m, p=p, m=m)
    f = c.gate("f = 2 · s", "f", lambda s: 2 * s, s=s)  # the constant 2 is not a leaf of the graph
    return backprop(f, c, dict(x=x, y=y, z=z, w=w)), dict(x=x, y=y, z=z, w=w)


def fork():
    """f = x·y + x at x = 3, y = −4: x is used twice."""
    x, y = leaf(3.0), leaf(-4.0)
    c = Circuit()
    p = c.gate("p = x · y", "p", lambda x, y: x * y, x=x, y=y)
    f = c.gate("f = p + x", "f", lambda p, x: p + x, p=p, x=x)
    return backprop(f, c, dict(x=x, y=y)), dict(x=x, y=y)


def main(argv):
    result, leaves, graph = add_mul(argv[0] if argv else None)
    print("The graph Ember recorded for f = (x + y)·z (ember.tools.draw_graph):")
    print("  " + graph.text().replace("\n", "\n  "))
    if graph.path:
        print(f"  drawn to {graph.path}" + (f" ({graph.note})" if graph.note else ""))
    print()
    show("1. f = (x + y)·z: the add gate distributes, the mul gate swaps", result, leaves)
    result, leaves = max_gate()
    show("2. f = 2·(x·y + max(z, w)): the max gate routes the whole gradient to the larger input", result, leaves)
    result, leaves = fork()
    show("3. f = x·y + x: x feeds two gates, its two gradients add up (∂f/∂x = y + 1)", result, leaves)


if __name__ == "__main__":
    main(sys.argv[1:])
