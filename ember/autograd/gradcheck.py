"""gradcheck: compare the analytic gradients of backward with central differences, in float64.

For every input element x_j, the numerical column is (f(x + ε e_j) - f(x - ε e_j)) / 2ε; for every output
element, the analytical row is one backward pass with a one-hot upstream gradient. Both Jacobians must
agree element by element within ``atol + rtol · |numerical|``, as in ``torch.autograd.gradcheck``.
``fast_mode=True`` compares one random directional derivative instead (Chainer's check), for inputs
too large for a full Jacobian.
"""

from ..backend import xp
from .grad_mode import no_grad


class GradcheckError(AssertionError):
    """The analytic and numerical gradients disagree."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _outputs(fn, inputs):
    outs = _as_tuple(fn(*inputs))
    return tuple(o for o in outs if hasattr(o, "array") and o.array.dtype.kind == "f")


def _check_inputs(inputs):
    wanted = [i for i, x in enumerate(inputs) if getattr(x, "requires_grad", False)]
    if not wanted:
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check")
    for i in wanted:
        if inputs[i].dtype != xp.float64:
            raise ValueError(
                f"gradcheck: input {i} is {inputs[i].dtype}; central differences need float64 "
                "(convert with .double() and set requires_grad=True)"
            )
    return wanted


def _numerical_jacobians(fn, inputs, wanted, eps):
    """{input index: array (n_outputs_total, input size)} of central differences."""
    jacobians = {}
    with no_grad():
        for i in wanted:
            flat = inputs[i].array.flat  # writes go to the input itself, in C order, even when it is not contiguous
            columns = []
            for j in range(inputs[i].array.size):
                orig = flat[j]
                flat[j] = orig + eps
                plus = xp.concatenate([o.array.ravel() for o in _outputs(fn, inputs)])
                flat[j] = orig - eps
                minus = xp.concatenate([o.array.ravel() for o in _outputs(fn, inputs)])
                flat[j] = orig
                columns.append((plus - minus) / (2 * eps))
            jacobians[i] = xp.stack(columns, axis=1)
    return jacobians


def _analytical_jacobians(fn, inputs, wanted):
    outs = _outputs(fn, inputs)
    total = sum(o.array.size for o in outs)
    jacobians = {i: xp.zeros((total, inputs[i].array.size)) for i in wanted}
    row = 0
    for o in outs:
        for k in range(o.array.size):
            for i in wanted:
                inputs[i].grad = None
            seed = xp.zeros(o.array.size, dtype=o.dtype)
            seed[k] = 1
            if o.requires_grad:
                o.backward(seed.reshape(o.shape), retain_graph=True)
            for i in wanted:
                g = inputs[i].grad
                if g is not None:
                    jacobians[i][row] = g.array.ravel()
            row += 1
    for i in wanted:
        inputs[i].grad = None
    return jacobians


def _fail(message, raise_exception):
    if raise_exception:
        raise GradcheckError(message)
    return False


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, fast_mode=False):
    """True if the gradients of ``fn(*inputs)`` agree with central differences (see the module docstring).

    ``inputs`` is a Tensor or a tuple of them (and other arguments); the float64 ones with
    ``requires_grad=True`` are checked. On a mismatch it raises ``GradcheckError`` naming the input, the
    element and both values (or returns False with ``raise_exception=False``).
    """
    inputs = _as_tuple(inputs)
    wanted = _check_inputs(inputs)
    if fast_mode:
        return _directional_check(fn, inputs, wanted, eps, atol, rtol, raise_exception)
    numerical = _numerical_jacobians(fn, inputs, wanted, eps)
    analytical = _analytical_jacobians(fn, inputs, wanted)
    for i in wanted:
        num, ana = numerical[i], analytical[i]
        bad = ~(xp.abs(ana - num) <= atol + rtol * xp.abs(num))
        if bad.any():
            out_row, col = (int(v) for v in xp.argwhere(bad)[0])
            element = tuple(int(v) for v in xp.unravel_index(col, inputs[i].shape))
            return _fail(
                f"Jacobian mismatch for output element {out_row} with respect to input {i} at element "
                f"{element}: numerical {num[out_row, col]:.10g}, analytical {ana[out_row, col]:.10g} "
                f"({int(bad.sum())} of {bad.size} entries disagree)",
                raise_exception,
            )
    return True


def _directional_check(fn, inputs, wanted, eps, atol, rtol, raise_exception):
    """Compare u·J·v computed by backward with the central difference of u·f along v."""
    rng = xp.random.default_rng(0)
    directions = {i: rng.standard_normal(inputs[i].shape) for i in wanted}
    outs = _outputs(fn, inputs)
    weights = [rng.standard_normal(o.shape) for o in outs]

    originals = {i: inputs[i].array.copy() for i in wanted}

    def projected(sign):
        for i in wanted:
            inputs[i].array[...] = originals[i] + sign * eps * directions[i]
        with no_grad():
            value = sum(float((o.array * u).sum()) for o, u in zip(_outputs(fn, inputs), weights))
        for i in wanted:
            inputs[i].array[...] = originals[i]
        return value

    numerical = (projected(+1) - projected(-1)) / (2 * eps)
    for i in wanted:
        inputs[i].grad = None
    for o, u in zip(outs, weights):
        if o.requires_grad:
            o.backward(u, retain_graph=True)
    analytical = sum(float((inputs[i].grad.array * directions[i]).sum()) for i in wanted if inputs[i].grad is not None)
    for i in wanted:
        inputs[i].grad = None
    if not abs(analytical - numerical) <= atol + rtol * abs(numerical):
        return _fail(
            f"directional derivative mismatch: numerical {numerical:.10g}, analytical {analytical:.10g}",
            raise_exception,
        )
    return True
