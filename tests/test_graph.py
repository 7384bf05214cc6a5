"""ember.tools.draw_graph and `ember graph`: the nodes and edges of the autograd graph, the names torch
gives them, the text tree, the DOT source, the files written, and the fallback when Graphviz is missing."""

import sys
import types

import pytest
import torch

import ember
import ember.nn.functional as F
from ember.cli import main
from ember.tools.graph import Graph, draw_graph


def circuit():
    x, y, z = (ember.tensor(v, requires_grad=True) for v in (-2.0, 5.0, -4.0))
    return (x + y) * z, dict(x=x, y=y, z=z)


def torch_names(fn, seen=None):
    """The grad_fn names torch's graph holds below ``fn`` (AccumulateGrad left out)."""
    seen = set() if seen is None else seen
    if fn is None or fn in seen:
        return []
    seen.add(fn)
    names = [] if "AccumulateGrad" in fn.name() else [fn.name()]
    for child, _ in fn.next_functions:
        names += torch_names(child, seen)
    return names


def test_circuit_nodes_edges_and_tree():
    f, leaves = circuit()
    graph = draw_graph(f, params=leaves)
    assert isinstance(graph, Graph)
    assert [n.name for n in graph.functions()] == ["MulBackward0", "AddBackward0"]
    assert sorted(n.name for n in graph.leaves()) == ["x", "y", "z"]
    assert len(graph.edges) == 5  # x, y into add; q, z into mul; f out
    mul = graph.functions()[0]
    assert [graph.node(e.source).name for e in graph.inputs_of(mul.id)] == ["AddBackward0", "z"]
    assert mul.saved == ((), ())  # mul saves both inputs (0-d here) for its swapped local gradients
    assert graph.text() == "\n".join([
        "output ()",
        "MulBackward0  saved () ()  → ()",
        "├── z ()  AccumulateGrad",
        "AddBackward0  → ()",
        "├── x ()  AccumulateGrad",
        "└── y ()  AccumulateGrad",
    ])
    assert str(graph) == graph.text()
    assert repr(graph) == "<Graph: 2 functions, 3 leaves, 5 edges>"


def test_function_names_are_torchs():
    def run(lib):
        a = lib.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
        b = lib.tensor([0.3, -0.7], requires_grad=True)
        return (((a * b + a).exp() - b) / 2.0).tanh().sigmoid().sum()

    # The element-wise ops and reductions are named alike; a fused op is not (Ember's LinearBackward0 is
    # torch's AddmmBackward0 + TBackward0, CrossEntropyBackward0 its NllLoss + LogSoftmax).
    ours = sorted(n.name for n in draw_graph(run(ember)).functions())
    assert ours == sorted(torch_names(run(torch).grad_fn))


def test_model_leaves_are_named_parameters_with_saved_shapes():
    ember.manual_seed(0)
    model = ember.models.create("lenet5")
    loss = F.cross_entropy(model(ember.randn(2, 1, 28, 28)), ember.tensor([3, 7]))
    graph = draw_graph(loss, params=dict(model.named_parameters()))
    assert {n.name for n in graph.leaves()} == {name for name, _ in model.named_parameters()}
    assert {n.shape for n in graph.leaves()} == {tuple(p.shape) for p in model.parameters()}
    linear = [n for n in graph.functions() if n.name == "LinearBackward0"]
    assert linear[0].saved == ((2, 84), (10, 84))  # the input and the weight, for dW and dx
    conv = [n for n in graph.functions() if n.name == "Conv2dBackward0"]
    assert conv[0].saved == ((2, 6, 14, 14), (16, 6, 5, 5))  # the second conv: its input and weight
    # The first conv runs by strips (ember/ops/conv_rows.py): it saves its weight and the banded weight.
    assert conv[-1].saved[0] == (6, 1, 5, 5)
    # The image and the labels need no gradient: they are not in the graph.
    assert all(n.shape != (2, 1, 28, 28) for n in graph.leaves())
    assert graph.edges[0].shape == ()  # the loss
    assert "saved: (2, 84), (10, 84)" in graph.source


