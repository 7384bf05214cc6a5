"""Contractions named by subscripts: einsum, tensordot, trace, cross, cdist.

einsum's backward is einsum again: the gradient of operand k is the contraction of the upstream gradient
with every other operand, written to operand k's subscripts. Two details make that general: a letter that
appears only in operand k was summed away in forward, so its gradient is broadcast back along it; a letter
repeated inside operand k ('ii') picked a diagonal, so the gradient is written onto that diagonal (through
the writeable view ``einsum('ii->i', zeros)`` returns). Every contraction runs with ``optimize=True``, so
NumPy orders it and hands the pairs to BLAS.
"""

import string

from ..autograd.function import Function
from ..backend import errstate, xp
from ..tensor import Tensor
from . import elementwise as ew
from .reduce import normalize_dims


def _parse(equation, shapes):
    """Explicit subscripts ``(inputs, output)`` with every '...' replaced by letters of its own."""
    equation = equation.replace(" ", "")
    lhs, arrow, rhs = equation.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise RuntimeError(f"einsum(): the equation {equation!r} has {len(terms)} operand(s) but {len(shapes)} "
                           f"tensor(s) were given")
    used = set(equation) - set(".,->")
    spare = [c for c in string.ascii_letters if c not in used]
    n_ellipsis = max([len(s) - (len(t) - 3) for t, s in zip(terms, shapes) if "..." in t] or [0])
    ellipsis = "".join(spare[:n_ellipsis])
    inputs = []
    for term, shape in zip(terms, shapes):
        if "..." in term:
            k = len(shape) - (len(term) - 3)
            term = term.replace("...", ellipsis[n_ellipsis - k:] if k else "")
        if len(term) != len(shape):
            raise RuntimeError(f"einsum(): the subscripts {term!r} do not match an operand with {len(shape)} dims")
        inputs.append(term)
    if arrow:
        output = rhs.replace("...", ellipsis)
    else:
        letters = "".join(inputs)
        output = ellipsis + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ellipsis))
    return inputs, output


class Einsum(Function):
    """z = einsum(equation, a, b, ...);  d operand_k = einsum(dz, the other operands -> operand k's subscripts),
    broadcast along the letters only operand k had and written onto its repeated-letter diagonals."""

    @staticmethod
    def forward(ctx, *operands, inputs, output):
        ctx.inputs, ctx.output = inputs, output
        ctx.shapes = [o.shape for o in operands]
        ctx.save(*operands)
        equation = ",".join(inputs) + "->" + output
        return xp.einsum(equation, *operands, optimize=True)

    @staticmethod
    def backward(ctx, grad):
        operands = ctx.saved
        grads = []
        for k, (term, shape) in enumerate(zip(ctx.inputs, ctx.shapes)):
            if not ctx.needs_input_grad[k]:
                grads.append(None)
                continue
            others = [(t, o) for j, (t, o) in enumerate(zip(ctx.inputs, operands)) if j != k]
            available = set(ctx.output).union(*(set(t) for t, _ in others))
            unique = "".join(dict.fromkeys(term))
            target = "".join(c for c in unique if c in available)
            subs = ",".join([ctx.output] + [t for t, _ in others]) + "->" + target
            part = xp.einsum(subs, grad, *[o for _, o in others], optimize=True)
            size = {c: n for c, n in zip(term, shape)}
            part = part.reshape([size[c] if c in available else 1 for c in unique])
            part = xp.broadcast_to(part, [size[c] for c in unique])
            if len(unique) == len(term):
                full = xp.ascontiguousarray(xp.transpose(part, [unique.index(c) for c in term]))
            else:
                full = xp.zeros(shape, dtype=grad.dtype)
                xp.einsum(f"{term}->{unique}", full)[...] = part  # the diagonal view is writeable
            grads.append(full.astype(grad.dtype, copy=False))
        return tuple(grads)


