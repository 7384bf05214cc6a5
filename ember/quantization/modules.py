"""int8 layers for inference (torch's ``torch.ao.nn.quantized`` and ``.dynamic``). Each holds its weight as
int8 integers with a scale (and zero point 0: symmetric), a float32 bias, and runs its product in integers
(``functional``). They take and return float tensors, quantising at their own input:

- *dynamic* (``DynamicQuantizedLinear``, ``QuantizedLSTM``): the input's scale is computed from each batch's
  own min and max, at run time — nothing to calibrate; the weights are quantised per tensor (torch's default).
- *static* (``QuantizedLinear``, ``QuantizedConv2d``): the input's and the output's (scale, zero point) were
  fixed by calibration (``prepare`` → batches → ``convert``); the output is rounded to its int8 grid, as the
  next layer of an int8 network would receive it; the weights are quantised per output channel.

They have no backward: they run in eval mode only.
"""

from ..backend import xp
from ..nn.module import Module
from ..ops.activation import sigmoid, tanh
from ..tensor import Tensor
from . import functional as QF
from .observer import MinMaxObserver, PerChannelMinMaxObserver
from .qtensor import QTensor, qint8, quantize_array


def _quantize_weight(w, per_channel):
    """(int8 weight, scales, zero points): symmetric, per output channel or per tensor."""
    observer = PerChannelMinMaxObserver(0) if per_channel else MinMaxObserver(qint8, "per_tensor_symmetric")
    observer(w)
    scale, zero = (t.array.reshape(-1) for t in observer.calculate_qparams())
    shape = (-1,) + (1,) * (w.ndim - 1)
    q = quantize_array(w.array, scale.reshape(shape), zero.reshape(shape), qint8)
    return q, scale.astype(xp.float32), zero.astype(xp.int32)


class _QuantizedBase(Module):
    """Weight as int8 buffers (``weight_int8``, ``weight_scale``, ``weight_zero_point``) and a float bias."""

    def _set_weight(self, w, bias, per_channel):
        q, scale, zero = _quantize_weight(w, per_channel)
        self.register_buffer("weight_int8", Tensor(q))
        self.register_buffer("weight_scale", Tensor(scale))
        self.register_buffer("weight_zero_point", Tensor(zero))
        self.register_buffer("bias", None if bias is None else Tensor(bias.array.astype(xp.float32).copy()))

    def _set_qparams(self, observer, prefix):
        scale, zero = observer.calculate_qparams()
        self.register_buffer(prefix + "scale", Tensor(scale.array.astype(xp.float32)))
        self.register_buffer(prefix + "zero_point", Tensor(zero.array.astype(xp.int64)))

    def _check_eval(self, x):
        if self.training:
            raise RuntimeError(f"{type(self).__name__} is an inference layer (int8, no backward): call model.eval() "
                               f"before running it")
        if not isinstance(x, Tensor):
            raise TypeError(f"{type(self).__name__}: expected a Tensor input, got {type(x).__name__}")

    def weight(self):
        """The int8 weight as a QTensor (torch's quantised modules have ``weight()`` as a method too)."""
        scale, zero = self.weight_scale.array, self.weight_zero_point.array
        if scale.size == 1:
            return QTensor(self.weight_int8.array, float(scale[0]), int(zero[0]), qint8)
        return QTensor(self.weight_int8.array, scale, zero, qint8, axis=0)

    def _q(self, prefix):
        return float(getattr(self, prefix + "scale").array), int(getattr(self, prefix + "zero_point").array)

    def _bias(self):
        return None if self.bias is None else self.bias.array


