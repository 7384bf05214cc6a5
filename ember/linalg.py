"""``torch.linalg`` at torch's path: norms, inverses, determinants, solvers and decompositions.

The maths and the gradients live in ``ember.ops.decompose`` (and the norms are built of the reductions in
``ember.ops.reduce``, so their gradients come from there); this module checks the arguments and returns
torch's result types.
"""

from collections import namedtuple

from .backend import xp
from .ops import elementwise as _ew
from .ops import reduce as _reduce
from .ops.contract import cross as _cross
from .ops.decompose import QR, SVD, Cholesky, Det, Eigh, Inv, Pinv, SlogDet, Solve, SvdVals, _check_square
from .ops.linalg import matmul
from .ops.shape import reshape, squeeze, unsqueeze
from .tensor import Tensor

SlogdetResult = namedtuple("slogdet", ["sign", "logabsdet"])
EighResult = namedtuple("eigh", ["eigenvalues", "eigenvectors"])
SVDResult = namedtuple("svd", ["U", "S", "Vh"])
QRResult = namedtuple("qr", ["Q", "R"])
LstsqResult = namedtuple("lstsq", ["solution", "residuals", "rank", "singular_values"])
InvExResult = namedtuple("inv_ex", ["inverse", "info"])
CholeskyExResult = namedtuple("cholesky_ex", ["L", "info"])


def _floating(a, name):
    if not isinstance(a, Tensor):
        raise TypeError(f"linalg.{name}(): argument 'A' must be Tensor, not {type(a).__name__}")
    if a.dtype.kind != "f":
        raise RuntimeError(f"linalg.{name}: Expected a floating point or complex tensor as input. Got {a.dtype}")
    return a


