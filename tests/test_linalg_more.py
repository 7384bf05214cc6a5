"""ember.linalg against torch.linalg: values, result types and gradients, plus float64 gradchecks."""

import numpy as np
import pytest
import torch

import ember
from ember.ops import decompose
from tests.helpers import check_op, function_classes, gradcheck


def _well(m, a):
    """A well-conditioned square matrix built from a (so the gradient flows through it)."""
    return a + 3 * m.eye(a.shape[-1], dtype=a.dtype)


def _spd(m, a):
    return a @ a.mT + a.shape[-1] * m.eye(a.shape[-1], dtype=a.dtype)


def _sym(m, a):
    return (a + a.mT) / 2


def _signed_svd(m, a):
    """U, S, Vh with the sign of each singular pair fixed (LAPACK builds may pick either sign)."""
    u, s, vh = m.linalg.svd(a, full_matrices=False)
    sign = u[..., :1, :].sign().detach()
    return u * sign, s, vh * sign.mT


CASES = [
    ("vector_norm", lambda m, a: m.linalg.vector_norm(a), [(3, 4)]),
    ("vector_norm_ord3_dim", lambda m, a: m.linalg.vector_norm(a, 3, dim=1, keepdim=True), [(3, 4)]),
    ("vector_norm_inf", lambda m, a: m.linalg.vector_norm(a, float("inf"), dim=(0, 1)), [(3, 4)]),
    ("vector_norm_1", lambda m, a: m.linalg.vector_norm(a, 1, dim=0), [(3, 4)]),
    ("norm_default", lambda m, a: m.linalg.norm(a), [(2, 3, 4)]),
    ("norm_matrix_fro", lambda m, a: m.linalg.norm(a, "fro"), [(3, 4)]),
    ("norm_vector_dim", lambda m, a: m.linalg.norm(a, dim=1), [(3, 4)]),
    ("matrix_norm_nuc", lambda m, a: m.linalg.matrix_norm(a, "nuc"), [(2, 3, 4)]),
    ("matrix_norm_2", lambda m, a: m.linalg.matrix_norm(a, 2), [(3, 4)]),
    ("matrix_norm_-2", lambda m, a: m.linalg.matrix_norm(a, -2, keepdim=True), [(3, 4)]),
    ("matrix_norm_1", lambda m, a: m.linalg.matrix_norm(a, 1), [(2, 3, 4)]),
    ("matrix_norm_-inf", lambda m, a: m.linalg.matrix_norm(a, -float("inf"), keepdim=True), [(3, 4)]),
    ("matrix_norm_dims", lambda m, a: m.linalg.matrix_norm(a, "fro", dim=(0, 2)), [(3, 2, 4)]),
    ("inv", lambda m, a: m.linalg.inv(_well(m, a)), [(3, 3)]),
    ("inv_batch", lambda m, a: m.linalg.inv(_well(m, a)), [(2, 3, 3)]),
    ("det", lambda m, a: m.linalg.det(a), [(3, 3)]),
    ("det_batch", lambda m, a: m.linalg.det(_well(m, a)), [(2, 4, 4)]),
    ("slogdet", lambda m, a: m.linalg.slogdet(a), [(2, 3, 3)]),
    ("solve", lambda m, a, b: m.linalg.solve(_well(m, a), b), [(3, 3), (3, 2)]),
    ("solve_vector", lambda m, a, b: m.linalg.solve(_well(m, a), b), [(3, 3), (3,)]),
    ("solve_batch_vector", lambda m, a, b: m.linalg.solve(_well(m, a), b), [(2, 3, 3), (2, 3)]),
    ("solve_left_false", lambda m, a, b: m.linalg.solve(_well(m, a), b, left=False), [(3, 3), (2, 3)]),
    ("cholesky", lambda m, a: m.linalg.cholesky(_spd(m, a)), [(4, 4)]),
    ("cholesky_upper", lambda m, a: m.linalg.cholesky(_spd(m, a), upper=True), [(2, 3, 3)]),
    ("eigh", lambda m, a: (lambda w, v: (w, v * v[..., :1, :].sign()))(*m.linalg.eigh(_sym(m, a))), [(4, 4)]),
    ("eigvalsh", lambda m, a: m.linalg.eigvalsh(_sym(m, a)), [(2, 3, 3)]),
    ("svdvals", lambda m, a: m.linalg.svdvals(a), [(4, 3)]),
    ("svdvals_wide_batch", lambda m, a: m.linalg.svdvals(a), [(2, 3, 5)]),
    ("svd_tall", lambda m, a: _signed_svd(m, a), [(5, 3)]),
    ("svd_wide_batch", lambda m, a: _signed_svd(m, a), [(2, 3, 4)]),
    ("svd_square", lambda m, a: _signed_svd(m, a), [(3, 3)]),
    ("svd_only_u", lambda m, a: _signed_svd(m, a)[0], [(4, 3)]),
    ("pinv", lambda m, a: m.linalg.pinv(a), [(4, 3)]),
    ("pinv_wide", lambda m, a: m.linalg.pinv(a), [(2, 5)]),
    ("pinverse", lambda m, a: a.pinverse(), [(3, 3)]),
    ("qr", lambda m, a: m.linalg.qr(a), [(5, 3)]),
    ("qr_square_batch", lambda m, a: m.linalg.qr(a), [(2, 3, 3)]),
    ("lstsq", lambda m, a, b: m.linalg.lstsq(a, b).solution, [(5, 3), (5, 2)]),
    ("matrix_power", lambda m, a: m.linalg.matrix_power(a, 5), [(3, 3)]),
    ("matrix_power_neg", lambda m, a: m.linalg.matrix_power(_well(m, a), -2), [(3, 3)]),
    ("matrix_power_0", lambda m, a: m.linalg.matrix_power(a, 0), [(2, 3, 3)]),
    ("multi_dot", lambda m, a, b, c: m.linalg.multi_dot([a, b, c]), [(2, 3), (3, 4), (4,)]),
    ("vecdot", lambda m, a, b: m.linalg.vecdot(a, b), [(3, 4), (3, 4)]),
    ("matrix_exp", lambda m, a: m.linalg.matrix_exp(a), [(3, 3)]),
    ("matrix_exp_big_batch", lambda m, a: (a * 3).matrix_exp(), [(2, 4, 4)]),
    ("solve_triangular", lambda m, a, b: m.linalg.solve_triangular(_well(m, a), b, upper=True), [(3, 3), (3, 2)]),
    ("solve_triangular_unit_right", lambda m, a, b: m.linalg.solve_triangular(a, b, upper=False, left=False,
                                                                               unitriangular=True), [(3, 3), (2, 3)]),
    ("cond", lambda m, a: m.linalg.cond(_well(m, a)), [(3, 3)]),
    ("tensorinv", lambda m, a: m.linalg.tensorinv(_well(m, a).reshape(3, 2, 6), ind=2), [(6, 6)]),
    ("tensorsolve", lambda m, a, b: m.linalg.tensorsolve(_well(m, a).reshape(6, 2, 3), b), [(6, 6), (6,)]),
    ("linalg_vander", lambda m, a: m.linalg.vander(a, N=4), [(2, 3)]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_matches_torch(case, dtype):
    _, fn, shapes = case
    # float32: the decompositions lose a few more bits than elementwise ops (condition numbers up to ~10)
    tol = {} if dtype == "float64" else dict(atol=1e-4, rtol=1e-4)
    check_op(lambda *a: fn(ember, *a), lambda *a: fn(torch, *a), shapes, dtype=dtype, **tol)


def test_result_types_and_fields():
    a = np.random.default_rng(1).standard_normal((3, 3)) + 3 * np.eye(3)
    e, t = ember.tensor(a), torch.tensor(a)
    sign, logabs = ember.linalg.slogdet(e)
    assert isinstance(ember.linalg.slogdet(e).logabsdet, ember.Tensor)
    np.testing.assert_allclose(sign.numpy(), torch.linalg.slogdet(t).sign.numpy())
    eigh = ember.linalg.eigh(e @ e.T)
    assert eigh.eigenvalues.shape == (3,) and eigh.eigenvectors.shape == (3, 3)
    u, s, vh = ember.linalg.svd(e)
    np.testing.assert_allclose((u.numpy() * s.numpy()) @ vh.numpy(), a, rtol=1e-12)
    u, s, vh = ember.linalg.svd(ember.tensor(np.ones((4, 2))), full_matrices=False)
    assert u.shape == (4, 2) and vh.shape == (2, 2)
    q, r = ember.linalg.qr(e)
    np.testing.assert_allclose(q.numpy() @ r.numpy(), a, rtol=1e-12)
    assert ember.linalg.qr(e, mode="r").R.shape == (3, 3)
    assert ember.linalg.matrix_rank(ember.tensor(np.ones((3, 3)))).item() == 1
    assert ember.linalg.matrix_rank(e).item() == torch.linalg.matrix_rank(t).item() == 3
    inv, info = ember.linalg.inv_ex(e)
    np.testing.assert_allclose(inv.numpy(), np.linalg.inv(a), rtol=1e-12)
    assert info.item() == 0
    assert ember.linalg.cholesky_ex(ember.tensor(-np.eye(2))).info.item() == 1
    sol = ember.linalg.lstsq(e, ember.tensor(a[:, 0]))
    np.testing.assert_allclose(sol.solution.numpy(), torch.linalg.lstsq(t, t[:, 0:1]).solution.numpy()[:, 0], rtol=1e-9,
                               atol=1e-14)


def test_cond_other_norms_forward():
    a = np.random.default_rng(2).standard_normal((3, 3)) + 3 * np.eye(3)
    for p in ("fro", "nuc", 1, -np.inf):  # torch's own backward fails here (in-place in its inv_ex), so values only
        np.testing.assert_allclose(ember.linalg.cond(ember.tensor(a), p).numpy(),
                                   torch.linalg.cond(torch.tensor(a), p).numpy(), rtol=1e-12)


def test_errors_are_torchs():
    with pytest.raises(RuntimeError, match="singular"):
        ember.linalg.inv(ember.zeros(3, 3, dtype=ember.float64))
    with pytest.raises(RuntimeError, match="positive-definite"):
        ember.linalg.cholesky(-ember.eye(2))
    with pytest.raises(RuntimeError, match="square"):
        ember.linalg.det(ember.zeros(2, 3))
    with pytest.raises(RuntimeError, match="floating point"):
        ember.linalg.inv(ember.eye(2).long())
    with pytest.raises(RuntimeError, match="full_matrices=False"):
        ember.linalg.svd(ember.ones(3, 2, requires_grad=True))


GRADCHECKS = {
    "Inv": (lambda a: ember.linalg.inv(a + 3 * ember.eye(3, dtype=a.dtype)), [(3, 3)]),
    "Det": (lambda a: ember.linalg.det(a + 3 * ember.eye(3, dtype=a.dtype)), [(2, 3, 3)]),
    "SlogDet": (lambda a: ember.linalg.slogdet(a + 3 * ember.eye(3, dtype=a.dtype)).logabsdet, [(3, 3)]),
    "Solve": (lambda a, b: ember.linalg.solve(a + 3 * ember.eye(3, dtype=a.dtype), b), [(3, 3), (3, 2)]),
    "Cholesky": (lambda a: ember.linalg.cholesky(a @ a.mT + 3 * ember.eye(3, dtype=a.dtype)), [(3, 3)]),
    "Eigh": (lambda a: (lambda w, v: w.sum() + (v * v[:1].sign()).sum(0))(*ember.linalg.eigh(a + a.mT)), [(3, 3)]),
    "SvdVals": (lambda a: ember.linalg.svdvals(a), [(4, 3)]),
    "SVD": (lambda a: _signed_svd(ember, a), [(4, 3)]),
    "Pinv": (lambda a: ember.linalg.pinv(a), [(4, 3)]),
    "QR": (lambda a: ember.linalg.qr(a), [(4, 3)]),
    "MatrixExp": (lambda a: ember.linalg.matrix_exp(a), [(3, 3)]),
    "SolveTriangular": (lambda a, b: ember.linalg.solve_triangular(a + 3 * ember.eye(3, dtype=a.dtype), b,
                                                                   upper=False), [(3, 3), (3, 2)]),
}


def test_every_decomposition_is_gradchecked():
    assert function_classes(decompose) == set(GRADCHECKS)


@pytest.mark.parametrize("name", sorted(GRADCHECKS))
def test_gradcheck(name):
    fn, shapes = GRADCHECKS[name]
    assert gradcheck(fn, *shapes)


@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 3), (5, 3), (3, 5)])
def test_lu_matches_torch(shape):
    a = np.random.default_rng(3).standard_normal(shape)
    e_lu, e_piv = ember.linalg.lu_factor(ember.tensor(a))
    t_lu, t_piv = torch.linalg.lu_factor(torch.tensor(a))
    np.testing.assert_allclose(e_lu.numpy(), t_lu.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(e_piv.numpy(), t_piv.numpy())
    assert e_piv.dtype == ember.int32
    for e, t in zip(ember.linalg.lu(ember.tensor(a)), torch.linalg.lu(torch.tensor(a))):
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-10, atol=1e-12)


