"""``ember.nn.utils``: gradient clipping (``clip_grad``) and ragged sequences (``rnn``), as in torch."""

from . import rnn
from .clip_grad import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm", "rnn"]

from . import convert_parameters, fusion, stateless  # noqa: E402
from .convert_parameters import parameters_to_vector, vector_to_parameters  # noqa: E402
from .fusion import (  # noqa: E402
    fuse_conv_bn_eval, fuse_conv_bn_weights, fuse_linear_bn_eval, fuse_linear_bn_weights,
)
from .spectral_norm import remove_spectral_norm, spectral_norm  # noqa: E402
from .weight_norm import remove_weight_norm, weight_norm  # noqa: E402


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The deprecated name of ``clip_grad_norm_`` (torch warns and calls it)."""
    import warnings
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of `torch.nn.utils.clip_grad_norm_`.",
                  FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def skip_init(module_cls, *args, **kwargs):
    """Build ``module_cls(*args, **kwargs)`` whose parameter values are not to be relied on (torch leaves them
    uninitialised; Ember has no meta device, so they hold the usual initial values): fill them yourself."""
    if not isinstance(module_cls, type):
        raise RuntimeError(f"Expected a Module class, but got {module_cls}")
    return module_cls(*args, **kwargs)


__all__ += [
    "convert_parameters", "fusion", "stateless", "parameters_to_vector", "vector_to_parameters", "fuse_conv_bn_eval",
    "fuse_conv_bn_weights", "fuse_linear_bn_eval", "fuse_linear_bn_weights", "spectral_norm", "remove_spectral_norm",
    "weight_norm", "remove_weight_norm", "clip_grad_norm", "skip_init",
]

from . import parametrizations, parametrize  # noqa: E402

__all__ += ["parametrizations", "parametrize"]

from . import prune  # noqa: E402
from .penalty import elastic_net_penalty, l1_penalty, l2_penalty  # noqa: E402

__all__ += ["elastic_net_penalty", "l1_penalty", "l2_penalty", "prune"]
