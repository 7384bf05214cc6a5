"""Size: a tensor's shape, a tuple of ints that prints as ``ember.Size([2, 3])`` (``torch.Size``)."""


class Size(tuple):
    """The shape of a tensor: a tuple (indexing, unpacking, comparison with tuples all work) with
    ``numel()``, the number of elements a tensor of this shape holds."""

    __slots__ = ()

    def __new__(cls, sizes=()):
        return super().__new__(cls, (int(s) for s in sizes))

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, index):
        item = super().__getitem__(index)
        return Size(item) if isinstance(index, slice) else item  # a slice of a Size is a Size, as in torch

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))

    def __repr__(self):
        return f"ember.Size({list(self)})"

    __str__ = __repr__
