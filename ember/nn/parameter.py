"""Parameter: a Tensor that a Module registers as learnable (it requires grad by default)."""

from ..tensor import Tensor


class Parameter(Tensor):
    """A learnable tensor. Assigning one to a Module attribute registers it under that name."""

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = Tensor([])
        super().__init__(data.array if isinstance(data, Tensor) else data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

