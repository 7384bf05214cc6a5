"""Matrix products: every contraction goes to BLAS through ``xp.matmul``.

For Z = A·B the chain rule gives dA = dZ·Bᵀ and dB = Aᵀ·dZ; batched products broadcast their leading
axes, which the engine sums back.
"""

from ..autograd.function import Function
from ..backend import xp
from ..parallel import every_core
from .validate import ShapeError, same_dtype, tensor_input


def _swap(m):
    return m.swapaxes(-1, -2)


class MatMul(Function):
    """Z = A @ B, with NumPy's rules for 1-D operands and broadcast batch axes."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save(a, b)
        with every_core(_macs(a, b)):
            return xp.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        with every_core(_macs(a, b)):  # each gradient is a product of the forward's size
            return MatMul._gradients(ctx, a, b, grad)

    @staticmethod
    def _gradients(ctx, a, b, grad):
        if a.ndim == 1 and b.ndim == 1:  # a dot product
            return grad * b, grad * a
        # Treat a vector as a 1-row (a) or 1-column (b) matrix, then drop that axis again.
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = grad
        if a.ndim == 1:
            g2 = g2[..., None, :]
        if b.ndim == 1:
            g2 = g2[..., None]
        da = db = None
        if ctx.needs_input_grad[0]:
            da = xp.matmul(g2, _swap(b2))
            da = _sum_to(da, a2.shape).reshape(a.shape)
        if ctx.needs_input_grad[1]:
            db = xp.matmul(_swap(a2), g2)
            db = _sum_to(db, b2.shape).reshape(b.shape)
        return da, db


def _macs(a, b):
    """The multiply-adds of a @ b: rows · inner · columns, times the broadcast batch."""
    rows = a.shape[-2] if a.ndim > 1 else 1
    cols = b.shape[-1] if b.ndim > 1 else 1
    batch = 1
    for n in xp.broadcast_shapes(a.shape[:-2], b.shape[:-2]):
        batch *= n
    return rows * a.shape[-1] * cols * batch


def _sum_to(grad, shape):
    """Sum away the batch axes that broadcasting added (the matrix axes already have the right sizes)."""
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    ones = tuple(i for i, n in enumerate(shape[:-2]) if n == 1 and grad.shape[i] != 1)
    return grad.sum(axis=ones, keepdims=True) if ones else grad


class Linear(Function):
    """y = x Wᵀ + b over the last axis of x (any leading axes);  dx = dy W,  dW = dyᵀ x,  db = Σ dy.

    One fused node instead of matmul + transpose + add: three GEMM-sized jobs and nothing else.
    """

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        need_x, need_w = ctx.needs_input_grad[:2]
        ctx.save(x if need_w else None, weight if need_x else None)  # only what a gradient needs, as torch
        ctx.has_bias = bias is not None
        with every_core(x.size * weight.shape[0]):
            y = _flat_matmul(x, weight.T)
        if bias is not None:
            y += bias
        return y

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved
        need_x, need_w = ctx.needs_input_grad[:2]
        need_b = ctx.has_bias and ctx.needs_input_grad[2]
        g2 = grad.reshape(-1, grad.shape[-1])
        inputs = weight.shape[1] if weight is not None else x.shape[-1]
        with every_core(g2.size * inputs):
            dx = _flat_matmul(grad, weight) if need_x else None
            dw = xp.matmul(g2.T, x.reshape(-1, x.shape[-1])) if need_w else None
        db = g2.sum(axis=0) if need_b else None
        return dx, dw, db


def _flat_matmul(a, b):
    """a @ b for a 2-D b, with a's leading axes flattened into one GEMM: NumPy would run a 3-D a as one
    small GEMM per leading index (a non-contiguous a is copied once, which costs far less)."""
    if a.ndim <= 2:
        return xp.matmul(a, b)
    return xp.matmul(a.reshape(-1, a.shape[-1]), b).reshape(*a.shape[:-1], b.shape[1])


def matmul(a, b):
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul(): both arguments need at least 1 dimension (use * for scalars)")
    ka = a.shape[-1]
    kb = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if ka != kb:
        raise ShapeError(
            f"matmul(): shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied "
            f"({ka} columns on the left, {kb} rows on the right); transpose one of them or fix the layer sizes"
        )
    return MatMul.apply(a, b)


def linear(x, weight, bias=None):
    """y = x Wᵀ + b, as ``torch.nn.functional.linear``."""
    x_shape = tensor_input(x, "linear").array.shape  # the array's shape: Tensor.shape builds a Size each call
    w_shape = tensor_input(weight, "linear", "weight").array.shape
    if not x_shape or x_shape[-1] != w_shape[-1]:
        raise ShapeError(
            f"linear: mat1 and mat2 shapes cannot be multiplied: input {tuple(x.shape)} has "
            f"{x.shape[-1] if x.ndim else 'no'} features in its last dimension, weight {tuple(weight.shape)} "
            f"expects {weight.shape[-1]}; reshape the input or use a weight with "
            f"in_features={x.shape[-1] if x.ndim else 1}"
        )
    same_dtype(x, weight, "linear")
    if bias is not None and bias.array.shape != w_shape[:1]:
        raise ShapeError(f"linear: bias of shape {tuple(bias.shape)} does not fit weight of shape "
                         f"{tuple(weight.shape)}: expected ({weight.shape[0]},), one per output feature")
    return Linear.apply(x, weight, bias)


# ----------------------------------------------------------------------------------------------------
# The strict products: torch's mm, bmm, mv and dot check their ranks (matmul broadcasts, these do not).


def _same_dtype(a, b, name):
    if a.dtype != b.dtype:
        raise RuntimeError(
            f"{name}: expected both arguments to have the same dtype, but got {a.dtype} and {b.dtype}; "
            "convert one with .to()"
        )


def mm(a, b):
    """The matrix product of two 2-D tensors, (n, m) @ (m, p) -> (n, p)."""
    if a.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if b.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and {b.shape[0]}x{b.shape[1]})"
        )
    _same_dtype(a, b, "mm")
    return MatMul.apply(a, b)


def bmm(a, b):
    """A batch of matrix products: (B, n, m) @ (B, m, p) -> (B, n, p), with no broadcasting."""
    if a.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if b.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if b.shape[:2] != (a.shape[0], a.shape[2]):
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{a.shape[0]}, {a.shape[2]}] "
            f"but got: [{b.shape[0]}, {b.shape[1]}]."
        )
    _same_dtype(a, b, "bmm")
    return MatMul.apply(a, b)


def mv(a, v):
    """Matrix times vector: (n, m) @ (m,) -> (n,)."""
    if a.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {a.ndim}, {v.ndim}")
    if a.shape[1] != v.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({a.shape[0]}), mat ({a.shape[0]}x{a.shape[1]}), vec ({v.shape[0]})")
    _same_dtype(a, v, "mv")
    return MatMul.apply(a, v)


def dot(a, b):
    """The inner product of two 1-D tensors of the same length (a 0-d tensor)."""
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape != b.shape:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] to have the same "
            f"number of elements, but got {a.shape[0]} and {b.shape[0]} elements respectively"
        )
    if a.dtype != b.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found {a.dtype} and {b.dtype}")
    return MatMul.apply(a, b)


inner = dot


def outer(a, b):
    """The outer product of two vectors: z[i, j] = a[i] · b[j]."""
    from .elementwise import mul
    from .shape import reshape

    for name, v in (("self", a), ("vec2", b)):
        if v.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {v.ndim}-D")
    return mul(reshape(a, (-1, 1)), reshape(b, (1, -1)))


ger = outer


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta · input + alpha · (mat1 @ mat2), as ``torch.addmm``."""
    from .elementwise import add, mul

    product = mm(mat1, mat2)
    if alpha != 1:
        product = mul(product, alpha)
    return add(input if beta == 1 else mul(input, beta), product)


def _scaled_sum(input, product, beta, alpha):
    from .elementwise import add, mul

    if alpha != 1:
        product = mul(product, alpha)
    if beta == 0:  # torch ignores input (even nan in it) when beta is 0, but still broadcasts to its shape
        from .pointwise_more import nan_to_num

        return add(product, mul(nan_to_num(input), 0))  # input's gradient: zeros, as in torch
    return add(input if beta == 1 else mul(input, beta), product)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """beta · input + alpha · (mat @ vec)."""
    return _scaled_sum(input, mv(mat, vec), beta, alpha)


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """beta · input + alpha · outer(vec1, vec2)."""
    return _scaled_sum(input, outer(vec1, vec2), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta · input + alpha · (batch1 @ batch2), batch by batch."""
    return _scaled_sum(input, bmm(batch1, batch2), beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta · input + alpha · Σ_b batch1[b] @ batch2[b]."""
    from .reduce import sum

    return _scaled_sum(input, sum(bmm(batch1, batch2), 0), beta, alpha)
