"""The PyTorch-parity harness: run the same computation in Ember and in torch and compare everything.

``check_op`` feeds both frameworks the same random inputs, compares the forward output (shape, dtype,
values), then backpropagates the same random upstream gradient and compares the gradient of every input.
``check_module`` does the same for a layer, after copying the torch layer's weights into the Ember one,
and also compares every parameter's gradient and every buffer.

Tolerances (DESIGN.md): float64 relative 1e-9; float32 atol 1e-5 / rtol 1e-4.
"""

import inspect

import numpy as np
import torch

import ember
from ember.autograd.function import Function

TOL = {"float64": dict(rtol=1e-9, atol=1e-12), "float32": dict(rtol=1e-4, atol=1e-5)}


def tolerance(dtype, rtol=None, atol=None):
    tol = dict(TOL[np.dtype(dtype).name])
    if rtol is not None:
        tol["rtol"] = rtol
    if atol is not None:
        tol["atol"] = atol
    return tol


def assert_close(actual, expected, dtype="float64", what="value", rtol=None, atol=None):
    """Compare an Ember result (Tensor or array) with a torch one (Tensor or array): shape and values."""
    a = actual.detach().numpy() if isinstance(actual, ember.Tensor) else np.asarray(actual)
    e = expected.detach().numpy() if isinstance(expected, torch.Tensor) else np.asarray(expected)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != torch's {e.shape}"
    np.testing.assert_allclose(a, e, err_msg=what, **tolerance(dtype, rtol, atol))


def random_array(shape, dtype="float64", rng=None, low=None, high=None, noncontiguous=False):
    """A random array; ``noncontiguous=True`` returns a transposed view of the same values."""
    rng = rng or np.random.default_rng(0)
    if low is not None:
        data = rng.uniform(low, high, size=shape)
    else:
        data = rng.standard_normal(shape)
    data = data.astype(dtype)
    if noncontiguous and len(shape) >= 2:
        data = np.ascontiguousarray(data.T).T  # same values, Fortran order: strides reversed
        assert not data.flags.c_contiguous
    return data


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def check_op(
    ember_fn,
    torch_fn,
    shapes=None,
    dtype="float64",
    arrays=None,
    seed=0,
    low=None,
    high=None,
    noncontiguous=False,
    grad=True,
    rtol=None,
    atol=None,
):
    """Compare ``ember_fn(*tensors)`` with ``torch_fn(*tensors)`` on the same inputs, forward and backward.

    Give the input ``shapes`` (random normal values, or uniform on [low, high)) or the ``arrays``
    themselves. Returns the Ember outputs for further checks.
    """
    rng = np.random.default_rng(seed)
    if arrays is None:
        arrays = [random_array(s, dtype, rng, low, high, noncontiguous) for s in shapes]
    floating = [a.dtype.kind == "f" for a in arrays]
    e_in = [ember.Tensor(a.copy() if not noncontiguous else a, requires_grad=grad and f) for a, f in zip(arrays, floating)]
    t_in = [torch.tensor(a, requires_grad=grad and f) for a, f in zip(arrays, floating)]
    e_out = _as_tuple(ember_fn(*e_in))
    t_out = _as_tuple(torch_fn(*t_in))
    assert len(e_out) == len(t_out), f"{len(e_out)} outputs, torch has {len(t_out)}"
    for k, (eo, to) in enumerate(zip(e_out, t_out)):
        assert str(eo.dtype) == str(to.dtype).replace("torch.", ""), f"output {k}: dtype {eo.dtype} vs torch {to.dtype}"
        assert_close(eo, to, dtype, f"output {k}", rtol, atol)
    if not grad:
        return e_out
    diff = [(eo, to) for eo, to in zip(e_out, t_out) if to.requires_grad]
    upstream = [random_array(to.shape, dtype, rng) for _, to in diff]
    torch.autograd.backward([to for _, to in diff], [torch.tensor(u) for u in upstream])
    for (eo, _), u in zip(diff, upstream):
        eo.backward(u, retain_graph=True)
    for i, (ei, ti) in enumerate(zip(e_in, t_in)):
        if not ti.requires_grad:
            continue
        if ti.grad is None:
            assert ei.grad is None or not np.any(ei.grad.numpy()), f"input {i}: Ember has a gradient, torch none"
            continue
        assert ei.grad is not None, f"input {i}: no gradient in Ember"
        assert ei.grad.dtype == ei.dtype, f"input {i}: gradient dtype {ei.grad.dtype} != input dtype {ei.dtype}"
        assert_close(ei.grad, ti.grad, dtype, f"gradient of input {i}", rtol, atol)
    return e_out


