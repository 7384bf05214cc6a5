"""3×3 stride-1 convolution by Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray, "Fast Algorithms for
Convolutional Neural Networks", 2015).

Each 2×2 block of outputs reads a 4×4 tile d of the padded input (tiles two pixels apart, overlapping by
two). In the transformed domain the 3×3 correlation of the tile with a filter g is an element-wise product:

    Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A

         ⎡1  0 -1  0⎤        ⎡ 1    0    0 ⎤
    Bᵀ = ⎢0  1  1  0⎥    G = ⎢1/2  1/2  1/2⎥    Aᵀ = ⎡1 1  1  0⎤
         ⎢0 -1  1  0⎥        ⎢1/2 -1/2  1/2⎥         ⎣0 1 -1 -1⎦
         ⎣0  1  0 -1⎦        ⎣ 0    0    1 ⎦

Summed over the input channels, each of the 16 positions ξ of a transformed tile is one matrix product
over every tile of the shard at once (P tiles, channels last):

    V[ξ] (P, C) = (Bᵀ d B)[ξ]      U[ξ] (C, O) = (G g Gᵀ)[ξ]      M[ξ] (P, O) = V[ξ] @ U[ξ]

16·P·C·O multiply-adds for 4·P outputs, where im2col's GEMM makes 9·C·O per output: 2.25 times fewer.
Both tile transforms are products with a fixed 16×16 (or 4×16) matrix, Bᵀ⊗Bᵀ and Aᵀ⊗Aᵀ, done as one GEMM
each over all tiles: a strided view gathers the tiles (one copy), the GEMM mixes their 16 numbers. Every
entry of B, A and G is 0, ±1 or ±1/2, so the transforms add no rounding beyond the additions themselves.

Backward: the input gradient is the same kind of convolution (the output gradient padded by 2 - p, the
kernel flipped and transposed); the weight gradient stays in the transformed domain, dU[ξ] = Σ V[ξ]ᵀ dM[ξ]
with dM = A dY Aᵀ (the adjoint of the output transform), summed over shards in order, then dW = Gᵀ dU G.
Conv2d (ember/ops/conv.py) takes this path for 3×3 stride-1 layers with many channels (``use_winograd``).
"""

from ..backend import as_strided, xp
from ..parallel import run, shards

_BT = ((1, 0, -1, 0), (0, 1, 1, 0), (0, -1, 1, 0), (0, 1, 0, -1))
_AT = ((1, 1, 1, 0), (0, 1, -1, -1))
_G = ((1.0, 0.0, 0.0), (0.5, 0.5, 0.5), (0.5, -0.5, 0.5), (0.0, 0.0, 1.0))

#: A shard holds about this many bytes of transformed input and products (at least one image).
SHARD_BYTES = 4 << 20


def _kron(rows, dtype):
    """rows ⊗ rows as an array of ``dtype``: entry (2-D index pairs flattened) = rows[k, i]·rows[l, j]."""
    a = xp.asarray(rows, dtype=dtype)
    return xp.einsum("ki,lj->klij", a, a).reshape(a.shape[0] ** 2, a.shape[1] ** 2)


def winograd_weight(weight):
    """U = G g Gᵀ for every (o, c) filter g of weight (O, C, 3, 3), as (16, C, O) with ξ = 4·row + column."""
    o, c = weight.shape[:2]
    u = _kron(_G, weight.dtype) @ weight.reshape(o * c, 9).T  # (16, O·C)
    return xp.ascontiguousarray(u.reshape(16, o, c).transpose(0, 2, 1))


def weight_from_domain(du):
    """The adjoint of ``winograd_weight``: dW[o, c] = Gᵀ dU[c, o] G for du (16, C, O) -> (O, C, 3, 3)."""
    _, c, o = du.shape
    dw = _kron(_G, du.dtype).T @ du.reshape(16, c * o)  # (9, C·O)
    return xp.ascontiguousarray(dw.reshape(3, 3, c, o).transpose(3, 2, 0, 1))


def tiles_of(out_hw):
    """Tile rows and columns covering an output of out_hw (the last ones may hang one pixel over)."""
    return (out_hw[0] + 1) // 2, (out_hw[1] + 1) // 2


def padded_tiles(x, pads, tiles):
    """x (m, C, H, W) inside a zero border, channels last: (m, 2·TH + 2, 2·TW + 2, C), ``pads`` (top, bottom,
    left, right) giving the top and left border; bottom and right get as many as the whole tiles need."""
    m, c, h, w = x.shape
    top, _, left, _ = pads
    hp, wp = 2 * tiles[0] + 2, 2 * tiles[1] + 2
    rows, cols = min(h, hp - top), min(w, wp - left)  # the input rows and columns some output reads
    d = xp.empty((m, hp, wp, c), dtype=x.dtype)
    # Only the border is zeroed: zeros() would write every number once more than the copy below does.
    d[:, :top] = 0
    d[:, top + rows :] = 0
    d[:, top : top + rows, :left] = 0
    d[:, top : top + rows, left + cols :] = 0
    d[:, top : top + rows, left : left + cols] = x[:, :, :rows, :cols].transpose(0, 2, 3, 1)
    return d


def input_transform(d, tiles):
    """V = Bᵀ d B for every 4×4 tile of d (m, Hp, Wp, C), tiles two pixels apart: (16, P, C), P = m·TH·TW."""
    m, _, _, c = d.shape
    th, tw = tiles
    s_m, s_h, s_w, s_c = d.strides
    tile_view = as_strided(d, (4, 4, m, th, tw, c), (s_h, s_w, s_m, 2 * s_h, 2 * s_w, s_c))
    return (_kron(_BT, d.dtype) @ tile_view.reshape(16, -1)).reshape(16, m * th * tw, c)


