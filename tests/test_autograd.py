"""The autograd engine and grad mode: deep graphs, fan-out, accumulation, freed graphs, retain_grad,
no_grad/enable_grad/set_grad_enabled, gradient aliasing, leaks, and gradcheck itself."""

import gc
import threading

import numpy as np
import pytest
import torch

import ember
from ember.autograd.function import Context, Function
from ember.autograd.gradcheck import GradcheckError
from helpers import check_op


def test_long_chain_does_not_recurse():
    x = ember.tensor([1.0, 2.0], dtype=ember.float64, requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001**20_000] * 2, rtol=1e-9)


def test_fan_out_accumulates_over_branches():
    def fn(x):
        a = x * 2
        b = a + 1  # a feeds two consumers (a diamond), x feeds four
        c = a * x
        return (b * c).sum() + x.exp().sum() + (x**2).mean()

    check_op(fn, fn, shapes=[(3, 4)])
    check_op(fn, fn, shapes=[(3, 4)], dtype="float32")


def test_same_tensor_twice_in_one_op():
    check_op(lambda x: x * x + x / (x * x + 1), lambda x: x * x + x / (x * x + 1), shapes=[(5,)])
    x = ember.tensor([3.0], requires_grad=True)
    (x + x).backward(np.ones(1))
    assert x.grad.tolist() == [2.0]


def test_gradients_accumulate_across_backward_calls_like_torch():
    rng = np.random.default_rng(0)
    data = rng.standard_normal((3, 2))
    ex, tx = ember.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    for e_fn, t_fn in ((lambda v: (v * v).sum(), lambda v: (v * v).sum()),
                       (lambda v: v.exp().mean(), lambda v: v.exp().mean())):
        e_fn(ex).backward()
        t_fn(tx).backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    ex.grad = None
    (ex * 3).sum().backward()
    np.testing.assert_allclose(ex.grad.numpy(), np.full((3, 2), 3.0))


def test_second_backward_through_freed_graph_raises():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    loss = (x.exp() * 2).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        loss.backward()
    # a new graph built on a freed node also reaches the freed part
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y.sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        (y * 3).sum().backward()


def test_retain_graph_allows_a_second_backward():
    x = ember.tensor([1.0, 2.0], dtype=ember.float64, requires_grad=True)
    loss = (x.exp() * 2).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * np.exp([1.0, 2.0]))


def test_backward_needs_a_scalar_or_a_gradient():
    x = ember.ones(2, 3, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="scalar outputs"):
        y.backward()
    with pytest.raises(RuntimeError, match="shape"):
        y.backward(np.ones(3))
    y.backward(ember.ones(2, 3))
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 3), 2.0))
    with pytest.raises(RuntimeError, match="scalar outputs"):
        ember.ones(2, requires_grad=True).backward()


def test_backward_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        ember.ones(1).backward()
    with ember.no_grad():
        y = ember.ones(1, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_backward_on_a_leaf_and_a_one_element_tensor():
    x = ember.tensor([2.0], requires_grad=True)
    x.backward()
    assert x.grad.tolist() == [1.0]
    y = ember.tensor([[2.0]], requires_grad=True)
    (y * 3).backward()
    assert y.grad.tolist() == [[3.0]]


def test_part_of_the_graph_without_grad():
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    b = ember.tensor([3.0, 4.0])  # a constant
    ((a * b).exp() * b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), np.array([3.0, 4.0]) ** 2 * np.exp([3.0, 8.0]), rtol=1e-6)
    assert b.grad is None


