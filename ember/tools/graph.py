"""``ember.tools.draw_graph(output)``: the autograd graph behind a tensor, as a picture or as text.

CS231n draws backpropagation as a circuit of gates: each operation knows its local gradient and multiplies
it by the gradient that arrives from above. Ember builds that circuit while the forward pass runs — every
``Function.apply`` leaves a node (the tensor's ``grad_fn``) that remembers its inputs and what it saved for
backward — and this module draws it, as torchviz's ``make_dot`` draws torch's::

    loss = F.cross_entropy(model(x), y)
    graph = ember.tools.draw_graph(loss, params=dict(model.named_parameters()))
    print(graph)                  # an indented tree, readable in any terminal
    graph.save("loss.svg")        # SVG / PNG / PDF through Graphviz; .dot and .txt need nothing installed

What is drawn:

- one node per Function, named as torch names its ``grad_fn`` (``MulBackward0``, ``TanhBackward0``), with
  the shapes of the arrays it saved for backward (the memory the graph holds until backward frees it) and
  its settings. Where Ember does in one Function what torch does in several (``LinearBackward0`` is
  torch's ``AddmmBackward0`` and ``TBackward0``; ``CrossEntropyBackward0`` its ``LogSoftmaxBackward0`` and
  ``NllLossBackward0``), the node has the Ember Function's name;
- one node per leaf that requires grad (torch's ``AccumulateGrad``: backward adds into its ``.grad``),
  labelled with its name when ``params`` (a ``{name: tensor}`` dict, e.g. ``dict(model.named_parameters())``
  or ``dict(x=x, y=y)``) names it, and its shape;
- one node per output;
- one edge per tensor, from the node that made it to the node that uses it, labelled with its shape. The
  arrows follow the forward pass; backward walks them in reverse, and where a tensor feeds two nodes (two
  edges leave one node) backward adds the two gradients that come back.

Tensors that do not require grad (images, labels, constants) are not in the graph: backward never reaches
them (torch's ``next_functions`` lists them as None).

Pictures need the ``graphviz`` Python package (``pip install 'ember[graph]'``) and Graphviz's ``dot``
program (https://graphviz.org/download/). Without either, ``save("loss.svg")`` writes the DOT source to
``loss.dot`` instead (with the text tree in a comment at its top), says so in ``graph.note`` and in a
warning, and ``dot -Tsvg loss.dot -o loss.svg`` turns it into the picture wherever Graphviz is installed.

Draw before ``backward()`` (or call ``backward(retain_graph=True)``): backward frees every node's saved
arrays and its links to its inputs, so afterwards there is no graph left to draw.
"""

import os
import warnings
from dataclasses import dataclass

from ..backend import xp
from ..serialization import write_atomically
from ..tensor import Tensor

#: What ``Graph.save`` writes for each format: a picture through Graphviz, or text it writes itself.
PICTURES = ("svg", "png", "pdf")
TEXTS = ("dot", "gv", "txt")

# Context attributes that are the graph's own bookkeeping, not a setting of the operation.
_BOOKKEEPING = {"function", "needs_input_grad", "parents", "released", "outputs_meta", "materialize_grads",
                "non_differentiable"}

# torchviz's colours: operations grey, leaves (parameters) light blue, outputs green.
_COLOURS = {"function": "lightgrey", "leaf": "lightblue", "output": "darkolivegreen1"}


