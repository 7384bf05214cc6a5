"""Matrix functions with their gradients: inverse, determinant, log-determinant, solve, Cholesky, the
symmetric eigendecomposition, QR, singular values and the pseudo-inverse. All work on batches (..., n, n).

With Z = A⁻¹ the rules are the textbook ones (Giles, "An extended collection of matrix derivative results"):

    inv:     dA = -Zᵀ G Zᵀ                 det:   dA = g·det(A)·Zᵀ        slogdet:  dA = g·Zᵀ
    solve:   dB = A⁻ᵀ G,  dA = -dB Xᵀ       svdvals: dA = U diag(g) Vᵀ
    cholesky (A = L Lᵀ):  dA = sym(L⁻ᵀ Φ(Lᵀ Ḡ) L⁻¹), Φ = lower triangle with half the diagonal
    eigh (A = V diag(w) Vᵀ):  dA = V (diag(ḡw) + F ∘ (Vᵀ ḠV)) Vᵀ,  F_ij = 1 / (w_j - w_i)
"""

from ..autograd.function import Function
from ..backend import errstate, xp


def _t(m):
    return xp.swapaxes(m, -1, -2)


def _check_square(a, name):
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"linalg.{name}: A must be batches of square matrices, but they are "
                           f"{a.shape[-2] if a.ndim >= 2 else a.shape} by {a.shape[-1] if a.ndim else ''} matrices")


def _raise_singular(name, error):
    raise RuntimeError(f"linalg.{name}: The diagonal element of the factorization is zero, the inversion could not "
                       f"be completed because the input matrix is singular ({error}).") from None


class Inv(Function):
    """Z = A⁻¹;  dA = -Zᵀ G Zᵀ."""

    @staticmethod
    def forward(ctx, a):
        try:
            z = xp.linalg.inv(a)
        except xp.linalg.LinAlgError as error:
            _raise_singular("inv", error)
        ctx.save(z)
        return z

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved
        zt = _t(z)
        return -(zt @ grad @ zt)


class Det(Function):
    """d = det A;  dA = g·d·A⁻ᵀ (A must be invertible for the gradient)."""

    @staticmethod
    def forward(ctx, a):
        d = xp.linalg.det(a)
        ctx.save(a, d)
        return d

    @staticmethod
    def backward(ctx, grad):
        a, d = ctx.saved
        return (grad * d)[..., None, None] * _t(xp.linalg.inv(a))


class SlogDet(Function):
    """(sign, log|det A|);  dA = g·A⁻ᵀ (the sign is piecewise constant: no gradient)."""

    @staticmethod
    def forward(ctx, a):
        sign, logabs = xp.linalg.slogdet(a)
        ctx.save(a)
        return sign.astype(a.dtype), logabs

    @staticmethod
    def backward(ctx, grad_sign, grad_logabs):
        (a,) = ctx.saved
        return grad_logabs[..., None, None] * _t(xp.linalg.inv(a))


class Solve(Function):
    """X = A⁻¹ B;  dB = A⁻ᵀ G,  dA = -dB Xᵀ."""

    @staticmethod
    def forward(ctx, a, b):
        try:
            x = xp.linalg.solve(a, b)
        except xp.linalg.LinAlgError as error:
            _raise_singular("solve", error)
        ctx.save(a, x)
        return x

    @staticmethod
    def backward(ctx, grad):
        a, x = ctx.saved
        db = xp.linalg.solve(_t(a), grad)
        da = -(db @ _t(x)) if ctx.needs_input_grad[0] else None
        return da, db


def _phi(m):
    """The lower triangle of m with its diagonal halved."""
    out = xp.tril(m)
    idx = xp.arange(m.shape[-1])
    out[..., idx, idx] *= 0.5
    return out


class Cholesky(Function):
    """A = L Lᵀ (L lower; ``upper=True`` returns Lᵀ);  dA = sym(L⁻ᵀ Φ(Lᵀ Ḡ) L⁻¹)."""

    @staticmethod
    def forward(ctx, a, upper=False):
        try:
            low = xp.linalg.cholesky(a)
        except xp.linalg.LinAlgError:
            raise RuntimeError("linalg.cholesky: The factorization could not be completed because the input is not "
                               "positive-definite.") from None
        ctx.save(low)
        ctx.upper = upper
        return _t(low).copy() if upper else low

    @staticmethod
    def backward(ctx, grad):
        (low,) = ctx.saved
        if ctx.upper:
            grad = _t(grad)
        inv_low = xp.linalg.inv(low)
        da = _t(inv_low) @ _phi(_t(low) @ grad) @ inv_low
        return 0.5 * (da + _t(da))


