"""``ember.onnx.export``: torch.onnx.export's call, by tracing the ops a forward runs.

The model runs once (in eval mode, without gradients) on the example ``args``, with every Function call
recorded (see :mod:`ember.onnx.trace`); each recorded op is translated to ONNX operators by its converter
in :mod:`ember.onnx.symbolic`; parameters and buffers become initializers under their ``state_dict``
names. The graph is exactly the ops this input took: Python control flow is evaluated once, as in torch's
tracer, and the export refuses a forward whose ops or constants change with the input values.
"""

import io
import os

from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from .graph import GraphBuilder
from .symbolic import convert
from .trace import check_input_independent, run_traced


def _import_onnx():
    try:
        import onnx
    except ImportError as e:
        raise ImportError(
            "ember.onnx.export needs the onnx package: pip install 'ember[onnx]' (or pip install onnx)"
        ) from e
    return onnx


def _split_args(args):
    """torch's convention: a Tensor, or a tuple of positional inputs whose last item may be a kwargs dict."""
    if isinstance(args, Tensor):
        return [args], {}
    if not isinstance(args, (tuple, list)):
        raise TypeError(f"ember.onnx.export: args must be a Tensor or a tuple of Tensors, got {type(args).__name__}")
    args = list(args)
    kwargs = args.pop() if args and isinstance(args[-1], dict) else {}
    return args, kwargs


def _flatten(outputs, where="output"):
    if isinstance(outputs, Tensor):
        return [outputs]
    if isinstance(outputs, (tuple, list)):
        return [t for o in outputs for t in _flatten(o, where)]
    if isinstance(outputs, dict):
        return [t for o in outputs.values() for t in _flatten(o, where)]
    raise TypeError(f"ember.onnx.export: the model returned a {type(outputs).__name__}; only Tensors and "
                    f"tuples/lists/dicts of Tensors can be graph outputs")


def _names(given, count, default):
    if given is None:
        given = []
    given = list(given)
    if len(given) > count:
        raise ValueError(f"ember.onnx.export: {len(given)} names given for {count} {default}s")
    return given + [default if count == 1 else f"{default}_{i}" for i in range(len(given), count)]


def _dynamic(dynamic_axes, name):
    """dynamic_axes[name]: {axis: 'name'} or [axes] (named '<name>_dynamic_axes_<i>' as in torch)."""
    spec = (dynamic_axes or {}).get(name)
    if spec is None:
        return None
    if isinstance(spec, dict):
        return {int(k): str(v) for k, v in spec.items()}
    return {int(a): f"{name}_dynamic_axes_{i + 1}" for i, a in enumerate(spec)}


def export(model, args, f, export_params=True, verbose=False, training=None, input_names=None, output_names=None,
           operator_export_type=None, opset_version=None, do_constant_folding=True, dynamic_axes=None,
           keep_initializers_as_inputs=None, custom_opsets=None, export_modules_as_functions=False, **kwargs):
    """Export ``model`` run on ``args`` to the ONNX file ``f`` (a path, written atomically, or a binary file).

    Args (torch.onnx.export's): ``model`` an nn.Module (or a callable of Tensors), ``args`` a Tensor or a
    tuple of them (a trailing dict holds keyword arguments), ``input_names``/``output_names`` (default
    ``input``/``output``, numbered when there are several), ``dynamic_axes`` (``{name: {axis: 'batch'}}`` or
    ``{name: [axes]}``), ``opset_version`` (default 17; 13 to 21 are produced), ``verbose`` prints the graph.
    The model is exported in eval mode (``training`` may only be None or eval) and restored afterwards;
    ``export_params`` must be True (the weights are stored in the file). ``do_constant_folding`` and the
    remaining options are accepted for torch's signature; the exported graph is already folded (the ops
    that ran, with constant arguments baked in).

    Tensors made inside ``forward`` without ember ops (``ember.zeros(x.shape)``) are constants of the traced
    shape, so a ``dynamic_axes`` batch dimension only works for models that do not make them (LeNet, VGG,
    the char-LM; not the option-A ResNet shortcuts, whose zero channels are such constants).

    Raises:
        ember.onnx.UnsupportedOperatorError: an op has no ONNX translation (the message names it).
    """
    onnx = _import_onnx()
    opset_version = 17 if opset_version is None else int(opset_version)
    if not 13 <= opset_version <= 21:
        raise ValueError(f"ember.onnx.export: opset_version must be between 13 and 21, got {opset_version}")
    if not export_params:
        raise ValueError("ember.onnx.export: export_params=False (weights as graph inputs) is not supported; "
                         "the exported file always holds the weights")
    if training is not None and str(training).rsplit(".", 1)[-1].upper() not in ("EVAL", "FALSE", "0"):
        raise ValueError(f"ember.onnx.export: only inference graphs are exported (training=TrainingMode.EVAL), "
                         f"got training={training!r}")
    inputs, forward_kwargs = _split_args(args)
    was_training = getattr(model, "training", None)
    if was_training:
        model.eval()
    try:
        with no_grad():
            call = (lambda *xs: model(*xs, **forward_kwargs)) if forward_kwargs else model
            trace, outputs = run_traced(call, inputs)
            g = GraphBuilder(onnx, opset_version)
            if hasattr(model, "state_dict"):
                for name, value in model.state_dict(keep_vars=True).items():
                    g.add_state(name, value)
            tensor_inputs = [x for x in inputs if isinstance(x, Tensor)]
            input_names = _names(input_names, len(tensor_inputs), "input")
            for x, name in zip(tensor_inputs, input_names):
                g.taken.add(name)
                g.bind(x, name)
            check_input_independent(call, inputs, trace, g.is_known)
            model_proto = _build(onnx, g, trace, tensor_inputs, input_names, outputs, output_names, dynamic_axes)
    finally:
        if was_training:
            model.train()
    if verbose:
        print(onnx.helper.printable_graph(model_proto.graph))
    _write(model_proto, f)


def _build(onnx, g, trace, inputs, input_names, outputs, output_names, dynamic_axes):
    for call in trace.calls:
        names = convert(g, call)
        for tensor, name in zip(call.outputs, names):
            g.bind(tensor, name)
    results = _flatten(outputs)
    output_names = _names(output_names, len(results), "output")
    graph_outputs = []
    for tensor, name in zip(results, output_names):
        g.nodes.append(onnx.helper.make_node("Identity", [g.value(tensor)], [name], name=f"output_{name}"))
        graph_outputs.append(g.value_info(name, tensor.array, _dynamic(dynamic_axes, name)))
    graph_inputs = [g.value_info(n, x.array, _dynamic(dynamic_axes, n)) for x, n in zip(inputs, input_names)]
    graph = onnx.helper.make_graph(g.nodes, "ember_graph", graph_inputs, graph_outputs, g.initializers)
    opset = [onnx.helper.make_opsetid("", g.opset)]
    model = onnx.helper.make_model(graph, opset_imports=opset, producer_name="ember",
                                   ir_version=onnx.helper.find_min_ir_version_for(opset))
    onnx.checker.check_model(model)
    return model


def _write(model, f):
    data = model.SerializeToString()
    if isinstance(f, (str, os.PathLike)):
        from ..serialization import write_atomically

        write_atomically(os.fspath(f), lambda stream: stream.write(data))
    elif isinstance(f, io.IOBase) or hasattr(f, "write"):
        f.write(data)
    else:
        raise TypeError(f"ember.onnx.export: f must be a path or a binary file object, got {type(f).__name__}")
