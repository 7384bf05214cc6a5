"""Recurrent layers: RNN, GRU and LSTM over whole sequences (deep, bidirectional), and their single-step cells.

The layers own the weights, check shapes and stack layers and directions; the recurrence itself and its
backpropagation through time are one Function in ``ember.ops.rnn``. Parameter names, shapes, gate order
and initialisation (every weight and bias uniform on ±1/√hidden_size) are PyTorch's, so a torch
state_dict loads 1:1: ``weight_ih_l0`` (gates·H, input_size), ``weight_hh_l0`` (gates·H, H),
``bias_ih_l0``, ``bias_hh_l0``, and ``..._reverse`` for the second direction of a bidirectional layer.

Deep RNN: layer l reads the outputs of layer l − 1 (both directions concatenated). Bidirectional RNN: a
second recurrence reads the sequence from the end, and output[t] = [h→_t ; h←_t]. Sequences of different
lengths come as a PackedSequence (``ember.nn.utils.rnn``), and the output is packed the same way.
"""

import math
import operator
from numbers import Number

from .. import backend
from ..backend import xp
from ..ops.dropout import dropout
from ..ops.validate import ShapeError, same_dtype, size, tensor_input
from ..ops.rnn import GATES, recurrence
from ..ops.shape import cat, stack, transpose, unsqueeze
from . import init
from .module import Module
from .parameter import Parameter
from .utils.rnn import PackedSequence, pack_sorted, padded_sorted


def _uniform_by_hidden_size(module):
    """PyTorch's initialisation of every recurrent weight and bias: U(±1/√hidden_size)."""
    bound = 1 / math.sqrt(module.hidden_size)
    for p in module.parameters():
        init.uniform_(p, -bound, bound)