@dataclass
class GraphNode:
    """One node: a Function (``kind="function"``), a leaf that requires grad (``"leaf"``) or an output."""

    id: str  # "n0", "n1", ... in the order the walk from the outputs meets them
    kind: str
    name: str  # "MulBackward0", a parameter's name (or "AccumulateGrad"), "output"
    shape: tuple = None  # leaves and outputs: the tensor's shape
    saved: tuple = ()  # functions: the shapes (or values) of what forward saved for backward
    settings: tuple = ()  # functions: (name, value) pairs forward kept, such as ("stride", (2, 2))

    def describe(self):
        """The node in one line: ``MulBackward0  saved (1,) (1,)``, ``weight (6, 1, 5, 5) AccumulateGrad``."""
        if self.kind == "function":
            parts = [self.name]
            if self.saved:
                parts.append("saved " + " ".join(_show(s) for s in self.saved))
            parts += [f"{key}={value}" for key, value in self.settings]
            return "  ".join(parts)
        if self.kind == "leaf":
            return f"{self.name} {_show(self.shape)}" + ("" if self.name == "AccumulateGrad" else "  AccumulateGrad")
        return f"{self.name} {_show(self.shape)}"

    def label(self):
        """The node's box in a picture: its name on the first line, the details below."""
        if self.kind == "function":
            lines = [self.name]
            if self.saved:
                lines.append("saved: " + ", ".join(_show(s) for s in self.saved))
            lines += [f"{key}={value}" for key, value in self.settings]
            return "\n".join(lines)
        return f"{self.name}\n{_show(self.shape)}"


@dataclass
class GraphEdge:
    """One tensor: made by node ``source``, used by node ``target``."""

    source: str
    target: str
    shape: tuple


class Graph:
    """The graph ``draw_graph`` found: ``nodes``, ``edges``; ``text()`` (also ``str(graph)``), ``source``
    (DOT) and ``save(path)``. After a ``save`` that could not draw a picture, ``note`` says why and what
    was written instead (None otherwise); ``path`` is the file written last."""

    def __init__(self, nodes, edges, outputs):
        self.nodes, self.edges, self.outputs = nodes, edges, outputs
        self.note, self.path = None, None
        self._by_id = {n.id: n for n in nodes}
        self._inputs = {n.id: [] for n in nodes}
        for e in edges:
            self._inputs[e.target].append(e)

    def node(self, id):
        return self._by_id[id]

    def inputs_of(self, id):
        """The edges that end at node ``id``, in the order of the Function's arguments."""
        return self._inputs[id]

    def functions(self):
        return [n for n in self.nodes if n.kind == "function"]

    def leaves(self):
        return [n for n in self.nodes if n.kind == "leaf"]

    # ---- text -------------------------------------------------------------------------------------------

    def text(self):
        """The graph as an indented tree, read from each output down to the leaves, in backward's order.

        Each line is a node and the tensor it sends on (``→ (2, 84)``). Under a node come its inputs: the
        leaves and side branches indented behind ``├──``, and its main input (the last Function among its
        inputs) straight below at the same depth, so a chain of layers reads as a column rather than a
        staircase. A node that feeds several others (a tensor used twice, whose gradients backward adds)
        is marked ``[n7]`` and written out where its last user reaches it, the order backward runs in;
        its earlier users say ``[n7] (below)``.
        """
        uses, reached = {}, {}
        for e in self.edges:
            uses[e.source] = uses.get(e.source, 0) + 1
        lines = []
        # An explicit stack, not recursion: a chain of 20,000 ops must not hit Python's recursion limit.
        stack = [(out, "", "", None) for out in reversed(self.outputs)]  # (node, lead, branch, shape sent)
        while stack:
            id, lead, branch, shape = stack.pop()
            node = self.node(id)
            reached[id] = reached.get(id, 0) + 1
            mark = f" [{id}]" if uses.get(id, 0) > 1 else ""
            arrow = f"  → {_show(shape)}" if shape is not None and node.kind == "function" else ""
            if reached[id] < uses.get(id, 0):
                lines.append(f"{lead}{branch}{node.name}{mark} (below){arrow}")
                continue
            lines.append(f"{lead}{branch}{node.describe()}{mark}{arrow}")
            # Under a "├── " the vertical line continues down to the next sibling; under "└── " it ends.
            below = lead + {"├── ": "│   ", "└── ": "    "}.get(branch, "")
            # Leaves first, Functions last (stable, so arguments keep their order within each group).
            inputs = sorted(self.inputs_of(id), key=lambda e: self.node(e.source).kind == "function")
            for i in reversed(range(len(inputs))):
                if i < len(inputs) - 1:
                    branch = "├── "
                else:  # the main input continues the column; a last leaf closes the branches
                    branch = "" if self.node(inputs[i].source).kind == "function" else "└── "
                stack.append((inputs[i].source, below, branch, inputs[i].shape))
        return "\n".join(lines)

    def __str__(self):
        return self.text()

    def __repr__(self):
        return (f"<Graph: {len(self.functions())} functions, {len(self.leaves())} leaves, "
                f"{len(self.edges)} edges>")

    # ---- DOT ----------------------------------------------------------------------------------------------

    @property
    def source(self):
        """The graph in Graphviz's DOT language (what ``dot`` draws; it needs no Python package)."""
        lines = ["digraph autograd {",
                 '    node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11, height=0.2]',
                 '    edge [fontname="Helvetica", fontsize=9]']
        for n in self.nodes:
            lines.append(f'    {n.id} [label="{_escape(n.label())}", fillcolor={_COLOURS[n.kind]}]')
        for e in self.edges:
            lines.append(f'    {e.source} -> {e.target} [label=" {_escape(_show(e.shape))}"]')
        lines.append("}")
        return "\n".join(lines) + "\n"

    # ---- files ----------------------------------------------------------------------------------------------

    def save(self, path, format=None):
        """Write the graph to ``path``; returns the path written.

        ``format`` (default: ``path``'s extension) is one of svg, png, pdf (drawn by Graphviz), dot or gv
        (the DOT source) and txt (the indented tree). When Graphviz cannot draw, the DOT source goes to
        ``path`` with the extension ``.dot``, ``note`` says why, and a warning repeats it.
        """
        path = os.fspath(path)
        fmt = file_format(path, format)
        self.note = None
        if fmt == "txt":
            data = (self.text() + "\n").encode()
        elif fmt in TEXTS:
            data = self._commented_source().encode()
        else:
            data, reason = _render(self.source, fmt)
            if data is None:
                fallback = os.path.splitext(path)[0] + ".dot"
                self.note = (f"draw_graph: could not draw {path}: {reason}. Wrote the DOT source to {fallback} "
                             f"instead; `dot -T{fmt} {fallback} -o {path}` draws it where Graphviz is installed")
                warnings.warn(self.note, RuntimeWarning, stacklevel=2)
                path, data = fallback, self._commented_source().encode()
        write_atomically(path, lambda f: f.write(data))
        self.path = path
        return path

    def _commented_source(self):
        # The tree first, as // comments: the file is readable as it is, before anything renders it.
        tree = "\n".join("// " + line for line in self.text().splitlines())
        return f"// The autograd graph, drawn by ember.tools.draw_graph\n{tree}\n{self.source}"


