"""Recurrent networks through time: the vanilla RNN (tanh or ReLU), the GRU and the LSTM.

One Function, ``Recurrence``, runs one layer in one direction over a whole sequence. Its forward is the
textbook recurrence, and its backward is backpropagation through time (BPTT), both written out once here:

- the input projection x_t·W_ihᵀ + b_ih of every time step is one GEMM over all T·B positions, because it
  does not depend on the state;
- only the part that does, h_{t-1}·W_hhᵀ, runs inside the loop over time, one small GEMM per step, followed
  by the cell's gates computed in place;
- backward walks time in reverse carrying dh (and the LSTM's dc), stores each step's gradient of the
  pre-activations, and after the loop gets [dW_ih | db], dW_hh and dx from one GEMM each.

The cells, with torch's gate order (rows of W_ih and W_hh are the gates stacked in this order):

- RNN:  h_t = φ(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh),  φ = tanh or ReLU.
- GRU (r, z, n):  r = σ(x W_irᵀ + b_ir + h W_hrᵀ + b_hr)        reset gate
                  z = σ(x W_izᵀ + b_iz + h W_hzᵀ + b_hz)        update gate
                  n = tanh(x W_inᵀ + b_in + r ⊙ (h W_hnᵀ + b_hn))  candidate state
                  h_t = (1 − z) ⊙ n + z ⊙ h_{t-1}
- LSTM (i, f, g, o):  i, f, o = σ(...)  input, forget and output gates;  g = tanh(...)  candidate memory
                  c_t = f ⊙ c_{t-1} + i ⊙ g;   h_t = o ⊙ tanh(c_t)

The LSTM's memory cell is why it trains where the RNN does not: dc_{t-1} = dc_t ⊙ f, a product of gates the
network can hold near 1, where the RNN multiplies dh by W_hhᵀ·φ' at every step and the gradient vanishes
or explodes geometrically (the d2l chapter's argument; tests/test_rnn_learning.py measures it).
"""

from ..autograd.function import Function
from ..backend import xp
from ..parallel import on_every_core

GATES = {"rnn_tanh": 1, "rnn_relu": 1, "gru": 3, "lstm": 4}