class RNNBase(Module):
    """The machinery shared by RNN, GRU and LSTM (``mode`` picks the cell)."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        if proj_size:
            raise ValueError(f"{name}: proj_size={proj_size} is not supported by Ember; use proj_size=0 and, "
                             "if you need a projection, a Linear layer on the output")
        try:  # any integer (a NumPy vocabulary size too)
            input_size = operator.index(input_size)
        except TypeError:
            raise TypeError(f"{name}: input_size should be an int, got input_size={input_size!r}") from None
        for what, value in (("hidden_size", hidden_size), ("num_layers", num_layers)):
            if not isinstance(value, int) or isinstance(value, bool):  # torch: TypeError, then ValueError
                raise TypeError(f"{name}: {what} should be of type int, got {what}={value!r} ({type(value).__name__})")
        for what, value in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
            if value <= 0:
                raise ValueError(f"{name}: {what} must be greater than zero, got {what}={value}")
        if not (isinstance(dropout, Number) and not isinstance(dropout, bool) and 0 <= dropout <= 1):
            raise ValueError(f"{name}: dropout should be a number in range [0, 1] representing the probability of "
                             f"an element being zeroed, got dropout={dropout}")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, 0
        dtype = backend.default_dtype if dtype is None else dtype
        gate_size = GATES[mode] * hidden_size
        num_directions = 2 if bidirectional else 1
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * num_directions
            for suffix in ("", "_reverse")[:num_directions]:
                setattr(self, f"weight_ih_l{layer}{suffix}", Parameter(xp.empty((gate_size, layer_input), dtype=dtype)))
                setattr(self, f"weight_hh_l{layer}{suffix}", Parameter(xp.empty((gate_size, hidden_size), dtype=dtype)))
                if bias:
                    setattr(self, f"bias_ih_l{layer}{suffix}", Parameter(xp.empty(gate_size, dtype=dtype)))
                    setattr(self, f"bias_hh_l{layer}{suffix}", Parameter(xp.empty(gate_size, dtype=dtype)))
        self.reset_parameters()
        if device is not None:  # torch's factory keyword: build here, then place (raises for a missing GPU)
            self.to(device)

    def reset_parameters(self):
        _uniform_by_hidden_size(self)

    def flatten_parameters(self):
        """Does nothing and returns None, as torch's does on the CPU: torch packs the weights into one
        contiguous cuDNN buffer here, and Ember has no cuDNN weight buffer — each weight is its own array,
        and the recurrence reads them in place. Kept so that torch code calling it runs unchanged."""
        return None

    @property
    def _flat_weights_names(self):
        """The parameter names in torch's flat order (layer, then direction, then w_ih, w_hh, b_ih, b_hh):
        torch code initialises an RNN by walking them (``module._parameters[name]``)."""
        suffixes = ("", "_reverse")[:2 if self.bidirectional else 1]
        kinds = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")[:4 if self.bias else 2]
        return [f"{kind}_l{layer}{suffix}" for layer in range(self.num_layers) for suffix in suffixes
                for kind in kinds]

    @property
    def _flat_weights(self):
        """The parameters themselves, in the order of ``_flat_weights_names``."""
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        """torch's ``all_weights``: per layer and direction, the list [w_ih, w_hh, b_ih, b_hh]."""
        per = 4 if self.bias else 2
        flat = self._flat_weights
        return [flat[i:i + per] for i in range(0, len(flat), per)]

    def _weights(self, layer, suffix):
        return tuple(getattr(self, f"{kind}_l{layer}{suffix}", None)
                     for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        name = type(self).__name__
        tensor_input(input, name)
        batched = input.ndim == 3
        if input.ndim not in (2, 3):
            raise ShapeError(f"{name}: expected input of shape (seq_len, batch, input_size) "
                             f"{'or (batch, seq_len, input_size) ' if self.batch_first else ''}or unbatched "
                             f"(seq_len, input_size), got {tuple(input.shape)}")
        self._check_features(input)
        weight_dtype = self.weight_ih_l0.dtype
        if input.dtype != weight_dtype:  # torch raises ValueError here (not RuntimeError)
            raise ValueError(f"{name}: input dtype {input.dtype} does not match weight dtype {weight_dtype}; convert "
                             f"the input with input.to(ember.{weight_dtype}) or the model with "
                             f"model.to(ember.{input.dtype})")
        x = input if not batched else (transpose(input, 0, 1) if self.batch_first else input)
        if not batched:
            x = unsqueeze(x, 1)
        h0, c0 = self._initial_states(hx, x.shape[1], batched)
        output, h_n, c_n = self._layers(x, h0, c0)
        if not batched:
            output, h_n = output[:, 0], h_n[:, 0]
            c_n = c_n[:, 0] if c_n is not None else None
        elif self.batch_first:
            output = transpose(output, 0, 1)
        return (output, (h_n, c_n)) if self.mode == "lstm" else (output, h_n)

    def _forward_packed(self, packed, hx):
        """Sequences of different lengths: run on the sorted padded rectangle, each stopping at its end."""
        self._check_features(packed.data)
        x, _ = padded_sorted(packed)
        batch_sizes = packed.batch_sizes.array
        order, undo = packed.sorted_indices, packed.unsorted_indices
        h0, c0 = self._initial_states(hx, x.shape[1], True)
        if order is not None:  # initial states come in the caller's batch order
            h0 = h0[:, order.array] if h0 is not None else None
            c0 = c0[:, order.array] if c0 is not None else None
        output, h_n, c_n = self._layers(x, h0, c0, batch_sizes)
        output = PackedSequence(pack_sorted(output, batch_sizes), packed.batch_sizes, order, undo)
        if undo is not None:
            h_n = h_n[:, undo.array]
            c_n = c_n[:, undo.array] if c_n is not None else None
        return (output, (h_n, c_n)) if self.mode == "lstm" else (output, h_n)

    def _layers(self, x, h0, c0, batch_sizes=None):
        """Every layer and direction over a time-major (T, B, F) input: (output, h_n, c_n or None)."""
        num_directions = 2 if self.bidirectional else 1
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction, suffix in enumerate(("", "_reverse")[:num_directions]):
                k = layer * num_directions + direction
                result = recurrence(x, None if h0 is None else h0[k], None if c0 is None else c0[k],
                                    *self._weights(layer, suffix), mode=self.mode, reverse=direction == 1,
                                    batch_sizes=batch_sizes)
                outputs.append(result[0])
                h_n.append(result[1])
                if self.mode == "lstm":
                    c_n.append(result[2])
            x = outputs[0] if num_directions == 1 else cat(outputs, dim=2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = dropout(x, self.dropout, True)  # between layers only, as in torch
        return x, stack(h_n), (stack(c_n) if self.mode == "lstm" else None)

    def _check_features(self, input):
        if input.shape[-1] != self.input_size:
            raise ShapeError(f"{type(self).__name__}(input_size={self.input_size}) got input with "
                             f"{input.shape[-1]} features (shape {tuple(input.shape)}); make the last axis "
                             f"{self.input_size} features")

    def _initial_states(self, hx, batch, batched):
        name = type(self).__name__
        if hx is None:
            return None, None
        states = hx if self.mode == "lstm" else (hx,)
        if self.mode == "lstm" and not (isinstance(hx, (tuple, list)) and len(hx) == 2):
            raise ValueError(f"{name}: hx must be a tuple (h_0, c_0) for an LSTM")
        layers = self.num_layers * (2 if self.bidirectional else 1)
        expected = (layers, batch, self.hidden_size) if batched else (layers, self.hidden_size)
        for label, s in zip(("h_0", "c_0"), states):
            if tuple(s.shape) != expected:
                raise ShapeError(f"{name}: expected {label} of shape {expected} (num_layers * num_directions, "
                                 f"{'batch, ' if batched else ''}hidden_size), got {tuple(s.shape)}")
        if not batched:
            states = tuple(unsqueeze(s, 1) for s in states)
        return states[0], (states[1] if self.mode == "lstm" else None)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.mode == "rnn_relu":
            s += ", nonlinearity='relu'"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        for flag, default in (("bias", True), ("batch_first", False), ("dropout", 0.0), ("bidirectional", False)):
            if getattr(self, flag) != default:
                s += f", {flag}={getattr(self, flag)}"
        return s


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh) (or ReLU with ``nonlinearity='relu'``).

    Returns (output, h_n): output (T, B, D·H) holds the last layer's state at every step, h_n (L·D, B, H)
    every layer's and direction's final state.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(f"rnn_{nonlinearity}", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype)


class GRU(RNNBase):
    """Gated recurrent unit (Cho et al. 2014), gates r, z, n in torch's order; returns (output, h_n)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        super().__init__("gru", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)


class LSTM(RNNBase):
    """Long short-term memory (Hochreiter & Schmidhuber 1997), gates i, f, g, o in torch's order.

    Returns (output, (h_n, c_n)); ``hx`` is the tuple (h_0, c_0) or None for zeros.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("lstm", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device=device, dtype=dtype)


class RNNCellBase(Module):
    """One time step of a recurrent layer: (x_t, h_{t-1}) -> h_t. It runs the same Function as the
    sequence layers on a sequence of length one, so the cell's formula lives in one place."""

    def __init__(self, mode, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        for what, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            size(value, what, type(self).__name__)
        self.mode, self.input_size, self.hidden_size, self.bias = mode, input_size, hidden_size, bias
        dtype = backend.default_dtype if dtype is None else dtype
        gate_size = GATES[mode] * hidden_size
        self.weight_ih = Parameter(xp.empty((gate_size, input_size), dtype=dtype))
        self.weight_hh = Parameter(xp.empty((gate_size, hidden_size), dtype=dtype))
        if bias:
            self.bias_ih = Parameter(xp.empty(gate_size, dtype=dtype))
            self.bias_hh = Parameter(xp.empty(gate_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()
        if device is not None:  # torch's factory keyword: build here, then place (raises for a missing GPU)
            self.to(device)

    def reset_parameters(self):
        _uniform_by_hidden_size(self)

    def _step(self, input, states):
        name = type(self).__name__
        tensor_input(input, name)
        if input.ndim not in (1, 2) or input.shape[-1] != self.input_size:
            raise ShapeError(f"{name}(input_size={self.input_size}): expected input of shape (batch, "
                             f"{self.input_size}) or ({self.input_size},), got {tuple(input.shape)}")
        batched = input.ndim == 2
        expected = (input.shape[0], self.hidden_size) if batched else (self.hidden_size,)
        for s in states:
            if s is not None and tuple(s.shape) != expected:
                raise ShapeError(f"{name}: expected a state of shape {expected}, got {tuple(s.shape)}")
        same_dtype(input, self.weight_ih, name)
        x = unsqueeze(input if batched else unsqueeze(input, 0), 0)  # a sequence of one step
        states = [s if s is None or batched else unsqueeze(s, 0) for s in states]
        result = recurrence(x, *states, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, mode=self.mode)
        finals = result[1:]
        return finals if batched else tuple(f[0] for f in finals)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if self.mode == "rnn_relu":
            s += ", nonlinearity='relu'"
        return s


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh) (or ReLU); h defaults to zeros."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(f"rnn_{nonlinearity}", input_size, hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):
        return self._step(input, (hx, None))[0]


class GRUCell(RNNCellBase):
    """One GRU step (gates r, z, n); h defaults to zeros."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__("gru", input_size, hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):
        return self._step(input, (hx, None))[0]


class LSTMCell(RNNCellBase):
    """One LSTM step (gates i, f, g, o): (x, (h, c)) -> (h', c'); the state defaults to zeros."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__("lstm", input_size, hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):
        h, c = (None, None) if hx is None else hx
        return self._step(input, (h, c))
