"""Containers: Sequential, ModuleList and ModuleDict register their members under '0', '1', ... or keys.

A plain Python list or dict of layers would hide their parameters from ``parameters()``, ``state_dict()``
and ``to()``; these containers register every member, under the names PyTorch uses, so the state_dict
keys (``features.3.bias``, ``blocks.1.bn.running_mean``) are the same in both frameworks.
"""

import operator
from collections import OrderedDict
from collections.abc import Iterable, Mapping

from .module import Module, _addindent


def _checked_index(index, length):
    """A non-negative position for ``index`` (which may count from the end), or IndexError."""
    index = operator.index(index)  # 1.0 is not an index, as for Python lists
    if not -length <= index < length:
        raise IndexError(f"index {index} is out of range for a container of {length} modules")
    return index % length


def _renumber(container):
    """After a deletion, keys become '0', '1', ... again, as PyTorch does, so positions and names agree."""
    _renumber_from(container, container._modules.values())


def _renumber_from(container, modules):
    object.__setattr__(container, "_modules", OrderedDict((str(i), m) for i, m in enumerate(modules)))


class Sequential(Module):
    """Runs its modules one after another: ``Sequential(conv, relu, pool)`` or ``Sequential(OrderedDict(...))``.

    With positional modules the names are '0', '1', ...; with an OrderedDict they are its keys.
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(modules):
                self.add_module(str(i), module)

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x

    def __getitem__(self, index):
        if isinstance(index, slice):
            # Keeps the original keys: model[:2] of an OrderedDict Sequential still says 'conv1'.
            return type(self)(OrderedDict(list(self._modules.items())[index]))
        return list(self._modules.values())[_checked_index(index, len(self))]

    def __setitem__(self, index, module):
        key = list(self._modules)[_checked_index(index, len(self))]
        setattr(self, key, module)

    def __delitem__(self, index):
        keys = list(self._modules)
        for key in keys[index] if isinstance(index, slice) else [keys[_checked_index(index, len(self))]]:
            delattr(self, key)
        _renumber(self)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __add__(self, other):
        if not isinstance(other, Sequential):
            raise ValueError(f"add operator supports only objects of Sequential class, but {type(other)} is given.")
        return Sequential(*self, *other)

    def __iadd__(self, other):
        if not isinstance(other, Sequential):
            raise ValueError(f"add operator supports only objects of Sequential class, but {type(other)} is given.")
        return self.extend(list(other))

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def insert(self, index, module):
        """Insert ``module`` before position ``index``; the later modules move up one name ('1' -> '2')."""
        if not isinstance(module, Module):
            raise TypeError(f"Sequential.insert(): {type(module).__name__} is not a Module")
        n = len(self._modules)
        if not -n <= index <= n:
            raise IndexError(f"Sequential.insert(): index {index} is out of range for {n} modules")
        if index < 0:
            index += n
        for i in range(n, index, -1):
            self._modules[str(i)] = self._modules[str(i - 1)]
        self._modules[str(index)] = module
        return self

    def pop(self, index):
        module = self[index]
        del self[index]
        return module

    def __dir__(self):
        return [key for key in super().__dir__() if not key.isdigit()]


class ModuleList(Module):
    """A list of modules whose parameters are registered (a plain Python list would hide them)."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(list(self._modules.values())[index])
        return self._modules[str(_checked_index(index, len(self)))]

    def __setitem__(self, index, module):
        setattr(self, str(_checked_index(index, len(self))), module)

    def __delitem__(self, index):
        if isinstance(index, slice):
            for i in range(len(self))[index]:
                delattr(self, str(i))
        else:
            delattr(self, str(_checked_index(index, len(self))))
        _renumber(self)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        return ModuleList([*self, *other])

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        if not isinstance(modules, Iterable):
            raise TypeError(f"ModuleList.extend should be called with an iterable, but got {type(modules).__name__}")
        for module in list(modules):  # list(): extending a ModuleList with itself must not loop forever
            self.append(module)
        return self

    def insert(self, index, module):
        """Insert ``module`` before position ``index`` (negative counts from the end, as for lists)."""
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList.insert(): {type(module).__name__} is not a Module")
        modules = list(self._modules.values())
        modules.insert(operator.index(index), module)
        _renumber_from(self, modules)

    def pop(self, index=-1):
        module = self[index]
        del self[index]
        return module

    def forward(self, *args):
        raise NotImplementedError("ModuleList has no forward(); iterate over it in your own forward()")

    def __repr__(self):
        """Like Module's, but runs of identical members print once: ``(0-11): 12 x Block(...)``."""
        reprs = [repr(module) for module in self]
        if not reprs:
            return self._get_name() + "()"
        blocks = []  # [start, end, repr] of each run of equal reprs
        for i, r in enumerate(reprs):
            if blocks and blocks[-1][2] == r:
                blocks[-1][1] = i
            else:
                blocks.append([i, i, r])
        lines = []
        for start, end, r in blocks:
            line = f"({start}): {r}" if start == end else f"({start}-{end}): {end - start + 1} x {r}"
            lines.append(_addindent(line, 2))
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"

    def __dir__(self):
        return [key for key in super().__dir__() if not key.isdigit()]


class ModuleDict(Module):
    """A dict of modules whose parameters are registered under their keys, in insertion order."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def clear(self):
        self._modules.clear()

    def pop(self, key):
        module = self[key]
        del self[key]
        return module

    def update(self, modules):
        """Add (or overwrite) from a mapping or from an iterable of ``(key, module)`` pairs, in their order."""
        if not isinstance(modules, Iterable):
            raise TypeError(f"ModuleDict.update should be called with an iterable of key/value pairs, "
                            f"but got {type(modules).__name__}")
        if isinstance(modules, (Mapping, ModuleDict)):
            pairs = list(modules.items())
        else:
            pairs = []
            for j, pair in enumerate(modules):
                if not isinstance(pair, Iterable) or isinstance(pair, Module):
                    raise TypeError(f"ModuleDict update sequence element #{j} should be a (key, module) pair, "
                                    f"got {type(pair).__name__}")
                pair = tuple(pair)
                if len(pair) != 2:
                    raise ValueError(f"ModuleDict update sequence element #{j} has length {len(pair)}; 2 is required")
                pairs.append(pair)
        for key, module in pairs:
            self[key] = module

    def forward(self, *args):
        raise NotImplementedError("ModuleDict has no forward(); pick modules by key in your own forward()")
