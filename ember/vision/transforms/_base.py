"""What every transform class shares: the Module base, the random draws, argument checks, and the
containers (Compose, Lambda, RandomApply, RandomChoice, RandomOrder).

Randomness: torchvision draws from torch's global generator; here every draw comes from
``ember.data.rng()`` — inside a DataLoader the generator of the batch being produced, elsewhere the
pipeline generator that ``ember.manual_seed`` reseeds — so augmentation is reproducible and never
disturbs the model's random stream.
"""

import numbers

from ... import nn
from ...data.dataloader import rng
from ._convert import check_image


def rand():
    """A uniform draw in [0, 1) (torch.rand(1))."""
    return float(rng().random())


def uniform(low, high):
    return float(rng().uniform(low, high))


def randint(low, high):
    """An integer in [low, high) (torch.randint(low, high, (1,)))."""
    return int(rng().integers(low, high))


def setup_size(size, error_msg):
    """(h, w) from an int or a sequence of 1 or 2 ints."""
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if isinstance(size, (tuple, list)) and len(size) == 1:
        return size[0], size[0]
    if not isinstance(size, (tuple, list)) or len(size) != 2:
        raise ValueError(error_msg)
    return tuple(size)


def check_sequence_input(x, name, req_sizes):
    msg = req_sizes[0] if len(req_sizes) < 2 else " or ".join(str(s) for s in req_sizes)
    if not isinstance(x, (tuple, list)):
        raise TypeError(f"{name} should be a sequence of length {msg}.")
    if len(x) not in req_sizes:
        raise ValueError(f"If {name} is a sequence, it must be of len {msg}.")


def setup_angle(x, name, req_sizes=(2,)):
    """A number d -> [-d, d]; a sequence is taken as given."""
    if isinstance(x, numbers.Number):
        if x < 0:
            raise ValueError(f"If {name} is a single number, it must be positive.")
        x = [-x, x]
    else:
        check_sequence_input(x, name, req_sizes)
    return [float(d) for d in x]


class Transform(nn.Module):
    """A transform is a Module (as in torchvision), so it can sit in an ``nn.Sequential`` too.

    Subclasses list the attributes their repr shows in ``_repr_attrs``.
    """

    _repr_attrs = ()

    def __init__(self):
        super().__init__()

    def _check(self, img, pil=True):
        check_image(img, type(self).__name__, pil=pil)

    def __repr__(self):
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._repr_attrs)
        return f"{type(self).__name__}({args})"


class Compose:
    """Apply ``transforms`` one after the other (not a Module, as in torchvision)."""

    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self):
        return f"{type(self).__name__}(" + "".join(f"\n    {t}" for t in self.transforms) + "\n)"


class Lambda:
    """Apply a user function ``lambd`` as a transform."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {repr(type(lambd).__name__)}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self):
        return f"{type(self).__name__}()"


class RandomTransforms:
    """Base of RandomChoice and RandomOrder: holds a list of transforms."""

    def __init__(self, transforms):
        if not isinstance(transforms, (list, tuple)):
            raise TypeError(f"{type(self).__name__}: argument transforms should be a sequence, got {type(transforms).__name__}")
        self.transforms = transforms

    def __call__(self, *args, **kwargs):
        raise NotImplementedError()

    def __repr__(self):
        return f"{type(self).__name__}(" + "".join(f"\n    {t}" for t in self.transforms) + "\n)"


class RandomApply(Transform):
    """Apply the list of ``transforms`` (all of them, in order) with probability p."""

    def __init__(self, transforms, p=0.5):
        super().__init__()
        self.transforms = transforms
        self.p = p

    def forward(self, img):
        if self.p < rand():
            return img
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self):
        return f"{type(self).__name__}(\n    p={self.p}" + "".join(f"\n    {t}" for t in self.transforms) + "\n)"


class RandomOrder(RandomTransforms):
    """Apply the transforms in a random order."""

    def __call__(self, img):
        for i in rng().permutation(len(self.transforms)):
            img = self.transforms[int(i)](img)
        return img


class RandomChoice(RandomTransforms):
    """Apply one transform picked at random (with probabilities ``p``, default uniform)."""

    def __init__(self, transforms, p=None):
        super().__init__(transforms)
        if p is not None and not isinstance(p, (list, tuple)):
            raise TypeError("Argument p should be a sequence")
        if p is not None and len(p) != len(transforms):
            raise ValueError(f"Length of p doesn't match the number of transforms: {len(p)} != {len(transforms)}")
        self.p = p

    def __call__(self, *args):
        weights = [1.0] * len(self.transforms) if self.p is None else [float(w) for w in self.p]
        total = sum(weights)
        index = int(rng().choice(len(self.transforms), p=[w / total for w in weights]))
        return self.transforms[index](*args)

    def __repr__(self):
        return f"{super().__repr__()[:-2]}\n    p={self.p}\n)"
