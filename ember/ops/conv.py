"""2-D convolution as im2col + one GEMM (CS231n: "Im2col 实现卷积运算").

Each output pixel is a dot product wᵀx + b between a filter and the input patch under it. im2col lays
every patch out as a column, so all the dot products of the whole batch become one matrix product:

    cols (C·KH·KW, OH·OW·N)  = the patches, one column per output pixel of every sample
    out  (O, OH·OW·N)        = W (O, C·KH·KW) @ cols  (+ b)

and backward is two more matrix products:

    dW    = dout @ colsᵀ                 (one GEMM)
    dcols = Wᵀ @ dout, then col2im       (one GEMM, then every patch's gradient added back into place,
                                          one kernel offset at a time: K² strided adds, no scatter)

With ``groups`` the channels split into independent groups and the GEMM becomes a batch of ``groups``
GEMMs.

Conv2d itself works in torch's (N, C, H, W) layout, in shards of the batch on every core (see the note
above Conv2d); a stride-1 convolution reads its columns over whole padded rows (``wide_columns``) and
computes its input gradient as another stride-1 convolution; one with few channels and a wide kernel
(LeNet's first layer) runs as one GEMM per strip of output pixels against a banded weight (conv_rows.py).
The transposed convolution and fold/unfold use the helpers just below, in another layout: images kept as (C, H, W, N), the sample index varying
fastest, so that every copy im2col makes and every add col2im makes runs over N contiguous numbers at a
time instead of over OW (often only 5 to 30).
"""

from ..autograd.function import Function
from ..backend import as_strided, xp
from ..parallel import ordered_sum, run, shards
from . import conv_rows, winograd
from .validate import ArgumentError, ShapeError, non_negative, positive, same_dtype, tensor_input
from .window import output_size, padded, pair, single as _single


def batch_last_padded(x, pads):
    """x (N, C, H, W) copied into a zero border, batch last: (C, top + H + bottom, left + W + right, N)."""
    top, bottom, left, right = pads
    n, c, h, w = x.shape
    out = xp.zeros((c, h + top + bottom, w + left + right, n), dtype=x.dtype)
    out[:, top : top + h, left : left + w, :] = x.transpose(1, 2, 3, 0)
    return out


def im2col(x_pad, kernel, out_hw, stride, dilation):
    """Padded x (C, Hp, Wp, N) -> columns (C·KH·KW, OH·OW·N): a strided view of every patch, copied once.

    Row (c, i, j) holds, for every output pixel (y, x) and sample n, the input x_pad[c, s·y + d·i, s·x + d·j, n].
    """
    c, n = x_pad.shape[0], x_pad.shape[3]
    (kh, kw), (oh, ow), (sh, sw), (dh, dw) = kernel, out_hw, stride, dilation
    s_c, s_h, s_w, s_n = x_pad.strides
    patches = as_strided(x_pad, (c, kh, kw, oh, ow, n), (s_c, s_h * dh, s_w * dw, s_h * sh, s_w * sw, s_n))
    return patches.reshape(c * kh * kw, oh * ow * n)


def col2im(cols, padded_shape, kernel, out_hw, stride, dilation):
    """The adjoint of im2col: columns (C·KH·KW, OH·OW·N) -> gradient of the padded input (C, Hp, Wp, N).

    Overlapping patches share pixels, so their gradients add up: one strided add per kernel offset.
    """
    c, hp, wp, n = padded_shape
    (kh, kw), (oh, ow), (sh, sw), (dh, dw) = kernel, out_hw, stride, dilation
    cols = cols.reshape(c, kh, kw, oh, ow, n)
    dx = xp.zeros(padded_shape, dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
            columns = slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)
            dx[:, rows, columns, :] += cols[:, i, j]
    return dx


