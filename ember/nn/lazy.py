"""Lazy layers: the input size is read from the first batch (``nn.LazyLinear(10)`` needs no in_features).

*Dive into Deep Learning* builds every network this way. A lazy layer's weights start as
``UninitializedParameter``s with no shape; the first call infers the missing size from its input,
materialises them in place (the same Parameter objects, so an optimizer built before the first batch
still holds them), initialises them exactly as the ordinary layer would, and then the module becomes that
layer (``LazyLinear`` turns into ``Linear``), as in torch.
"""

from .. import backend
from ..autograd import no_grad
from ..backend import xp
from ..tensor import Tensor
from .batchnorm import BatchNorm1d, BatchNorm2d
from .conv import Conv2d
from .linear import Linear
from .module import Module
from .parameter import Parameter


class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet; ``materialize(shape)`` gives it storage (uninitialised)."""

    __slots__ = ()

    def __init__(self, requires_grad=True, dtype=None):
        super().__init__(xp.empty((0,), dtype=dtype or backend.default_dtype), requires_grad=requires_grad)

    def materialize(self, shape, dtype=None):
        self.array = xp.empty(tuple(shape), dtype=dtype or self.array.dtype)
        self.__class__ = Parameter

    def __repr__(self):
        return "<UninitializedParameter>"


class UninitializedBuffer(Tensor):
    """A buffer whose shape is not known yet (a lazy batch norm's running statistics)."""

    __slots__ = ()

    def __init__(self, dtype=None):
        super().__init__(xp.empty((0,), dtype=dtype or backend.default_dtype))

    def materialize(self, shape, dtype=None):
        self.array = xp.empty(tuple(shape), dtype=dtype or self.array.dtype)
        self.__class__ = Tensor


def is_lazy(value):
    return isinstance(value, (UninitializedParameter, UninitializedBuffer))


class LazyModuleMixin:
    """The shared mechanism: the first call runs ``initialize_parameters(input)`` and then the module
    becomes ``cls_to_become``."""

    cls_to_become = None

    def has_uninitialized_params(self):
        return any(is_lazy(v) for v in (*self._parameters.values(), *self._buffers.values()))

    def __call__(self, *args, **kwargs):
        if self.has_uninitialized_params():
            if not args or not isinstance(args[0], Tensor):
                raise TypeError(f"{type(self).__name__}: the first call needs the input tensor to infer its size")
            with no_grad():
                self.initialize_parameters(*args, **kwargs)
        if self.cls_to_become is not None:  # also after load_state_dict gave the weights their shapes
            self.__class__ = self.cls_to_become
        return Module.__call__(self, *args, **kwargs)

    def _prepare_load(self, state_dict, prefix):
        """As torch's lazy load hook: an uninitialised parameter or buffer whose key is in the checkpoint
        takes the checkpoint's shape (the values are copied by ``load_state_dict``), so a freshly built lazy
        model loads a saved ``state_dict`` before it has seen any input. The size attributes
        (``in_features``...) stay unset, and the module becomes the ordinary layer at its first call."""
        for store in (self._parameters, self._buffers):
            for name, value in store.items():
                key = prefix + name
                if is_lazy(value) and key in state_dict:
                    incoming = state_dict[key]
                    value.materialize(tuple(incoming.shape))
        if not self.has_uninitialized_params():
            self._sizes_from_weights()

    def _sizes_from_weights(self):
        """Set the inferred size attribute from the materialised weights (torch leaves it 0 after a load;
        Ember's layers check their input against it, so it is set here)."""

    def _infer(self, x, axis, what):
        if x.ndim <= abs(axis) - (axis < 0):
            raise ValueError(f"{type(self).__name__}: cannot infer {what} from an input of shape {tuple(x.shape)}")
        return x.shape[axis]


class LazyLinear(LazyModuleMixin, Linear):
    """``Linear`` whose ``in_features`` is the last dimension of the first input."""

    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        Linear.__init__(self, 1, out_features, bias=False, dtype=dtype)  # weights replaced just below
        self.in_features = 0
        self.weight = UninitializedParameter(dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)

    def initialize_parameters(self, x, *args, **kwargs):
        self.in_features = self._infer(x, -1, "in_features")
        self.weight.materialize((self.out_features, self.in_features))
        if self.bias is not None:
            self.bias.materialize((self.out_features,))
        self.reset_parameters()

    def _sizes_from_weights(self):
        self.in_features = self.weight.shape[1]


class _LazyConvMixin(LazyModuleMixin):
    def __init__(self, conv_class, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
                 dtype):
        # Built with groups input channels (the smallest valid number); the weights are replaced below.
        conv_class.__init__(self, groups, out_channels, kernel_size, stride, padding, dilation, groups, False,
                            padding_mode, dtype=dtype)
        self.in_channels = 0
        self.weight = UninitializedParameter(dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)

    def initialize_parameters(self, x, *args, **kwargs):
        channels_axis = 0 if x.ndim == len(self.kernel_size) + 1 else 1  # unbatched input has no batch axis
        self.in_channels = self._infer(x, channels_axis, "in_channels")
        if self.in_channels % self.groups:
            raise ValueError(
                f"{type(self).__name__}: the input has {self.in_channels} channels, not divisible by groups "
                f"({self.groups})"
            )
        if getattr(self, "transposed", False):  # a transposed convolution's weight is (in, out / groups, *kernel)
            shape = (self.in_channels, self.out_channels // self.groups, *self.kernel_size)
        else:
            shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        self.weight.materialize(shape)
        if self.bias is not None:
            self.bias.materialize((self.out_channels,))
        self.reset_parameters()

    def _sizes_from_weights(self):
        transposed = getattr(self, "transposed", False)
        self.in_channels = self.weight.shape[0] if transposed else self.weight.shape[1] * self.groups


class LazyConv2d(_LazyConvMixin, Conv2d):
    """``Conv2d`` whose ``in_channels`` is the channel count of the first input."""

    cls_to_become = Conv2d

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        _LazyConvMixin.__init__(self, Conv2d, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                                padding_mode, dtype)


class _LazyNormMixin(LazyModuleMixin):
    """The lazy normalisation layers: torch's constructor without ``num_features``, for ``cls_to_become``."""

    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None):
        self.cls_to_become.__init__(self, 0, eps, momentum, affine, track_running_stats, dtype=dtype)
        if affine:
            self.weight = UninitializedParameter(dtype=dtype)
            self.bias = UninitializedParameter(dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(dtype=dtype)
            self.running_var = UninitializedBuffer(dtype=dtype)

    def initialize_parameters(self, x, *args, **kwargs):
        self._materialize(self._infer(x, 1 if x.ndim > 1 else 0, "num_features"))

    def _materialize(self, num_features):
        self.num_features = num_features
        for tensor in (self.weight, self.bias, self.running_mean, self.running_var):
            if tensor is not None:
                tensor.materialize((num_features,))
        self.reset_parameters()

    def _sizes_from_weights(self):
        sized = next((t for t in (self.weight, self.running_mean) if t is not None), None)
        if sized is not None:
            self.num_features = sized.shape[0]


class LazyBatchNorm1d(_LazyNormMixin, BatchNorm1d):
    """``BatchNorm1d`` whose ``num_features`` is read from the first input."""

    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyNormMixin, BatchNorm2d):
    """``BatchNorm2d`` whose ``num_features`` is read from the first input."""

    cls_to_become = BatchNorm2d
