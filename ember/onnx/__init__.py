"""ONNX export, as ``torch.onnx``: ``ember.onnx.export(model, args, "model.onnx")``.

Needs the ``onnx`` package (``pip install 'ember[onnx]'``), imported only when ``export`` runs.
"""

from .export import export
from .graph import UnsupportedOperatorError
from .symbolic import supported_ops
from .trace import is_in_onnx_export

__all__ = ["UnsupportedOperatorError", "export", "is_in_onnx_export", "supported_ops"]