def _matrix(a, name):
    a = _floating(a, name)
    if a.ndim < 2:
        raise RuntimeError(f"linalg.{name}: The input tensor A must have at least 2 dimensions.")
    return a


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The vector ord-norm of all elements or over ``dim`` (ord: a number, inf or -inf)."""
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got {ord!r}; use matrix_norm for 'fro'/'nuc'")
    return _reduce.norm(_floating(x, "vector_norm"), ord, dim, keepdim, dtype)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """The matrix norm: 'fro', 'nuc', 2 / -2 (largest / smallest singular value), 1 / -1 (max / min column
    sum of |A|), inf / -inf (max / min row sum)."""
    A = _matrix(A, "matrix_norm")
    if dtype is not None:
        A = _ew.cast(A, dtype)
    d0, d1 = (d % A.ndim for d in dim)
    if ord == "fro":
        return _reduce.norm(A, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        moved = A.permute(*[d for d in range(A.ndim) if d not in (d0, d1)], d0, d1)
        s = svdvals(moved)
        out = _reduce.sum(s, -1) if ord == "nuc" else (_reduce.amax(s, -1) if ord == 2 else _reduce.amin(s, -1))
        if keepdim:
            for d in sorted((d0, d1)):
                out = unsqueeze(out, d)
        return out
    if ord in (1, -1, float("inf"), -float("inf")):
        summed, other = (d0, d1) if abs(ord) == 1 else (d1, d0)
        sums = _reduce.sum(_ew.abs(A), summed, keepdim=True)
        pick = _reduce.amax if ord > 0 else _reduce.amin
        out = pick(sums, other, keepdim=True)
        return out if keepdim else squeeze(squeeze(out, max(d0, d1)), min(d0, d1))
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """``vector_norm`` or ``matrix_norm``: a matrix norm when ``ord`` is given for 2-D input (or dim is a pair)."""
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None and len(dim) == 2 or (dim is None and ord is not None and A.ndim == 2):
        return matrix_norm(A, "fro" if ord is None else ord, dim or (-2, -1), keepdim, dtype=dtype)
    if dim is None and ord is not None and A.ndim != 1:
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {A.ndim}D.")
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


def inv(A):
    A = _matrix(A, "inv")
    _check_square(A.array, "inv")
    return Inv.apply(A)


def inv_ex(A, *, check_errors=False):
    A = _matrix(A, "inv_ex")
    singular = xp.linalg.matrix_rank(A.array) < A.shape[-1]
    if xp.any(singular):
        if check_errors:
            return InvExResult(inv(A), None)
        return InvExResult(Tensor(xp.full(A.shape, xp.nan, dtype=A.dtype)), Tensor(xp.asarray(singular, dtype=xp.int32)))
    return InvExResult(inv(A), Tensor(xp.zeros(A.shape[:-2], dtype=xp.int32)))


def det(A):
    A = _matrix(A, "det")
    _check_square(A.array, "det")
    return Det.apply(A)


def slogdet(A):
    A = _matrix(A, "slogdet")
    _check_square(A.array, "slogdet")
    return SlogdetResult(*SlogDet.apply(A))


def solve(A, B, *, left=True):
    """X with A X = B (B a matrix or a batch of vectors)."""
    A = _matrix(A, "solve")
    _check_square(A.array, "solve")
    if not left:  # X A = B  <=>  Aᵀ Xᵀ = Bᵀ
        return solve(A.mT, B.mT).mT
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    if vector:
        return squeeze(Solve.apply(A, unsqueeze(B, -1)), -1)
    return Solve.apply(A, B)


def cholesky(A, *, upper=False):
    A = _matrix(A, "cholesky")
    _check_square(A.array, "cholesky")
    return Cholesky.apply(A, upper=upper)


def cholesky_ex(A, *, upper=False, check_errors=False):
    try:
        return CholeskyExResult(cholesky(A, upper=upper), Tensor(xp.zeros(A.shape[:-2], dtype=xp.int32)))
    except RuntimeError:
        if check_errors:
            raise
        return CholeskyExResult(Tensor(xp.zeros(A.shape, dtype=A.dtype)), Tensor(xp.ones(A.shape[:-2], dtype=xp.int32)))


def eigh(A, UPLO="L"):
    """Eigenvalues (ascending) and eigenvectors of a symmetric matrix (read from its lower triangle)."""
    A = _matrix(A, "eigh")
    _check_square(A.array, "eigh")
    return EighResult(*Eigh.apply(A, UPLO))


def eigvalsh(A, UPLO="L"):
    return eigh(A, UPLO).eigenvalues


def svdvals(A):
    """The singular values, descending."""
    return SvdVals.apply(_matrix(A, "svdvals"))


def svd(A, full_matrices=True):
    """U, S, Vh with A = U diag(S) Vh. Gradients flow through all three with ``full_matrices=False`` (or a
    square A), as in torch."""
    A = _matrix(A, "svd")
    if A.requires_grad and full_matrices and A.shape[-1] != A.shape[-2]:
        raise RuntimeError("linalg.svd: The derivative of linalg.svd is not implemented when full_matrices=True "
                           "for non-square inputs. Use full_matrices=False.")
    if not full_matrices or A.shape[-1] == A.shape[-2]:
        return SVDResult(*SVD.apply(A))
    u, s, vh = xp.linalg.svd(A.array, full_matrices=True)
    return SVDResult(Tensor(u), Tensor(s), Tensor(vh))


def qr(A, mode="reduced"):
    A = _matrix(A, "qr")
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', "
                           "or 'complete'")
    if mode == "r":
        r = xp.linalg.qr(A.array, mode="r")
        return QRResult(Tensor(xp.zeros((0,), dtype=A.dtype)), Tensor(r))
    return QRResult(*QR.apply(A, mode))


def pinv(A, *, atol=None, rtol=None, hermitian=False):
    A = _matrix(A, "pinv")
    if atol is not None:
        raise NotImplementedError("linalg.pinv: atol= is not supported in Ember; use rtol=")
    return Pinv.apply(A, rtol=rtol, hermitian=hermitian)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False):
    A = _matrix(A, "matrix_rank")
    s = xp.linalg.svd(A.array, compute_uv=False)
    largest = s.max(axis=-1, keepdims=True) if s.shape[-1] else xp.zeros(s.shape[:-1] + (1,), dtype=s.dtype)
    if rtol is None:
        rtol = 0.0 if atol is not None and atol > 0 else max(A.shape[-2:]) * xp.finfo(A.dtype).eps
    tol = xp.maximum(0.0 if atol is None else atol, rtol * largest)
    return Tensor((s > tol).sum(axis=-1).astype(xp.int64))


def lstsq(A, B, rcond=None, *, driver=None):
    """The least-squares solution of A X = B (through the pseudo-inverse, so it carries gradients)."""
    A, B = _matrix(A, "lstsq"), _floating(B, "lstsq")
    vector = B.ndim == A.ndim - 1
    rhs = unsqueeze(B, -1) if vector else B
    solution = matmul(pinv(A, rtol=rcond), rhs)
    if vector:
        solution = squeeze(solution, -1)
    empty = Tensor(xp.zeros((0,), dtype=A.dtype))
    return LstsqResult(solution, empty, Tensor(xp.zeros((0,), dtype=xp.int64)), empty)


def matrix_power(A, n):
    """A multiplied by itself n times (n < 0: the inverse's power; n = 0: the identity)."""
    A = _matrix(A, "matrix_power")
    _check_square(A.array, "matrix_power")
    if n == 0:  # the identity, still joined to A's graph (with a zero gradient) as in torch
        return _ew.add(_ew.mul(A, 0), Tensor(xp.eye(A.shape[-1], dtype=A.dtype)))
    base = inv(A) if n < 0 else A
    result, power, n = None, base, abs(n)
    while n:  # square-and-multiply: log2(n) products
        if n & 1:
            result = power if result is None else matmul(result, power)
        n >>= 1
        if n:
            power = matmul(power, power)
    return result


def multi_dot(tensors):
    """The product of a chain of matrices (the first may be a vector, as may the last)."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    result = tensors[0]
    for t in tensors[1:]:
        result = matmul(result, t)
    return result


def cross(input, other, *, dim=-1):
    return _cross(input, other, dim)


def vecdot(x, y, *, dim=-1):
    return _reduce.sum(_ew.mul(x, y), dim)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    from .ops.rearrange import diagonal as _diagonal

    return _diagonal(A, offset, dim1, dim2)


def matrix_exp(A):
    """e^A = Σ Aᵏ / k! for (batches of) square matrices."""
    from .ops.decompose import MatrixExp

    A = _matrix(A, "matrix_exp")
    _check_square(A.array, "matrix_exp")
    return MatrixExp.apply(A)


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """X with A X = B (``left=False``: X A = B) for a triangular A; only A's ``upper`` or lower triangle is read."""
    from .ops.decompose import SolveTriangular

    A, B = _matrix(A, "solve_triangular"), _matrix(B, "solve_triangular")
    if not left:  # X A = B  <=>  Aᵀ Xᵀ = Bᵀ, and Aᵀ has the other triangle
        return SolveTriangular.apply(A.mT, B.mT, upper=not upper, unitriangular=unitriangular).mT
    return SolveTriangular.apply(A, B, upper=upper, unitriangular=unitriangular)


def solve_ex(A, B, *, left=True, check_errors=False):
    SolveExResult = namedtuple("solve_ex", ["result", "info"])
    return SolveExResult(solve(A, B, left=left), Tensor(xp.zeros(A.shape[:-2], dtype=xp.int32)))


def cond(A, p=None):
    """The condition number ‖A‖·‖A⁻¹‖ (p=None or 2: the ratio of the largest to the smallest singular value)."""
    if p in (None, 2, -2):
        s = svdvals(A)
        ratio = _ew.div(_reduce.amax(s, -1), _reduce.amin(s, -1))
        return ratio if p != -2 else _ew.div(1.0, ratio)
    return _ew.mul(matrix_norm(A, p), matrix_norm(inv(A), p))


def tensorinv(A, ind=2):
    """The inverse of A read as a matrix with the first ``ind`` dims as rows (shape: A's last dims, then its first)."""
    rows, cols = tuple(A.shape[:ind]), tuple(A.shape[ind:])
    n = 1
    for d in rows:
        n *= d
    return reshape(inv(reshape(A, (n, -1))), cols + rows)


def tensorsolve(A, B, dims=None):
    """X with tensordot(A, X, X.ndim) = B."""
    if dims is not None:
        rest = [d for d in range(A.ndim) if d not in [d % A.ndim for d in dims]]
        A = A.permute(*rest, *[d % A.ndim for d in dims])
    x_shape = tuple(A.shape[B.ndim:])
    n = 1
    for d in x_shape:
        n *= d
    return reshape(solve(reshape(A, (-1, n)), reshape(B, (-1,))), x_shape)


def vander(x, *, N=None):
    """Columns x^0, x^1, ..., x^(N-1) along a new last dim (batches allowed)."""
    from .ops.shape import stack

    n = x.shape[-1] if N is None else N
    if n < 2:
        raise RuntimeError(f"N must be greater than 1, got {n}")
    columns = [Tensor(xp.ones(x.shape, dtype=x.dtype)), x]
    while len(columns) < n:
        columns.append(_ew.mul(columns[-1], x))
    return stack(columns, -1)


LUFactorResult = namedtuple("lu_factor", ["LU", "pivots"])
LUResult = namedtuple("lu", ["P", "L", "U"])


def _lu_factor_array(a):
    """Gaussian elimination with partial pivoting (LAPACK's getrf): L and U packed in one matrix, and the
    1-based row swapped with row j at step j (applied in order)."""
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    lu = a.reshape((-1, m, n)).astype(a.dtype, copy=True)
    pivots = xp.zeros((lu.shape[0], k), dtype=xp.int32)
    rows = xp.arange(lu.shape[0])
    for j in range(k):
        p = xp.argmax(xp.abs(lu[:, j:, j]), axis=-1) + j  # the largest pivot candidate (the first on ties)
        pivots[:, j] = p + 1
        top = lu[rows, j].copy()
        lu[rows, j] = lu[rows, p]
        lu[rows, p] = top
        pivot = lu[:, j, j][:, None]
        with_pivot = pivot != 0
        lu[:, j + 1:, j] = xp.where(with_pivot, lu[:, j + 1:, j] / xp.where(with_pivot, pivot, 1), lu[:, j + 1:, j])
        lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j, None] * lu[:, j, None, j + 1:]
    return lu.reshape(batch + (m, n)), pivots.reshape(batch + (k,))