class Recurrence(Function):
    """One recurrent layer, one direction, a whole sequence: (x, h0[, c0]) -> (output, h_n[, c_n]).

    x is time-major (T, B, input_size); h0 and c0 are (B, H) or None for zeros; W_ih is (G·H, input_size),
    W_hh is (G·H, H) with G = 1, 3 or 4 gates; biases (G·H,) or None. ``reverse=True`` reads the sequence
    from its last step to its first (the backward half of a bidirectional layer); output[t] is always the
    state at input position t.

    Sequences of different lengths (a PackedSequence) come padded, sorted longest first, with
    ``batch_sizes[t]`` = how many of them are still running at step t. Step t then updates only the first
    batch_sizes[t] sequences; the others keep their state, so h_n holds each sequence's state after its own
    last step, a reversed pass starts each sequence at its own end, and padded outputs are 0.

    Inside, every per-step array is feature-major, (features, B): the step's GEMM is W_hh (G·H, H) times the
    state (H, B), which OpenBLAS runs faster for a small batch than (B, H)·(H, G·H), each gate is a
    contiguous block of rows, and the states of all steps sit in one (T + 1, H, B) array whose slices are
    both h_{t-1} and h_t. The LSTM's rows are reordered to (i, f, o, g) so the three sigmoid gates form one
    block, and those rows of the weights are halved once, so that one tanh over the step's (4H, B) block
    gives tanh(x/2) there (σ(x) = ½ + ½·tanh(x/2)) and tanh(x) on g; the GRU halves its r and z rows the
    same way. Halving is exact in binary floating point, so the numbers are those of the textbook formulas.
    """

    @staticmethod
    @on_every_core  # a chain of small GEMMs, nothing sharded in between: BLAS on every core
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, mode="lstm", reverse=False, batch_sizes=None):
        T, B, _ = x.shape
        H = w_hh.shape[1]
        dtype = x.dtype
        lstm, gru = mode == "lstm", mode == "gru"
        rows, scale = _gate_layout(mode, H)
        wh = w_hh[rows] if rows is not None else w_hh.copy() if scale else w_hh
        # The input projection of all T steps in one GEMM, (G·H, T·B): column block t is step t. Except in
        # the GRU's candidate, whose h W_hnᵀ + b_hn is multiplied by r, both biases simply add, so they join
        # here once instead of T times, as one more column of W_ih against a column of ones under x.
        I = x.shape[2]
        bias = _joint_bias(mode, H, b_ih, b_hh, dtype)
        cols = I + (bias is not None)
        wi, x1 = xp.empty((w_ih.shape[0], cols), dtype=dtype), xp.empty((T * B, cols), dtype=dtype)
        wi[:, :I] = w_ih[rows] if rows is not None else w_ih
        x1.reshape(T, B, cols)[:, :, :I] = x
        if bias is not None:
            wi[:, I] = bias[rows] if rows is not None else bias
            x1[:, I] = 1
        if scale:  # halve the sigmoid gates' rows (of copies: the caller's weights stay as they are)
            wi[:scale] *= 0.5
            wh[:scale] *= 0.5
        xw = wi @ x1.T
        # hs[s] is the state entering step s (forward) or leaving it (reverse): step t reads hs[t] and writes
        # hs[t + 1], or reads hs[t + 1] and writes hs[t]; the same for the LSTM's memory cells cs.
        hs = xp.empty((T + 1, H, B), dtype=dtype)
        first = T if reverse else 0
        hs[first] = 0 if h0 is None else h0.T
        gates = cs = tanh_cs = hw_n = b_hn = None
        new = xp.zeros if batch_sizes is not None else xp.empty  # columns of padded steps: 0, never garbage
        if lstm:
            cs = xp.empty((T + 1, H, B), dtype=dtype)
            cs[first] = 0 if c0 is None else c0.T
            gates, tanh_cs, tmp = (new((T, 4 * H, B), dtype=dtype), new((T, H, B), dtype=dtype),
                                   xp.empty((H, B), dtype=dtype))
        elif gru:
            gates, hw_n, hw = (new((T, 3 * H, B), dtype=dtype), new((T, H, B), dtype=dtype),
                               xp.empty((3 * H, B), dtype=dtype))
            b_hn = b_hh[2 * H :, None] if b_hh is not None else None
        for t in _time_steps(T, reverse):
            k = B if batch_sizes is None else batch_sizes[t]  # the sequences still running at step t
            prev, nxt = (t + 1, t) if reverse else (t, t + 1)
            h_prev, h_new, x_t = hs[prev, :, :k], hs[nxt, :, :k], xw[:, t * B : t * B + k]
            if lstm:
                a = gates[t, :, :k]
                xp.matmul(wh, h_prev, out=a)
                a += x_t
                xp.tanh(a, out=a)  # tanh(x/2) on i, f, o (their rows were halved), tanh(x) on g
                sig = a[: 3 * H]
                sig *= 0.5
                sig += 0.5  # σ = ½ + ½·tanh(x/2)
                i, f, o, g = a[:H], a[H : 2 * H], a[2 * H : 3 * H], a[3 * H :]
                c_new, tc = cs[nxt, :, :k], tanh_cs[t, :, :k]
                xp.multiply(f, cs[prev, :, :k], out=c_new)
                c_new += xp.multiply(i, g, out=tmp[:, :k])  # c_t = f ⊙ c_{t-1} + i ⊙ g
                xp.tanh(c_new, out=tc)
                xp.multiply(o, tc, out=h_new)  # h_t = o ⊙ tanh(c_t)
            elif gru:
                a, hw_k = gates[t, :, :k], hw[:, :k]
                xp.matmul(wh, h_prev, out=hw_k)
                r_z, n = a[: 2 * H], a[2 * H :]
                xp.add(hw_k[: 2 * H], x_t[: 2 * H], out=r_z)
                xp.tanh(r_z, out=r_z)
                r_z *= 0.5
                r_z += 0.5
                hn_t = hw_n[t, :, :k]
                if b_hn is not None:
                    xp.add(hw_k[2 * H :], b_hn, out=hn_t)  # h W_hnᵀ + b_hn, kept for backward
                else:
                    hn_t[...] = hw_k[2 * H :]
                xp.multiply(r_z[:H], hn_t, out=n)
                n += x_t[2 * H :]
                xp.tanh(n, out=n)
                xp.subtract(h_prev, n, out=h_new)
                h_new *= r_z[H:]
                h_new += n  # (1 − z) ⊙ n + z ⊙ h_{t-1} = n + z ⊙ (h_{t-1} − n)
            else:
                xp.matmul(wh, h_prev, out=h_new)
                h_new += x_t
                if mode == "rnn_tanh":
                    xp.tanh(h_new, out=h_new)
                else:
                    xp.maximum(h_new, 0, out=h_new)
            if k < B:  # finished (or, reversed, not yet started) sequences keep their state
                hs[nxt, :, k:] = hs[prev, :, k:]
                if lstm:
                    cs[nxt, :, k:] = cs[prev, :, k:]
        last = 0 if reverse else T
        states = hs[:T] if reverse else hs[1:]  # output[t], feature-major
        out = xp.ascontiguousarray(states.transpose(0, 2, 1))
        if batch_sizes is not None:
            for t, k in enumerate(batch_sizes):
                out[t, k:] = 0
        ctx.mode, ctx.reverse, ctx.batch_sizes = mode, reverse, batch_sizes
        ctx.save(x1, w_ih, w_hh, gates, hs, cs, tanh_cs, hw_n)
        h_n = xp.ascontiguousarray(hs[last].T)
        return (out, h_n, xp.ascontiguousarray(cs[last].T)) if lstm else (out, h_n)

    @staticmethod
    @on_every_core
    def backward(ctx, grad_out, grad_hn, grad_cn=None):
        x1, w_ih, w_hh, gates, hs, cs, tanh_cs, hw_n = ctx.saved
        mode, reverse, batch_sizes = ctx.mode, ctx.reverse, ctx.batch_sizes
        T, H, B = hs.shape[0] - 1, hs.shape[1], hs.shape[2]
        G = GATES[mode]
        dtype = hs.dtype
        lstm, gru = mode == "lstm", mode == "gru"
        rows, _ = _gate_layout(mode, H)
        # dh_{t-1} = W_hhᵀ·da_t with W_hh's rows in the forward's order, unhalved (da is the gradient of the
        # textbook pre-activations). A transposed view: OpenBLAS reads it as fast as a copy, which costs more.
        wh_T = (w_hh[rows] if rows is not None else w_hh).T
        new = xp.zeros if batch_sizes is not None else xp.empty  # columns of finished sequences stay 0
        da = new((T, G * H, B), dtype=dtype)  # the gradient of each step's pre-activations
        da_hh = new((T, 3 * H, B), dtype=dtype) if gru else da  # the same, except in the GRU
        go = xp.ascontiguousarray(grad_out.transpose(0, 2, 1))  # (T, H, B)
        dh = xp.ascontiguousarray(grad_hn.T)  # a finished sequence is frozen: its dh passes through unchanged
        dc = tmp = tmp3 = None
        if lstm:
            dc = xp.ascontiguousarray(grad_cn.T) if grad_cn is not None else xp.zeros((H, B), dtype=dtype)
            dtanh_c = xp.multiply(tanh_cs, tanh_cs)
            xp.subtract(1, dtanh_c, out=dtanh_c)  # tanh' = 1 − tanh²
            tmp, tmp3 = xp.empty((H, B), dtype=dtype), xp.empty((3 * H, B), dtype=dtype)
        elif gru:
            tmp = xp.empty((H, B), dtype=dtype)
        for t in _time_steps(T, not reverse):
            k = B if batch_sizes is None else batch_sizes[t]
            prev, nxt = (t + 1, t) if reverse else (t, t + 1)
            d, dh_k = da[t, :, :k], dh[:, :k]
            dh_k += go[t, :, :k]
            if lstm:
                a, dc_k, tmp_k = gates[t, :, :k], dc[:, :k], tmp[:, :k]
                i, f, o, g = a[:H], a[H : 2 * H], a[2 * H : 3 * H], a[3 * H :]
                tc = tanh_cs[t, :, :k]
                xp.multiply(dh_k, o, out=tmp_k)
                tmp_k *= dtanh_c[t, :, :k]
                dc_k += tmp_k  # through h_t = o ⊙ tanh(c_t)
                xp.multiply(dc_k, g, out=d[:H])  # ∂c/∂i = g
                xp.multiply(dc_k, cs[prev, :, :k], out=d[H : 2 * H])  # ∂c/∂f = c_{t-1}
                xp.multiply(dh_k, tc, out=d[2 * H : 3 * H])  # ∂h/∂o = tanh(c_t)
                xp.multiply(dc_k, i, out=d[3 * H :])  # ∂c/∂g = i
                sig, sig_d = a[: 3 * H], tmp3[:, :k]
                xp.subtract(1, sig, out=sig_d)
                sig_d *= sig
                d[: 3 * H] *= sig_d  # σ' = σ(1 − σ)
                xp.multiply(g, g, out=tmp_k)
                xp.subtract(1, tmp_k, out=tmp_k)
                d[3 * H :] *= tmp_k  # tanh' = 1 − g²
                dc_k *= f  # dc_{t-1} = dc_t ⊙ f: the memory cell's gradient highway
                xp.matmul(wh_T, d, out=dh_k)
            elif gru:
                a, tmp_k = gates[t, :, :k], tmp[:, :k]
                r, z, n = a[:H], a[H : 2 * H], a[2 * H :]
                dr, dz, dn = d[:H], d[H : 2 * H], d[2 * H :]
                xp.multiply(n, n, out=dn)
                xp.subtract(1, dn, out=dn)
                dn *= dh_k
                xp.subtract(1, z, out=tmp_k)
                dn *= tmp_k  # through h_t = n + z ⊙ (h_{t-1} − n), then tanh'
                xp.multiply(dn, hw_n[t, :, :k], out=dr)
                dr *= r
                xp.subtract(1, r, out=tmp_k)
                dr *= tmp_k  # σ'(r)
                xp.subtract(hs[prev, :, :k], n, out=dz)
                dz *= dh_k
                dz *= z
                xp.subtract(1, z, out=tmp_k)
                dz *= tmp_k  # σ'(z)
                dhh = da_hh[t, :, :k]
                dhh[: 2 * H] = d[: 2 * H]
                xp.multiply(dn, r, out=dhh[2 * H :])
                dh_k *= z
                dh_k += xp.matmul(wh_T, dhh, out=tmp_k)
            else:
                h = hs[nxt, :, :k]
                if mode == "rnn_tanh":
                    xp.multiply(h, h, out=d)
                    xp.subtract(1, d, out=d)
                    d *= dh_k
                else:
                    xp.multiply(dh_k, h > 0, out=d)
                xp.matmul(wh_T, d, out=dh_k)
        needs = ctx.needs_input_grad
        # Every step's gradients side by side, (G·H, T·B), for the weight gradients' single GEMMs.
        da2 = xp.ascontiguousarray(da.transpose(1, 0, 2)).reshape(G * H, T * B)
        da_hh2 = da2 if not gru else xp.ascontiguousarray(da_hh.transpose(1, 0, 2)).reshape(3 * H, T * B)
        undo = _inverse(rows)
        dx = (da2.T @ (w_ih[rows] if rows is not None else w_ih)).reshape(T, B, -1) if needs[0] else None
        # [dW_ih | db] in one GEMM: the bias is W_ih's column against the ones in x1.
        I, joint_db = w_ih.shape[1], needs[5] or (needs[6] and not gru)
        dw_aug = da2 @ x1 if needs[3] or joint_db else None
        dw_ih = _rows(dw_aug[:, :I], undo) if needs[3] else None
        if needs[4]:
            h_prev = hs[1:] if reverse else hs[:T]  # the state each step read, (T, H, B)
            dw_hh = _rows(da_hh2 @ xp.ascontiguousarray(h_prev.transpose(1, 0, 2)).reshape(H, T * B).T, undo)
        else:
            dw_hh = None
        db = _rows(dw_aug[:, I], undo) if joint_db else None
        db_ih = db if needs[5] else None
        db_hh = None
        if needs[6]:
            db_hh = da_hh2.sum(axis=1) if gru else db.copy() if needs[5] else db  # two arrays, never one shared
        dh0 = xp.ascontiguousarray(dh.T) if needs[1] else None
        dc0 = xp.ascontiguousarray(dc.T) if needs[2] else None
        return dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh


