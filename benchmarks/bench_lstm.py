"""Ember vs PyTorch on a character language model's training step: one-hot input (vocabulary 28), an
LSTM with 256 hidden units over 35 time steps, batch 32, a linear decoder, cross-entropy, gradient clipping
at norm 1.0 and an SGD step — the d2l chapter's setting. Also the recurrent layers alone, forward+backward.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_lstm.py

Threads, turns and medians as in bench_core.py; the ratio is Ember time / torch time.
"""

import argparse

import numpy as np
import torch

import ember
import ember.nn as nn
import ember.nn.functional as F
from bench_core import match_threads, median_times

VOCAB, HIDDEN, STEPS, BATCH, CLIP, LR = 28, 256, 35, 32, 1.0, 1.0


class CharModel:
    """one_hot(x) -> recurrent layer -> Linear, for namespace ``m`` (ember.nn or torch.nn)."""

    def __init__(self, m, cell):
        self.rnn = getattr(m, cell)(VOCAB, HIDDEN)
        self.decoder = m.Linear(HIDDEN, VOCAB)

    def parameters(self):
        return list(self.rnn.parameters()) + list(self.decoder.parameters())


def train_step_case(cell, repeat):
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, VOCAB, (BATCH, STEPS + 1))
    x = np.eye(VOCAB, dtype=np.float32)[tokens[:, :-1].T]  # (T, B, V) one-hot, time-major
    y = tokens[:, 1:].T.reshape(-1)

    t_model, e_model = CharModel(torch.nn, cell), CharModel(nn, cell)
    for t_mod, e_mod in ((t_model.rnn, e_model.rnn), (t_model.decoder, e_model.decoder)):
        e_mod.load_state_dict({k: v.detach().numpy() for k, v in t_mod.state_dict().items()})
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    ex, ey = ember.from_numpy(x), ember.from_numpy(y)
    t_params, e_params = t_model.parameters(), e_model.parameters()

    def torch_step():
        for p in t_params:
            p.grad = None
        out = t_model.rnn(tx)[0]
        loss = torch.nn.functional.cross_entropy(t_model.decoder(out.reshape(-1, HIDDEN)), ty)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(t_params, CLIP)
        with torch.no_grad():
            for p in t_params:
                p -= LR * p.grad

    def ember_step():
        for p in e_params:
            p.grad = None
        out = e_model.rnn(ex)[0]
        loss = F.cross_entropy(e_model.decoder(out.reshape(-1, HIDDEN)), ey)
        loss.backward()
        nn.utils.clip_grad_norm_(e_params, CLIP)
        for p in e_params:
            p.array -= LR * p.grad.array

    return median_times([ember_step, torch_step], repeat)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=30, help="timed repetitions per case (median reported)")
    args = parser.parse_args()
    match_threads()
    print(f"{'case':<60} {'ember ms':>9} {'torch ms':>9} {'ratio':>6}")
    for cell in ("LSTM", "GRU", "RNN"):
        e, t = train_step_case(cell, args.repeat)
        name = f"char-LM train step, {cell} V{VOCAB} H{HIDDEN} T{STEPS} B{BATCH} clip {CLIP}"
        print(f"{name:<60} {e * 1e3:9.2f} {t * 1e3:9.2f} {e / t:6.2f}")


if __name__ == "__main__":
    main()