def test_gradient_dtype_follows_each_leaf():
    a = ember.tensor([1.0, 2.0], dtype=ember.float32, requires_grad=True)
    b = ember.tensor([3.0, 4.0], dtype=ember.float64, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_allclose(a.grad.numpy(), [3.0, 4.0])


# ---- grad mode ----------------------------------------------------------------------------------------


def test_no_grad_context_manager():
    x = ember.ones(3, requires_grad=True)
    with ember.no_grad():
        assert not ember.is_grad_enabled()
        y = (x * 2).exp().sum()
    assert ember.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf


def test_no_grad_restores_mode_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with ember.no_grad():
            1 / 0
    assert ember.is_grad_enabled()


def test_no_grad_decorator_with_and_without_parentheses():
    x = ember.ones(3, requires_grad=True)

    @ember.no_grad()
    def f(v):
        return v * 2, ember.is_grad_enabled()

    @ember.no_grad
    def g(v):
        return v * 2, ember.is_grad_enabled()

    for fn in (f, g):
        y, enabled = fn(x)
        assert not enabled and not y.requires_grad and y.grad_fn is None
        assert ember.is_grad_enabled()
    assert f.__name__ == "f" and g.__name__ == "g"


def test_enable_grad_inside_no_grad():
    x = ember.ones(3, requires_grad=True)
    with ember.no_grad():
        with ember.enable_grad():
            y = x * 2
        z = x * 2
        assert not ember.is_grad_enabled()

    @ember.enable_grad()
    def h(v):
        return v * 3

    with ember.no_grad():
        w = h(x)
    assert y.requires_grad and y.grad_fn is not None
    assert not z.requires_grad
    assert w.requires_grad


def test_set_grad_enabled_as_function_context_and_decorator():
    x = ember.ones(2, requires_grad=True)
    try:
        ember.set_grad_enabled(False)
        assert not ember.is_grad_enabled() and not (x * 2).requires_grad
        ember.set_grad_enabled(True)
        assert (x * 2).requires_grad
        with ember.set_grad_enabled(False):
            assert not (x * 2).requires_grad
        assert ember.is_grad_enabled()
        with ember.no_grad():
            with ember.set_grad_enabled(True):
                assert (x * 2).requires_grad
            assert not ember.is_grad_enabled()

        @ember.set_grad_enabled(False)
        def f():
            return (x * 2).requires_grad

        assert ember.is_grad_enabled()  # decorating must not switch grad off for the caller
        assert f() is False and ember.is_grad_enabled()
    finally:
        ember.set_grad_enabled(True)


def test_grad_mode_is_per_thread():
    seen = []
    with ember.no_grad():
        t = threading.Thread(target=lambda: seen.append(ember.is_grad_enabled()))
        t.start()
        t.join()
    assert seen == [True]


# ---- leaves, non-leaves, detach, retain_grad -------------------------------------------------------------


def test_retain_grad_on_non_leaf_matches_torch():
    def run(lib, x):
        y = x * 3
        y.retain_grad()
        z = y.exp()
        w = (z * z).sum()
        w.backward()
        return x.grad, y.grad, z.grad

    data = np.array([0.1, -0.2, 0.3])
    e = run(ember, ember.tensor(data, requires_grad=True))
    with pytest.warns(UserWarning):  # torch warns when reading .grad of a non-leaf
        t = run(torch, torch.tensor(data, requires_grad=True))
    np.testing.assert_allclose(e[0].numpy(), t[0].numpy(), rtol=1e-12)
    np.testing.assert_allclose(e[1].numpy(), t[1].numpy(), rtol=1e-12)
    assert e[2] is None and t[2] is None  # no retain_grad: no .grad on a non-leaf


def test_retain_grad_needs_requires_grad():
    with pytest.raises(RuntimeError, match="requires_grad=False"):
        ember.ones(2).retain_grad()
    x = ember.ones(2, requires_grad=True)
    x.retain_grad()  # a leaf: a no-op
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        ember.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        ember.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="floating point"):
        ember.tensor([True]).requires_grad = True
    with pytest.raises(RuntimeError, match="floating point"):
        ember.zeros(2, dtype=ember.int64, requires_grad=True)


def test_requires_grad_of_non_leaf_cannot_be_switched_off():
    y = ember.ones(2, requires_grad=True) * 2
    assert not y.is_leaf
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad = False


def test_detach_shares_data_and_stops_gradients():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    x2 = x.detach()
    assert np.shares_memory(x2.numpy(), x.array)
    y = (x * d).sum()  # d is a constant: d(x·d)/dx = d
    y.backward()
    assert x.grad.tolist() == [2.0, 4.0]


# ---- no aliasing between .grad buffers -------------------------------------------------------------------