class DynamicQuantizedLinear(_QuantizedBase):
    """y = x wᵀ + b with int8 w (per tensor) and x quantised per batch at run time."""

    def __init__(self, linear):
        super().__init__()
        self.training = linear.training  # a model in eval mode stays in eval mode
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self._set_weight(linear.weight, linear.bias, per_channel=False)

    @classmethod
    def from_float(cls, mod):
        return cls(mod)

    def forward(self, x):
        self._check_eval(x)
        x_scale, x_zero = QF.dynamic_qparams(x.array)
        return Tensor(QF.linear_int8(x.array, self.weight_int8.array, self.weight_scale.array,
                                     self.weight_zero_point.array, self._bias(), x_scale, x_zero))

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, dtype=ember.qint8, dynamic"


class _Calibrated(_QuantizedBase):
    """A layer of the static path: weights per output channel, input and output (scale, zero point) fixed by
    the observers that watched the calibration batches."""

    def __init__(self, float_module, input_observer, output_observer):
        super().__init__()
        self.training = float_module.training  # a model in eval mode stays in eval mode
        self._set_weight(float_module.weight, float_module.bias, per_channel=True)
        self._set_qparams(input_observer, "input_")
        self._set_qparams(output_observer, "")

    @classmethod
    def from_observed(cls, mod):
        return cls(mod, mod.activation_pre_process, mod.activation_post_process)


class QuantizedLinear(_Calibrated):
    """The calibrated int8 Linear: input and output (scale, zero point) fixed, weights per output channel."""

    def __init__(self, linear, input_observer, output_observer):
        super().__init__(linear, input_observer, output_observer)
        self.in_features, self.out_features = linear.in_features, linear.out_features

    def forward(self, x):
        self._check_eval(x)
        y = QF.linear_int8(x.array, self.weight_int8.array, self.weight_scale.array, self.weight_zero_point.array,
                           self._bias(), *self._q("input_"))
        return Tensor(QF.requantize(y, *self._q("")))

    def extra_repr(self):
        scale, zero = self._q("")
        return (f"in_features={self.in_features}, out_features={self.out_features}, scale={scale}, "
                f"zero_point={zero}, dtype=ember.qint8")


class QuantizedConv2d(_Calibrated):
    """The calibrated int8 Conv2d (zero padding; any stride, dilation, groups)."""

    def __init__(self, conv, input_observer, output_observer):
        if isinstance(conv.padding, str) or conv.padding_mode != "zeros":
            raise NotImplementedError(f"QuantizedConv2d: only numeric zero padding is supported, got "
                                      f"padding={conv.padding!r}, padding_mode={conv.padding_mode!r}")
        super().__init__(conv, input_observer, output_observer)
        self.in_channels, self.out_channels, self.kernel_size = conv.in_channels, conv.out_channels, conv.kernel_size
        self.stride, self.padding, self.dilation, self.groups = conv.stride, conv.padding, conv.dilation, conv.groups

    def forward(self, x):
        self._check_eval(x)
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise RuntimeError(f"QuantizedConv2d: expected input (N, {self.in_channels}, H, W), got {tuple(x.shape)}")
        y = QF.conv2d_int8(x.array, self.weight_int8.array, self.weight_scale.array, self.weight_zero_point.array,
                           self._bias(), *self._q("input_"), self.stride, self.padding, self.dilation, self.groups)
        return Tensor(QF.requantize(y, *self._q("")))

    def extra_repr(self):
        scale, zero = self._q("")
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, scale={scale}, zero_point={zero}, dtype=ember.qint8")