class Eigh(Function):
    """A = V diag(w) Vᵀ (A symmetric, eigenvalues ascending);  dA = V (diag(ḡw) + F ∘ (Vᵀ ḠV)) Vᵀ,
    F_ij = 1 / (w_j - w_i) off the diagonal (the eigenvalues must be distinct)."""

    @staticmethod
    def forward(ctx, a, uplo="L"):
        w, v = xp.linalg.eigh(a, UPLO=uplo)
        ctx.save(w, v)
        return w, v

    @staticmethod
    def backward(ctx, grad_w, grad_v):
        w, v = ctx.saved
        inner = xp.zeros(v.shape, dtype=v.dtype)
        if grad_v is not None:
            gap = w[..., None, :] - w[..., :, None]  # E_ij = w_j - w_i
            idx = xp.arange(w.shape[-1])
            gap[..., idx, idx] = 1
            inner = (_t(v) @ grad_v) / gap
            inner[..., idx, idx] = 0
        if grad_w is not None:
            idx = xp.arange(w.shape[-1])
            inner[..., idx, idx] = grad_w
        return v @ inner @ _t(v), None


class SvdVals(Function):
    """s = the singular values of A (descending);  dA = U diag(g) Vᵀ."""

    @staticmethod
    def forward(ctx, a):
        u, s, vt = xp.linalg.svd(a, full_matrices=False)
        ctx.save(u, vt)
        return s

    @staticmethod
    def backward(ctx, grad):
        u, vt = ctx.saved
        return (u * grad[..., None, :]) @ vt


class Pinv(Function):
    """X = A⁺ (Moore-Penrose, singular values below rtol·max(s) count as zero);  for a constant rank,
    dA = -Xᵀ G Xᵀ + (I - A X) Gᵀ X Xᵀ + Xᵀ X Gᵀ (I - X A)   (Golub and Pereyra)."""

    @staticmethod
    def forward(ctx, a, rtol=None, hermitian=False):
        if rtol is None:
            rtol = max(a.shape[-2:]) * xp.finfo(a.dtype).eps
        x = xp.linalg.pinv(a, rcond=rtol, hermitian=hermitian)
        ctx.save(a, x)
        return x

    @staticmethod
    def backward(ctx, grad):
        a, x = ctx.saved
        xt, gt = _t(x), _t(grad)
        p = xp.eye(a.shape[-2], dtype=a.dtype) - a @ x
        q = xp.eye(a.shape[-1], dtype=a.dtype) - x @ a
        return -(xt @ grad @ xt) + p @ gt @ x @ xt + xt @ x @ gt @ q


class QR(Function):
    """A = Q R (reduced; m ≥ n for the gradient);  with M = R Ḡ_Rᵀ - Ḡ_Qᵀ Q,
    dA = (Ḡ_Q + Q copyltu(M)) R⁻ᵀ, copyltu(M) = tril(M) + tril(M, -1)ᵀ."""

    @staticmethod
    def forward(ctx, a, mode="reduced"):
        q, r = xp.linalg.qr(a, mode=mode)
        ctx.save(q, r)
        ctx.mode, ctx.shape = mode, a.shape
        return q, r

    @staticmethod
    def backward(ctx, grad_q, grad_r):
        q, r = ctx.saved
        m, n = ctx.shape[-2:]
        if m < n or ctx.mode != "reduced":
            raise NotImplementedError("linalg.qr: the gradient is implemented for mode='reduced' and m >= n only")
        gq = xp.zeros_like(q) if grad_q is None else grad_q
        gr = xp.zeros_like(r) if grad_r is None else grad_r
        mm = r @ _t(gr) - _t(gq) @ q
        copyltu = xp.tril(mm) + _t(xp.tril(mm, -1))
        b = gq + q @ copyltu
        return _t(xp.linalg.solve(r, _t(b))), None


