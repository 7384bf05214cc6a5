"""Automatic differentiation: Function, the backward engine, grad mode and gradcheck.

``ember.autograd.Function`` is PyTorch's custom-Function protocol (forward and backward on Tensors, see
custom.py); Ember's own operations subclass the array-level ``ember.autograd.function.Function``.
"""

from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .grad_mode import inference_mode, is_inference_mode_enabled
from .function import AccumulateGrad, Context
from .custom import Function, Variable
from .engine import grad
from .gradcheck import gradcheck
from .anomaly import detect_anomaly, is_anomaly_check_nan_enabled, is_anomaly_enabled, set_detect_anomaly

FunctionCtx = Context


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """``torch.autograd.backward``: backpropagate from one or several tensors into the leaves' ``.grad``."""
    from . import engine

    if create_graph:
        raise NotImplementedError("ember.autograd.backward(create_graph=True): higher-order gradients are not available")
    tensors = (tensors,) if hasattr(tensors, "array") else tuple(tensors)
    if grad_tensors is None or hasattr(grad_tensors, "array"):
        grad_tensors = (grad_tensors,) * len(tensors) if grad_tensors is None else (grad_tensors,)
    roots = [(t, engine._seed(t, g)) for t, g in zip(tensors, grad_tensors)]
    if inputs is None:
        engine.run(roots, bool(retain_graph))
        return
    inputs = (inputs,) if hasattr(inputs, "array") else tuple(inputs)
    for t, g in zip(inputs, engine.run(roots, bool(retain_graph), capture=inputs)):
        if g is not None:
            t._accumulate_grad(g.copy())
