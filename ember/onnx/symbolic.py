"""One ONNX translation per Ember op (torch calls these "symbolic" functions).

Each converter gets the GraphBuilder and one recorded :class:`~ember.onnx.trace.OpCall` (the op's
arguments by the names of its ``forward`` parameters, and its output Tensors) and returns the names of
the ONNX values that hold the outputs, in order. The maths is the op's: a converter only restates it with
ONNX operators (gate orders and padding layouts translated where the conventions differ).
"""

from ..backend import xp
from ..ops import activation, conv, elementwise, embedding, linalg, norm, pool, reduce, rnn, shape
from ..ops.pool import _averaging_matrix
from ..tensor import Tensor
from .graph import INT64_MIN, UnsupportedOperatorError

CONVERTERS = {}


def converts(*kinds):
    def register(fn):
        for kind in kinds:
            CONVERTERS[kind] = fn
        return fn

    return register


def convert(g, call):
    fn = CONVERTERS.get(call.kind)
    if fn is None:
        raise UnsupportedOperatorError(
            f"ember.onnx.export: the op {call.name} ({getattr(call.kind, '__module__', 'ember')}.{call.name}) has "
            f"no ONNX translation in Ember yet. Supported ops: {', '.join(sorted(supported_ops()))}."
        )
    out = fn(g, call)
    return out if isinstance(out, list) else [out]


def supported_ops():
    return {k if isinstance(k, str) else k.__name__ for k in CONVERTERS}


def _out(call, i=0):
    return call.outputs[i]


def _pads(pads):
    """Ember's (top, bottom, left, right) -> ONNX's (top, left, bottom, right)."""
    top, bottom, left, right = pads
    return [top, left, bottom, right]


# ---- elementwise ------------------------------------------------------------------------------------------

_UNARY = {activation.ReLU: "Relu", activation.Sigmoid: "Sigmoid", activation.Tanh: "Tanh", elementwise.Neg: "Neg",
          elementwise.Exp: "Exp", elementwise.Log: "Log", elementwise.Sqrt: "Sqrt", elementwise.Abs: "Abs"}
_BINARY = {elementwise.Add: "Add", elementwise.Sub: "Sub", elementwise.Mul: "Mul", elementwise.Div: "Div",
           elementwise.Maximum: "Max", elementwise.Minimum: "Min", linalg.MatMul: "MatMul"}


@converts(*_UNARY)
def _unary(g, call):
    (x,) = [v for k, v in call.args.items()]
    return g.node(_UNARY[call.kind], [g.value(x)])


def _operand(g, v, dtype):
    """A Tensor's value as it is; a plain number or array as a constant of the op's dtype."""
    return g.value(v) if isinstance(v, Tensor) else g.value(xp.asarray(v, dtype=dtype))


@converts(*_BINARY)
def _binary(g, call):
    dtype = _out(call).dtype
    return g.node(_BINARY[call.kind], [_operand(g, call.args["a"], dtype), _operand(g, call.args["b"], dtype)])


@converts(elementwise.Pow)
def _pow(g, call):
    dtype = _out(call).dtype
    return g.node("Pow", [_operand(g, call.args["a"], dtype), _operand(g, call.args["b"], dtype)])


@converts(elementwise.Remainder)
def _remainder(g, call):
    dtype = _out(call).dtype
    a, b = _operand(g, call.args["a"], dtype), _operand(g, call.args["b"], dtype)
    if dtype.kind in "iu":
        return g.node("Mod", [a, b], fmod=0)  # Python's sign rule (the divisor's), as torch.remainder
    quotient = g.node("Floor", [g.node("Div", [a, b])])
    return g.node("Sub", [a, g.node("Mul", [quotient, b])])  # a - floor(a / b) * b


@converts(elementwise.Clamp)
def _clamp(g, call):
    dtype = _out(call).dtype
    lo, hi = call.args["lo"], call.args["hi"]
    bounds = ["" if v is None else _operand(g, v, dtype) for v in (lo, hi)]
    return g.node("Clip", [g.value(call.args["a"])] + bounds)


@converts(elementwise.Where)
def _where(g, call):
    dtype = _out(call).dtype
    cond = call.args["cond"]
    c = g.value(cond) if isinstance(cond, Tensor) else g.value(xp.asarray(cond, dtype=bool))
    return g.node("Where", [c, _operand(g, call.args["a"], dtype), _operand(g, call.args["b"], dtype)])


@converts(elementwise.Cast)
def _cast(g, call):
    return g.node("Cast", [g.value(call.args["a"])], to=g.tensor_type(call.args["dtype"]))


@converts(activation.LeakyReLU)
def _leaky_relu(g, call):
    return g.node("LeakyRelu", [g.value(call.args["x"])], alpha=float(call.args["negative_slope"]))


