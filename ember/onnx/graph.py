"""GraphBuilder: names the values of a traced forward and collects ONNX nodes and initializers.

A value is known by the object that carries it: the example inputs and every op's output Tensors by
``id``; the model's parameters and buffers by ``id`` of the Tensor or of its array (a BatchNorm op gets its
running statistics as arrays), under their ``state_dict`` names. Anything else an op reads — a Python
number, a tensor made inside the forward — becomes a constant initializer.
"""

from ..backend import xp
from ..tensor import Tensor

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class UnsupportedOperatorError(RuntimeError):
    """An op of the traced forward has no ONNX translation (torch.onnx.errors.UnsupportedOperatorError)."""


class GraphBuilder:
    def __init__(self, onnx, opset_version):
        self.onnx, self.helper, self.opset = onnx, onnx.helper, opset_version
        self.nodes, self.initializers = [], []
        self.values = {}  # id(Tensor) -> name
        self.arrays = {}  # id(Tensor.array) -> name, for ops that are handed the array (Embedding's indices)
        self.states = {}  # id(parameter or buffer Tensor, or of its array) -> (name, array)
        self.added = set()
        self.taken = set()
        self.keep = []  # objects whose ids are keys above

    # ---- names ----------------------------------------------------------------------------------------

    def fresh(self, base):
        base = base.replace("/", "_") or "v"
        name, i = base, 0
        while name in self.taken:
            i += 1
            name = f"{base}_{i}"
        self.taken.add(name)
        return name

    def bind(self, tensor, name):
        self.values[id(tensor)] = name
        self.arrays.setdefault(id(tensor.array), name)
        self.keep.append(tensor)

    def add_state(self, name, tensor):
        """Register a parameter or buffer; it becomes an initializer the first time an op reads it."""
        for obj in (tensor, tensor.array):
            self.states.setdefault(id(obj), (name, tensor.array))
        self.keep.append(tensor)

    def is_known(self, v):
        """Whether ``v`` is an input, an op's output, a parameter or a buffer (not a constant)."""
        keys = (id(v), id(getattr(v, "array", None)))
        return any(k in self.values or k in self.arrays or k in self.states for k in keys)

    # ---- values ---------------------------------------------------------------------------------------

    def value(self, v, dtype=None):
        """The name of the ONNX value for an op argument (a constant initializer when it is not known)."""
        if isinstance(v, Tensor) and id(v) in self.values:
            return self.values[id(v)]
        if isinstance(v, xp.ndarray) and id(v) in self.arrays:
            return self.arrays[id(v)]
        for key in (id(v), id(getattr(v, "array", None))):
            if key in self.states:
                name, array = self.states[key]
                if name not in self.added:
                    self.added.add(name)
                    self.taken.add(name)
                    self.initializers.append(self.onnx.numpy_helper.from_array(xp.asarray(array), name))
                return name
        array = v.array if isinstance(v, Tensor) else v
        if not isinstance(array, xp.ndarray) and dtype is None and isinstance(v, float):
            dtype = xp.float32
        return self.constant(xp.asarray(array, dtype=dtype))

    def constant(self, array, hint="const"):
        name = self.fresh(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(xp.ascontiguousarray(array), name))
        return name

    def ints(self, values, hint="ints"):
        return self.constant(xp.asarray(list(values), dtype=xp.int64), hint)

    # ---- nodes ----------------------------------------------------------------------------------------

    def node(self, op_type, inputs, outputs=1, **attributes):
        """Add a node; returns its output name (or the list of names when ``outputs`` > 1)."""
        names = [self.fresh(f"{op_type}_{len(self.nodes)}") for _ in range(outputs)]
        attributes = {k: v for k, v in attributes.items() if v is not None}
        self.nodes.append(self.helper.make_node(op_type, list(inputs), names, name=f"{op_type}_{len(self.nodes)}",
                                                **attributes))
        return names[0] if outputs == 1 else names

    def tensor_type(self, dtype):
        return self.helper.np_dtype_to_tensor_dtype(xp.dtype(dtype))

    def value_info(self, name, array, dynamic=None):
        dims = [dynamic.get(i, d) if dynamic else d for i, d in enumerate(array.shape)]
        return self.helper.make_tensor_value_info(name, self.tensor_type(array.dtype), dims)

    # ---- shared building blocks -----------------------------------------------------------------------

    def squeeze(self, x, axes):
        return self.node("Squeeze", [x, self.ints(axes, "axes")])

    def unsqueeze(self, x, axes):
        return self.node("Unsqueeze", [x, self.ints(axes, "axes")])

    def reduce(self, op, x, axes, keepdim):
        """ReduceSum takes ``axes`` as an input from opset 13, the other reductions from opset 18."""
        keep = int(bool(keepdim))
        if axes is None:
            return self.node(op, [x], keepdims=keep)
        axes = [axes] if isinstance(axes, int) else list(axes)
        if op == "ReduceSum" or self.opset >= 18:
            return self.node(op, [x, self.ints(axes, "axes")], keepdims=keep)
        return self.node(op, [x], axes=axes, keepdims=keep)
