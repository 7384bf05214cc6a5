"""The layout and memory-format tokens that PyTorch's factories take (``torch.strided``,
``torch.preserve_format``, ...).

Ember's arrays are always dense (strided) NumPy or CuPy arrays, so these name the one layout there is;
factories accept them, so PyTorch code that passes ``layout=torch.strided`` or
``memory_format=torch.contiguous_format`` runs, and refuse the sparse layouts Ember does not have.
"""


class layout:
    """How a tensor's elements are stored (``torch.layout``); Ember has ``strided`` only."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"ember.{self.name}"


class memory_format:
    """The order of a tensor's strides (``torch.memory_format``). Ember's arrays keep the order NumPy gives
    them; channels_last is accepted and makes no difference to results."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"ember.{self.name}"


strided = layout("strided")
sparse_coo = layout("sparse_coo")
contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
channels_last = memory_format("channels_last")


def check_layout(value, where):
    """Accept ``None`` and ``strided``; refuse sparse layouts, which Ember does not implement."""
    if value is None or value is strided:
        return
    if isinstance(value, layout):
        raise NotImplementedError(f"{where}: layout={value!r} is not supported; Ember tensors are dense "
                                  "(layout=ember.strided)")
    raise TypeError(f"{where}: argument 'layout' must be an ember layout such as ember.strided, got {value!r}")


def check_memory_format(value, where):
    if value is not None and not isinstance(value, memory_format):
        raise TypeError(f"{where}: argument 'memory_format' must be an ember memory_format such as "
                        f"ember.contiguous_format, got {value!r}")