class SVD(Function):
    """A = U diag(S) Vh (reduced: k = min(m, n));  with J = skew(Uᵀ Ḡ_U), K = skew(Vᵀ Ḡ_V), skew(X) = X - Xᵀ and
    E_ij = S_j² - S_i², the core is C = (J S_j + S_i K) / E + diag(Ḡ_S) and dA = U C Vh, plus, for a tall A,
    (I - U Uᵀ) Ḡ_U S⁻¹ Vh, and for a wide A, U S⁻¹ Ḡ_Vᵀ (I - V Vᵀ) (torch's svd_backward; distinct singular
    values)."""

    @staticmethod
    def forward(ctx, a):
        u, s, vh = xp.linalg.svd(a, full_matrices=False)
        ctx.save(u, s, vh)
        return u, s, vh

    @staticmethod
    def backward(ctx, grad_u, grad_s, grad_vh):
        u, s, vh = ctx.saved
        m, n = u.shape[-2], vh.shape[-1]
        v = _t(vh)
        grad_v = None if grad_vh is None else _t(grad_vh)
        if grad_u is None and grad_v is None:
            return (u * grad_s[..., None, :]) @ vh
        with errstate(divide="ignore", invalid="ignore"):
            s2 = s * s
            gap = s2[..., None, :] - s2[..., :, None]
            idx = xp.arange(s.shape[-1])
            gap[..., idx, idx] = 1
            uhgu = None if grad_u is None else _t(u) @ grad_u
            vhgv = None if grad_v is None else _t(v) @ grad_v
            j = None if uhgu is None else uhgu - _t(uhgu)
            k = None if vhgv is None else vhgv - _t(vhgv)
            if j is not None and k is not None:
                core = (j * s[..., None, :] + s[..., :, None] * k) / gap
            elif j is not None:
                core = (j / gap) * s[..., None, :]
            else:
                core = s[..., :, None] * (k / gap)
            core[..., idx, idx] = 0 if grad_s is None else grad_s
            if m > n and grad_u is not None:
                ga = u @ core
                gu_sinv = grad_u / s[..., None, :]
                ga = (ga + gu_sinv - u @ (_t(u) @ gu_sinv)) @ vh
            elif m < n and grad_v is not None:
                ga = core @ vh
                gv_sinv = grad_v / s[..., None, :]
                ga = u @ (ga + _t(gv_sinv) - (_t(gv_sinv) @ v) @ vh)
            else:
                ga = u @ core @ vh
        return ga


def expm_array(a):
    """e^A for (batches of) square matrices: scale A by 2^-s until its 1-norm is below 1/2, sum the Taylor
    series to 20 terms (error below float64's eps there), then square s times."""
    norm = xp.abs(a).sum(axis=-2).max(axis=-1) if a.size else xp.zeros(a.shape[:-2])
    s = int(max(0, xp.ceil(xp.log2(max(float(xp.max(norm, initial=0.0)), 1e-300) / 0.5)))) if a.size else 0
    scaled = a / (2.0 ** s)
    eye = xp.broadcast_to(xp.eye(a.shape[-1], dtype=a.dtype), a.shape)
    result, term = eye.copy(), eye.copy()
    for k in range(1, 21):
        term = term @ scaled / k
        result = result + term
    for _ in range(s):
        result = result @ result
    return result


class MatrixExp(Function):
    """Z = e^A;  dA = the upper-right block of exp([[Aᵀ, G], [0, Aᵀ]]) (the Fréchet derivative's adjoint)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save(a)
        return expm_array(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        n = a.shape[-1]
        block = xp.zeros(a.shape[:-2] + (2 * n, 2 * n), dtype=a.dtype)
        at = _t(a)
        block[..., :n, :n] = at
        block[..., n:, n:] = at
        block[..., :n, n:] = grad
        return expm_array(block)[..., :n, n:]


class SolveTriangular(Function):
    """X with A X = B for triangular A (back substitution, row by row);  dB = A⁻ᵀ G (triangular again),
    dA = -dB Xᵀ kept on A's triangle."""

    @staticmethod
    def forward(ctx, a, b, upper, unitriangular=False):
        tri = xp.triu(a) if upper else xp.tril(a)
        if unitriangular:
            idx = xp.arange(a.shape[-1])
            tri = tri.copy()
            tri[..., idx, idx] = 1
        x = xp.linalg.solve(tri, b)
        ctx.save(tri, x)
        ctx.upper, ctx.unit = upper, unitriangular
        return x

    @staticmethod
    def backward(ctx, grad):
        tri, x = ctx.saved
        db = xp.linalg.solve(_t(tri), grad)
        da = None
        if ctx.needs_input_grad[0]:
            full = -(db @ _t(x))
            da = xp.triu(full, 1 if ctx.unit else 0) if ctx.upper else xp.tril(full, -1 if ctx.unit else 0)
        return da, db
