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



class Buffer(Tensor):
    """A tensor that, assigned to a Module attribute, is registered as a buffer (``nn.Buffer``):
    ``self.mean = nn.Buffer(torch.zeros(3))`` is ``self.register_buffer('mean', torch.zeros(3))``;
    ``persistent=False`` keeps it out of ``state_dict``. The module stores a plain Tensor sharing its data."""

    __slots__ = ("persistent",)

    def __init__(self, data=None, *, persistent=True):
        if data is None:
            data = Tensor([])
        super().__init__(data.array if isinstance(data, Tensor) else data)
        self.persistent = persistent