def copy_weights(torch_module, ember_module):
    """Load a torch module's state_dict into an Ember module (arrays, same keys)."""
    state = {k: v.detach().numpy().copy() for k, v in torch_module.state_dict().items()}
    ember_module.load_state_dict(state)


def check_module(ember_module, torch_module, shapes, dtype="float64", seed=0, arrays=None, rtol=None, atol=None,
                 input_grad=True, loss=None):
    """Copy torch's weights into the Ember module, run both on the same input, compare the output, the
    input gradient, every parameter gradient and every buffer (running statistics) afterwards."""
    torch_module = torch_module.to(getattr(torch, np.dtype(dtype).name))
    copy_weights(torch_module, ember_module)
    ember_module.to(dtype)
    rng = np.random.default_rng(seed)
    if arrays is None:
        arrays = [random_array(s, dtype, rng) for s in shapes]
    e_in = [ember.Tensor(a.copy(), requires_grad=input_grad and a.dtype.kind == "f") for a in arrays]
    t_in = [torch.tensor(a, requires_grad=input_grad and a.dtype.kind == "f") for a in arrays]
    e_out = ember_module(*e_in)
    t_out = torch_module(*t_in)
    if loss is not None:
        e_out, t_out = loss(e_out, "ember"), loss(t_out, "torch")
    assert_close(e_out, t_out, dtype, "output", rtol, atol)
    u = random_array(tuple(t_out.shape), dtype, rng)
    t_out.backward(torch.tensor(u))
    e_out.backward(u)
    for i, (ei, ti) in enumerate(zip(e_in, t_in)):
        if ti.requires_grad:
            assert_close(ei.grad, ti.grad, dtype, f"gradient of input {i}", rtol, atol)
    t_params = dict(torch_module.named_parameters())
    e_params = dict(ember_module.named_parameters())
    assert sorted(e_params) == sorted(t_params), f"parameter names {sorted(e_params)} != torch's {sorted(t_params)}"
    for name, tp in t_params.items():
        if tp.grad is not None:
            assert e_params[name].grad is not None, f"{name}: no gradient in Ember"
            assert_close(e_params[name].grad, tp.grad, dtype, f"gradient of {name}", rtol, atol)
    t_buffers = dict(torch_module.named_buffers())
    e_buffers = dict(ember_module.named_buffers())
    assert sorted(e_buffers) == sorted(t_buffers), f"buffer names {sorted(e_buffers)} != torch's {sorted(t_buffers)}"
    for name, tb in t_buffers.items():
        assert_close(e_buffers[name], tb, dtype if tb.dtype.is_floating_point else "float64", f"buffer {name}")
    return e_out


def gradcheck(fn, *shapes, seed=0, low=None, high=None, fast_mode=False, **kwargs):
    """ember.autograd.gradcheck on random float64 inputs of the given shapes."""
    rng = np.random.default_rng(seed)
    inputs = [ember.Tensor(random_array(s, "float64", rng, low, high), requires_grad=True) for s in shapes]
    return ember.autograd.gradcheck(fn, inputs, fast_mode=fast_mode, **kwargs)


def function_classes(module):
    """Names of the Function classes defined in an ops module (for the 'every Function is gradchecked' guards)."""
    return {
        name for name, obj in vars(module).items()
        if inspect.isclass(obj) and issubclass(obj, Function) and obj.__module__ == module.__name__
    }


def runs_with_threads(counts, fn):
    """``fn()`` once with each thread count in ``counts`` (``ember.set_num_threads``), the count restored after."""
    before = ember.get_num_threads()
    try:
        results = []
        for n in counts:
            ember.set_num_threads(n)
            results.append(fn())
        return results
    finally:
        ember.set_num_threads(before)


def assert_same_bits(runs):
    """Every run's arrays equal the first run's, bit for bit (the determinism promise of ember/parallel.py)."""
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            assert np.array_equal(a, b)
