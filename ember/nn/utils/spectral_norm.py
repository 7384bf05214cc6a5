"""Spectral normalisation (Miyato et al., 2018), torch's hook API ``torch.nn.utils.spectral_norm``:
W_SN = W / σ(W), σ the largest singular value of W reshaped to a matrix (rows: dim ``dim``), estimated by
power iteration on the buffers ``<name>_u``, ``<name>_v`` (one iteration per training forward):

    v ← normalize(Wᵀ u),  u ← normalize(W v),  σ = uᵀ W v

u and v are constants for backpropagation; the gradient flows through W in both W and σ."""

from ... import backend
from ...autograd.grad_mode import no_grad
from ...backend import xp
from ...tensor import Tensor
from ..parameter import Parameter


def _normalize_array(a, eps):
    return a / max(float(xp.linalg.norm(a)), eps)


class SpectralNorm:
    def __init__(self, name="weight", n_power_iterations=1, dim=0, eps=1e-12):
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got n_power_iterations="
                             f"{n_power_iterations}")
        self.name, self.n_power_iterations, self.dim, self.eps = name, n_power_iterations, dim, eps

    def reshape_weight_to_matrix(self, weight):
        if self.dim != 0:
            weight = weight.permute(self.dim, *[d for d in range(weight.ndim) if d != self.dim])
        return weight.reshape(weight.shape[0], -1)

    def compute_weight(self, module, do_power_iteration):
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        weight_mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            w = weight_mat.array
            for _ in range(self.n_power_iterations):
                v.array[...] = _normalize_array(w.T @ u.array, self.eps)   # in place: the buffers move on
                u.array[...] = _normalize_array(w @ v.array, self.eps)
            u, v = Tensor(u.array.copy()), Tensor(v.array.copy())
        sigma = u.dot(weight_mat.mv(v))
        return weight / sigma

    def remove(self, module):
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        object.__delattr__(module, self.name)
        del module._parameters[self.name + "_orig"]
        del module._buffers[self.name + "_u"]
        del module._buffers[self.name + "_v"]
        module.register_parameter(self.name, Parameter(weight.array.copy()))

    def __call__(self, module, inputs):
        object.__setattr__(module, self.name, self.compute_weight(module, do_power_iteration=module.training))

    @staticmethod
    def apply(module, name, n_power_iterations, dim, eps):
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two spectral_norm hooks on the same parameter {name}")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters[name]
        h, w = fn.reshape_weight_to_matrix(weight.detach()).shape
        gen = backend.generator()
        u = _normalize_array(gen.standard_normal(h).astype(weight.dtype), eps)
        v = _normalize_array(gen.standard_normal(w).astype(weight.dtype), eps)
        del module._parameters[name]
        module.register_parameter(name + "_orig", weight)
        object.__setattr__(module, name, weight.detach())
        module.register_buffer(name + "_u", Tensor(u))
        module.register_buffer(name + "_v", Tensor(v))
        module.register_forward_pre_hook(fn)
        return fn


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Divide ``module.<name>`` by its spectral norm before every forward; returns the module. ``dim``
    defaults to 1 for transposed convolutions (their output channels), else 0."""
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module, name="weight"):
    """Fold W / σ back into one ordinary parameter ``<name>``."""
    for k, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, SpectralNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return module
    raise ValueError(f"spectral_norm of '{name}' not found in {module}")


__all__ = ["spectral_norm", "remove_spectral_norm", "SpectralNorm"]