def _permutation(pivots, m):
    """Row order ``perm`` with A[perm] = L U, from the pivots (batched)."""
    flat = pivots.reshape(-1, pivots.shape[-1]) - 1
    perm = xp.tile(xp.arange(m), (flat.shape[0], 1))
    rows = xp.arange(flat.shape[0])
    for j in range(flat.shape[1]):
        top = perm[rows, j].copy()
        perm[rows, j] = perm[rows, flat[:, j]]
        perm[rows, flat[:, j]] = top
    return perm.reshape(pivots.shape[:-1] + (m,))


def lu_factor(A, *, pivot=True):
    """(LU, pivots): A = P L U packed as in LAPACK (L unit lower below the diagonal, U on and above it).
    No gradient flows through the factorisation itself (use ``lu_solve`` on it, or ``solve``)."""
    A = _matrix(A, "lu_factor")
    if not pivot:
        raise NotImplementedError("linalg.lu_factor: pivot=False is only supported on CUDA in torch, and not in Ember")
    if A.requires_grad:
        raise NotImplementedError("linalg.lu_factor: Ember computes no gradient through the LU factorisation; call it "
                                  "on A.detach(), or use linalg.solve / linalg.inv, which carry gradients")
    lu, pivots = _lu_factor_array(A.array)
    return LUFactorResult(Tensor(lu), Tensor(pivots))


