"""Parity with torch for the api-tensor additions: forward values and dtypes, and every input's gradient.

Each case is one function written once against a module ``m`` (torch or ember): the same code runs on both.
"""

import numpy as np
import pytest
import torch

import ember
from ember.ops import contract, index_more, pointwise_more, special_more, statistics
from tests.helpers import check_op, function_classes, gradcheck

IDX = np.array([2, 0, 2, 1])


def _i(m, a):
    return m.tensor(a)


# (id, fn(m, *inputs), input shapes, check_op options)
CASES = [
    ("lerp", lambda m, a, b, w: m.lerp(a, b, w), [(3, 4), (3, 4), (3, 4)], {}),
    ("lerp_scalar", lambda m, a, b: a.lerp(b, 0.3), [(3, 4), (4,)], {}),
    ("addcmul", lambda m, a, b, c: m.addcmul(a, b, c, value=0.5), [(3, 4), (3, 4), (4,)], {}),
    ("addcdiv", lambda m, a, b, c: a.addcdiv(b, c, value=-2), [(3, 4), (3, 4), (3, 4)], dict(low=0.5, high=2)),
    ("hypot", lambda m, a, b: m.hypot(a, b), [(3, 4), (3, 4)], {}),
    ("fmod", lambda m, a, b: m.fmod(a * 5, b), [(3, 4), (3, 4)], dict(low=0.5, high=2)),
    ("fmod_scalar", lambda m, a: a.fmod(0.7), [(3, 4)], {}),
    ("logaddexp", lambda m, a, b: m.logaddexp(a, b), [(3, 4), (4,)], {}),
    ("logaddexp2", lambda m, a, b: m.logaddexp2(a, b), [(3, 4), (3, 4)], {}),
    ("xlogy", lambda m, a, b: m.xlogy(a, b), [(3, 4), (3, 4)], dict(low=0.1, high=2)),
    ("copysign", lambda m, a, b: m.copysign(a, b), [(3, 4), (3, 4)], {}),
    ("sinc", lambda m, a: m.sinc(a), [(3, 4)], {}),
    ("logit", lambda m, a: m.logit(a), [(3, 4)], dict(low=0.05, high=0.95)),
    ("logit_eps", lambda m, a: a.logit(eps=0.2), [(3, 4)], dict(low=0.05, high=0.95)),
    ("asinh", lambda m, a: m.asinh(a), [(3, 4)], {}),
    ("acosh", lambda m, a: a.acosh(), [(3, 4)], dict(low=1.1, high=3)),
    ("atanh", lambda m, a: m.arctanh(a), [(3, 4)], dict(low=-0.9, high=0.9)),
    ("lgamma", lambda m, a: m.lgamma(a), [(3, 4)], dict(low=-3.5, high=6)),
    ("digamma", lambda m, a: a.digamma(), [(3, 4)], dict(low=0.2, high=6)),
    ("erfinv", lambda m, a: m.erfinv(a), [(3, 4)], dict(low=-0.95, high=0.95)),
    ("i0", lambda m, a: m.i0(a), [(3, 4)], dict(low=-4, high=4)),
    ("float_power", lambda m, a: m.float_power(a, 3), [(3, 4)], {}),
    ("deg2rad", lambda m, a: m.deg2rad(a), [(3,)], {}),
    ("rad2deg", lambda m, a: a.rad2deg(), [(3,)], {}),
    ("fmax", lambda m, a, b: m.fmax(a, b), [(3, 4), (3, 4)], {}),
    ("fmin", lambda m, a, b: a.fmin(b), [(3, 4), (3, 4)], {}),
    ("clamp_min", lambda m, a: m.clamp_min(a, 0.1), [(3, 4)], {}),
    ("clamp_max", lambda m, a: a.clamp_max(0.1), [(3, 4)], {}),
    ("kron", lambda m, a, b: m.kron(a, b), [(2, 3), (3, 2)], {}),
    ("kron_3d", lambda m, a, b: m.kron(a, b), [(2, 1, 3), (2, 2)], {}),
    ("nan_to_num", lambda m, a: m.nan_to_num(a / (a > 0).to(a.dtype), posinf=5.0), [(3, 4)], {}),
    ("index_add", lambda m, a, s: a.index_add(0, _i(m, IDX), s, alpha=2), [(3, 5), (4, 5)], {}),
    ("index_add_dim1", lambda m, a, s: m.index_add(a, 1, _i(m, IDX), s), [(2, 3), (2, 4)], {}),
    ("index_copy", lambda m, a, s: a.index_copy(0, _i(m, np.array([2, 0])), s), [(3, 5), (2, 5)], {}),
    ("index_fill", lambda m, a: a.index_fill(1, _i(m, np.array([0, 3])), -1.5), [(3, 5)], {}),
    ("index_put", lambda m, a, v: a.index_put((_i(m, np.array([0, 2])), _i(m, np.array([1, 1]))), v), [(3, 4), (2,)], {}),
    ("index_put_acc", lambda m, a, v: a.index_put((_i(m, np.array([0, 0, 2])),), v, accumulate=True), [(3, 4), (4,)], {}),
    ("scatter_add", lambda m, a, s: a.scatter_add(0, _i(m, np.array([[0, 1, 2], [0, 0, 2]])), s), [(3, 3), (2, 3)], {}),
    ("scatter_add_dim1", lambda m, a, s: m.scatter_add(a, 1, _i(m, np.array([[0, 0], [2, 1]])), s), [(2, 3), (2, 2)], {}),
    ("scatter_reduce_sum", lambda m, a, s: a.scatter_reduce(0, _i(m, np.array([0, 1, 0, 1])), s, "sum"), [(3,), (4,)], {}),
    ("scatter_reduce_mean", lambda m, a, s: a.scatter_reduce(0, _i(m, np.array([0, 1, 0, 0])), s, "mean"), [(3,), (4,)], {}),
    ("scatter_reduce_mean_ex", lambda m, a, s: a.scatter_reduce(0, _i(m, np.array([0, 1, 0, 0])), s, "mean",
                                                               include_self=False), [(3,), (4,)], {}),
    ("scatter_reduce_amax", lambda m, a, s: a.scatter_reduce(0, _i(m, np.array([0, 1, 0, 2])), s, "amax"), [(3,), (4,)], {}),
    ("scatter_reduce_amin_ex", lambda m, a, s: a.scatter_reduce(0, _i(m, np.array([0, 1, 0, 2])), s, "amin",
                                                               include_self=False), [(3,), (4,)], {}),
    ("scatter_reduce_prod", lambda m, a, s: a.scatter_reduce(0, _i(m, np.array([0, 1, 0, 2])), s, "prod"), [(3,), (4,)], {}),
    ("masked_select", lambda m, a: a.masked_select(a > 0), [(3, 4)], {}),
    ("masked_select_bcast", lambda m, a: m.masked_select(a, _i(m, np.array([True, False, True, True]))), [(3, 4)], {}),
    ("masked_scatter", lambda m, a, s: a.masked_scatter(a > 0, s), [(3, 4), (3, 5)], {}),
    ("take", lambda m, a: a.take(_i(m, np.array([[0, 5], [11, 5]]))), [(3, 4)], {}),
    ("take_along_dim", lambda m, a: m.take_along_dim(a, _i(m, np.array([[0], [2], [1]])), 1), [(3, 4)], {}),
    ("take_along_dim_none", lambda m, a: a.take_along_dim(_i(m, np.array([3, 1]))), [(3, 4)], {}),
    ("put", lambda m, a, s: a.put(_i(m, np.array([1, 7, 1])), s, accumulate=True), [(3, 4), (3,)], {}),
    ("select", lambda m, a: a.select(1, -1), [(3, 4, 2)], {}),
    ("median_dim", lambda m, a: a.median(1), [(3, 5)], {}),
    ("median_all", lambda m, a: m.median(a), [(4, 4)], {}),
    ("nanmedian", lambda m, a: m.nanmedian(a.masked_fill(a > 1, float("nan")), 0, keepdim=True), [(5, 3)], {}),
    ("kthvalue", lambda m, a: a.kthvalue(2, 0), [(4, 3)], {}),
    ("quantile", lambda m, a: m.quantile(a, 0.3), [(4, 5)], {}),
    ("quantile_dim", lambda m, a: a.quantile(m.tensor([0.1, 0.5, 0.9], dtype=a.dtype), dim=1, keepdim=True), [(4, 5)], {}),
    ("quantile_nearest", lambda m, a: a.quantile(0.4, dim=0, interpolation="nearest"), [(6, 2)], {}),
    ("quantile_midpoint", lambda m, a: a.quantile(0.4, dim=0, interpolation="midpoint"), [(6, 2)], {}),
    ("nanquantile", lambda m, a: m.nanquantile(a.masked_fill(a > 1, float("nan")), 0.25, dim=0), [(6, 3)], {}),
    ("nansum", lambda m, a: a.masked_fill(a > 1, float("nan")).nansum(1), [(4, 5)], {}),
    ("nanmean", lambda m, a: m.nanmean(a.masked_fill(a > 1, float("nan")), 0), [(6, 5)], {}),
    ("cummax", lambda m, a: a.cummax(1), [(3, 6)], {}),
    ("cummin", lambda m, a: m.cummin(a, 0), [(6, 3)], {}),
    ("logcumsumexp", lambda m, a: m.logcumsumexp(a * 10, 1), [(3, 6)], {}),
    ("aminmax", lambda m, a: m.aminmax(a, dim=1), [(3, 6)], {}),
    ("std_mean", lambda m, a: m.std_mean(a, 1), [(3, 6)], {}),
    ("var_mean", lambda m, a: m.var_mean(a, dim=0, correction=0), [(3, 6)], {}),
    ("diff", lambda m, a: a.diff(), [(3, 6)], {}),
    ("diff_n2_prepend", lambda m, a, p: m.diff(a, n=2, dim=0, prepend=p), [(4, 3), (2, 3)], {}),
    ("einsum_mm", lambda m, a, b: m.einsum("ij,jk->ik", a, b), [(3, 4), (4, 5)], {}),
    ("einsum_batch", lambda m, a, b: m.einsum("bij,bkj->bik", a, b), [(2, 3, 4), (2, 5, 4)], {}),
    ("einsum_trace", lambda m, a: m.einsum("ii", a), [(4, 4)], {}),
    ("einsum_diag", lambda m, a: m.einsum("ii->i", a), [(4, 4)], {}),
    ("einsum_sum_only", lambda m, a, b: m.einsum("ij,k->i", a, b), [(3, 4), (2,)], {}),
    ("einsum_ellipsis", lambda m, a, b: m.einsum("...ij,...j->...i", a, b), [(2, 3, 4), (2, 4)], {}),
    ("einsum_implicit", lambda m, a, b: m.einsum("ji,jk", a, b), [(3, 4), (3, 2)], {}),
    ("einsum_outer3", lambda m, a, b, c: m.einsum("i,j,k->ijk", a, b, c), [(2,), (3,), (4,)], {}),
    ("tensordot", lambda m, a, b: m.tensordot(a, b, dims=2), [(2, 3, 4), (3, 4, 5)], {}),
    ("tensordot_lists", lambda m, a, b: m.tensordot(a, b, dims=([1, 0], [0, 2])), [(3, 2, 4), (2, 5, 3)], {}),
    ("trace", lambda m, a: a.trace(), [(4, 3)], {}),
    ("cross", lambda m, a, b: m.cross(a, b, dim=1), [(4, 3), (4, 3)], {}),
    ("cross_linalg", lambda m, a, b: m.linalg.cross(a, b), [(2, 3), (1, 3)], {}),
    ("cdist", lambda m, a, b: m.cdist(a, b), [(4, 3), (5, 3)], {}),
    ("cdist_batch_p1", lambda m, a, b: m.cdist(a, b, p=1), [(2, 4, 3), (2, 5, 3)], {}),
    ("cdist_p3", lambda m, a, b: m.cdist(a, b, p=3), [(4, 3), (5, 3)], {}),
    ("cdist_inf", lambda m, a, b: m.cdist(a, b, p=float("inf")), [(4, 3), (5, 3)], {}),
    ("broadcast_to", lambda m, a: a.broadcast_to((2, 3, 4)), [(3, 1)], {}),
    ("broadcast_tensors", lambda m, a, b: m.broadcast_tensors(a, b), [(3, 1), (4,)], {}),
    ("ravel", lambda m, a: a.t().ravel(), [(3, 4)], {}),
    ("unflatten", lambda m, a: a.unflatten(1, (2, -1)), [(3, 6)], {}),
    ("tensor_split", lambda m, a: m.tensor_split(a, 3, dim=1), [(2, 7)], {}),
    ("tensor_split_idx", lambda m, a: a.tensor_split([1, 4, 9], dim=0), [(6, 2)], {}),
    ("hsplit", lambda m, a: a.hsplit(2), [(3, 4)], {}),
    ("vsplit", lambda m, a: m.vsplit(a, [1, 2]), [(3, 4)], {}),
    ("dsplit", lambda m, a: a.dsplit(2), [(2, 2, 4)], {}),
    ("rot90", lambda m, a: a.rot90(), [(3, 4)], {}),
    ("rot90_k3", lambda m, a: m.rot90(a, 3, (1, 2)), [(2, 3, 4)], {}),
    ("rot90_k2", lambda m, a: m.rot90(a, -2), [(3, 4)], {}),
    ("unfold", lambda m, a: a.unfold(1, 3, 2), [(2, 8, 3)], {}),
    ("sum_to_size", lambda m, a: a.sum_to_size(3, 1), [(2, 3, 4)], {}),
    ("hstack", lambda m, a, b: m.hstack([a, b]), [(2, 3), (2, 2)], {}),
    ("vstack", lambda m, a, b: m.vstack([a, b]), [(3,), (2, 3)], {}),
    ("dstack", lambda m, a, b: m.dstack([a, b]), [(2, 3), (2, 3)], {}),
    ("column_stack", lambda m, a, b: m.column_stack([a, b]), [(3,), (3, 2)], {}),
    ("atleast_3d", lambda m, a: m.atleast_3d(a), [(3,)], {}),
    ("block_diag", lambda m, a, b: m.block_diag(a, b), [(2, 3), (1, 2)], {}),
    ("diag_embed", lambda m, a: m.diag_embed(a, offset=1), [(2, 3)], {}),
    ("diag_embed_dims", lambda m, a: m.diag_embed(a, dim1=0, dim2=2), [(2, 3)], {}),
    ("cartesian_prod", lambda m, a, b: m.cartesian_prod(a, b), [(2,), (3,)], {}),
    ("combinations", lambda m, a: m.combinations(a, 2), [(4,)], {}),
    ("combinations_rep", lambda m, a: m.combinations(a, 3, with_replacement=True), [(3,)], {}),
    ("vander", lambda m, a: m.vander(a, 4), [(3,)], dict(grad=False)),  # torch's own backward fails here
    ("trapezoid", lambda m, a: m.trapezoid(a, dx=0.5), [(3, 5)], {}),
    ("trapezoid_x", lambda m, a, x: m.trapezoid(a, x, dim=0), [(4, 3), (4,)], {}),
    ("cumulative_trapezoid", lambda m, a: m.cumulative_trapezoid(a), [(3, 5)], {}),
    ("dist", lambda m, a, b: a.dist(b, 3), [(3, 4), (3, 4)], {}),
    ("msort", lambda m, a: a.msort(), [(4, 3)], {}),
    ("det", lambda m, a: a.det(), [(3, 3)], {}),
    ("inverse", lambda m, a: m.inverse(a), [(2, 3, 3)], {}),
    ("logdet", lambda m, a: (a @ a.mT + m.eye(3, dtype=a.dtype)).logdet(), [(3, 3)], {}),
    ("matrix_power", lambda m, a: a.matrix_power(3), [(3, 3)], {}),
    ("mT", lambda m, a: a.mT, [(2, 3, 4)], {}),
    ("H", lambda m, a: a.H, [(3, 4)], {}),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_matches_torch(case, dtype):
    _, fn, shapes, opts = case
    check_op(lambda *a: fn(ember, *a), lambda *a: fn(torch, *a), shapes, dtype=dtype, **opts)


INPLACE = [
    ("lerp_", lambda m, a, b: a.lerp_(b, 0.25), [(3, 4), (3, 4)]),
    ("addcmul_", lambda m, a, b: a.addcmul_(b, b, value=2), [(3, 4), (3, 4)]),
    ("addcdiv_", lambda m, a, b: a.addcdiv_(b, b + 3), [(3, 4), (3, 4)]),
    ("index_add_", lambda m, a, b: a.index_add_(0, _i(m, IDX), b), [(3, 4), (4, 4)]),
    ("index_fill_", lambda m, a: a.index_fill_(0, _i(m, np.array([1])), 2.0), [(3, 4)]),
    ("scatter_add_", lambda m, a, b: a.scatter_add_(1, _i(m, np.array([[0, 3], [1, 1], [2, 0]])), b), [(3, 4), (3, 2)]),
    ("cosh_", lambda m, a: a.cosh_(), [(3,)]),
    ("atan_", lambda m, a: a.atan_(), [(3,)]),
    ("nan_to_num_", lambda m, a: a.nan_to_num_(), [(3,)]),
    ("cumsum_", lambda m, a: a.cumsum_(0), [(3, 2)]),
    ("gt_", lambda m, a: a.gt_(0), [(3, 2)]),
    ("logical_not_", lambda m, a: a.logical_not_(), [(3, 2)]),
    ("hypot_", lambda m, a, b: a.hypot_(b), [(3, 2), (3, 2)]),
]


@pytest.mark.parametrize("case", INPLACE, ids=[c[0] for c in INPLACE])
def test_inplace_matches_torch(case):
    _, fn, shapes = case
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    e = [ember.tensor(a.copy()) for a in arrays]
    t = [torch.tensor(a.copy()) for a in arrays]
    re, rt = fn(ember, *e), fn(torch, *t)
    assert re is e[0]
    np.testing.assert_allclose(e[0].numpy(), t[0].numpy(), rtol=1e-12)


def test_inplace_in_a_graph_is_recorded():
    for m in (ember, torch):
        x = m.tensor([0.5, 1.5], dtype=m.float64, requires_grad=True)
        y = x * 1
        y.lerp_(m.tensor([2.0, 2.0], dtype=m.float64), 0.5).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), [0.5, 0.5])