def test_a_tensor_used_twice_is_one_node_with_two_edges():
    a = ember.tensor([0.5, 1.0, 2.0], requires_grad=True)
    b = a.exp()
    c = (b * b + b).sum()
    graph = draw_graph(c, params={"a": a})
    exp = next(n for n in graph.functions() if n.name == "ExpBackward0")
    assert sum(e.source == exp.id for e in graph.edges) == 3
    assert len([n for n in graph.functions() if n.name == "ExpBackward0"]) == 1
    lines = graph.text().splitlines()
    assert sum("(below)" in line for line in lines) == 2
    assert lines[-2].startswith("ExpBackward0  saved (3,) [")  # written out once, after its last user
    assert lines[-1] == "└── a (3,)  AccumulateGrad"


def test_constants_are_left_out_and_several_outputs_share_the_graph():
    w = ember.tensor([1.0, 2.0], requires_grad=True)
    h = w * ember.tensor([3.0, 4.0])  # the constant factor is not a node
    graph = draw_graph((h.sum(), h.mean()), params={"w": w})
    assert [n.kind for n in graph.nodes].count("output") == 2
    assert len(graph.leaves()) == 1
    assert [n.name for n in graph.functions()].count("MulBackward0") == 1


def test_a_leaf_alone_and_a_long_chain():
    x = ember.tensor([1.0], requires_grad=True)
    assert draw_graph(x, params={"x": x}).text() == "x (1,)\n└── x (1,)  AccumulateGrad"
    y = x
    for _ in range(5000):  # the walk and the tree are iterative: no recursion limit
        y = y * 1.0
    graph = draw_graph(y)
    assert len(graph.functions()) == 5000
    assert len(graph.text().splitlines()) == 5002
    assert max(len(line) for line in graph.text().splitlines()) < 40  # a chain is a column, not a staircase


def test_refusals():
    with pytest.raises(ValueError, match="does not require grad"):
        draw_graph(ember.ones(3).sum())
    with pytest.raises(TypeError, match="expected a Tensor"):
        draw_graph([1.0])
    f, leaves = circuit()
    f.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        draw_graph(f)
    g, _ = circuit()
    with pytest.raises(ValueError, match="use one of svg, png, pdf, dot, gv, txt"):
        draw_graph(g).save("graph.jpg")


def test_retain_graph_keeps_it_drawable():
    f, leaves = circuit()
    f.backward(retain_graph=True)
    assert len(draw_graph(f, params=leaves).functions()) == 2


def test_text_and_dot_files(tmp_path):
    f, leaves = circuit()
    graph = draw_graph(f, tmp_path / "f.txt", params=leaves)
    assert graph.path == str(tmp_path / "f.txt")
    assert (tmp_path / "f.txt").read_text(encoding="utf-8") == graph.text() + "\n"
    written = graph.save(tmp_path / "f.gv", format="dot")
    dot = (tmp_path / "f.gv").read_text(encoding="utf-8")
    assert written == str(tmp_path / "f.gv") and graph.note is None
    assert dot.startswith("// The autograd graph") and "digraph autograd {" in dot
    assert dot.count(" -> ") == 5 and dot.count("fillcolor=lightblue") == 3
    assert 'n1 [label="MulBackward0\\nsaved: (), ()", fillcolor=lightgrey]' in dot
    assert dot.rstrip().endswith("}")
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]  # written atomically


def fake_graphviz(pipe):
    module = types.ModuleType("graphviz")

    class ExecutableNotFound(RuntimeError):
        pass

    class Source:
        def __init__(self, source):
            self.source = source

        def pipe(self, format):
            return pipe(self.source, format, ExecutableNotFound)

    module.Source, module.ExecutableNotFound = Source, ExecutableNotFound
    return module