def output_transform(mt, m, tiles, out, bias=None):
    """Y = Aᵀ M A for every tile of mt (16, P, O), written into out (m, O, OH, OW), plus bias (O,) if given."""
    o = mt.shape[2]
    th, tw = tiles
    oh, ow = out.shape[2:]
    y = (_kron(_AT, mt.dtype) @ mt.reshape(16, -1)).reshape(2, 2, m, th, tw, o)
    y = y.transpose(2, 5, 3, 0, 4, 1).reshape(m, o, 2 * th, 2 * tw)[:, :, :oh, :ow]
    if bias is None:
        out[...] = y
    else:
        xp.add(y, bias.reshape(o, 1, 1), out=out)


def output_gradient(grad, tiles):
    """The adjoint of ``output_transform``: dM = A dY Aᵀ for grad (m, O, OH, OW) -> (16, P, O)."""
    m, o, oh, ow = grad.shape
    th, tw = tiles
    odd = oh % 2 or ow % 2  # the last tiles hang over by a row or column, whose gradient is zero
    dy = (xp.zeros if odd else xp.empty)((2, 2, m, th, tw, o), dtype=grad.dtype)
    for a in range(2):
        for b in range(2):
            part = grad[:, :, a::2, b::2]
            dy[a, b, :, : part.shape[2], : part.shape[3]] = part.transpose(0, 2, 3, 1)
    return (_kron(_AT, grad.dtype).T @ dy.reshape(4, -1)).reshape(16, m * th * tw, o)


def winograd_conv(x, u, pads, out, bias=None):
    """out (m, O, OH, OW) = the 3×3 stride-1 convolution of x (m, C, H, W), zero-padded by ``pads`` (top,
    bottom, left, right), with the transformed weight u (16, C, O) of ``winograd_weight``, plus bias."""
    tiles = tiles_of(out.shape[2:])
    v = input_transform(padded_tiles(x, pads, tiles), tiles)
    output_transform(xp.matmul(v, u), x.shape[0], tiles, out, bias)


def weight_gradient_part(x, grad, pads, tiles):
    """One shard's dU = Σ_tiles V[ξ]ᵀ @ dM[ξ] (16, C, O) for input x (m, C, H, W) and output gradient grad
    (m, O, OH, OW); ``weight_from_domain`` of the sum over shards is the weight's gradient."""
    v = input_transform(padded_tiles(x, pads, tiles), tiles)
    return xp.matmul(v.transpose(0, 2, 1), output_gradient(grad, tiles))


def images_per_shard(c, o, tiles, itemsize):
    """Images per shard: about SHARD_BYTES of transformed input V and products M (at least one image)."""
    return max(1, SHARD_BYTES // (16 * (c + o) * tiles[0] * tiles[1] * itemsize))


def flipped_weight(weight):
    """The weight of the convolution that is the input gradient: W'[c, o, i, j] = W[o, c, 2 - i, 2 - j]."""
    return weight[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)


def backward_part(x, grad, u_flip, pads, dx):
    """Conv2d's backward on one shard by Winograd: dx (m, C, H, W) written in place when given (the
    stride-1 convolution of grad, padded by 2 - p, with the flipped kernel: ``u_flip``); returns the
    shard's dU (16, C, O) when x is given (None otherwise)."""
    if dx is not None:
        winograd_conv(grad, u_flip, tuple(2 - p for p in pads), dx)
    if x is None:
        return None
    return weight_gradient_part(x, grad, pads, tiles_of(grad.shape[2:]))


def _in_order(parts, shape, dtype):
    """Σ parts added in shard order (the same bits on every run and thread count); zeros for none."""
    total = xp.zeros(shape, dtype=dtype) if not parts else parts[0]
    for part in parts[1:]:
        total = total + part
    return total


def conv2d_forward(ctx, x, weight, bias, pads, out_hw):
    """Conv2d's forward (ember/ops/conv.py) by Winograd, in shards of the batch on every core."""
    n, o = x.shape[0], weight.shape[0]
    out = xp.empty((n, o) + tuple(out_hw), dtype=xp.result_type(x, weight))
    u = winograd_weight(weight)

    def shard(span):
        a, b = span
        winograd_conv(x[a:b], u, pads, out[a:b], bias)

    run(shard, shards(n, images_per_shard(x.shape[1], o, tiles_of(out_hw), out.itemsize)))
    ctx.save(x if ctx.needs_input_grad[1] else None, weight)
    ctx.geometry = (x.shape, pads, None, "winograd")
    return out


def conv2d_backward(ctx, x, weight, grad):
    """Conv2d's backward by Winograd: dx as the convolution of grad with the flipped kernel, dW from the
    shards' Winograd-domain partial sums (added in shard order), db the plain sum."""
    x_shape, pads = ctx.geometry[:2]
    need_x, need_w, need_b = ctx.needs_input_grad[:3]
    n, c, o = x_shape[0], x_shape[1], weight.shape[0]
    dx = xp.empty(x_shape, dtype=grad.dtype) if need_x else None
    u_flip = winograd_weight(flipped_weight(weight)) if need_x else None

    def shard(span):
        a, b = span
        du = backward_part(x[a:b] if need_w else None, grad[a:b], u_flip, pads, dx[a:b] if need_x else None)
        return du, grad[a:b].sum(axis=(0, 2, 3)) if need_b else None

    parts = run(shard, shards(n, images_per_shard(c, o, tiles_of(grad.shape[2:]), grad.itemsize)))
    dw = weight_from_domain(_in_order([p[0] for p in parts], (16, c, o), grad.dtype)) if need_w else None
    db = _in_order([p[1] for p in parts], (o,), grad.dtype) if need_b else None
    return dx, dw, db
