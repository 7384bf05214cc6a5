"""Weight initialisation: PyTorch's ``torch.nn.init``, same names, same signatures, same distributions.

Why initialisation matters: a layer ``y = W x`` with ``fan_in`` inputs has
``Var(y) = fan_in * Var(W) * Var(x)`` (zero-mean, independent entries). Unless ``fan_in * Var(W)`` is 1
(times a correction for the non-linearity that follows), activations grow or shrink geometrically with
depth and gradients explode or vanish. Each scheme below picks ``Var(W)`` to keep that product at 1:

- Xavier/Glorot (2010), for linear/tanh/sigmoid units: balance the forward pass (fan_in) and the
  backward pass (fan_out) with their average, ``Var(W) = gain^2 * 2 / (fan_in + fan_out)``.
- Kaiming/He (2015), for ReLU: ReLU zeroes half of its inputs, halving the second moment, so double
  the variance to compensate, ``Var(W) = gain^2 / fan_mode`` with ``gain^2 = 2`` for ReLU.

A uniform ``U(-bound, bound)`` has variance ``bound^2 / 3``, so the uniform variants use
``bound = sqrt(3) * std``.

Every function fills ``tensor.array`` in place (keeping its dtype: float32 stays float32), records no
graph, draws from the generator seeded by ``ember.manual_seed`` (or the ``generator`` argument), and
returns the tensor, so ``init.kaiming_uniform_(layer.weight, a=math.sqrt(5))`` reads as in PyTorch.
"""

import math
import warnings

from .. import backend
from ..autograd.grad_mode import no_grad
from ..backend import host, xp

__all__ = [
    "calculate_gain",
    "calculate_fan_in_and_fan_out",
    "uniform_",
    "normal_",
    "trunc_normal_",
    "constant_",
    "ones_",
    "zeros_",
    "eye_",
    "dirac_",
    "xavier_uniform_",
    "xavier_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
    "orthogonal_",
    "sparse_",
    "default_layer_init_",
]

_LINEAR_FNS = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
)
_NONLINEARITIES = _LINEAR_FNS + ("sigmoid", "tanh", "relu", "leaky_relu", "selu")
_FAN_MODES = ("fan_in", "fan_out")


# ---- gains and fans ------------------------------------------------------------------------------------


def calculate_gain(nonlinearity, param=None):
    """The factor by which to scale a weight's standard deviation for the non-linearity that follows.

    ================= ======================================
    nonlinearity      gain
    ================= ======================================
    linear, conv*     1
    sigmoid           1
    tanh              5/3
    relu              sqrt(2)   (ReLU halves the second moment)
    leaky_relu        sqrt(2 / (1 + negative_slope^2)), ``param`` = negative_slope, default 0.01
    selu              3/4       (found empirically; use 'linear' for self-normalising nets)
    ================= ======================================
    """
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):  # True is an int, not a slope
            negative_slope = param
        else:
            raise ValueError(f"calculate_gain('leaky_relu'): negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity!r}; expected one of {', '.join(_NONLINEARITIES)}")


def _calculate_fan_in_and_fan_out(tensor):
    """``(fan_in, fan_out)`` of a weight shaped ``(out, in, *kernel)``: the number of inputs that feed one
    output (``in * prod(kernel)``) and of outputs that one input feeds (``out * prod(kernel)``)."""
    shape = tuple(tensor.shape)
    if len(shape) < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
            f"(got shape {shape}); a bias has no fan, initialise it with uniform_/zeros_ instead"
        )
    receptive_field_size = math.prod(shape[2:])  # kernel taps: each is one more input per output
    return shape[1] * receptive_field_size, shape[0] * receptive_field_size


calculate_fan_in_and_fan_out = _calculate_fan_in_and_fan_out


