"""Folding an evaluation-mode BatchNorm into the preceding convolution or linear layer
(``torch.nn.utils.fusion``): at inference BN is the affine map y = γ (x - μ) / √(σ² + ε) + β, so

    W' = W · γ / √(σ² + ε)   (per output channel),   b' = (b - μ) · γ / √(σ² + ε) + β

and one layer computes what two did."""

import copy

from ...backend import xp
from ..parameter import Parameter


def _arr(t):
    return None if t is None else t.array


def fuse_conv_bn_weights(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, transpose=False):
    """The fused (weight, bias) Parameters of a conv followed by an eval-mode batch norm."""
    w, rm, rv = _arr(conv_w), _arr(bn_rm), _arr(bn_rv)
    b = xp.zeros_like(rm) if conv_b is None else _arr(conv_b)
    gamma = xp.ones_like(rm) if bn_w is None else _arr(bn_w)
    beta = xp.zeros_like(rm) if bn_b is None else _arr(bn_b)
    scale = gamma / xp.sqrt(rv + bn_eps)
    shape = [1, -1] + [1] * (w.ndim - 2) if transpose else [-1, 1] + [1] * (w.ndim - 2)
    fused_w = (w * scale.reshape(shape)).astype(w.dtype, copy=False)
    fused_b = ((b - rm) * scale + beta).astype(b.dtype, copy=False)
    return (Parameter(fused_w, conv_w.requires_grad),
            Parameter(fused_b, True if conv_b is None else conv_b.requires_grad))


def fuse_conv_bn_eval(conv, bn, transpose=False):
    """A copy of ``conv`` with the eval-mode ``bn`` folded into its weight and bias."""
    if conv.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    fused = copy.deepcopy(conv)
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("fuse_conv_bn_eval: the batch norm has no running statistics")
    fused.weight, fused.bias = fuse_conv_bn_weights(fused.weight, fused.bias, bn.running_mean, bn.running_var,
                                                    bn.eps, bn.weight, bn.bias, transpose)
    return fused


def fuse_linear_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b):
    """The fused (weight, bias) Parameters of a linear layer followed by an eval-mode batch norm."""
    w, rm, rv = _arr(linear_w), _arr(bn_rm), _arr(bn_rv)
    b = xp.zeros_like(rm) if linear_b is None else _arr(linear_b)
    gamma = xp.ones_like(rm) if bn_w is None else _arr(bn_w)
    beta = xp.zeros_like(rm) if bn_b is None else _arr(bn_b)
    scale = gamma / xp.sqrt(rv + bn_eps)
    fused_w = (w * scale[:, None]).astype(w.dtype, copy=False)
    fused_b = ((b - rm) * scale + beta).astype(w.dtype, copy=False)
    return Parameter(fused_w, linear_w.requires_grad), Parameter(fused_b, True if linear_b is None else
                                                                 linear_b.requires_grad)


def fuse_linear_bn_eval(linear, bn):
    """A copy of ``linear`` with the eval-mode ``bn`` folded in."""
    if linear.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    if not (linear.out_features == bn.num_features or bn.num_features == 1):
        raise AssertionError("To fuse, linear.out_features must equal bn.num_features or bn.num_features must "
                             "equal 1")
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(fused.weight, fused.bias, bn.running_mean, bn.running_var,
                                                      bn.eps, bn.weight, bn.bias)
    return fused
