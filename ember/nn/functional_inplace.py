"""The in-place activations of ``torch.nn.functional`` (``F.relu_(x)``, ``F.elu_(x)``, ...): each writes
its activation into ``x`` and returns ``x``, by the in-place rule of every Tensor method (ember/tensor_methods.py):
outside a graph the array is overwritten; inside one, ``x`` becomes the new node."""

from ..ops import activation as _act
from ..ops import activation_extra as _extra
from ..ops import activation_more as _more
from ..tensor_methods import _update


def _inplace(name, op):
    def function(input, *args, **kwargs):
        return _update(input, op, *args, what=f"{name}()", **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"In-place ``{name[:-1]}``: writes the result into ``input`` and returns it."
    return function


relu_ = _inplace("relu_", _act.relu)
elu_ = _inplace("elu_", _act.elu)
leaky_relu_ = _inplace("leaky_relu_", _act.leaky_relu)
hardtanh_ = _inplace("hardtanh_", _extra.hardtanh)
threshold_ = _inplace("threshold_", _extra.threshold)
selu_ = _inplace("selu_", _extra.selu)
celu_ = _inplace("celu_", _extra.celu)
rrelu_ = _inplace("rrelu_", _more.rrelu)

__all__ = ["relu_", "elu_", "leaky_relu_", "hardtanh_", "threshold_", "selu_", "celu_", "rrelu_"]


# F.relu / F.leaky_relu / F.elu take torch's ``inplace`` flag (ember.ops' versions take none).


def relu(input, inplace=False):
    """max(0, x); ``inplace=True`` writes it into ``input`` (as ``relu_``)."""
    return relu_(input) if inplace else _act.relu(input)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x for x > 0, else negative_slope · x; ``inplace=True`` writes it into ``input``."""
    return leaky_relu_(input, negative_slope) if inplace else _act.leaky_relu(input, negative_slope)


def elu(input, alpha=1.0, inplace=False):
    """x for x > 0, else α(eˣ - 1); ``inplace=True`` writes it into ``input``."""
    return elu_(input, alpha) if inplace else _act.elu(input, alpha)