class QuantizedLSTM(_QuantizedBase):
    """The dynamic int8 LSTM (``torch.ao.nn.quantized.dynamic.LSTM``): every weight matrix int8 per tensor;
    each layer's input sequence and each step's h quantised on the fly; the gates

        i, f, g, o = σ, σ, tanh, σ of (x W_ihᵀ + b_ih + h W_hhᵀ + b_hh),   c' = f c + i g,   h' = o tanh(c')

    in float32. Layers, bidirectional and batch_first as in ``nn.LSTM``."""

    def __init__(self, lstm):
        super().__init__()
        self.training = lstm.training  # a model in eval mode stays in eval mode
        self.input_size, self.hidden_size, self.num_layers = lstm.input_size, lstm.hidden_size, lstm.num_layers
        self.batch_first, self.bidirectional = lstm.batch_first, lstm.bidirectional
        self._suffixes = ("", "_reverse")[:2 if lstm.bidirectional else 1]
        for layer in range(self.num_layers):
            for sfx in self._suffixes:
                w_ih, w_hh, b_ih, b_hh = lstm._weights(layer, sfx)
                for kind, w in (("ih", w_ih), ("hh", w_hh)):
                    q, scale, zero = _quantize_weight(w, per_channel=False)
                    self.register_buffer(f"weight_{kind}_l{layer}{sfx}_int8", Tensor(q))
                    self.register_buffer(f"weight_{kind}_l{layer}{sfx}_scale", Tensor(scale))
                bias = None if b_ih is None else (b_ih.array + b_hh.array).astype(xp.float32)
                self.register_buffer(f"bias_l{layer}{sfx}", None if bias is None else Tensor(bias))
    @classmethod
    def from_float(cls, mod):
        return cls(mod)

    def _proj(self, x, name, bias):
        """x Wᵀ (+ bias) in int8 with x's own dynamic qparams."""
        x_scale, x_zero = QF.dynamic_qparams(x)
        w = getattr(self, name + "_int8").array
        return QF.linear_int8(x, w, getattr(self, name + "_scale").array, xp.zeros(1, xp.int32), bias, x_scale, x_zero)

    def _direction(self, x, layer, sfx, h, c):
        b = getattr(self, f"bias_l{layer}{sfx}")
        gates_x = self._proj(x, f"weight_ih_l{layer}{sfx}", None if b is None else b.array)   # all steps at once
        steps = range(x.shape[0]) if sfx == "" else range(x.shape[0] - 1, -1, -1)
        out = xp.empty((x.shape[0],) + h.shape, dtype=xp.float32)
        hs = self.hidden_size
        for t in steps:
            z = gates_x[t] + self._proj(h, f"weight_hh_l{layer}{sfx}", None)
            i, f = sigmoid(Tensor(z[:, :hs])).array, sigmoid(Tensor(z[:, hs:2 * hs])).array
            g, o = tanh(Tensor(z[:, 2 * hs:3 * hs])).array, sigmoid(Tensor(z[:, 3 * hs:])).array
            c = f * c + i * g
            h = o * tanh(Tensor(c)).array
            out[t] = h
        return out, h, c

    def forward(self, input, hx=None):
        self._check_eval(input)
        x = input.array.astype(xp.float32)
        unbatched = x.ndim == 2
        if unbatched:
            x = x[:, None]
        elif self.batch_first:
            x = x.transpose(1, 0, 2)
        dirs = len(self._suffixes)
        shape = (self.num_layers * dirs, x.shape[1], self.hidden_size)
        if hx is None:
            h0 = c0 = xp.zeros(shape, dtype=xp.float32)
        else:
            h0, c0 = (t.array.astype(xp.float32).reshape(shape) for t in hx)
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outs = []
            for d, sfx in enumerate(self._suffixes):
                out, h, c = self._direction(x, layer, sfx, h0[layer * dirs + d], c0[layer * dirs + d])
                outs.append(out)
                h_n.append(h)
                c_n.append(c)
            x = xp.concatenate(outs, axis=2)
        h_n, c_n = xp.stack(h_n), xp.stack(c_n)
        if unbatched:
            x, h_n, c_n = x[:, 0], h_n[:, 0], c_n[:, 0]
        elif self.batch_first:
            x = x.transpose(1, 0, 2)
        return Tensor(xp.ascontiguousarray(x)), (Tensor(h_n), Tensor(c_n))

    def extra_repr(self):
        return (f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
                f"batch_first={self.batch_first}, bidirectional={self.bidirectional}, dtype=ember.qint8, dynamic")


__all__ = ["DynamicQuantizedLinear", "QuantizedLinear", "QuantizedConv2d", "QuantizedLSTM"]