def test_shape_inplace_methods():
    for m in (ember, torch):
        x = m.zeros(1, 3, 1)
        assert x.squeeze_().shape == (3,)
        assert x.unsqueeze_(0).shape == (1, 3)
        assert x.t_().shape == (3, 1)
        assert x.transpose_(0, 1).shape == (1, 3)


INTEGER_CASES = [
    ("unique", lambda m, x: m.unique(x, return_inverse=True, return_counts=True)),
    ("unique_dim", lambda m, x: m.unique(x.reshape(3, 4) % 2, dim=0)),
    ("unique_consecutive", lambda m, x: m.unique_consecutive(x // 3, return_inverse=True, return_counts=True)),
    ("unique_consecutive_dim", lambda m, x: (x.reshape(6, 2) // 5).unique_consecutive(dim=0, return_counts=True)),
    ("bincount", lambda m, x: m.bincount(x, minlength=12)),
    ("bincount_w", lambda m, x: x.bincount(weights=m.linspace(0, 1, 12, dtype=m.float64))),
    ("argwhere", lambda m, x: m.argwhere(x.reshape(3, 4) > 4)),
    ("mode", lambda m, x: (x.reshape(3, 4) % 3).mode(1)),
    ("median_int", lambda m, x: x.reshape(3, 4).median(0)),
    ("searchsorted", lambda m, x: m.searchsorted(m.tensor([1, 3, 3, 7]), x)),
    ("searchsorted_right", lambda m, x: m.searchsorted(m.tensor([1, 3, 3, 7]), x, right=True)),
    ("searchsorted_2d", lambda m, x: m.searchsorted(m.tensor([[1, 3, 7], [0, 5, 9]]), x[:6].reshape(2, 3), side="right")),
    ("bucketize", lambda m, x: m.bucketize(x, m.tensor([1, 3, 7]))),
    ("bucketize_right", lambda m, x: m.bucketize(x, m.tensor([1, 3, 7]), right=True, out_int32=True)),
    ("tril_indices", lambda m, x: m.tril_indices(3, 4, 1)),
    ("triu_indices", lambda m, x: m.triu_indices(4, 3, -1)),
    ("histc", lambda m, x: m.histc(x.double(), bins=4, min=0, max=8)),
    ("histc_auto", lambda m, x: x.float().histc(5)),
    ("histogram", lambda m, x: m.histogram(x.double(), 4)),
    ("signbit", lambda m, x: (x - 4).double().signbit()),
    ("heaviside", lambda m, x: m.heaviside(x - 4, m.tensor([7]))),
    ("kron_int", lambda m, x: m.kron(x[:4].reshape(2, 2), x[4:8].reshape(2, 2))),
    ("fmod_int", lambda m, x: m.fmod(x - 5, 3)),
    ("trace_int", lambda m, x: x.reshape(3, 4).trace()),
    ("cummax_ties", lambda m, x: (x % 4).cummax(0)),
    ("take", lambda m, x: x.take(m.tensor([0, 11]))),
]


@pytest.mark.parametrize("case", INTEGER_CASES, ids=[c[0] for c in INTEGER_CASES])
def test_discrete_results_match_torch(case):
    _, fn = case
    data = np.array([3, 0, 7, 3, 3, 8, 1, 7, 2, 2, 9, 0])
    e, t = fn(ember, ember.tensor(data)), fn(torch, torch.tensor(data))
    e = e if isinstance(e, tuple) else (e,)
    t = t if isinstance(t, tuple) else (t,)
    assert len(e) == len(t)
    for a, b in zip(e, t):
        assert str(a.dtype) == str(b.dtype).replace("torch.", ""), (a.dtype, b.dtype)
        np.testing.assert_allclose(a.numpy(), b.numpy())


def test_multinomial_and_bernoulli_are_seeded_and_well_formed():
    p = ember.tensor([[0.0, 1.0, 3.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
    g = ember.Generator().manual_seed(3)
    a = ember.multinomial(p, 2, generator=g)
    b = p.multinomial(2, generator=ember.Generator().manual_seed(3))
    assert a.dtype == ember.int64 and a.shape == (2, 2)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert set(a[0].tolist()) == {1, 2}  # without replacement, only the positive categories, each once
    assert len(set(a[1].tolist())) == 2
    ember.manual_seed(0)
    draws = ember.multinomial(ember.tensor([0.2, 0.8]), 4000, replacement=True)
    assert abs(draws.double().mean().item() - 0.8) < 0.03
    with pytest.raises(RuntimeError, match="without replacement"):
        ember.multinomial(ember.tensor([1.0, 1.0]), 3)
    with pytest.raises(RuntimeError, match="not enough"):
        ember.multinomial(ember.tensor([1.0, 0.0, 0.0]), 2)
    ember.manual_seed(0)
    probs = ember.full((20000,), 0.3, dtype=ember.float64)
    x = ember.bernoulli(probs)
    assert x.dtype == ember.float64 and set(np.unique(x.numpy())) <= {0.0, 1.0}
    assert abs(x.mean().item() - 0.3) < 0.02
    assert abs(ember.zeros(20000).bernoulli(0.6).mean().item() - 0.6) < 0.02
    assert ember.poisson(ember.full((5,), 2.0)).dtype == ember.float32


def test_small_properties_and_conversions():
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    e, t = ember.tensor(a), torch.tensor(a)
    assert e.is_cpu and e.itemsize == t.itemsize and e.nbytes == t.nbytes
    assert e.stride() == t.stride() and e.stride(1) == t.stride(1)
    assert e.transpose(0, 2).stride() == t.transpose(0, 2).stride()
    assert e[1].storage_offset() == t[1].storage_offset() == 12
    assert e.data_ptr() == e.array.ctypes.data and e[1].data_ptr() == e.data_ptr() + 48
    assert e.is_signed() and not ember.tensor([1], dtype=ember.uint8).is_signed()
    for name in ("half", "byte", "char", "short"):
        assert str(getattr(e, name)().dtype) == str(getattr(t, name)().dtype).replace("torch.", "")
    with pytest.raises(TypeError, match="bfloat16"):
        e.bfloat16()
    assert e.share_memory_() is e and e.pin_memory() is e
    x = ember.zeros(3, 3)
    x.fill_diagonal_(2.0)
    np.testing.assert_array_equal(x.numpy(), np.eye(3) * 2)
    y = ember.tensor([1.0, 2.0])
    y.apply_(lambda v: v * 10)
    np.testing.assert_array_equal(y.numpy(), [10.0, 20.0])


def test_dtype_info_and_promotion():
    for dt in ("float16", "float32", "float64"):
        f, tf = ember.finfo(getattr(ember, dt)), torch.finfo(getattr(torch, dt))
        assert (f.bits, f.eps, f.max, f.min, f.tiny) == (tf.bits, tf.eps, tf.max, tf.min, tf.tiny)
    assert ember.finfo().eps == torch.finfo().eps
    for dt in ("uint8", "int8", "int16", "int32", "int64"):
        i, ti = ember.iinfo(getattr(ember, dt) if hasattr(ember, dt) else np.dtype(dt)), torch.iinfo(getattr(torch, dt))
        assert (i.bits, i.min, i.max) == (ti.bits, ti.min, ti.max)
    with pytest.raises(TypeError):
        ember.finfo(ember.int64)
    assert ember.promote_types(ember.int32, ember.float32) == np.float32
    assert ember.promote_types(ember.uint8, np.int8) == np.int16
    assert ember.result_type(ember.tensor([1, 2]), 1.0) == np.float32
    assert ember.result_type(ember.tensor([1.0], dtype=ember.float32), 2.5) == np.float32
    assert ember.result_type(ember.tensor([1], dtype=ember.int32), ember.tensor(5)) == np.int32
    assert ember.can_cast(ember.int64, ember.float32) and not ember.can_cast(ember.float32, ember.int64)
    assert ember.is_nonzero(ember.tensor([1.5])) and not ember.is_nonzero(ember.tensor(0))
    with pytest.raises(RuntimeError):
        ember.is_nonzero(ember.tensor([1, 2]))


def test_factories_more():
    a = np.arange(6.0)
    t = ember.asarray(a)
    assert t.array is a and ember.asarray(a, copy=True).array is not a
    assert ember.asarray([1, 2]).dtype == ember.int64 and ember.asarray(t) is t
    b = ember.frombuffer(bytearray(np.arange(4, dtype=np.int32).tobytes()), dtype=ember.int32)
    assert b.tolist() == torch.frombuffer(bytearray(np.arange(4, dtype=np.int32).tobytes()), dtype=torch.int32).tolist()
    assert ember.empty_strided((2, 3), (3, 1)).shape == (2, 3)
    x = ember.tensor([-1.0, 2.0])
    assert ember.relu_(x) is x and x.tolist() == [0.0, 2.0]


def test_set_printoptions():
    try:
        ember.set_printoptions(precision=2)
        torch.set_printoptions(precision=2)
        assert repr(ember.tensor([1.23456, 2.0])) == repr(torch.tensor([1.23456, 2.0]))
    finally:
        ember.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")
    assert repr(ember.tensor([1.23456])) == "tensor([1.2346])"


def test_errors_name_the_problem():
    with pytest.raises(RuntimeError, match="same number of columns"):
        ember.cdist(ember.zeros(2, 3), ember.zeros(2, 4))
    with pytest.raises(RuntimeError, match="reduce argument"):
        ember.zeros(3).scatter_reduce(0, ember.tensor([0]), ember.ones(1), "max")
    with pytest.raises(RuntimeError, match="k out of range"):
        ember.zeros(3).kthvalue(4)
    with pytest.raises(RuntimeError, match=r"\[0, 1\]"):
        ember.quantile(ember.zeros(3), 1.5)
    with pytest.raises(RuntimeError, match="divisible"):
        ember.zeros(3, 5).hsplit(2)


GRADCHECKS = {
    "Fmod": (lambda a, b: ember.fmod(a * 3, b.abs() + 0.5), [(3,), (3,)]),
    "Hypot": (lambda a, b: ember.hypot(a, b), [(3,), (3,)]),
    "LogAddExp": (lambda a, b: ember.logaddexp(a, b) + ember.logaddexp2(a, b), [(3,), (3,)]),
    "Xlogy": (lambda a, b: ember.xlogy(a, b.abs() + 0.5), [(3,), (3,)]),
    "Sinc": (lambda a: ember.sinc(a), [(4,)]),
    "Logit": (lambda a: ember.logit(a.sigmoid()), [(4,)]),
    "Copysign": (lambda a, b: ember.copysign(a, b), [(3,), (3,)]),
    "InverseHyperbolic": (lambda a: ember.asinh(a) + ember.atanh(a.tanh() * 0.5) + ember.acosh(a * a + 1.5), [(4,)]),
    "NanToNum": (lambda a: ember.nan_to_num(a), [(4,)]),
    "Lgamma": (lambda a: ember.lgamma(a), [(4,)]),
    "Digamma": (lambda a: ember.digamma(a.abs() + 0.5), [(4,)]),
    "Erfinv": (lambda a: ember.erfinv(a.tanh() * 0.9), [(4,)]),
    "I0": (lambda a: ember.i0(a), [(4,)]),
    "IndexPut": (lambda a, v: a.index_put((ember.tensor([0, 2, 0]),), v, accumulate=True)
                 + a.index_copy(0, ember.tensor([1, 0]), v[:2]), [(3, 2), (3, 2)]),
    "ScatterAdd": (lambda a, s: a.scatter_add(0, ember.tensor([[0, 2], [0, 1]]), s), [(3, 2), (2, 2)]),
    "ScatterReduce": (lambda a, s: a.scatter_reduce(0, ember.tensor([0, 2, 0]), s, "mean")
                      + a.scatter_reduce(0, ember.tensor([0, 2, 0]), s, "amax")
                      + a.scatter_reduce(0, ember.tensor([0, 2, 0]), s, "prod", include_self=False), [(3,), (3,)]),
    "MaskedScatter": (lambda a, s: a.masked_scatter(ember.tensor([True, False, True]), s), [(3,), (4,)]),
    "LogCumSumExp": (lambda a: ember.logcumsumexp(a, 0), [(5,)]),
    "Einsum": (lambda a, b: ember.einsum("ij,jk->ik", a, b) + ember.einsum("ii->i", a[:, :3]).sum(), [(3, 4), (4, 2)]),
    "Cdist": (lambda a, b: ember.cdist(a, b) + ember.cdist(a, b, p=1.5), [(3, 2), (4, 2)]),
}


def test_every_new_function_is_gradchecked():
    classes = function_classes(pointwise_more) | function_classes(special_more) | function_classes(index_more) | \
        function_classes(statistics) | function_classes(contract)
    assert classes == set(GRADCHECKS)


@pytest.mark.parametrize("name", sorted(GRADCHECKS))
def test_gradcheck(name):
    fn, shapes = GRADCHECKS[name]
    assert gradcheck(fn, *shapes)


MORE = [
    ("addmv", lambda m, i, a, v: m.addmv(i, a, v, beta=0.5, alpha=2), [(3,), (3, 4), (4,)]),
    ("addr", lambda m, i, a, b: i.addr(a, b), [(3, 4), (3,), (4,)]),
    ("baddbmm", lambda m, i, a, b: m.baddbmm(i, a, b, alpha=0.5), [(1, 3, 2), (2, 3, 4), (2, 4, 2)]),
    ("baddbmm_beta0", lambda m, i, a, b: m.baddbmm(i, a, b, beta=0), [(2, 3, 2), (2, 3, 4), (2, 4, 2)]),
    ("addbmm", lambda m, i, a, b: i.addbmm(a, b), [(3, 2), (2, 3, 4), (2, 4, 2)]),
    ("cov", lambda m, a: m.cov(a), [(3, 6)]),
    ("cov_weights", lambda m, a: a.cov(correction=0, fweights=m.tensor([1, 2, 1, 3, 1, 1]),
                                        aweights=m.linspace(0.5, 1, 6, dtype=a.dtype)), [(3, 6)]),
    ("corrcoef", lambda m, a: m.corrcoef(a), [(3, 6)]),
    ("ldexp", lambda m, a: m.ldexp(a, m.tensor([1, 0, 3])), [(2, 3)]),
    ("rsub", lambda m, a, b: m.rsub(a, b, alpha=2), [(2, 3), (3,)]),
    ("select_scatter", lambda m, a, s: m.select_scatter(a, s, 1, 2), [(3, 4), (3,)]),
    ("slice_scatter", lambda m, a, s: a.slice_scatter(s, dim=1, start=1, step=2), [(3, 5), (3, 2)]),
    ("diagonal_scatter", lambda m, a, s: m.diagonal_scatter(a, s, 1), [(3, 4), (3,)]),
    ("diagonal_scatter_dims", lambda m, a, s: m.diagonal_scatter(a, s, 0, 0, 2), [(3, 2, 3), (2, 3)]),
    ("index_reduce_amax", lambda m, a, s: a.index_reduce(0, m.tensor([0, 2, 0]), s, "amax"), [(3, 2), (3, 2)]),
    ("index_reduce_mean", lambda m, a, s: m.index_reduce(a, 1, m.tensor([1, 1]), s, "mean", include_self=False),
     [(3, 2), (3, 2)]),
    ("renorm", lambda m, a: a.renorm(2, 0, 1.5), [(4, 3)]),
    ("as_strided", lambda m, a: m.as_strided(a, (3, 2), (2, 3), 1), [(4, 3)]),
]


@pytest.mark.parametrize("case", MORE, ids=[c[0] for c in MORE])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_more_matches_torch(case, dtype):
    _, fn, shapes = case
    check_op(lambda *a: fn(ember, *a), lambda *a: fn(torch, *a), shapes, dtype=dtype)


@pytest.mark.parametrize("name", ["gcd", "lcm", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift"])
def test_integer_binary_ops(name):
    a, b = np.array([12, 7, 0, 9]), np.array([8, 3, 5, 2])
    e = getattr(ember, name)(ember.tensor(a), ember.tensor(b))
    t = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    assert (~ember.tensor([True, False])).tolist() == ember.bitwise_not(ember.tensor([True, False])).tolist()
    with pytest.raises(RuntimeError, match="integer"):
        getattr(ember, name)(ember.ones(2), ember.ones(2))