@converts(activation.ELU)
def _elu(g, call):
    return g.node("Elu", [g.value(call.args["x"])], alpha=float(call.args["alpha"]))


@converts(activation.Softmax, activation.LogSoftmax)
def _softmax(g, call):
    op = "Softmax" if call.kind is activation.Softmax else "LogSoftmax"
    return g.node(op, [g.value(call.args["x"])], axis=int(call.args["axis"]))


# ---- linear algebra and layers ------------------------------------------------------------------------------


@converts(linalg.Linear)
def _linear(g, call):
    x, weight, bias = call.args["x"], call.args["weight"], call.args["bias"]
    if x.ndim == 2:  # y = x Wᵀ + b in one Gemm
        inputs = [g.value(x), g.value(weight)] + ([g.value(bias)] if bias is not None else [])
        return g.node("Gemm", inputs, transB=1)
    y = g.node("MatMul", [g.value(x), g.node("Transpose", [g.value(weight)], perm=[1, 0])])
    return y if bias is None else g.node("Add", [y, g.value(bias)])


@converts(conv.Conv2d)
def _conv2d(g, call):
    a = call.args
    weight = a["weight"]
    inputs = [g.value(a["x"]), g.value(weight)] + ([g.value(a["bias"])] if a["bias"] is not None else [])
    return g.node("Conv", inputs, kernel_shape=list(weight.shape[2:]), strides=list(a["stride"]),
                  pads=_pads(a["pads"]), dilations=list(a["dilation"]), group=int(a["groups"]))


@converts(pool.MaxPool2d)
def _max_pool(g, call):
    a = call.args
    # ceil_mode is already in the pads: Ember pads the far side so the last partial window fits.
    return g.node("MaxPool", [g.value(a["x"])], kernel_shape=list(a["kernel"]), strides=list(a["stride"]),
                  pads=_pads(a["pads"]), dilations=list(a["dilation"]))


@converts(pool.AvgPool2d)
def _avg_pool(g, call):
    a = call.args
    (kh, kw), x = a["kernel"], g.value(a["x"])
    if any(a["pads"]):  # pad with zeros explicitly; the divisor below decides what the zeros count for
        top, bottom, left, right = a["pads"]
        x = g.node("Pad", [x, g.ints([0, 0, top, left, 0, 0, bottom, right], "pads")])
    y = g.node("AveragePool", [x], kernel_shape=[kh, kw], strides=list(a["stride"]))  # Σ window / (kh·kw)
    divisor = xp.asarray(a["divisor"])
    if divisor.ndim == 0 and float(divisor) == kh * kw:
        return y
    scale = (kh * kw / divisor).astype(_out(call).dtype)
    return g.node("Mul", [y, g.constant(scale, "avg_scale")])


@converts(pool.AdaptiveAvgPool2d)
def _adaptive_avg_pool(g, call):
    x, (oh, ow) = call.args["x"], call.args["out_hw"]
    if (oh, ow) == (1, 1):
        return g.node("GlobalAveragePool", [g.value(x)])
    p_h = _averaging_matrix(x.shape[-2], oh, x.dtype)  # the op's own formula: out = P_h · x · P_wᵀ
    p_w = _averaging_matrix(x.shape[-1], ow, x.dtype)
    rows = g.node("MatMul", [g.constant(p_h, "pool_rows"), g.value(x)])
    return g.node("MatMul", [rows, g.constant(xp.ascontiguousarray(p_w.T), "pool_cols")])


@converts(pool.GlobalAvgPool2d)
def _global_avg_pool(g, call):
    x = call.args["x"]
    y = g.node("GlobalAveragePool", [g.value(x)])
    return y if _out(call).ndim == x.ndim else g.squeeze(y, [-2, -1])


@converts(norm.BatchNorm)
def _batch_norm(g, call):
    a = call.args
    if a["training"] or a["running_mean"] is None:
        raise UnsupportedOperatorError(
            "ember.onnx.export: BatchNorm ran with batch statistics (training mode or track_running_stats=False); "
            "export exports inference, so call model.eval() and keep running statistics."
        )
    x = a["x"]
    channels = x.shape[1]
    ones, zeros = xp.ones(channels, dtype=x.dtype), xp.zeros(channels, dtype=x.dtype)
    scale = g.value(a["weight"]) if a["weight"] is not None else g.constant(ones, "bn_scale")
    shift = g.value(a["bias"]) if a["bias"] is not None else g.constant(zeros, "bn_bias")
    inputs = [g.value(x), scale, shift, g.value(a["running_mean"]), g.value(a["running_var"])]
    return g.node("BatchNormalization", inputs, epsilon=float(a["eps"]))


@converts(norm.LocalResponseNorm)
def _lrn(g, call):
    a = call.args
    return g.node("LRN", [g.value(a["x"])], size=int(a["size"]), alpha=float(a["alpha"]), beta=float(a["beta"]),
                  bias=float(a["k"]))


