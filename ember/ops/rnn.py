"""Recurrent networks through time: the vanilla RNN (tanh or ReLU), the GRU and the LSTM.

One Function, ``Recurrence``, runs one layer in one direction over a whole sequence. Its forward is the
textbook recurrence, and its backward is backpropagation through time (BPTT), both written out once here:

- the input projection x_t·W_ihᵀ + b_ih of every time step is one GEMM over all T·B rows, because it does
  not depend on the state;
- only the part that does, h_{t-1}·W_hhᵀ, runs inside the loop over time, one small GEMM per step, followed
  by the cell's gates computed in place;
- backward walks time in reverse carrying dh (and the LSTM's dc), stores each step's gradient of the
  pre-activations, and after the loop gets dW_ih, dW_hh, dx and the biases from one GEMM (or sum) each.

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

GATES = {"rnn_tanh": 1, "rnn_relu": 1, "gru": 3, "lstm": 4}


class Recurrence(Function):
    """One recurrent layer, one direction, a whole sequence: (x, h0[, c0]) -> (output, h_n[, c_n]).

    x is time-major (T, B, input_size); h0 and c0 are (B, H) or None for zeros; W_ih is (G·H, input_size),
    W_hh is (G·H, H) with G = 1, 3 or 4 gates; biases (G·H,) or None. ``reverse=True`` reads the sequence
    from its last step to its first (the backward half of a bidirectional layer); output[t] is always the
    state at input position t.

    Sequences of different lengths (a PackedSequence) come padded, sorted longest first, with
    ``batch_sizes[t]`` = how many of them are still running at step t. Step t then updates only the first
    batch_sizes[t] rows; the others keep their state, so h_n holds each sequence's state after its own last
    step, a reversed pass starts each sequence at its own end, and padded outputs are 0.
    """

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, mode="lstm", reverse=False, batch_sizes=None):
        T, B, _ = x.shape
        H = w_hh.shape[1]
        dtype = x.dtype
        # The input projection of all T steps in one GEMM. Except in the GRU, whose candidate multiplies
        # h W_hnᵀ + b_hn by r, both biases simply add, so b_hh joins b_ih here once instead of T times.
        xw = (x.reshape(T * B, -1) @ w_ih.T).reshape(T, B, -1)
        if b_ih is not None:
            xw += b_ih
        if b_hh is not None and mode != "gru":
            xw += b_hh
        lstm = mode == "lstm"
        h = xp.zeros((B, H), dtype=dtype) if h0 is None else h0.copy()  # the running state, updated in place
        c = (xp.zeros((B, H), dtype=dtype) if c0 is None else c0.copy()) if lstm else None
        w_hhT = xp.ascontiguousarray(w_hh.T)  # OpenBLAS multiplies small matrices far faster by a C-ordered one
        new = xp.zeros if batch_sizes is not None else xp.empty  # padded steps must read as 0
        out, h_prev = new((T, B, H), dtype=dtype), xp.empty((T, B, H), dtype=dtype)
        gates = xw  # each step's pre-activations are overwritten by its gate values, saved for backward
        c_prev = tanh_cs = hw_n = None
        if lstm:
            c_prev, tanh_cs = xp.empty((T, B, H), dtype=dtype), new((T, B, H), dtype=dtype)
            scale, shift = _lstm_gate_constants(H, dtype)
        elif mode == "gru":
            hw_n = xp.empty((T, B, H), dtype=dtype)
        for t in _time_steps(T, reverse):
            k = B if batch_sizes is None else batch_sizes[t]  # the sequences still running at step t
            a, h_k, h_t = gates[t, :k], h[:k], out[t, :k]
            h_prev[t] = h
            if lstm:
                c_prev[t] = c
                a += h_k @ w_hhT
                # All four gates in one pass: σ(x) = ½ + ½·tanh(x/2) on i, f, o and tanh(x) on g — one
                # tanh over the (B, 4H) block instead of separate sigmoids (never overflows either way).
                a *= scale
                xp.tanh(a, out=a)
                a *= scale
                a += shift
                i, f, g, o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
                c_k = c[:k]
                c_k *= f
                c_k += i * g  # c_t = f ⊙ c_{t-1} + i ⊙ g
                xp.tanh(c_k, out=tanh_cs[t, :k])
                xp.multiply(o, tanh_cs[t, :k], out=h_t)  # h_t = o ⊙ tanh(c_t)
            elif mode == "gru":
                hw = h_k @ w_hhT
                if b_hh is not None:
                    hw += b_hh
                r_z = a[:, : 2 * H]
                r_z += hw[:, : 2 * H]
                _sigmoid_(r_z)
                hw_n[t, :k] = hw[:, 2 * H :]
                n = a[:, 2 * H :]
                n += r_z[:, :H] * hw[:, 2 * H :]
                xp.tanh(n, out=n)
                z = r_z[:, H:]
                xp.add(n, z * (h_k - n), out=h_t)  # (1 − z) ⊙ n + z ⊙ h_{t-1}
            else:
                a += h_k @ w_hhT
                if mode == "rnn_tanh":
                    xp.tanh(a, out=a)
                else:
                    xp.maximum(a, 0, out=a)
                h_t[...] = a
            h_k[...] = h_t
        ctx.mode, ctx.reverse, ctx.batch_sizes = mode, reverse, batch_sizes
        ctx.save(x, w_ih, w_hh, gates, out, h_prev, c_prev, tanh_cs, hw_n)
        return (out, h, c) if lstm else (out, h)

    @staticmethod
    def backward(ctx, grad_out, grad_hn, grad_cn=None):
        x, w_ih, w_hh, gates, out, h_prev, c_prev, tanh_cs, hw_n = ctx.saved
        mode, reverse, batch_sizes = ctx.mode, ctx.reverse, ctx.batch_sizes
        T, B, H = out.shape
        dtype = out.dtype
        new = xp.zeros if batch_sizes is not None else xp.empty  # rows of finished sequences stay 0
        da = new(gates.shape, dtype=dtype)  # the gradient of each step's pre-activations
        da_hh = new((T, B, 3 * H), dtype=dtype) if mode == "gru" else da  # the same, except in the GRU
        dh = grad_hn.copy()  # a finished sequence's state is frozen: its gradient passes through unchanged
        dc = None
        if mode == "lstm":
            dc = grad_cn.copy() if grad_cn is not None else xp.zeros((B, H), dtype=dtype)
            # The activations' derivatives for all steps at once: σ' = σ(1 − σ) on i, f, o and
            # tanh' = (1 − g)(1 + g) on g, i.e. (1 − a)(a + β) with β = 0 or 1 per gate.
            beta = 1 - 2 * _lstm_gate_constants(H, dtype)[1]  # 0 on i, f, o; 1 on g
            dact = (1 - gates) * (gates + beta)
            dtanh_c = 1 - tanh_cs * tanh_cs
        for t in _time_steps(T, not reverse):
            k = B if batch_sizes is None else batch_sizes[t]
            a, d, dh_k = gates[t, :k], da[t, :k], dh[:k]
            dh_k += grad_out[t, :k]
            if mode == "lstm":
                i, f, g, o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
                tc, dc_k = tanh_cs[t, :k], dc[:k]
                dc_k += dh_k * o * dtanh_c[t, :k]  # through h_t = o ⊙ tanh(c_t)
                xp.multiply(dc_k, g, out=d[:, :H])  # ∂c/∂i = g
                xp.multiply(dc_k, c_prev[t, :k], out=d[:, H : 2 * H])  # ∂c/∂f = c_{t-1}
                xp.multiply(dc_k, i, out=d[:, 2 * H : 3 * H])  # ∂c/∂g = i
                xp.multiply(dh_k, tc, out=d[:, 3 * H :])  # ∂h/∂o = tanh(c_t)
                d *= dact[t, :k]  # through σ' = σ(1 − σ) and tanh' = 1 − tanh²
                dc_k *= f  # dc_{t-1} = dc_t ⊙ f: the memory cell's gradient highway
                dh[:k] = d @ w_hh
            elif mode == "gru":
                r, z, n = a[:, :H], a[:, H : 2 * H], a[:, 2 * H :]
                dn = dh_k * (1 - z) * (1 - n * n)  # through h_t = n + z ⊙ (h_{t-1} − n), then tanh'
                d[:, 2 * H :] = dn
                dr = dn * hw_n[t, :k]
                d[:, :H] = dr * r * (1 - r)
                d[:, H : 2 * H] = dh_k * (h_prev[t, :k] - n) * z * (1 - z)
                dhh = da_hh[t, :k]
                dhh[:, : 2 * H] = d[:, : 2 * H]
                dhh[:, 2 * H :] = dn * r
                dh[:k] = dh_k * z + dhh @ w_hh
            else:
                h = out[t, :k]
                if mode == "rnn_tanh":
                    xp.multiply(dh_k, 1 - h * h, out=d)
                else:
                    xp.multiply(dh_k, h > 0, out=d)
                dh[:k] = d @ w_hh
        needs = ctx.needs_input_grad
        da2 = da.reshape(T * B, -1)
        dx = (da2 @ w_ih).reshape(x.shape) if needs[0] else None
        dw_ih = da2.T @ x.reshape(T * B, -1) if needs[3] else None
        dw_hh = da_hh.reshape(T * B, -1).T @ h_prev.reshape(T * B, H) if needs[4] else None
        db_ih = da2.sum(axis=0) if needs[5] else None
        db_hh = da_hh.reshape(T * B, -1).sum(axis=0) if needs[6] else None
        dh0 = dh if needs[1] else None
        dc0 = dc if needs[2] else None
        return dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh


def _sigmoid_(a):
    """σ(a) in place, as ½ + ½·tanh(a/2): four array operations, and no exponent that could overflow."""
    a *= 0.5
    xp.tanh(a, out=a)
    a *= 0.5
    a += 0.5
    return a


def _lstm_gate_constants(H, dtype):
    """Per-column scale and shift over the (i, f, g, o) gates: ½ and ½ on the sigmoid gates, 1 and 0 on g."""
    scale = xp.full(4 * H, 0.5, dtype=dtype)
    scale[2 * H : 3 * H] = 1
    shift = xp.full(4 * H, 0.5, dtype=dtype)
    shift[2 * H : 3 * H] = 0
    return scale, shift


def _time_steps(T, reverse):
    return range(T - 1, -1, -1) if reverse else range(T)


def recurrence(x, h0, c0, w_ih, w_hh, b_ih, b_hh, mode, reverse=False, batch_sizes=None):
    """Run one layer in one direction over a time-major sequence; see ``Recurrence``."""
    if mode not in GATES:
        raise ValueError(f"recurrence: unknown mode {mode!r}; expected one of {sorted(GATES)}")
    if batch_sizes is not None:
        batch_sizes = tuple(int(k) for k in batch_sizes)
    return Recurrence.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, mode=mode, reverse=reverse, batch_sizes=batch_sizes)