def file_format(path, format=None):
    """The format ``save`` writes ``path`` in: ``format``, else the file's extension; ValueError if unknown."""
    fmt = (format or os.path.splitext(os.fspath(path))[1].lstrip(".")).lower()
    if fmt not in PICTURES + TEXTS:
        raise ValueError(f"draw_graph: cannot write {path} as {fmt or '(no extension)'!r}: use one of "
                         f"{', '.join(PICTURES + TEXTS)} (as the file's extension or format=)")
    return fmt


def draw_graph(output, path=None, format=None, params=None):
    """The autograd graph behind ``output`` (a Tensor, or a tuple/list of them); saved to ``path`` if given.

    ``params``: ``{name: tensor}`` naming the leaves (``dict(model.named_parameters())``, ``dict(x=x)``).
    ``format``: the file's format when it is not ``path``'s extension (see ``Graph.save``). Returns a
    ``Graph``; ``print`` it for the tree. Raises ValueError for a tensor outside any graph (it does not
    require grad) and RuntimeError for a graph that backward has already freed.
    """
    outputs = list(output) if isinstance(output, (tuple, list)) else [output]
    for t in outputs:
        if not isinstance(t, Tensor):
            raise TypeError(f"draw_graph: expected a Tensor (or a tuple of Tensors), got {type(t).__name__}")
        if not t.requires_grad:
            raise ValueError("draw_graph: this tensor does not require grad, so no graph leads to it; create "
                             "the inputs or parameters with requires_grad=True and run the forward outside "
                             "no_grad()")
    names = {id(t): name for name, t in (params or {}).items()}
    graph = _walk(outputs, names)
    if path is not None:
        graph.save(path, format)
    return graph


