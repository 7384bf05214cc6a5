"""The bilinear map y_o = x1ᵀ A_o x2 + b_o (``torch.nn.functional.bilinear``), as two BLAS products."""

from .reduce import sum as _sum
from .validate import same_dtype, tensor_input


def bilinear(input1, input2, weight, bias=None):
    """y[..., o] = Σ_ij x1[..., i] W[o, i, j] x2[..., j] + b[o];  x1 (*, I1), x2 (*, I2), W (O, I1, I2)."""
    tensor_input(input1, "bilinear", "input1")
    tensor_input(input2, "bilinear", "input2")
    same_dtype(input1, weight, "bilinear", "input1")
    same_dtype(input2, weight, "bilinear", "input2")
    o, i1, i2 = weight.shape
    if input1.shape[-1] != i1 or input2.shape[-1] != i2 or tuple(input1.shape[:-1]) != tuple(input2.shape[:-1]):
        raise RuntimeError(f"bilinear: inputs of shapes {tuple(input1.shape)} and {tuple(input2.shape)} do not fit a "
                           f"weight of shape {tuple(weight.shape)} (expected (*, {i1}) and (*, {i2}))")
    batch = tuple(input1.shape[:-1])
    x1, x2 = input1.reshape(-1, i1), input2.reshape(-1, i2)                     # (N, I1), (N, I2)
    t = (x1 @ weight.permute(1, 0, 2).reshape(i1, o * i2)).reshape(-1, o, i2)   # (N, O, I2)
    y = _sum(t * x2.reshape(-1, 1, i2), dim=2)                                  # (N, O)
    if bias is not None:
        y = y + bias
    return y.reshape(*batch, o)
