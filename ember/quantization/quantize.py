"""Post-training quantisation of a whole model, with torch's entry points (``torch.ao.quantization``):

    qmodel = quantize_dynamic(model, {nn.Linear, nn.LSTM}, dtype=ember.qint8)     # nothing to calibrate

    model.eval()
    prepared = prepare(model)               # observers on every Linear / Conv2d input and output
    for x, _ in calibration_batches:        # a few hundred ordinary inputs
        prepared(x)
    qmodel = convert(prepared)              # each observed layer -> its int8 version

Layers not listed stay float (ReLU, pooling, BatchNorm — fold BN into the conv first with
``nn.utils.fuse_conv_bn_eval`` so the int8 conv carries it). ``model_size_bytes`` measures what a model's
state_dict holds: 4 bytes per float32 weight before, 1 per int8 weight after.
"""

import copy

from ..nn.conv import Conv2d
from ..nn.linear import Linear
from ..nn.rnn import LSTM
from .modules import DynamicQuantizedLinear, QuantizedConv2d, QuantizedLinear, QuantizedLSTM
from .observer import MinMaxObserver
from .qtensor import qint8, quint8

DYNAMIC_MAPPING = {Linear: DynamicQuantizedLinear, LSTM: QuantizedLSTM}
STATIC_MAPPING = {Linear: QuantizedLinear, Conv2d: QuantizedConv2d}


def _swap(module, replace):
    """Replace, depth first, every child for which ``replace(child)`` returns a new module."""
    for name, child in list(module._modules.items()):
        if child is None:
            continue
        new = replace(child)
        if new is not None:
            module._modules[name] = new
        else:
            _swap(child, replace)


def quantize_dynamic(model, qconfig_spec=None, dtype=qint8, mapping=None, inplace=False):
    """int8 weights for every module whose type is in ``qconfig_spec`` (default {Linear, LSTM}); their inputs
    are quantised per batch at run time. Returns the quantised model (a copy unless ``inplace``)."""
    if dtype is not qint8:
        raise ValueError(f"quantize_dynamic: Ember quantises to ember.qint8 only, got dtype={dtype}")
    mapping = DYNAMIC_MAPPING if mapping is None else mapping
    types = set(mapping) if qconfig_spec is None else set(qconfig_spec)
    unknown = [t.__name__ for t in types if t not in mapping]
    if unknown:
        raise ValueError(f"quantize_dynamic: no dynamic int8 version of {unknown}; supported: "
                         f"{sorted(t.__name__ for t in mapping)}")
    model = model if inplace else copy.deepcopy(model)
    if type(model) in types:
        return mapping[type(model)].from_float(model)
    _swap(model, lambda m: mapping[type(m)].from_float(m) if type(m) in types else None)
    return model


def _observe_input(module, inputs):
    module.activation_pre_process(inputs[0])


def _observe_output(module, inputs, output):
    module.activation_post_process(output)


def prepare(model, inplace=False, mapping=None):
    """Attach observers to every Linear and Conv2d (exact types): ``activation_pre_process`` watches the
    input, ``activation_post_process`` the output. Run calibration batches through the result in eval mode."""
    mapping = STATIC_MAPPING if mapping is None else mapping
    model = model if inplace else copy.deepcopy(model)
    for module in model.modules():
        if type(module) in mapping and not hasattr(module, "activation_post_process"):
            module.activation_pre_process = MinMaxObserver(quint8)
            module.activation_post_process = MinMaxObserver(quint8)
            module._observer_hooks = (module.register_forward_pre_hook(_observe_input),
                                      module.register_forward_hook(_observe_output))
    return model


def convert(model, inplace=False, mapping=None):
    """Replace every observed layer by its calibrated int8 version (``QuantizedLinear``/``QuantizedConv2d``)."""
    mapping = STATIC_MAPPING if mapping is None else mapping
    model = model if inplace else copy.deepcopy(model)

    def replace(m):
        if type(m) in mapping and hasattr(m, "activation_post_process"):
            return mapping[type(m)].from_observed(m)
        return None

    if replace(model) is not None:
        return replace(model)
    _swap(model, replace)
    return model


def quantize(model, run_fn, run_args, inplace=False, mapping=None):
    """prepare → ``run_fn(prepared, *run_args)`` (calibration) → convert, as torch's ``quantize``."""
    prepared = prepare(model.eval(), inplace=inplace, mapping=mapping)
    run_fn(prepared, *run_args)
    return convert(prepared, inplace=True, mapping=mapping)


def model_size_bytes(model):
    """Bytes of everything the model's state_dict holds (parameters and buffers, at their dtypes)."""
    return sum(int(t.array.nbytes) for t in model.state_dict().values() if t is not None)


__all__ = ["quantize_dynamic", "prepare", "convert", "quantize", "model_size_bytes", "DYNAMIC_MAPPING",
           "STATIC_MAPPING"]
