"""``ember.nn.functional`` (import it as F): the layers' operations as plain functions, PyTorch's signatures."""

from ..ops import elu, leaky_relu, linear, log_softmax, relu, sigmoid, softmax, tanh  # noqa: F401