def _calculate_correct_fan(tensor, mode):
    """fan_in keeps the forward activations' variance; fan_out keeps the backward gradients' variance."""
    mode = mode.lower()
    if mode not in _FAN_MODES:
        raise ValueError(f"Mode {mode} not supported, please use one of {list(_FAN_MODES)}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


# ---- the filling machinery -----------------------------------------------------------------------------


def _rng(generator):
    # Looked up at call time: ember.manual_seed replaces the generator rather than reseeding it.
    return backend.generator() if generator is None else generator


def _check_floating(tensor, what):
    if tensor.array.dtype.kind != "f":
        raise TypeError(
            f"init.{what}: random initialisation needs a floating-point tensor, got {tensor.array.dtype}; "
            "convert it first with .float()"
        )


def _fill(tensor, values):
    """Write ``values`` into the tensor's own array (same object, same dtype), recording no graph."""
    with no_grad():
        tensor.array[...] = xp.asarray(values)  # cast to the destination dtype on assignment
    return tensor


def _uniform(tensor, a, b, generator):
    # Drawn in float64 and cast, so a seed gives the same numbers whatever the tensor's dtype.
    return _fill(tensor, _rng(generator).uniform(a, b, size=tensor.array.shape))


def _normal(tensor, mean, std, generator):
    return _fill(tensor, _rng(generator).normal(mean, std, size=tensor.array.shape))


# ---- plain distributions -------------------------------------------------------------------------------


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with values drawn from the uniform distribution U(a, b)."""
    _check_floating(tensor, "uniform_")
    return _uniform(tensor, a, b, generator)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with values drawn from the normal distribution N(mean, std^2)."""
    _check_floating(tensor, "normal_")
    return _normal(tensor, mean, std, generator)


def _norm_cdf(x):
    return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with values from N(mean, std^2) truncated to [a, b]: values outside are redrawn.

    The density is the normal's, restricted to [a, b] and renormalised by
    ``p = Phi((b - mean) / std) - Phi((a - mean) / std)``, the probability a draw lands inside.
    When ``p`` is large, drawing normals and redrawing the misses is fast. When [a, b] sits far in a
    tail, almost every normal draw would miss, so (as PyTorch does) we propose uniformly on [a, b]
    and accept a proposal x with probability ``pdf(x) / pdf(mode)``, the rejection sampler whose
    acceptance rate does not collapse with ``p``.
    """
    _check_floating(tensor, "trunc_normal_")
    if not a < b:
        raise ValueError(f"trunc_normal_: the cutoffs must satisfy a < b, got a={a}, b={b}")
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn(
            "mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
            "The distribution of values may be incorrect.",
            stacklevel=2,
        )
    rng = _rng(generator)  # drawn and rejected on the host; _fill moves the result to the device
    shape = tensor.array.shape
    p = _norm_cdf((b - mean) / std) - _norm_cdf((a - mean) / std)
    if p > 0.3:
        # Rejected in the tensor's dtype, against the bounds as that dtype represents them.
        lo, hi = host.asarray(a, dtype=tensor.array.dtype), host.asarray(b, dtype=tensor.array.dtype)
        values = rng.normal(mean, std, size=shape).astype(tensor.array.dtype)
        pending = (values < lo) | (values > hi)
        while pending.any():
            values[pending] = rng.normal(mean, std, size=int(pending.sum()))
            pending = (values < lo) | (values > hi)
    else:
        mode = max(a, min(mean, b))  # where the density peaks inside [a, b]
        log_peak = -0.5 * ((mode - mean) / std) ** 2
        values = host.empty(shape, dtype=tensor.array.dtype)
        pending = host.ones(shape, dtype=bool)
        while pending.any():
            n = int(pending.sum())
            candidates = rng.uniform(a, b, size=n)
            log_ratio = -0.5 * ((candidates - mean) / std) ** 2 - log_peak
            accept = host.log(rng.random(n)) <= log_ratio
            index = host.flatnonzero(pending)[accept]
            values.reshape(-1)[index] = candidates[accept]
            pending.reshape(-1)[index] = False
        # No clipping needed after the cast: rounding is monotonic, so a <= x <= b gives lo <= x <= hi.
    return _fill(tensor, values)


def constant_(tensor, val):
    """Fill with the value ``val``."""
    return _fill(tensor, val)


def ones_(tensor):
    """Fill with the scalar 1."""
    return _fill(tensor, 1)


def zeros_(tensor):
    """Fill with the scalar 0."""
    return _fill(tensor, 0)


def eye_(tensor):
    """Fill a 2-D tensor with the identity matrix: a Linear layer that passes its inputs through
    (as many as fit when it is not square)."""
    if tensor.ndim != 2:
        raise ValueError(f"Only tensors with 2 dimensions are supported, got shape {tuple(tensor.shape)}")
    return _fill(tensor, xp.eye(*tensor.array.shape, dtype=tensor.array.dtype))


def dirac_(tensor, groups=1):
    """Fill a {3, 4, 5}-D conv weight with the Dirac delta: output channel d copies input channel d
    through the kernel's centre tap, so the convolution is the identity (per group when groups > 1)."""
    shape = tuple(tensor.shape)
    if len(shape) not in (3, 4, 5):
        raise ValueError(f"Only tensors with 3, 4, or 5 dimensions are supported, got shape {shape}")
    if shape[0] % groups != 0:
        raise ValueError(f"dim 0 must be divisible by groups (got {shape[0]} output channels and groups={groups})")
    out_chans_per_grp = shape[0] // groups
    min_dim = min(out_chans_per_grp, shape[1])
    values = xp.zeros(shape, dtype=tensor.array.dtype)
    d = xp.arange(min_dim)
    centre = tuple(s // 2 for s in shape[2:])
    for g in range(groups):
        values[(g * out_chans_per_grp + d, d) + centre] = 1
    return _fill(tensor, values)


# ---- variance-preserving schemes -----------------------------------------------------------------------


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot & Bengio (2010): U(-a, a) with ``a = gain * sqrt(6 / (fan_in + fan_out))``.

    For linear or tanh units, keeping activations' variance constant going forward needs
    ``Var(W) = 1 / fan_in`` and keeping gradients' variance constant going backward needs
    ``1 / fan_out``; the compromise is ``Var(W) = 2 / (fan_in + fan_out)``, and a uniform has
    variance ``a^2 / 3``, hence ``a = sqrt(3) * std``.
    """
    _check_floating(tensor, "xavier_uniform_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return _uniform(tensor, -a, a, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot & Bengio (2010): N(0, std^2) with ``std = gain * sqrt(2 / (fan_in + fan_out))``,
    the average of the forward (fan_in) and backward (fan_out) variance-preserving choices."""
    _check_floating(tensor, "xavier_normal_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return _normal(tensor, 0.0, std, generator)


def _kaiming_std(tensor, a, mode, nonlinearity):
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He et al. (2015): U(-bound, bound) with ``bound = gain * sqrt(3 / fan_mode)``.

    A ReLU zeroes half of its inputs and so halves the second moment of what passes through; to keep
    it constant layer after layer the weights need ``Var(W) = 2 / fan_in`` (gain sqrt(2)), or
    ``2 / ((1 + a^2) fan_in)`` for a leaky ReLU of negative slope ``a``. ``mode='fan_out'`` preserves
    the gradients' variance in the backward pass instead. The uniform's variance is ``bound^2 / 3``.
    (With PyTorch's defaults, a=0 and 'leaky_relu', the gain is sqrt(2): a plain ReLU.)
    """
    _check_floating(tensor, "kaiming_uniform_")
    if 0 in tuple(tensor.shape):
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return _uniform(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He et al. (2015): N(0, std^2) with ``std = gain / sqrt(fan_mode)``: ``Var(W) = 2 / fan_in`` for
    ReLU, doubling the 1 / fan_in of a linear unit to make up for ReLU halving the second moment."""
    _check_floating(tensor, "kaiming_normal_")
    if 0 in tuple(tensor.shape):
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    return _normal(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)


def orthogonal_(tensor, gain=1, generator=None):
    """Saxe et al. (2013): a (semi-)orthogonal matrix times ``gain``; trailing dims are flattened.

    An orthogonal W preserves the norm of every vector (all singular values are 1), so deep linear
    stacks neither explode nor vanish in any direction. Draw a Gaussian matrix, take Q of its QR
    factorisation, and multiply Q's columns by sign(diag(R)) so that Q is uniformly (Haar) distributed
    rather than biased by the QR convention. Rows <= cols gives ``W W^T = gain^2 I``, otherwise
    ``W^T W = gain^2 I``.
    """
    _check_floating(tensor, "orthogonal_")
    if tensor.ndim < 2:
        raise ValueError(f"Only tensors with 2 or more dimensions are supported, got shape {tuple(tensor.shape)}")
    if tensor.array.size == 0:
        return tensor
    rows = tensor.array.shape[0]
    cols = tensor.array.size // rows
    flattened = xp.asarray(_rng(generator).standard_normal((rows, cols)))
    if rows < cols:
        flattened = flattened.T  # QR of the tall matrix, so Q's orthonormal columns become W's rows
    q, r = xp.linalg.qr(flattened)
    q = q * xp.sign(xp.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (gain * q).reshape(tensor.array.shape))


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """Martens (2010): a 2-D N(0, std^2) matrix with a fraction ``sparsity`` of each column set to 0."""
    _check_floating(tensor, "sparse_")
    if tensor.ndim != 2:
        raise ValueError(f"Only tensors with 2 dimensions are supported, got shape {tuple(tensor.shape)}")
    rng = _rng(generator)
    rows, cols = tensor.array.shape
    num_zeros = math.ceil(sparsity * rows)
    values = rng.normal(0.0, std, size=(rows, cols))
    # An independent random permutation of the rows per column: argsort of i.i.d. uniforms.
    zero_rows = host.argsort(rng.random((rows, cols)), axis=0)[:num_zeros]  # drawn on the host, as values
    values[zero_rows, host.arange(cols)] = 0
    return _fill(tensor, values)


def default_layer_init_(weight, bias=None):
    """PyTorch's default for Linear and Conv layers: W ~ kaiming_uniform_(a=√5), which is U(±1/√fan_in),
    and b ~ U(±1/√fan_in) — small enough that a fresh network's activations neither explode nor vanish."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = _calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        uniform_(bias, -bound, bound)
    return weight


# ---- the deprecated names without the trailing underscore (torch warns, then calls the in-place version) ----


def _make_deprecate(meth):
    new_name = meth.__name__
    old_name = new_name[:-1]

    def deprecated_init(*args, **kwargs):
        import warnings
        warnings.warn(f"`nn.init.{old_name}` is now deprecated in favor of `nn.init.{new_name}`.", FutureWarning,
                      stacklevel=2)
        return meth(*args, **kwargs)

    deprecated_init.__name__ = deprecated_init.__qualname__ = old_name
    deprecated_init.__doc__ = f"Deprecated: use ``{new_name}``."
    return deprecated_init


uniform = _make_deprecate(uniform_)
normal = _make_deprecate(normal_)
constant = _make_deprecate(constant_)
eye = _make_deprecate(eye_)
dirac = _make_deprecate(dirac_)
xavier_uniform = _make_deprecate(xavier_uniform_)
xavier_normal = _make_deprecate(xavier_normal_)
kaiming_uniform = _make_deprecate(kaiming_uniform_)
kaiming_normal = _make_deprecate(kaiming_normal_)
orthogonal = _make_deprecate(orthogonal_)
sparse = _make_deprecate(sparse_)