# ---- Conv2d: NCHW, in shards of the batch ---------------------------------------------------------------
#
# Conv2d keeps torch's (N, C, H, W) layout and works one shard of a few images at a time, on every core
# (ember/parallel.py). Per image the GEMM  W (O, C·KH·KW) @ cols (C·KH·KW, OH·OW)  writes its output
# already in (O, OH, OW) order, so the output is a contiguous NCHW array with no transpose, the gradient
# arriving in backward is read in that same order, and a shard's columns (a few MiB) stay in its core's
# cache. Backward rebuilds a shard's columns from the saved input instead of keeping the whole batch's
# (nine times the input for a 3×3 kernel) alive between forward and backward.

#: A stride-1 convolution takes its columns over whole padded rows when that makes at most this many
#: times the GEMM work of the OH·OW outputs (see ``wide_columns``).
WIDE_WASTE = 1.13

#: Images per shard are chosen so that one shard's columns take about this many bytes (at least one image).
SHARD_BYTES = 2 << 20


def images_per_shard(rows, out_hw, itemsize):
    """How many images a shard holds when each image's columns are ``rows`` × OH·OW numbers."""
    return max(1, SHARD_BYTES // max(1, rows * out_hw[0] * out_hw[1] * itemsize))


def padded_wide(x, pads, extra_rows):
    """x (n, C, H, W) inside a zero border, with ``extra_rows`` more zero rows at the bottom (see
    ``wide_columns``): (n, C, top + H + bottom + extra_rows, left + W + right)."""
    top, bottom, left, right = pads
    return padded(x, (top, bottom + extra_rows, left, right))


def wide_columns(x_pad, kernel, out_h, dilation, groups):
    """Stride-1 columns over whole padded rows, all images side by side: (G, C/G·KH·KW, n·OH·Wp).

    With stride 1, row (c, i, j) of the columns, read over the full padded width Wp instead of the OW
    outputs, is one contiguous run of each flattened image: x_pad[m, c].flat[d·i·Wp + d·j :][: OH·Wp]. So
    the copy runs over OH·Wp numbers at a time (not OW), one GEMM covers the shard, and the GEMM makes
    Wp - OW extra output columns per row, which are dropped. The last run reads up to d·(KW-1) numbers
    past the padded image: ``x_pad`` carries one extra zero row for them (``padded_wide``).
    """
    n, c, _, wp = x_pad.shape
    (kh, kw), (dh, dw) = kernel, dilation
    s_n, s_c, s_h, s_w = x_pad.strides
    runs = as_strided(x_pad, (c, kh, kw, n, out_h * wp), (s_c, s_h * dh, s_w * dw, s_n, s_w))
    return runs.reshape(groups, (c // groups) * kh * kw, n * out_h * wp)


def col2im_wide(dcols, dx_pad, kernel, out_h, dilation):
    """The adjoint of ``wide_columns``: add dcols (n, C, KH, KW, OH·Wp) into dx_pad (n, C, Hp + 1, Wp),
    zeroed first; one add of OH·Wp-long runs per kernel offset. The dropped columns must hold zeros."""
    n, c, hp1, wp = dx_pad.shape
    (kh, kw), (dh, dw) = kernel, dilation
    flat = dx_pad.reshape(n, c, hp1 * wp)
    flat[...] = 0
    length = out_h * wp
    for i in range(kh):
        for j in range(kw):
            start = dh * i * wp + dw * j
            flat[:, :, start : start + length] += dcols[:, :, i, j]


def wide_conv(x, w_g, pads, kernel, out_hw, dilation, out):
    """A stride-1 convolution of x (m, C, H, W) by w_g (G, O/G, C/G·KH·KW) into out (m, O, OH, OW)."""
    m, o, groups = x.shape[0], out.shape[1], w_g.shape[0]
    cols = wide_columns(padded_wide(x, pads, 1), kernel, out_hw[0], dilation, groups)
    full = xp.matmul(w_g, cols).reshape(o, m, out_hw[0], -1)  # (O, m, OH, Wp)
    out[...] = full[..., : out_hw[1]].transpose(1, 0, 2, 3)


#: 3×3 stride-1 convolutions with at least this many input and output channels use Winograd's F(2×2, 3×3)
#: (ember/ops/winograd.py): with fewer, its tile transforms (memory-bound passes) cost more than the GEMM
#: work it saves; measured slower at 16 and 32 channels, slower at 64 with two threads, faster at 128 and 256.
WINOGRAD_MIN_CHANNELS = 128


def use_winograd(c, o, kernel, stride, pads, dilation, groups):
    """Whether Conv2d runs by Winograd: 3×3, stride 1, no dilation or groups, padding at most 2 (the input
    gradient is then the same kind of convolution), and enough channels."""
    return (tuple(kernel) == (3, 3) and tuple(stride) == (1, 1) and tuple(dilation) == (1, 1) and groups == 1
            and max(pads) <= 2 and min(c, o) >= WINOGRAD_MIN_CHANNELS)


def flipped_weight(weight, groups):
    """The weight of the stride-1 convolution that is Conv2d's input gradient: W'[c, o, i, j] =
    W[o, c, KH-1-i, KW-1-j] within each group, as (G, C/G, O/G·KH·KW)."""
    o, cg, kh, kw = weight.shape
    w = weight.reshape(groups, o // groups, cg, kh, kw)[:, :, :, ::-1, ::-1]
    return xp.ascontiguousarray(w.transpose(0, 2, 1, 3, 4)).reshape(groups, cg, -1)


class Conv2d(Function):
    """out[n, o] = Σ_c Σ_(i,j) W[o, c, i, j] · x_pad[n, c, s·y + d·i, s·x + d·j] + b[o]  (cross-correlation).

    Per shard of images (see above): cols = im2col(x), out = W @ cols; backward dW = Σ dout @ colsᵀ
    (shard partial sums added in shard order), dcols = Wᵀ @ dout, dx = col2im(dcols). Stride-1
    convolutions take their columns over whole padded rows (``wide_columns``).
    """

    @staticmethod
    def forward(ctx, x, weight, bias, stride, pads, dilation, groups):
        n, c, h, w = x.shape
        o, cg, kh, kw = weight.shape
        out_hw = (
            output_size(h, kh, stride[0], pads[0], pads[1], dilation[0]),
            output_size(w, kw, stride[1], pads[2], pads[3], dilation[1]),
        )
        geometry = ((kh, kw), out_hw, stride, dilation, groups)
        # Whole padded rows cost Wp/OW times the GEMM work: worth it while that stays small (3×3 with padding
        # 1 on 32×32 or 16×16: 34/32, 18/16); 8×8 images do better with the shard's batch last (measured).
        wide = tuple(stride) == (1, 1) and (kh, kw) != (1, 1) and w + pads[2] + pads[3] <= WIDE_WASTE * out_hw[1]
        # A 1×1 convolution without padding needs no im2col: each image (every s-th pixel of it) is its own
        # (C, OH·OW) column matrix.
        direct = (kh, kw) == (1, 1) and not any(pads)
        if use_winograd(c, o, (kh, kw), stride, pads, dilation, groups):
            return winograd.conv2d_forward(ctx, x, weight, bias, pads, out_hw)
        # Few channels and a wide kernel (LeNet): one GEMM against a banded weight copies less (conv_rows.py).
        strip = None if wide or direct else conv_rows.strip_width(c, o, (kh, kw), out_hw[1], stride[1], dilation[1],
                                                                  groups)
        if strip is not None:
            out, ctx.windows, ctx.band = conv_rows.forward(x, weight, bias, pads, stride, dilation, out_hw, strip)
            ctx.save(weight)
            ctx.geometry = (x.shape, pads, geometry, "rows")
            return out
        sh, sw = stride
        w_g = weight.reshape(groups, o // groups, -1)  # (G, O/G, C/G·KH·KW)
        out = xp.empty((n, o) + out_hw, dtype=xp.result_type(x, weight))

        def shard(span):
            a, b = span
            piece = out[a:b].reshape(b - a, groups, o // groups, -1)
            if wide:
                wide_conv(x[a:b], w_g, pads, (kh, kw), out_hw, dilation, out[a:b])
            elif direct:
                xp.matmul(w_g, x[a:b, :, ::sh, ::sw].reshape(b - a, groups, c // groups, -1), out=piece)
            else:  # the shard's batch last: im2col copies runs of m numbers (see the module docstring)
                cols = im2col(batch_last_padded(x[a:b], pads), (kh, kw), out_hw, stride, dilation)
                full = xp.matmul(w_g, cols.reshape(groups, cg * kh * kw, -1))  # (G, O/G, OH·OW·m)
                out[a:b] = full.reshape(o, *out_hw, b - a).transpose(3, 0, 1, 2)
            if bias is not None:
                piece += bias.reshape(groups, o // groups, 1)

        run(shard, shards(n, images_per_shard(cg * kh * kw * groups, out_hw, out.itemsize)))
        ctx.save(x if ctx.needs_input_grad[1] else None, weight)
        ctx.geometry = (x.shape, pads, geometry, "wide" if wide else "direct" if direct else "batch last")
        return out

    @staticmethod
    def backward(ctx, grad):
        x_shape, pads, geometry, mode = ctx.geometry
        if mode == "rows":
            (weight,) = ctx.saved
            _, _, stride, dilation, _ = geometry
            return conv_rows.backward(grad, weight, ctx.windows, ctx.band, x_shape, pads, stride, dilation,
                                      ctx.needs_input_grad[:3])
        x, weight = ctx.saved
        if mode == "winograd":
            return winograd.conv2d_backward(ctx, x, weight, grad)
        wide = mode == "wide"
        kernel, out_hw, stride, dilation, groups = geometry
        n, c, h, w = x_shape
        o = weight.shape[0]
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        w_t = weight.reshape(groups, o // groups, -1).transpose(0, 2, 1)  # (G, C/G·KH·KW, O/G)
        dx = xp.empty(x_shape, dtype=grad.dtype) if need_x else None
        wp = w + pads[2] + pads[3]
        # With stride 1, dx is itself a stride-1 convolution: dout padded by d·(K-1) - p on each side,
        # with the flipped, transposed kernel. That is an im2col copy and a GEMM, cheaper than col2im's K²
        # read-modify-write passes (possible while no padding exceeds d·(K-1)).
        reach = (dilation[0] * (kernel[0] - 1),) * 2 + (dilation[1] * (kernel[1] - 1),) * 2
        back_width = out_hw[1] + reach[2] + reach[3] - pads[2] - pads[3]  # dout's padded width
        as_conv = (wide and need_x and all(p <= r for p, r in zip(pads, reach))
                   and h * back_width <= WIDE_WASTE * out_hw[0] * out_hw[1])
        w_flip = flipped_weight(weight, groups) if as_conv else None
        back_pads = tuple(r - p for p, r in zip(pads, reach))

        def shard(span):
            a, b = span
            m = b - a
            if mode == "batch last":
                part = x[a:b] if need_w else None
                return _batch_last_backward(part, weight, grad[a:b], pads, geometry, need_w, need_x, need_b, dx, a, b)
            if not (need_w or need_x and not as_conv):
                dout = None
            elif wide:  # the output gradient over whole padded rows, zero in the dropped columns
                dout = xp.empty((o, m, out_hw[0], wp), dtype=grad.dtype)
                dout[..., out_hw[1] :] = 0
                dout[..., : out_hw[1]] = grad[a:b].transpose(1, 0, 2, 3)
                dout = dout.reshape(groups, o // groups, -1)  # (G, O/G, m·OH·Wp)
            else:
                dout = grad[a:b].reshape(m, groups, o // groups, -1)  # (m, G, O/G, OH·OW)
            dw = db = None
            if need_w:
                # (cols · doutᵀ)ᵀ: the same product as dout · colsᵀ, which BLAS runs slower for this shape
                if wide:
                    cols = wide_columns(padded_wide(x[a:b], pads, 1), kernel, out_hw[0], dilation, groups)
                    dw = xp.matmul(cols, dout.transpose(0, 2, 1)).transpose(0, 2, 1)
                else:  # direct: the images are the columns
                    cols = x[a:b, :, :: stride[0], :: stride[1]].reshape(m, groups, c // groups, -1)
                    dw = xp.matmul(cols, dout.transpose(0, 1, 3, 2)).sum(axis=0).transpose(0, 2, 1)
            if need_b:
                db = grad[a:b].sum(axis=(0, 2, 3))
            if as_conv:
                wide_conv(grad[a:b], w_flip, back_pads, kernel, (h, w), dilation, dx[a:b])
            elif need_x:
                dcols = xp.matmul(w_t, dout)  # (m, G, C/G·KH·KW, L)
                if wide:
                    dx_pad = xp.empty((m, c, h + pads[0] + pads[1] + 1, wp), dtype=dx.dtype)
                    dcols = dcols.reshape((c,) + kernel + (m, -1)).transpose(3, 0, 1, 2, 4)
                    col2im_wide(dcols, dx_pad, kernel, out_hw[0], dilation)
                    dx[a:b] = dx_pad[:, :, pads[0] : pads[0] + h, pads[2] : pads[2] + w]
                elif tuple(stride) == (1, 1):
                    dx[a:b] = dcols.reshape(m, c, h, w)
                else:  # a strided 1×1 convolution: the pixels it skipped get no gradient
                    dx[a:b] = 0
                    dx[a:b, :, :: stride[0], :: stride[1]] = dcols.reshape((m, c) + out_hw)
            return dw, db

        parts = run(shard, shards(n, images_per_shard(weight[0].size * groups, out_hw, grad.itemsize)))
        dw = ordered_sum([p[0] for p in parts], weight.shape, weight.dtype) if need_w else None
        db = ordered_sum([p[1] for p in parts], (o,), grad.dtype) if need_b else None
        return dx, dw, db


def _batch_last_backward(x, weight, grad, pads, geometry, need_w, need_x, need_b, dx, a, b):
    """Conv2d's backward on one shard (images a:b; x is None when W needs no gradient) in the batch-last
    layout: (dW part, db part), dx[a:b] written in place."""
    db = grad.sum(axis=(0, 2, 3)) if need_b else None
    if not (need_w or need_x):
        return None, db
    kernel, out_hw, stride, dilation, groups = geometry
    c, (h, w) = weight.shape[1] * groups, dx.shape[2:] if dx is not None else x.shape[2:]
    o = weight.shape[0]
    dout = xp.ascontiguousarray(grad.transpose(1, 2, 3, 0)).reshape(groups, o // groups, -1)  # (G, O/G, OH·OW·m)
    padded_shape = (c, h + pads[0] + pads[1], w + pads[2] + pads[3], b - a)
    dw = None
    if need_w:
        cols = im2col(batch_last_padded(x, pads), kernel, out_hw, stride, dilation)
        dw = weight_gradient(cols.reshape(groups, -1, dout.shape[-1]), dout, weight.shape)
    if need_x:
        dx_pad = input_gradient(weight, dout, padded_shape, kernel, out_hw, stride, dilation, groups)
        dx[a:b] = dx_pad[:, pads[0] : pads[0] + h, pads[2] : pads[2] + w, :].transpose(3, 0, 1, 2)
    return dw, db


def weight_gradient(cols, dout, weight_shape):
    """dW = dout · colsᵀ per group: cols (G, C/G·KH·KW, L), dout (G, O/G, L) -> dW shaped ``weight_shape``.

    Computed as (cols · doutᵀ)ᵀ: the same product, but BLAS runs this shape (a long inner dimension with
    few outputs) about twice as fast.
    """
    return xp.matmul(cols, dout.transpose(0, 2, 1)).transpose(0, 2, 1).reshape(weight_shape)


def input_gradient(weight, dout, padded_shape, kernel, out_hw, stride, dilation, groups):
    """The padded input's gradient (C, Hp, Wp, N): dcols = Wᵀ · dout per group (one GEMM), then col2im.

    This is also the whole forward pass of the transposed convolution, which is the adjoint of Conv2d.
    """
    o = weight.shape[0]
    w_t = weight.reshape(groups, o // groups, -1).transpose(0, 2, 1)  # (G, C/G·KH·KW, O/G)
    return col2im(xp.matmul(w_t, dout), padded_shape, kernel, out_hw, stride, dilation)


def conv_padding(padding, kernel, dilation, stride, layer=None):
    """(top, bottom, left, right) from an int, a pair, 'valid' or 'same' (extra pixel at the bottom/right)."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding == "same":
            if stride != (1, 1):
                raise ValueError(f"{layer or 'conv2d'}: padding='same' is not supported for strided convolutions")
            pads = []
            for k, d in zip(kernel, dilation):
                total = d * (k - 1)
                pads += [total // 2, total - total // 2]
            return tuple(pads)
        raise ValueError(f"{layer or 'conv2d'}: padding must be an int, a pair, 'same' or 'valid', got '{padding}'")
    ph, pw = non_negative(pair(padding, "padding"), "padding", layer or "conv2d")
    return (ph, ph, pw, pw)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, layer=None):
    """2-D convolution, as ``torch.nn.functional.conv2d``; ``layer`` names the caller in error messages."""
    name = str(layer) if layer is not None else "conv2d"
    tensor_input(x, name)
    if groups <= 0:
        raise ArgumentError(f"{name}: non-positive groups is not supported, got groups={groups}; use groups >= 1")
    if weight.ndim != 4:
        raise ShapeError(f"{name}: weight must be 4-D (out_channels, in_channels/groups, kH, kW), got {weight.shape}")
    if x.ndim == 3:  # one unbatched image (C, H, W), as torch allows
        return conv2d(x.unsqueeze(0), weight, bias, stride, padding, dilation, groups, layer).squeeze(0)
    if x.ndim != 4:
        raise ShapeError(f"{name}: expected a 4-D input (N, C, H, W) or a 3-D one (C, H, W), got shape "
                         f"{tuple(x.shape)}")
    o, cg, kh, kw = weight.shape
    if o == 0:
        raise ShapeError(f"{name}: expected weight to be at least 1 at dimension 0 (out_channels), but got weight of "
                         f"size {tuple(weight.shape)}; give the layer at least one output channel")
    if x.shape[1] != cg * groups:
        raise ShapeError(
            f"{name}: expected input with {cg * groups} channels, got {x.shape[1]} channels "
            f"(input shape {tuple(x.shape)}); check in_channels or the previous layer's out_channels"
        )
    if o % groups:
        raise ShapeError(f"{name}: out_channels {o} is not divisible by groups {groups}")
    if bias is not None and bias.array.shape != (o,):
        raise ShapeError(f"{name}: expected bias to be 1-dimensional with {o} elements (one per output channel), "
                         f"but got bias of size {tuple(bias.shape)}")
    same_dtype(x, weight, name)
    stride = positive(pair(stride, "stride"), "stride", name)
    dilation = positive(pair(dilation, "dilation"), "dilation", name)
    positive((kh, kw), "kernel_size", name)
    pads = conv_padding(padding, (kh, kw), dilation, stride, name)
    output_size(x.shape[2], kh, stride[0], pads[0], pads[1], dilation[0], layer=name, axis="height")
    output_size(x.shape[3], kw, stride[1], pads[2], pads[3], dilation[1], layer=name, axis="width")
    return Conv2d.apply(x, weight, bias, stride, pads, dilation, groups)


class ConvTranspose2d(Function):
    """The adjoint of Conv2d ("fractionally strided" or "de-" convolution): every input pixel scatters a
    weighted copy of the filter into the output, s pixels apart,

        out_pad[n, o, s·y + d·i, s·x + d·j] += Σ_c x[n, c, y, x] · W[c, o, i, j],   out = out_pad cropped by p

    so its forward is exactly Conv2d's input gradient (one GEMM Wᵀ·x, then col2im) and its backward is
    Conv2d's forward (im2col of the output gradient, then one GEMM for dx and one for dW). Output size:
    (H - 1)·s - 2p + d·(K - 1) + output_padding + 1; output_padding adds rows/columns at the bottom/right
    that no input reaches (it picks one of the s input sizes a strided Conv2d maps onto the same size).
    """

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, output_padding, dilation, groups):
        n, c, h, w = x.shape
        _, og, kh, kw = weight.shape
        (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
        padded_shape = (og * groups, (h - 1) * sh + dh * (kh - 1) + 1 + output_padding[0],
                        (w - 1) * sw + dw * (kw - 1) + 1 + output_padding[1], n)
        out_hw = (padded_shape[1] - 2 * ph, padded_shape[2] - 2 * pw)
        x_cols = x.transpose(1, 2, 3, 0).reshape(groups, c // groups, h * w * n)  # (G, C/G, H·W·N)
        out_pad = input_gradient(weight, x_cols, padded_shape, (kh, kw), (h, w), stride, dilation, groups)
        out = out_pad[:, ph : ph + out_hw[0], pw : pw + out_hw[1], :]  # (O, OH, OW, N)
        if bias is not None:
            out = out + bias.reshape(-1, 1, 1, 1)
        ctx.save(x_cols if ctx.needs_input_grad[1] else None, weight)
        ctx.geometry = ((h, w), (kh, kw), stride, padding, dilation, groups)
        return out.transpose(3, 0, 1, 2)

    @staticmethod
    def backward(ctx, grad):
        x_cols, weight = ctx.saved
        (h, w), kernel, stride, (ph, pw), dilation, groups = ctx.geometry
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        c, n = weight.shape[0], grad.shape[0]
        dx = dw = db = None
        if need_x or need_w:
            grad_pad = batch_last_padded(grad, (ph, ph, pw, pw))  # (O, OH + 2p, OW + 2p, N)
            cols = im2col(grad_pad, kernel, (h, w), stride, dilation).reshape(groups, -1, h * w * n)
            if need_x:  # Conv2d's forward of the output gradient
                dx = xp.matmul(weight.reshape(groups, c // groups, -1), cols).reshape(c, h, w, n)
                dx = dx.transpose(3, 0, 1, 2)
            if need_w:
                dw = weight_gradient(cols, x_cols, weight.shape)
        if need_b:
            db = grad.sum(axis=(0, 2, 3))
        return dx, dw, db


def _check_1d(x, weight, name, transposed=False):
    if weight.ndim != 3:
        channels = "in_channels, out_channels/groups" if transposed else "out_channels, in_channels/groups"
        raise RuntimeError(f"{name}: weight must be 3-D ({channels}, kW), got {tuple(weight.shape)}")
    if x.ndim not in (2, 3):
        raise RuntimeError(
            f"{name}: Expected 2D (unbatched) or 3D (batched) input (N, C, L), but got input of size: "
            f"{list(x.shape)}; a 4-D image batch needs a 2-D layer"
        )


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, layer=None):
    """1-D convolution over (N, C, L), as ``torch.nn.functional.conv1d``: a Conv2d over images of height 1
    (the same im2col and GEMM, with a 1×K kernel)."""
    name = str(layer) if layer is not None else "conv1d"
    tensor_input(input, name)
    _check_1d(input, weight, name)
    if input.ndim == 2:
        return conv1d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups, layer).squeeze(0)
    if input.shape[1] != weight.shape[1] * groups:
        raise RuntimeError(
            f"{name}: Given groups={groups}, weight of size {list(weight.shape)}, expected input{list(input.shape)} "
            f"to have {weight.shape[1] * groups} channels, but got {input.shape[1]} channels instead; check "
            "in_channels or the previous layer's out_channels"
        )
    pad2 = padding if isinstance(padding, str) else (0, _single(padding, "padding"))
    out = conv2d(input.unsqueeze(2), weight.unsqueeze(2), bias, (1, _single(stride, "stride")), pad2,
                 (1, _single(dilation, "dilation")), groups, layer=name)
    return out.squeeze(2)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1,
                     layer=None):
    """Transposed 2-D convolution, as ``torch.nn.functional.conv_transpose2d`` (note: groups before dilation).

    weight: (in_channels, out_channels/groups, kH, kW). Output (N, out_channels, OH, OW) with
    OH = (H - 1)·stride - 2·padding + dilation·(kH - 1) + output_padding + 1.
    """
    name = str(layer) if layer is not None else "conv_transpose2d"
    tensor_input(input, name)
    if weight.ndim != 4:
        raise RuntimeError(f"{name}: weight must be 4-D (in_channels, out_channels/groups, kH, kW), "
                           f"got {tuple(weight.shape)}")
    if input.ndim == 3:
        return conv_transpose2d(input.unsqueeze(0), weight, bias, stride, padding, output_padding, groups, dilation,
                                layer).squeeze(0)
    if input.ndim != 4:
        raise RuntimeError(f"{name}: expected a 4-D input (N, C, H, W) or a 3-D one (C, H, W), "
                           f"got shape {tuple(input.shape)}")
    if input.shape[1] != weight.shape[0]:
        raise RuntimeError(
            f"{name}: Given transposed=1, weight of size {list(weight.shape)}, expected input{list(input.shape)} to "
            f"have {weight.shape[0]} channels, but got {input.shape[1]} channels instead; check in_channels or the "
            "previous layer's out_channels"
        )
    if weight.shape[0] % groups:
        raise RuntimeError(f"{name}: in_channels {weight.shape[0]} is not divisible by groups {groups}")
    same_dtype(input, weight, name)
    stride = positive(pair(stride, "stride"), "stride", name)
    dilation = positive(pair(dilation, "dilation"), "dilation", name)
    positive(tuple(weight.shape[2:]), "kernel_size", name)
    padding = non_negative(pair(padding, "padding"), "padding", name)
    output_padding = non_negative(pair(output_padding, "output_padding"), "output_padding", name)
    for op, s, d in zip(output_padding, stride, dilation):
        if not (op < s or op < d):
            raise RuntimeError(
                f"{name}: output padding must be smaller than either stride or dilation, but got output_padding "
                f"{output_padding} with stride {stride} and dilation {dilation}"
            )
    for axis, size, k, s, p, d, op in zip(("height", "width"), input.shape[2:], weight.shape[2:], stride, padding,
                                          dilation, output_padding):
        out = (size - 1) * s - 2 * p + d * (k - 1) + op + 1
        if out <= 0:
            raise RuntimeError(f"{name}: the output {axis} would be {out} (input {size}, kernel {k}, stride {s}, "
                               f"padding {p}); use less padding")
    return ConvTranspose2d.apply(input, weight, bias, stride, padding, output_padding, dilation, groups)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1,
                     layer=None):
    """Transposed 1-D convolution over (N, C, L): ConvTranspose2d over images of height 1."""
    name = str(layer) if layer is not None else "conv_transpose1d"
    tensor_input(input, name)
    _check_1d(input, weight, name, transposed=True)
    if input.ndim == 2:
        return conv_transpose1d(input.unsqueeze(0), weight, bias, stride, padding, output_padding, groups, dilation,
                                layer).squeeze(0)
    out = conv_transpose2d(input.unsqueeze(2), weight.unsqueeze(2), bias, (1, _single(stride, "stride")),
                           (0, _single(padding, "padding")), (0, _single(output_padding, "output_padding")), groups,
                           (1, _single(dilation, "dilation")), layer=name)
    return out.squeeze(2)
