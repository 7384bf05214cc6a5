"""The same small test modules built with torch.nn and with ember.nn, for test_module.py and test_module_behaviour.py.

The concrete layers are not used: ``twin_classes(nn, tensor)`` defines small modules holding Parameters and
buffers with torch.nn or ember.nn, so every name, order, repr and error can be compared with PyTorch's;
``build(name, *args)`` gives the torch and the Ember instance with equal initial values.
"""

import numpy as np
import torch

import ember
import ember.nn as enn
import torch.nn as tnn

RNG_SEED = 0


def twin_classes(nn, tensor):
    """The same test modules for torch (``nn=torch.nn, tensor=torch.tensor``) and for Ember."""

    def values(*shape):
        # One seeded stream per framework build, so the torch and Ember twins start with equal values.
        return tensor(_rng.standard_normal(shape).astype(np.float32))

    class Affine(nn.Module):
        def __init__(self, n_in, n_out, bias=True):
            super().__init__()
            self.n_in, self.n_out = n_in, n_out
            self.weight = nn.Parameter(values(n_out, n_in))
            if bias:
                self.bias = nn.Parameter(values(n_out))
            else:
                self.register_parameter("bias", None)

        def forward(self, x):
            y = x @ self.weight.T
            return y if self.bias is None else y + self.bias

        def extra_repr(self):
            return f"in_features={self.n_in}, out_features={self.n_out}, bias={self.bias is not None}"

    class Norm(nn.Module):
        """Batch-norm-like state: two parameters, three persistent buffers and one non-persistent one."""

        def __init__(self, n):
            super().__init__()
            self.n = n
            self.weight = nn.Parameter(tensor(np.ones(n, np.float32)))
            self.bias = nn.Parameter(tensor(np.zeros(n, np.float32)))
            self.register_buffer("running_mean", tensor(np.zeros(n, np.float32)))
            self.register_buffer("running_var", tensor(np.ones(n, np.float32)))
            self.register_buffer("num_batches_tracked", tensor(np.array(0, np.int64)))
            self.register_buffer("cache", tensor(np.zeros(n, np.float32)), persistent=False)

        def forward(self, x):
            return x * self.weight + self.bias

        def extra_repr(self):
            return f"{self.n}, eps=1e-05"

    class Act(nn.Module):
        def forward(self, x):
            return x * 2

    class Multi(nn.Module):
        """A multi-line extra_repr, which PyTorch prints one line per item (a blank one stays blank when nested)."""

        def extra_repr(self):
            return "first line\n\nthird line"

    class Block(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.fc = Affine(n, n)
            self.bn = Norm(n)
            self.act = Act()

        def forward(self, x):
            return self.act(self.bn(self.fc(x)))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(Affine(4, 8), Act(), Affine(8, 8), Affine(8, 3))
            self.blocks = nn.ModuleList([Block(3), Block(3)])
            self.heads = nn.ModuleDict({"cls": Affine(3, 2), "reg": Affine(3, 1, bias=False)})
            self.absent = None  # a plain attribute, not a module
            self.add_module("maybe", None)
            self.multi = Multi()
            self.empty = nn.Sequential()
            # Registered after the children, yet state_dict lists a module's own entries first.
            self.scale = nn.Parameter(tensor(np.ones(1, np.float32)))
            self.register_buffer("step", tensor(np.zeros((), np.float32)))

        def forward(self, x):
            x = self.features(x)
            for block in self.blocks:
                x = block(x)
            return self.heads["cls"](x) * self.scale

    class Tied(nn.Module):
        """Weight tying: a module under two names and a parameter shared by two modules."""

        def __init__(self):
            super().__init__()
            self.enc = Affine(3, 3)
            self.dec = Affine(3, 3)
            self.dec.weight = self.enc.weight
            self.again = self.enc
            self.seq = nn.Sequential(self.dec, Act(), self.dec)

    return dict(Affine=Affine, Norm=Norm, Act=Act, Multi=Multi, Block=Block, Net=Net, Tied=Tied)


_rng = np.random.default_rng(RNG_SEED)


def build(name, *args):
    """The torch and the Ember instance of test class ``name``, with equal initial values."""
    global _rng
    _rng = np.random.default_rng(RNG_SEED)
    t = twin_classes(tnn, torch.tensor)[name](*args)
    _rng = np.random.default_rng(RNG_SEED)
    e = twin_classes(enn, ember.tensor)[name](*args)
    return t, e


def names(pairs):
    return [name for name, _ in pairs]
