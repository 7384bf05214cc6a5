"""3-D convolution and pooling over (N, C, D, H, W) volumes, built from the 2-D ops one depth tap at a time.

A 3-D kernel of depth KD is KD 2-D kernels, each seeing the input slices d·s + kd·dil:

    out[:, :, d] = Σ_kd conv2d(x_pad[:, :, d·s_d + kd·dil_d], W[:, :, kd])

so conv3d is KD conv2d calls, each over every output depth at once (depth folded into the batch: one
im2col GEMM per tap), and max/avg pooling likewise combine KD 2-D poolings. Gradients are those of the 2-D
ops, slicing and sums.
"""

from .conv import conv2d
from .elementwise import maximum
from .padding import pad
from .pool import avg_pool2d, max_pool2d
from .validate import ShapeError, same_dtype, spatial_rank, tensor_input, window


def _triple(value, name):
    if isinstance(value, int):
        return (value,) * 3
    value = tuple(value)
    if len(value) != 3:
        raise ValueError(f"{name} must be an int or a tuple of 3 ints, got {name}={value}")
    return value


def _depth_taps(x, k, s, d, p, name, fill=0.0):
    """The input slices each depth tap sees, each folded to (N·D_out, C, H, W), and D_out."""
    if p:
        x = pad(x, (0, 0, 0, 0, p, p), value=fill)
    n, c, depth, h, w = x.shape
    d_out = (depth - d * (k - 1) - 1) // s + 1
    if d_out <= 0:
        raise ShapeError(f"{name}: the kernel spans {d * (k - 1) + 1} slices in depth but the padded input has only "
                         f"{depth}; use a larger input or a smaller kernel")
    taps = []
    for kd in range(k):
        start = kd * d
        sl = x[:, :, start:start + s * (d_out - 1) + 1:s]                     # (N, C, D_out, H, W)
        taps.append(sl.permute(0, 2, 1, 3, 4).reshape(n * d_out, c, h, w))  # (N·D_out, C, H, W)
    return taps, n, d_out


def _unfold_depth(y, n, d_out):
    """(N·D_out, C, H, W) -> (N, C, D_out, H, W)."""
    _, c, h, w = y.shape
    return y.reshape(n, d_out, c, h, w).permute(0, 2, 1, 3, 4)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """``torch.nn.functional.conv3d`` (padding as an int or triple; 'valid'/'same' are not supported here)."""
    tensor_input(input, "conv3d")
    if input.ndim == 4 and weight.ndim == 5:  # one unbatched volume (C, D, H, W), as torch allows
        return conv3d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    if input.ndim != 5 or weight.ndim != 5:
        raise ShapeError(f"conv3d: expected a 5-D input (N, C, D, H, W) or a 4-D one (C, D, H, W) and a 5-D weight, "
                         f"got input {tuple(input.shape)} and weight {tuple(weight.shape)}")
    if input.shape[1] != weight.shape[1] * groups:
        raise ShapeError(f"conv3d: Given groups={groups}, weight of size {list(weight.shape)}, expected input "
                         f"{list(input.shape)} to have {weight.shape[1] * groups} channels, but got {input.shape[1]} "
                         "channels instead; check in_channels or the previous layer's out_channels")
    same_dtype(input, weight, "conv3d")
    if isinstance(padding, str):
        raise NotImplementedError("conv3d: string padding ('same', 'valid') is not supported by Ember; give numbers")
    s, p, d = _triple(stride, "stride"), _triple(padding, "padding"), _triple(dilation, "dilation")
    window(tuple(weight.shape[2:]), s, p, d, "conv3d")
    kd = weight.shape[2]
    taps, n, d_out = _depth_taps(input, kd, s[0], d[0], p[0], "conv3d")
    out = None
    for i, tap in enumerate(taps):
        y = conv2d(tap, weight[:, :, i], None, s[1:], p[1:], d[1:], groups)  # (N·D_out, O, H_out, W_out)
        out = y if out is None else out + y
    out = _unfold_depth(out, n, d_out)
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1, 1)
    return out


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """``torch.nn.functional.max_pool3d``: the maximum of KD 2-D max-pools (ceil_mode and indices not supported)."""
    if ceil_mode or return_indices:
        raise NotImplementedError("max_pool3d: ceil_mode=True and return_indices=True are not supported by Ember")
    tensor_input(input, "max_pool3d")
    spatial_rank(input, (5,), "max_pool3d", "(N, C, D, H, W)")
    k = _triple(kernel_size, "kernel_size")
    s = k if stride is None else _triple(stride, "stride")
    p, d = _triple(padding, "padding"), _triple(dilation, "dilation")
    window(k, s, p, d, "max_pool3d")
    taps, n, d_out = _depth_taps(input, k[0], s[0], d[0], p[0], "max_pool3d", fill=float("-inf"))
    out = None
    for tap in taps:
        y = max_pool2d(tap, k[1:], s[1:], p[1:], d[1:])
        out = y if out is None else maximum(out, y)
    return _unfold_depth(out, n, d_out)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """``torch.nn.functional.avg_pool3d``: the mean of KD 2-D average pools (padding counts, as torch's default)."""
    if ceil_mode or divisor_override is not None or (not count_include_pad and padding != 0):
        raise NotImplementedError("avg_pool3d: ceil_mode, divisor_override and count_include_pad=False with padding "
                                  "are not supported by Ember")
    tensor_input(input, "avg_pool3d")
    spatial_rank(input, (5,), "avg_pool3d", "(N, C, D, H, W)")
    k = _triple(kernel_size, "kernel_size")
    s = k if stride is None else _triple(stride, "stride")
    p = _triple(padding, "padding")
    window(k, s, p, (1, 1, 1), "avg_pool3d")
    taps, n, d_out = _depth_taps(input, k[0], s[0], 1, p[0], "avg_pool3d")
    out = None
    for tap in taps:
        y = avg_pool2d(tap, k[1:], s[1:], p[1:])
        out = y if out is None else out + y
    return _unfold_depth(out / k[0], n, d_out)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(Σ_window x^p)^(1/p) over (kD, kH, kW) windows."""
    from .activation import relu
    k = _triple(kernel_size, "kernel_size")
    out = avg_pool3d(input ** norm_type, k, stride, 0, ceil_mode)
    return (out.sign() * relu(out.abs())).mul(k[0] * k[1] * k[2]) ** (1.0 / norm_type)
