"""Convolution by strips: one GEMM against a banded weight, for few channels and wide kernels (LeNet).

im2col copies every K×K patch: C·KH·KW numbers per output pixel. For a first layer (C = 1, a 5×5 kernel)
that copy is 25 times the image, in runs too short to copy fast, and costs far more than the tiny GEMM
after it (6 output channels). Convolution by strips copies less and multiplies more.

Cut each output row into strips of B consecutive pixels. Strip (n, y, k) — pixels x = k·B … k·B + B - 1 of
row y of image n — reads the KH input rows y·s + i·d over the W' = B + d·(KW - 1) columns starting at k·B.
Lay each strip's window out as a row,

    A[(n, y, k), (c, i, w)] = x_pad[n, c, y·s + i·d, k·B + w]          (N·OH·OW/B, C·KH·W')

and spread the kernel along a band, so that column (o, x) of the strip's weight picks the KW pixels that
output pixel x of the strip reads (the same for every strip):

    Wb[(c, i, x + j·d), (o, x)] = W[o, c, i, j]                        (C·KH·W', O·B), zero elsewhere

Then out[n, o, y, k·B + x] = (A @ Wb)[(n, y, k), (o, x)]: one GEMM. Per output pixel it copies C·KH·W'/B
numbers instead of C·KH·KW and does C·KH·W'·O multiply-adds instead of C·KH·KW·O; B = 1 is im2col itself,
B = OW one GEMM per whole row. Backward is two more GEMMs:

    dWb = Aᵀ @ dOut,   dW[o, c, i, j] = Σ_x dWb[(c, i, x + j·d), (o, x)]          (the band read back)
    dA  = dOut @ Wbᵀ,  dx_pad[n, c, y·s + i·d, k·B + w] += dA[(n, y, k), (c, i, w)]  (KH·2 strided adds)

with dOut[(n, y, k), (o, x)] = grad[n, o, y, k·B + x]. Conv2d uses strips where the copies they save
outweigh the multiply-adds they add (``strip_width``): LeNet's first convolution, not ResNet's 3×3 ones.
"""

from ..backend import as_strided, xp
from ..parallel import ordered_sum, run, shards
from .window import padded

#: One number copied by im2col (with the transposes around it) costs about as much time as this many
#: multiply-adds in the GEMM (float32, OpenBLAS, one core: ~0.4 ns per copied number, ~0.015 ns per
#: multiply-add on the build machine).
COPY_COST = 25

#: A strip's window should span at least this many numbers: shorter runs copy slowly (a 64-byte cache line
#: of float32 is 16 numbers).
MIN_RUN = 16

#: Images per shard: each shard's GEMM is (IMAGES·OH·OW/B, C·KH·W') @ (C·KH·W', O·B) on one core.
IMAGES = 16


def strip_width(channels, out_channels, kernel, out_w, stride_w, dilation_w, groups):
    """The strip width B for this convolution, or None where im2col does better.

    B divides OW, spans at least ``MIN_RUN`` input columns (or is the whole row) and covers the kernel's
    reach (B ≥ d·(KW - 1), so that backward's adds never overlap within one add). Per output pixel strips
    save COPY_COST·C·KH·(KW - W'/B) of copying and cost C·KH·O·(W' - KW) more multiply-adds.
    """
    kw = kernel[1]
    if groups != 1 or stride_w != 1 or kw == 1:
        return None
    reach = dilation_w * (kw - 1)
    for b in range(max(1, reach), out_w + 1):
        if out_w % b == 0 and (b + reach >= MIN_RUN or b == out_w):
            window = b + reach
            return b if COPY_COST * (kw - window / b) > out_channels * (window - kw) else None
    return None


def band(wb, strip, kw, dilation_w):
    """For each kernel column j, the view of wb (C, KH, W', O, B) at [c, i, x + j·d, o, x]: (C, KH, O, B)."""
    s_c, s_i, s_w, s_o, s_x = wb.strides
    c, kh, _, o, _ = wb.shape
    return [as_strided(wb[:, :, j * dilation_w :], (c, kh, o, strip), (s_c, s_i, s_o, s_w + s_x), writeable=True)
            for j in range(kw)]


def banded_weight(weight, strip, dilation_w):
    """Wb (C·KH·W', O·B) of the module docstring."""
    o, c, kh, kw = weight.shape
    wb = xp.zeros((c, kh, strip + dilation_w * (kw - 1), o, strip), dtype=weight.dtype)
    for j, diagonal in enumerate(band(wb, strip, kw, dilation_w)):
        diagonal[...] = weight[:, :, :, j].transpose(1, 2, 0)[..., None]
    return wb.reshape(-1, o * strip)


