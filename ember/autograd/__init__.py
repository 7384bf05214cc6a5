"""Automatic differentiation: Function, the backward engine, grad mode and gradcheck."""

from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .grad_mode import inference_mode, is_inference_mode_enabled
from .function import Context, Function
from .engine import backward
from .gradcheck import gradcheck