def einsum(equation, *operands):
    """Sum of products over the repeated subscripts (``ember.einsum('bij,bjk->bik', a, b)``)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not isinstance(equation, str):
        raise TypeError("einsum(): the first argument must be the equation string (the sublist format is not "
                        "supported); write einsum('ij,jk->ik', a, b)")
    operands = tuple(o if isinstance(o, Tensor) else Tensor(o) for o in operands)
    dtypes = {o.dtype for o in operands}
    if len(dtypes) > 1:
        raise RuntimeError(f"einsum(): expected all operands to have the same dtype, got {sorted(map(str, dtypes))}")
    inputs, output = _parse(equation, [o.shape for o in operands])
    return Einsum.apply(*operands, inputs=inputs, output=output)


def tensordot(a, b, dims=2):
    """Contract the last ``dims`` dims of a with the first ``dims`` of b, or the listed dims
    (``dims=([1, 0], [0, 1])``)."""
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        dims_a, dims_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        dims_a, dims_b = dims
        dims_a = [dims_a] if isinstance(dims_a, int) else list(dims_a)
        dims_b = [dims_b] if isinstance(dims_b, int) else list(dims_b)
    dims_a = [d % a.ndim for d in dims_a]
    dims_b = [d % b.ndim for d in dims_b]
    letters = iter(string.ascii_letters)
    ta = [next(letters) for _ in range(a.ndim)]
    tb = [next(letters) for _ in range(b.ndim)]
    for da, db in zip(dims_a, dims_b):
        if a.shape[da] != b.shape[db]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a.shape[da]} in dim {da} "
                               f"and second has size {b.shape[db]} in dim {db}")
        tb[db] = ta[da]
    out = [c for i, c in enumerate(ta) if i not in dims_a] + [c for i, c in enumerate(tb) if i not in dims_b]
    return einsum("".join(ta) + "," + "".join(tb) + "->" + "".join(out), a, b)


def trace(input):
    """The sum of the main diagonal of a matrix."""
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    if input.dtype.kind != "f":
        return Tensor(xp.asarray(xp.trace(input.array), dtype=xp.int64))
    k = min(input.shape)
    square = input if input.shape[0] == input.shape[1] else input[:k, :k]
    return einsum("ii->", square)


def cross(input, other, dim=None):
    """The cross product of 3-vectors along ``dim`` (torch.cross: the first dim of size 3 when None)."""
    from .shape import expand, getitem, stack

    shape = xp.broadcast_shapes(tuple(input.shape), tuple(other.shape))
    if dim is None:
        sizes = [d for d, n in enumerate(shape) if n == 3]
        if not sizes:
            raise RuntimeError(f"no dimension of size 3 in input (shape {list(shape)})")
        dim = sizes[0]
    axis = normalize_dims(dim, len(shape))[0]
    if shape[axis] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {input.shape[axis]} and "
                           f"{other.shape[axis]}")
    a = input if tuple(input.shape) == shape else expand(input, shape)
    b = other if tuple(other.shape) == shape else expand(other, shape)
    head = (slice(None),) * axis
    ai = [getitem(a, head + (i,)) for i in range(3)]
    bi = [getitem(b, head + (i,)) for i in range(3)]
    parts = [ew.sub(ew.mul(ai[(i + 1) % 3], bi[(i + 2) % 3]), ew.mul(ai[(i + 2) % 3], bi[(i + 1) % 3])) for i in range(3)]
    return stack(parts, axis)


class Cdist(Function):
    """z[..., i, j] = ‖x1[..., i, :] - x2[..., j, :]‖_p;  with d = x1_i - x2_j, dz/dd = sign(d)·|d|^{p-1} / z^{p-1}
    (d / z for p = 2; 0 where z = 0), summed over j for x1 and over i (negated) for x2."""

    @staticmethod
    def forward(ctx, x1, x2, p):
        d = x1[..., :, None, :] - x2[..., None, :, :]  # (..., P, R, M)
        a = xp.abs(d)
        if p == 0:
            z = (d != 0).sum(-1).astype(x1.dtype)
        elif p == xp.inf:
            z = a.max(-1) if a.shape[-1] else xp.zeros(a.shape[:-1], dtype=x1.dtype)
        elif p == 2:
            z = xp.sqrt((d * d).sum(-1))
        elif p == 1:
            z = a.sum(-1)
        else:
            z = (a ** p).sum(-1) ** (1 / p)
        ctx.save(d, z)
        ctx.p = p
        return z

    @staticmethod
    def backward(ctx, grad):
        d, z = ctx.saved
        p = ctx.p
        zz, g = z[..., None], grad[..., None]
        with errstate(divide="ignore", invalid="ignore"):
            if p == 0:
                local = xp.zeros_like(d)
            elif p == xp.inf:
                local = xp.sign(d) * (xp.abs(d) == zz)
            elif p == 1:
                local = xp.sign(d)
            elif p == 2:
                local = d / zz
            else:
                local = xp.sign(d) * xp.abs(d) ** (p - 1) / zz ** (p - 1)
            local = xp.where(zz == 0, 0, local)
        gd = g * local
        return gd.sum(-2), -gd.sum(-3), None


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """The p-norm distance between every row of x1 (..., P, M) and every row of x2 (..., R, M): (..., P, R)."""
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D, X2 got: {x2.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    if x1.dtype.kind != "f" or x2.dtype.kind != "f":
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: {x1.dtype}, X2 got: {x2.dtype}")
    return Cdist.apply(x1, x2, float(p))