def _gate_layout(mode, H):
    """(rows, halved): the order the forward stores W's rows in (None: torch's own), and how many leading
    rows (the sigmoid gates) it halves. The LSTM's (i, f, g, o) become (i, f, o, g); the GRU keeps (r, z, n)."""
    if mode == "lstm":
        return xp.concatenate([xp.arange(2 * H), xp.arange(3 * H, 4 * H), xp.arange(2 * H, 3 * H)]), 3 * H
    return None, 2 * H if mode == "gru" else 0


def _joint_bias(mode, H, b_ih, b_hh, dtype):
    """The bias added once to every step's input projection (a new array), or None: b_ih + b_hh, except
    the GRU's b_hn, which stays inside r ⊙ (h W_hnᵀ + b_hn)."""
    if b_ih is None and b_hh is None:
        return None
    bias = b_ih.astype(dtype, copy=True) if b_ih is not None else xp.zeros(b_hh.shape, dtype=dtype)
    if b_hh is not None:
        if mode == "gru":
            bias[: 2 * H] += b_hh[: 2 * H]
        else:
            bias += b_hh
    return bias


def _inverse(rows):
    return None if rows is None else xp.argsort(rows)


def _rows(a, order):
    """``a``'s rows back in torch's gate order (a new C-ordered array)."""
    return xp.ascontiguousarray(a) if order is None else a[order]


def _time_steps(T, reverse):
    return range(T - 1, -1, -1) if reverse else range(T)


def recurrence(x, h0, c0, w_ih, w_hh, b_ih, b_hh, mode, reverse=False, batch_sizes=None):
    """Run one layer in one direction over a time-major sequence; see ``Recurrence``."""
    if mode not in GATES:
        raise ValueError(f"recurrence: unknown mode {mode!r}; expected one of {sorted(GATES)}")
    if batch_sizes is not None:
        batch_sizes = tuple(int(k) for k in batch_sizes)
    return Recurrence.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, mode=mode, reverse=reverse, batch_sizes=batch_sizes)