def test_lu_solve_values_and_gradients():
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((2, 3, 3)) + 3 * np.eye(3), rng.standard_normal((2, 3, 2))

    def run(m):
        packed, piv = m.linalg.lu_factor(m.tensor(a))
        packed.requires_grad_(True)
        rhs = m.tensor(b, requires_grad=True)
        x = m.linalg.lu_solve(packed, piv, rhs)
        (x * x).sum().backward()
        return x.detach().numpy(), packed.grad.numpy(), rhs.grad.numpy()

    for e, t in zip(run(ember), run(torch)):
        np.testing.assert_allclose(e, t, rtol=1e-9, atol=1e-12)


def test_eig_and_eigvals_values():
    a = np.array([[2.0, 1.0], [-1.0, 2.0]])  # eigenvalues 2 ± i
    w = ember.linalg.eigvals(ember.tensor(a))
    assert str(w.dtype) == "complex128"
    np.testing.assert_allclose(np.sort_complex(w.numpy()), np.sort_complex(torch.linalg.eigvals(torch.tensor(a)).numpy()))
    w, v = ember.linalg.eig(ember.tensor(a, dtype=ember.float32))
    assert str(v.dtype) == "complex64"
    np.testing.assert_allclose(a @ v.numpy(), v.numpy() * w.numpy(), atol=1e-5)
    with pytest.raises(NotImplementedError, match="eigh"):
        ember.linalg.eig(ember.eye(2, requires_grad=True))