ALIASING_GRAPHS = {
    "a + b": lambda a, b: a + b,
    "a - b": lambda a, b: a - b,
    "a + b.T.T": lambda a, b: a + b.T.T,
    "a + b reshaped": lambda a, b: a + b.reshape(6).reshape(2, 3),
    "a + b broadcast": lambda a, b: a + b[0:1].expand(2, 3) + b * 0,
    "where": lambda a, b: ember.where(a > 10, a, b) + a,
    "cat": lambda a, b: ember.cat([a, b]),
}


@pytest.mark.parametrize("name", list(ALIASING_GRAPHS))
def test_leaf_grads_never_alias(name):
    a = ember.ones(2, 3, requires_grad=True)
    b = ember.ones(2, 3, requires_grad=True)
    out = ALIASING_GRAPHS[name](a, b)
    seed = np.ones(out.shape)
    out.backward(seed)
    before = b.grad.numpy().copy()
    a.grad.array += 100.0
    np.testing.assert_array_equal(b.grad.numpy(), before)
    assert not np.shares_memory(a.grad.array, b.grad.array)
    assert not np.shares_memory(a.grad.array, seed) and not np.shares_memory(b.grad.array, seed)


def test_leaf_grad_does_not_alias_the_callers_gradient():
    x = ember.ones(2, 3, requires_grad=True)
    seed = np.ones((2, 3), dtype=np.float32)
    x.backward(seed)  # backward on the leaf itself
    seed[...] = 7.0
    assert x.grad.tolist() == [[1.0] * 3] * 2
    y = ember.ones(2, 3, requires_grad=True)
    y.reshape(6).backward(seed.reshape(6))  # a view of the caller's array comes back
    seed[...] = 9.0
    assert y.grad.tolist() == [[7.0] * 3] * 2


# ---- Function.apply ------------------------------------------------------------------------------------


def test_outputs_are_arrays_and_integer_outputs_stay_outside_the_graph():
    x = ember.tensor([1.0, 5.0, 2.0], requires_grad=True)
    values, indices = x.max(0)
    assert values.requires_grad and not indices.requires_grad and indices.grad_fn is None
    for t in (x[0], x @ x, x.sum() * 2, ember.exp(x[1])):
        assert isinstance(t.array, np.ndarray) and t.shape == ()


def test_function_apply_records_only_when_needed():
    class Double(Function):
        """z = 2a."""

        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    x = ember.ones(2, requires_grad=True)
    assert isinstance(Double.apply(x).grad_fn, Context)
    assert Double.apply(ember.ones(2)).grad_fn is None
    with ember.no_grad():
        assert Double.apply(x).grad_fn is None
    Double.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


# ---- leaks (needle's live-tensor count) ------------------------------------------------------------------


def _live():
    """(live Tensors, number of live graph nodes), after a full collection."""
    gc.collect()
    objects = gc.get_objects()
    return [o for o in objects if issubclass(type(o), ember.Tensor)], sum(type(o) is Context for o in objects)


def test_sgd_step_and_eval_under_no_grad_leak_no_graph():
    ember.manual_seed(0)
    w = ember.randn(4, 3, requires_grad=True)
    b = ember.zeros(3, requires_grad=True)
    x, target = ember.randn(8, 4), ember.randn(8, 3)
    params = [w, b]
    lr = 0.1

    def train_step(use_data):
        loss = ((ember.ops.linear(x, w.T, b) - target) ** 2).mean()
        loss.backward()
        with ember.no_grad():
            for p in params:
                if use_data:
                    p.array -= lr * p.grad.array
                else:
                    p -= lr * p.grad  # tensor ops, written into p in place under no_grad
                p.grad = None
        return loss.item()

    def evaluate():
        with ember.no_grad():
            out = ((x @ w + b).relu() - target).abs().mean()
        assert out.grad_fn is None and not out.requires_grad
        return out.item()

    counts, contexts, losses = [], [], []
    for i in range(5):
        losses.append(train_step(use_data=i % 2 == 0))
        evaluate()
        live, n_contexts = _live()
        assert [t for t in live if t._ctx is not None] == [], "a graph node survived the step"
        counts.append(len(live))
        contexts.append(n_contexts)
        del live
    assert counts[1:] == counts[1:2] * (len(counts) - 1), f"live tensors grow: {counts}"
    assert contexts[1:] == [0] * (len(contexts) - 1), f"graph nodes survive: {contexts}"
    assert losses[-1] < losses[0]  # both update styles really changed the parameters
    assert w.is_leaf and w.requires_grad and b.is_leaf