def _walk(outputs, names):
    """Every node that leads to ``outputs``, met from the outputs down, and one edge per tensor used."""
    nodes, edges, ids = [], [], {}  # ids: id(context or leaf tensor) -> node id

    def node_for(tensor):
        """The node that made ``tensor`` (its Function, or itself as a leaf); new ones go on the stack."""
        key = tensor._ctx if tensor._ctx is not None else tensor
        if id(key) in ids:
            return ids[id(key)], None
        new_id = f"n{len(nodes)}"
        ids[id(key)] = new_id
        if tensor._ctx is None:
            nodes.append(GraphNode(new_id, "leaf", names.get(id(tensor), "AccumulateGrad"), tuple(tensor.shape)))
            return new_id, None
        nodes.append(_function_node(new_id, tensor._ctx))
        return new_id, tensor._ctx

    stack, roots = [], []
    for t in outputs:
        out_id = f"n{len(nodes)}"
        nodes.append(GraphNode(out_id, "output", names.get(id(t), "output"), tuple(t.shape)))
        roots.append(out_id)
        source, ctx = node_for(t)
        edges.append(GraphEdge(source, out_id, tuple(t.shape)))
        if ctx is not None:
            stack.append((source, ctx))
    while stack:
        target, ctx = stack.pop()
        for parent in ctx.parents:
            if parent is None or not parent.requires_grad:
                continue  # a constant: backward never reaches it
            source, new = node_for(parent)
            edges.append(GraphEdge(source, target, tuple(parent.shape)))
            if new is not None:
                stack.append((source, new))
    return Graph(nodes, edges, roots)


def _function_node(node_id, ctx):
    if ctx.released:
        raise RuntimeError(
            f"draw_graph: backward() has already run through {ctx.name()} and freed the graph behind it; draw "
            "the graph before calling backward(), or call backward(retain_graph=True)")
    saved = tuple(_saved_item(item) for item in ctx._saved if item is not None)
    settings = []
    for key, value in vars(ctx).items():
        if key in _BOOKKEEPING or key.startswith("_"):
            continue
        if isinstance(value, (xp.ndarray, Tensor)):
            saved += (tuple(value.shape),)  # an array kept as an attribute is saved for backward too
        elif _is_setting(value):
            settings.append((key, value))
    return GraphNode(node_id, "function", ctx.name(), saved=saved, settings=tuple(settings))


def _saved_item(item):
    if isinstance(item, (xp.ndarray, Tensor)):
        return tuple(item.shape)
    return item  # a number or a setting a custom Function saved


def _is_setting(value):
    """A small plain value worth printing (stride=2, dim=1, reduction='mean'), not an object or a long tuple."""
    if isinstance(value, (bool, int, float, str)):
        return len(repr(value)) <= 24
    if isinstance(value, tuple):
        return all(isinstance(v, (bool, int, float, str, type(None))) for v in value) and len(repr(value)) <= 24
    return False


def _show(value):
    """A shape as torch prints sizes, ``(2, 84)`` (a 0-d tensor is ``()``); anything else as it is."""
    if isinstance(value, tuple) and all(isinstance(n, int) for n in value):
        return "(" + ", ".join(map(str, value)) + ("," if len(value) == 1 else "") + ")"
    return str(value)


def _escape(text):
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _render(source, fmt):
    """(bytes of the picture, None), or (None, why not) when Graphviz is missing."""
    try:
        import graphviz
    except ImportError:
        return None, "the graphviz Python package is not installed (pip install 'ember[graph]')"
    try:
        return graphviz.Source(source).pipe(format=fmt), None
    except graphviz.ExecutableNotFound:
        return None, ("Graphviz's dot program is not on the PATH (install Graphviz: "
                      "https://graphviz.org/download/, e.g. apt install graphviz)")
