"""Root-mean-square layer normalisation (Zhang & Sennrich, 2019), ``torch.nn.functional.rms_norm``."""

from ..backend import xp
from .reduce import mean as _mean


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """y = x / √(mean(x²) + ε) · w over the last len(normalized_shape) dims; ε defaults to the dtype's eps.
    Unlike LayerNorm it does not subtract the mean: only the scale is normalised."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(input.shape[input.ndim - len(shape):]) != shape:
        raise RuntimeError(f"rms_norm: expected an input with shape [*, {', '.join(map(str, shape))}], but got input "
                           f"of size {list(input.shape)}")
    eps = float(xp.finfo(input.dtype).eps) if eps is None else eps
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    y = input * (_mean(input * input, dim=dims, keepdim=True) + eps).rsqrt()
    return y if weight is None else y * weight