def lu(A, *, pivot=True):
    """(P, L, U) with A = P L U (no gradient, see ``lu_factor``)."""
    packed, pivots = lu_factor(A, pivot=pivot)
    m, n = A.shape[-2:]
    k = min(m, n)
    perm = _permutation(pivots.array, m)
    eye = xp.eye(m, dtype=A.dtype)
    p = xp.swapaxes(eye[perm], -1, -2)
    low = xp.tril(packed.array[..., :, :k], -1) + xp.eye(m, k, dtype=A.dtype)
    up = xp.triu(packed.array[..., :k, :])
    return LUResult(Tensor(p), Tensor(low), Tensor(up))


def lu_solve(LU, pivots, B, *, left=True, adjoint=False):
    """X with A X = B from ``lu_factor``'s result (two triangular solves; gradients flow to LU and B)."""
    from .ops.shape import getitem

    if not left or adjoint:
        raise NotImplementedError("linalg.lu_solve: only left=True, adjoint=False is supported in Ember")
    perm = _permutation(pivots.array, LU.shape[-2])
    if perm.ndim == 1:
        rhs = getitem(B, perm)
    else:
        batch = xp.indices(perm.shape[:-1] + (1,))[:-1]
        rhs = getitem(B, tuple(batch) + (perm,))
    y = solve_triangular(LU, rhs, upper=False, unitriangular=True)
    return solve_triangular(LU, y, upper=True)


EigResult = namedtuple("eig", ["eigenvalues", "eigenvectors"])


def _complex_dtype(dtype):
    return xp.complex128 if dtype == xp.float64 else xp.complex64


def eig(A):
    """Eigenvalues and eigenvectors of a general square matrix, as complex tensors (no gradient in Ember; use
    ``eigh`` for symmetric matrices)."""
    A = _matrix(A, "eig")
    _check_square(A.array, "eig")
    if A.requires_grad:
        raise NotImplementedError("linalg.eig: Ember computes no gradient through the general eigendecomposition; "
                                  "use linalg.eigh for symmetric matrices, or call eig on A.detach()")
    w, v = xp.linalg.eig(A.array)
    dtype = _complex_dtype(A.dtype)
    return EigResult(Tensor(w.astype(dtype)), Tensor(v.astype(dtype)))


def eigvals(A):
    A = _matrix(A, "eigvals")
    _check_square(A.array, "eigvals")
    if A.requires_grad:
        raise NotImplementedError("linalg.eigvals: no gradient in Ember (see linalg.eig); use linalg.eigvalsh for "
                                  "symmetric matrices")
    return Tensor(xp.linalg.eigvals(A.array).astype(_complex_dtype(A.dtype)))