@converts(embedding.Embedding)
def _embedding(g, call):
    return g.node("Gather", [g.value(call.args["weight"]), g.value(call.args["indices"])], axis=0)


@converts("one_hot")
def _one_hot(g, call):
    indices = call.args["input"]
    classes = xp.arange(call.args["num_classes"], dtype=indices.dtype)
    hit = g.node("Equal", [g.unsqueeze(g.value(indices), [-1]), g.constant(classes, "classes")])
    return g.node("Cast", [hit], to=g.tensor_type(_out(call).dtype))


_COMPARISONS = {"less": "Less", "less_equal": "LessOrEqual", "greater": "Greater", "greater_equal": "GreaterOrEqual",
                "equal": "Equal", "not_equal": "Equal", "logical_and": "And", "logical_or": "Or"}


@converts("compare")
def _compare(g, call):
    a, b, op = call.args["a"], call.args["b"], call.args["op"]
    y = g.node(_COMPARISONS[op], [g.value(a), _operand(g, b, a.dtype)])
    return g.node("Not", [y]) if op == "not_equal" else y


@converts("arg_extreme")
def _arg_extreme(g, call):
    a, dim, keep = call.args["a"], call.args["dim"], int(bool(call.args["keepdim"]))
    op = "ArgMax" if call.args["largest"] else "ArgMin"
    if dim is not None:
        return g.node(op, [g.value(a)], axis=int(dim), keepdims=keep)
    flat = g.node("Reshape", [g.value(a), g.ints([-1], "shape")])
    index = g.node(op, [flat], axis=0, keepdims=0)  # the index into the flattened tensor
    return g.node("Reshape", [index, g.ints(_out(call).shape, "shape")]) if _out(call).ndim else index


# ---- recurrent layers -------------------------------------------------------------------------------------

# Row blocks of the weights: Ember/torch order -> ONNX order. LSTM: (i, f, g, o) -> (i, o, f, c);
# GRU: (r, z, n) -> (z, r, h).
_GATE_ORDER = {"lstm": [0, 3, 1, 2], "gru": [1, 0, 2], "rnn_tanh": [0], "rnn_relu": [0]}


def _gates(array, mode):
    blocks = xp.split(array, len(_GATE_ORDER[mode]), axis=0)
    return xp.concatenate([blocks[i] for i in _GATE_ORDER[mode]], axis=0)[None]  # (1, G·H, ...)


@converts(rnn.Recurrence)
def _recurrence(g, call):
    a = call.args
    mode = a["mode"]
    if a["batch_sizes"] is not None:
        raise UnsupportedOperatorError("ember.onnx.export: packed sequences (PackedSequence) are not exported; "
                                       "pass padded batches")
    w_ih, w_hh = a["w_ih"].array, a["w_hh"].array
    hidden = w_hh.shape[1]
    biases = [b.array if b is not None else xp.zeros(w_hh.shape[0], dtype=w_hh.dtype) for b in (a["b_ih"], a["b_hh"])]
    inputs = [
        g.value(a["x"]),
        g.constant(_gates(w_ih, mode), "W"),
        g.constant(_gates(w_hh, mode), "R"),
        g.constant(xp.concatenate([_gates(b, mode) for b in biases], axis=1), "B"),
        "",  # sequence_lens: every sequence runs the whole length
        g.unsqueeze(g.value(a["h0"]), [0]) if a["h0"] is not None else "",
    ]
    attributes = {"hidden_size": hidden, "direction": "reverse" if a["reverse"] else "forward"}
    if mode == "lstm":
        op = "LSTM"
        inputs.append(g.unsqueeze(g.value(a["c0"]), [0]) if a["c0"] is not None else "")
    elif mode == "gru":
        op, attributes["linear_before_reset"] = "GRU", 1  # torch's GRU: r ⊙ (W_hn h + b_hn)
    else:
        op, attributes["activations"] = "RNN", ["Tanh" if mode == "rnn_tanh" else "Relu"]
    while inputs[-1] == "":
        inputs.pop()
    outs = g.node(op, inputs, outputs=len(call.outputs), **attributes)
    return [g.squeeze(outs[0], [1])] + [g.squeeze(o, [0]) for o in outs[1:]]


# ---- shapes ---------------------------------------------------------------------------------------------------


@converts(shape.Reshape)
def _reshape(g, call):
    x, target = call.args["a"], list(call.args["shape"])
    # A dimension kept from the input at the same position is written 0 ("copy it"), so a batch dimension
    # stays dynamic: flatten's (N, -1) becomes (0, -1).
    dims = [0 if i < x.ndim and d == x.shape[i] and d > 0 else d for i, d in enumerate(target)]
    return g.node("Reshape", [g.value(x), g.ints(dims, "shape")])