def strip_windows(x_pad, kh, out_hw, strip, window, stride_h, dilation_h):
    """A (n·OH·OW/B, C·KH·W') of the module docstring, from x_pad (n, C, Hp, Wp): one copy."""
    n, c = x_pad.shape[:2]
    s_n, s_c, s_h, s_w = x_pad.strides
    oh, ow = out_hw
    view = as_strided(x_pad, (n, oh, ow // strip, c, kh, window),
                      (s_n, s_h * stride_h, s_w * strip, s_c, s_h * dilation_h, s_w))
    return view.reshape(n * oh * (ow // strip), c * kh * window)


def forward(x, weight, bias, pads, stride, dilation, out_hw, strip):
    """The convolution of x (N, C, H, W) by strips of ``strip`` pixels, in shards of images on every core:
    (out, the shards' A, Wb)."""
    n = x.shape[0]
    o, _, kh, kw = weight.shape
    oh, ow = out_hw
    window = strip + dilation[1] * (kw - 1)
    wb = banded_weight(weight, strip, dilation[1])
    out = xp.empty((n, o, oh, ow), dtype=xp.result_type(x, weight))

    def shard(span):
        lo, hi = span
        a = strip_windows(padded(x[lo:hi], pads), kh, out_hw, strip, window, stride[0], dilation[0])
        strips = xp.matmul(a, wb).reshape(hi - lo, oh, ow // strip, o, strip).transpose(0, 3, 1, 2, 4)
        target = out[lo:hi].reshape(hi - lo, o, oh, ow // strip, strip)
        if bias is None:
            target[...] = strips
        else:  # the bias added while the strips are put in place: one pass over the output, not two
            xp.add(strips, bias.reshape(o, 1, 1, 1), out=target)
        return a

    return out, run(shard, shards(n, IMAGES)), wb


def backward(grad, weight, windows, wb, x_shape, pads, stride, dilation, needs):
    """(dx, dW, db) of the convolution by strips from the shards' A (``windows``) and Wb; ``needs`` says
    which gradients to compute."""
    need_x, need_w, need_b = needs
    n, c, h, w = x_shape
    o, _, kh, kw = weight.shape
    oh, ow = grad.shape[2:]
    strip = wb.shape[1] // o
    window, count = wb.shape[0] // (c * kh), ow // strip
    dx = xp.empty(x_shape, dtype=grad.dtype) if need_x else None

    def shard(task):
        (lo, hi), a = task
        m = hi - lo
        by_strip = grad[lo:hi].reshape(m, o, oh, count, strip).transpose(0, 2, 3, 1, 4)
        dout = xp.ascontiguousarray(by_strip).reshape(m * oh * count, o * strip)
        db = grad[lo:hi].sum(axis=(0, 2, 3)) if need_b else None
        dwb = xp.matmul(a.T, dout) if need_w else None
        if need_x:
            da = xp.matmul(dout, wb.T).reshape(m, oh, count, c, kh, window).transpose(0, 3, 1, 4, 2, 5)
            dx_pad = xp.zeros((m, c, h + pads[0] + pads[1], w + pads[2] + pads[3]), dtype=grad.dtype)
            _add_strips(dx_pad, da, strip, stride[0], dilation[0])
            dx[lo:hi] = dx_pad[:, :, pads[0] : pads[0] + h, pads[2] : pads[2] + w]
        return dwb, db

    parts = run(shard, list(zip(shards(n, IMAGES), windows)))
    dw = db = None
    if need_w:
        total = ordered_sum([p[0] for p in parts], wb.shape, grad.dtype).reshape(c, kh, window, o, strip)
        dw = xp.empty(weight.shape, dtype=weight.dtype)
        for j, diagonal in enumerate(band(total, strip, kw, dilation[1])):
            dw[:, :, :, j] = diagonal.sum(axis=-1).transpose(2, 0, 1)
    if need_b:
        db = ordered_sum([p[1] for p in parts], (o,), grad.dtype)
    return dx, dw, db


def _add_strips(dx_pad, da, strip, stride_h, dilation_h):
    """dx_pad[n, c, y·s + i·d, k·B + w] += da[n, c, y, i, k, w] (da: (m, C, OH, KH, OW/B, W')).

    The first B columns of the strips tile the row exactly; the last W' - B spill into the next strip's
    columns and go in a second add (B ≥ W' - B, so no add writes a pixel twice)."""
    m, c, oh, kh, count, window = da.shape
    s_n, s_c, s_h, s_w = dx_pad.strides
    for i in range(kh):
        rows = dx_pad[:, :, i * dilation_h :]
        head = as_strided(rows, (m, c, oh, count, strip), (s_n, s_c, s_h * stride_h, s_w * strip, s_w), writeable=True)
        head += da[:, :, :, i, :, :strip]
        tail = as_strided(rows[..., strip:], (m, c, oh, count, window - strip),
                          (s_n, s_c, s_h * stride_h, s_w * strip, s_w), writeable=True)
        tail += da[:, :, :, i, :, strip:]
