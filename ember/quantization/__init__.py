"""``ember.quantization``: post-training int8 quantisation (torch's ``torch.ao.quantization`` names).

- ``qtensor``: the affine formulas q = clamp(round(x/s) + z), x̂ = (q - z)·s; ``quantize_per_tensor``,
  ``quantize_per_channel`` and the ``QTensor`` they return; the dtypes ``qint8``, ``quint8``, ``qint32``;
- ``observer``: running min/max → (scale, zero point);
- ``functional``: the integer kernels (int32 sums, one float rescale);
- ``modules``: the int8 layers (dynamic Linear and LSTM, calibrated Linear and Conv2d);
- ``quantize``: ``quantize_dynamic``, ``prepare`` → calibrate → ``convert``, ``model_size_bytes``.
"""

from .qtensor import QDtype, QTensor, dequantize, qint8, qint32, quantize_per_channel, quantize_per_tensor, quint8
from .observer import MinMaxObserver, PerChannelMinMaxObserver
from .modules import DynamicQuantizedLinear, QuantizedConv2d, QuantizedLinear, QuantizedLSTM
from .quantize import convert, model_size_bytes, prepare, quantize, quantize_dynamic

__all__ = [
    "QDtype", "QTensor", "dequantize", "qint8", "qint32", "quint8", "quantize_per_channel", "quantize_per_tensor",
    "MinMaxObserver", "PerChannelMinMaxObserver", "DynamicQuantizedLinear", "QuantizedConv2d", "QuantizedLinear",
    "QuantizedLSTM", "convert", "model_size_bytes", "prepare", "quantize", "quantize_dynamic",
]