def test_in_place_update_of_a_leaf_requires_no_grad():
    w = ember.ones(2, requires_grad=True)
    alias = w
    with pytest.raises(RuntimeError, match="no_grad"):
        w -= 1.0
    with pytest.raises(RuntimeError, match="no_grad"):
        w.zero_()
    with ember.no_grad():
        w -= 0.5
        w *= 4.0
        w += 1.0
        w /= 2.0
    assert alias is w and w.tolist() == [1.5, 1.5] and w.requires_grad


def test_in_place_ops_follow_torch_dtype_rules():
    a = ember.tensor([1, 2])
    with pytest.raises(RuntimeError, match="cast"):
        a /= 2
    a += 3
    assert a.tolist() == [4, 5] and a.dtype == np.int64
    f = ember.tensor([1.0, 2.0])
    f *= 2  # no grad involved: in place even with grad mode on
    assert f.tolist() == [2.0, 4.0]
    with pytest.raises(RuntimeError, match="broadcast shape"):
        f += ember.ones(3, 2)
    with pytest.raises(RuntimeError, match="broadcast shape"):
        t = torch.ones(2)
        t += torch.ones(3, 2)


def test_in_place_op_with_a_graph_makes_a_new_node():
    # torch records `c += x` in the graph; Ember binds the name to the new node: the same gradients.
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    c = ember.tensor([10.0, 10.0])
    c += x * x
    c.sum().backward()
    assert c.requires_grad and x.grad.tolist() == [2.0, 4.0]


# ---- gradcheck itself ----------------------------------------------------------------------------------


class WrongSquare(Function):
    """z = a², with the factor 2 of the derivative forgotten on purpose."""

    @staticmethod
    def forward(ctx, a):
        ctx.save(a)
        return a * a

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        return grad * a


class RightSquare(WrongSquare):
    """z = a²;  dz/da = 2a."""

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        return 2 * grad * a


def _inputs(*shapes):
    rng = np.random.default_rng(0)
    return [ember.tensor(rng.uniform(0.5, 2.0, size=s), dtype=ember.float64, requires_grad=True) for s in shapes]


def test_gradcheck_fails_on_a_wrong_backward():
    (x,) = _inputs((2, 3))
    with pytest.raises(GradcheckError, match=r"input 0 at element \(0, 0\)"):
        ember.autograd.gradcheck(WrongSquare.apply, (x,))
    assert ember.autograd.gradcheck(WrongSquare.apply, (x,), raise_exception=False) is False
    with pytest.raises(GradcheckError, match="directional"):
        ember.autograd.gradcheck(WrongSquare.apply, (x,), fast_mode=True)


def test_gradcheck_names_the_wrong_input():
    a, b = _inputs((3,), (3,))
    with pytest.raises(GradcheckError, match="input 1"):
        ember.autograd.gradcheck(lambda u, v: u * 2 + WrongSquare.apply(v), (a, b))


def test_gradcheck_passes_a_right_backward_even_on_noncontiguous_input():
    (x,) = _inputs((3, 4))
    assert ember.autograd.gradcheck(RightSquare.apply, (x,))
    assert ember.autograd.gradcheck(RightSquare.apply, (x,), fast_mode=True)
    xt = ember.from_numpy(np.asfortranarray(x.array)).requires_grad_()
    assert not xt.array.flags.c_contiguous
    assert ember.autograd.gradcheck(lambda v: RightSquare.apply(v) * ember.arange(12.0).double().reshape(3, 4), (xt,))
    np.testing.assert_array_equal(xt.array, x.array)  # the perturbations were undone


def test_gradcheck_checks_its_inputs():
    with pytest.raises(ValueError, match="float64"):
        ember.autograd.gradcheck(RightSquare.apply, (ember.ones(2, requires_grad=True),))
    with pytest.raises(ValueError, match="nothing to check"):
        ember.autograd.gradcheck(RightSquare.apply, (ember.ones(2, dtype=ember.float64),))