@converts(shape.Permute)
def _permute(g, call):
    return g.node("Transpose", [g.value(call.args["a"])], perm=[int(i) for i in call.args["axes"]])


@converts(shape.Expand)
def _expand(g, call):
    return g.node("Expand", [g.value(call.args["a"]), g.ints(_out(call).shape, "shape")])


@converts(shape.Cat)
def _cat(g, call):
    dtype = _out(call).dtype
    return g.node("Concat", [_operand(g, v, dtype) for v in call.args["arrays"]], axis=int(call.args["axis"]))


@converts(shape.Stack)
def _stack(g, call):
    axis = int(call.args["axis"])
    axis = axis + _out(call).ndim if axis < 0 else axis
    parts = [g.unsqueeze(g.value(v), [axis]) for v in call.args["arrays"]]
    return g.node("Concat", parts, axis=axis)


@converts(shape.GetItem)
def _getitem(g, call):
    x, index = call.args["a"], call.args["index"]
    index = index if isinstance(index, tuple) else (index,)
    if any(not (i is None or i is Ellipsis or isinstance(i, (int, slice))) or isinstance(i, bool) for i in index):
        raise UnsupportedOperatorError("ember.onnx.export: GetItem with a tensor, list or bool index (advanced "
                                       "indexing) is not exported; only ints, slices, None and ...")
    used = sum(1 for i in index if i is not None and i is not Ellipsis)
    if Ellipsis in index:
        at = index.index(Ellipsis)
        index = index[:at] + (slice(None),) * (x.ndim - used) + index[at + 1 :]
    starts, ends, axes, steps, squeeze, unsqueeze = [], [], [], [], [], []
    axis = out_axis = 0
    for item in index:
        if item is None:
            unsqueeze.append(out_axis)
            out_axis += 1
            continue
        size = x.shape[axis]
        if isinstance(item, int):
            i = item + size if item < 0 else item
            starts.append(i), ends.append(i + 1), axes.append(axis), steps.append(1), squeeze.append(axis)
        else:
            start, stop, step = item.indices(size)
            if (start, stop, step) != (0, size, 1):
                if step < 0 and stop < 0:
                    stop = INT64_MIN  # "through index 0" going backwards
                starts.append(start), ends.append(stop)
                axes.append(axis), steps.append(step)
            out_axis += 1
        axis += 1
    y = g.value(x)
    if axes:
        y = g.node("Slice", [y, g.ints(starts, "starts"), g.ints(ends, "ends"), g.ints(axes, "axes"),
                             g.ints(steps, "steps")])
    if squeeze:
        y = g.squeeze(y, squeeze)
    if unsqueeze:
        y = g.unsqueeze(y, unsqueeze)
    if y == g.value(x):
        y = g.node("Identity", [y])
    return y


# ---- reductions -------------------------------------------------------------------------------------------------


def _as_dtype(g, name, array, dtype):
    return name if array.dtype == dtype else g.node("Cast", [name], to=g.tensor_type(dtype))


@converts(reduce.Sum, reduce.Mean)
def _sum_mean(g, call):
    a = call.args
    x = _as_dtype(g, g.value(a["a"]), a["a"], _out(call).dtype)  # torch sums bools and ints as int64
    return g.reduce("ReduceSum" if call.kind is reduce.Sum else "ReduceMean", x, a["axes"], a["keepdim"])


@converts(reduce.Amax)
def _amax(g, call):
    a = call.args
    return g.reduce("ReduceMax" if a["largest"] else "ReduceMin", g.value(a["a"]), a["axes"], a["keepdim"])


@converts(reduce.MaxDim)
def _max_dim(g, call):
    a = call.args
    axis, keep = int(a["axis"]), int(bool(a["keepdim"]))
    values = g.reduce("ReduceMax" if a["largest"] else "ReduceMin", g.value(a["a"]), [axis], keep)
    indices = g.node("ArgMax" if a["largest"] else "ArgMin", [g.value(a["a"])], axis=axis, keepdims=keep)
    return [values, indices]


@converts(reduce.Var)
def _var(g, call):
    a = call.args
    x, axes, keep = a["a"], a["axes"], a["keepdim"]
    name = g.value(x)
    mean = g.reduce("ReduceMean", name, axes, True)
    deviation = g.node("Sub", [name, mean])
    total = g.reduce("ReduceSum", g.node("Mul", [deviation, deviation]), axes, keep)
    reduced = range(x.ndim) if axes is None else ([axes] if isinstance(axes, int) else axes)
    count = 1
    for i in reduced:
        count *= x.shape[i]
    denominator = xp.asarray(max(count - a["correction"], 0), dtype=_out(call).dtype)
    return g.node("Div", [total, g.constant(denominator, "dof")])
