"""``torch.functional``'s path: a few tensor functions torch defines in Python, and ``F`` (nn.functional).

Programs reach it as ``from torch.functional import F`` (the transfer-learning tutorial does) or
``torch.functional.meshgrid``. The functions themselves live with the rest of the tensor API in ``ember``;
this module only gives them torch's second address.
"""

from .nn import functional as F  # noqa: F401  (torch.functional imports nn.functional as F too)
from .tensor import Tensor  # noqa: F401

#: the public functions of torch.functional; each is ember's function of the same name
FUNCTIONS = ("atleast_1d", "atleast_2d", "atleast_3d", "block_diag", "broadcast_shapes", "broadcast_tensors",
             "cartesian_prod", "cdist", "chain_matmul", "einsum", "istft", "lu", "meshgrid", "norm", "pca_lowrank",
             "split", "stft", "svd_lowrank", "tensordot", "unique", "unique_consecutive", "unravel_index")


def __getattr__(name):
    if name in FUNCTIONS:
        import ember

        try:
            return getattr(ember, name)
        except AttributeError:
            pass
        raise AttributeError(f"module 'ember.functional' has no attribute {name!r}: Ember has no {name} yet "
                             f"(torch.functional.{name})")
    raise AttributeError(f"module 'ember.functional' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(FUNCTIONS))