def test_pictures_go_through_graphviz(tmp_path, monkeypatch):
    calls = []

    def pipe(source, format, missing):
        calls.append((source, format))
        return b"<svg>drawn</svg>"

    monkeypatch.setitem(sys.modules, "graphviz", fake_graphviz(pipe))
    f, leaves = circuit()
    graph = draw_graph(f, tmp_path / "f.svg", params=leaves)
    assert (tmp_path / "f.svg").read_bytes() == b"<svg>drawn</svg>"
    assert calls == [(graph.source, "svg")] and graph.note is None


@pytest.mark.parametrize("why", ["no package", "no dot"])
def test_without_graphviz_the_dot_source_is_written_with_a_note(tmp_path, monkeypatch, why):
    if why == "no package":
        monkeypatch.setitem(sys.modules, "graphviz", None)  # import graphviz raises ImportError
    else:
        def pipe(source, format, missing):
            raise missing("failed to execute PosixPath('dot')")

        monkeypatch.setitem(sys.modules, "graphviz", fake_graphviz(pipe))
    f, leaves = circuit()
    with pytest.warns(RuntimeWarning, match="could not draw"):
        graph = draw_graph(f, tmp_path / "f.png", params=leaves)
    assert not (tmp_path / "f.png").exists()
    assert graph.path == str(tmp_path / "f.dot")
    assert "digraph autograd" in (tmp_path / "f.dot").read_text(encoding="utf-8")
    assert ("pip install 'ember[graph]'" if why == "no package" else "dot program") in graph.note
    assert f"dot -Tpng {tmp_path / 'f.dot'} -o {tmp_path / 'f.png'}" in graph.note


def test_cli_prints_the_tree_and_writes_files(tmp_path, capsys, monkeypatch):
    assert main(["graph", "lenet5"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("output ()\nCrossEntropyBackward0")
    assert "features.0.weight (6, 1, 5, 5)  AccumulateGrad" in out
    assert main(["graph", "mlp", "--input-size", "1", "8", "8", "--out", str(tmp_path / "mlp.txt")]) == 0
    assert "wrote" in capsys.readouterr().out
    assert (tmp_path / "mlp.txt").read_text(encoding="utf-8").startswith("output ()")
    monkeypatch.setitem(sys.modules, "graphviz", None)
    assert main(["graph", "lenet5", "--out", str(tmp_path / "lenet5.svg")]) == 0
    captured = capsys.readouterr()
    assert captured.err.count("could not draw") == 1 and "lenet5.dot" in captured.out
    assert (tmp_path / "lenet5.dot").exists()


@pytest.mark.parametrize("argv, message", [
    (["graph", "lenet5", "--out", "x.jpg"], "--out: cannot write x.jpg"),
    (["graph", "lenet6"], "unknown model 'lenet6'"),
    (["graph", "lenet5", "--input-size", "1", "0", "28"], "--input-size must be"),
    (["graph", "lenet5", "--input-size", "1", "4", "4"], "lenet5"),
])
def test_cli_refusals_are_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("ember graph: error:") and message in err and err.count("\n") == 1


class MyReLU(ember.autograd.Function):
    """A custom Function written on Tensors, as a course writes one for torch."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        ctx.threshold = 0.0
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (x > 0)


def test_custom_functions_and_anomaly_mode_are_drawn():
    x = ember.tensor([-1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="Anomaly Detection"), ember.autograd.detect_anomaly():
        y = MyReLU.apply(x * 3.0).sum()
        graph = draw_graph(y, params={"x": x})
    custom = next(n for n in graph.functions() if n.name.startswith("MyReLU"))
    assert custom.saved == ((2,),) and ("threshold", 0.0) in custom.settings
    assert "threshold=0.0" in graph.text()


def test_drawing_leaves_backward_unchanged():
    f, leaves = circuit()
    draw_graph(f, params=leaves).text()
    f.backward()
    assert [t.grad.item() for t in leaves.values()] == [-4.0, -4.0, 3.0]
