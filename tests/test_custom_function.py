"""PyTorch's custom-Function protocol, grad_fn introspection and autograd.grad, compared with torch."""

import numpy as np
import pytest
import torch

import ember
from helpers import assert_close


def _relu_class(lib):
    class MyReLU(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.clamp(min=0)

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            grad = grad_output.clone()
            grad[x < 0] = 0
            return grad

    return MyReLU


def _scale_class(lib):
    """Two tensor inputs and a Python number, two outputs (one of them integer), needs_input_grad."""

    class ScaleAndArgmax(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b, k):
            ctx.save_for_backward(a, b)
            ctx.k = k
            ctx.seen = tuple(ctx.needs_input_grad)
            return a * b * k, a.argmax(1)

        @staticmethod
        def backward(ctx, grad, grad_idx):
            a, b = ctx.saved_tensors
            ga = grad * b * ctx.k if ctx.needs_input_grad[0] else None
            gb = grad * a * ctx.k if ctx.needs_input_grad[1] else None
            return ga, gb, None

    return ScaleAndArgmax


def _run(lib, fn_class, arrays, requires):
    tensors = [lib.tensor(a, requires_grad=r) for a, r in zip(arrays, requires)]
    out = fn_class(lib).apply(*tensors)
    return tensors, out


def test_custom_relu_matches_torch_forward_and_backward():
    x = np.random.default_rng(0).standard_normal((4, 5))
    (xe,), ye = _run(ember, _relu_class, [x], [True])
    (xt,), yt = _run(torch, _relu_class, [x], [True])
    assert_close(ye, yt)
    assert ye.requires_grad and ye.grad_fn is not None and not ye.is_leaf
    (ye * ye).sum().backward()
    (yt * yt).sum().backward()
    assert_close(xe.grad, xt.grad)


def test_two_outputs_integer_output_and_needs_input_grad():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    for requires in ([True, True], [True, False], [False, True]):
        te = [ember.tensor(v, requires_grad=r) for v, r in zip((a, b), requires)]
        tt = [torch.tensor(v, requires_grad=r) for v, r in zip((a, b), requires)]
        ye, ie = _scale_class(ember).apply(*te, 3.0)
        yt, it = _scale_class(torch).apply(*tt, 3.0)
        assert_close(ye, yt)
        np.testing.assert_array_equal(ie.numpy(), it.numpy())
        assert not ie.requires_grad and ie.dtype == ember.int64
        ye.sum().backward()
        yt.sum().backward()
        for e, t in zip(te, tt):
            assert (e.grad is None) == (t.grad is None)
            if t.grad is not None:
                assert_close(e.grad, t.grad)


def test_forward_runs_without_recording_and_no_grad_gives_plain_tensors():
    seen = {}

    class Probe(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            seen["grad_enabled"] = ember.is_grad_enabled()
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = ember.ones(3, requires_grad=True)
    y = Probe.apply(x)
    assert seen["grad_enabled"] is False and y.requires_grad
    with ember.no_grad():
        z = Probe.apply(x)
    assert not z.requires_grad and z.grad_fn is None


def test_setup_context_form_and_mark_non_differentiable():
    class Sorted(ember.autograd.Function):
        @staticmethod
        def forward(x):
            return x * 1.0, x * 0.0

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.mark_non_differentiable(output[1])
            ctx.save_for_backward(inputs[0])

        @staticmethod
        def backward(ctx, g, g_frozen):
            return g

    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y, frozen = Sorted.apply(x)
    assert y.requires_grad and not frozen.requires_grad
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])


def test_wrong_number_of_gradients_is_torchs_error():
    class Bad(ember.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, g):
            return g

    a, b = ember.ones(2, requires_grad=True), ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"returned an incorrect number of gradients \(expected 2, got 1\)"):
        Bad.apply(a, b).sum().backward()


def test_custom_function_in_a_model_trains_like_torch():
    rng = np.random.default_rng(2)
    w0, x0 = rng.standard_normal((3, 5)), rng.standard_normal((8, 5))
    results = []
    for lib in (ember, torch):
        relu = _relu_class(lib)
        w = lib.tensor(w0, requires_grad=True)
        x = lib.tensor(x0)
        for _ in range(3):
            loss = relu.apply(x @ w.t()).pow(2).mean()
            loss.backward()
            with lib.no_grad():
                w -= 0.1 * w.grad
                w.grad.zero_()
        results.append(w.detach().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)


def test_grad_fn_next_functions_mirror_torchs_graph():
    def names(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([3.0, 4.0])
        y = (a * b).sum()
        node = y.grad_fn
        (mul, _), = node.next_functions
        return [type(f).__name__ if f is not None else None for f, _ in mul.next_functions], mul.next_functions[0][0]

    got, acc = names(ember)
    want, acc_t = names(torch)
    assert got == want == ["AccumulateGrad", None]
    assert acc.variable is not None and acc_t.variable is not None


def test_autograd_grad_matches_torch_and_leaves_grad_alone():
    rng = np.random.default_rng(3)
    a0, b0 = rng.standard_normal((3,)), rng.standard_normal((3,))
    out = {}
    for lib in (ember, torch):
        a, b = lib.tensor(a0, requires_grad=True), lib.tensor(b0, requires_grad=True)
        h = a * b
        y = (h * h).sum() + a.sum()
        ga, gh = lib.autograd.grad(y, [a, h])
        assert a.grad is None and b.grad is None
        out[lib.__name__] = (ga, gh)
    assert_close(out["ember"][0], out["torch"][0])
    assert_close(out["ember"][1], out["torch"][1])


def test_autograd_grad_unused_input_and_backward_inputs():
    a, b = ember.ones(2, requires_grad=True), ember.ones(2, requires_grad=True)
    y = (a * 3).sum()
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        ember.autograd.grad(y, [a, b], retain_graph=True)
    ga, gb = ember.autograd.grad(y, [a, b], allow_unused=True, retain_graph=True)
    assert gb is None and ga.numpy().tolist() == [3.0, 3.0]
    z = (a * b).sum()
    z.backward(inputs=[b])
    assert a.grad is None and b.grad.numpy().tolist() == [1.0, 1.0]


def test_variable_is_the_tensor():
    x = ember.autograd.Variable(ember.ones(2), requires_grad=True)
    assert isinstance(x, ember.Tensor) and x.requires_grad
