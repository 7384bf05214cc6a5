"""d2l chapter 9 (RNNs), on a synthetic corpus: the from-scratch RNN (parameters from torch.normal-style
initialisation, F.one_hot, torch.cat/stack, gradient clipping by hand with p.grad[:] *= ...), then the
concise nn.RNN/nn.GRU/nn.LSTM versions with flatten_parameters, perplexity printed per epoch."""
import math

import torch
from torch import nn
from torch.nn import functional as F

torch.manual_seed(0)
text = "the time machine by h g wells " * 40
vocab = sorted(set(text))
idx = {c: i for i, c in enumerate(vocab)}
corpus = torch.tensor([idx[c] for c in text])
num_steps, batch_size = 10, 8


def batches():
    n = (len(corpus) - 1) // (batch_size * num_steps) * (batch_size * num_steps)
    X = corpus[:n].reshape(batch_size, -1)
    Y = corpus[1:n + 1].reshape(batch_size, -1)
    for i in range(0, X.shape[1], num_steps):
        yield X[:, i:i + num_steps], Y[:, i:i + num_steps]


class RNNScratch(nn.Module):
    def __init__(self, num_inputs, num_hiddens, sigma=0.01):
        super().__init__()
        self.num_hiddens = num_hiddens
        self.W_xh = nn.Parameter(torch.randn(num_inputs, num_hiddens) * sigma)
        self.W_hh = nn.Parameter(torch.randn(num_hiddens, num_hiddens) * sigma)
        self.b_h = nn.Parameter(torch.zeros(num_hiddens))

    def forward(self, inputs, state=None):
        if state is None:
            state = torch.zeros((inputs.shape[1], self.num_hiddens), device=inputs.device)
        else:
            state, = state
        outputs = []
        for X in inputs:
            state = torch.tanh(torch.matmul(X, self.W_xh) + torch.matmul(state, self.W_hh) + self.b_h)
            outputs.append(state)
        return outputs, state


class RNNLMScratch(nn.Module):
    def __init__(self, rnn, vocab_size):
        super().__init__()
        self.rnn, self.vocab_size = rnn, vocab_size
        self.W_hq = nn.Parameter(torch.randn(rnn.num_hiddens, vocab_size) * 0.01)
        self.b_q = nn.Parameter(torch.zeros(vocab_size))

    def one_hot(self, X):
        return F.one_hot(X.T, self.vocab_size).type(torch.float32)

    def output_layer(self, rnn_outputs):
        outputs = [torch.matmul(H, self.W_hq) + self.b_q for H in rnn_outputs]
        return torch.stack(outputs, 1)

    def forward(self, X, state=None):
        embs = self.one_hot(X)
        rnn_outputs, _ = self.rnn(embs, state)
        return self.output_layer(rnn_outputs)


class RNNLM(nn.Module):
    def __init__(self, rnn, vocab_size):
        super().__init__()
        self.rnn, self.vocab_size = rnn, vocab_size
        self.linear = nn.LazyLinear(vocab_size)

    def forward(self, X, state=None):
        embs = F.one_hot(X.T, self.vocab_size).type(torch.float32)
        rnn_outputs, _ = self.rnn(embs, state)
        return self.linear(rnn_outputs).swapaxes(0, 1)


def clip_gradients(model, grad_clip_val):
    params = [p for p in model.parameters() if p.requires_grad]
    norm = torch.sqrt(sum(torch.sum((p.grad ** 2)) for p in params))
    if norm > grad_clip_val:
        for param in params:
            param.grad[:] *= grad_clip_val / norm


def train(model, lr, epochs):
    optimizer = torch.optim.SGD(model.parameters(), lr)
    for epoch in range(epochs):
        total, count = 0.0, 0
        for X, Y in batches():
            Y_hat = model(X)
            loss = F.cross_entropy(Y_hat.reshape((-1, Y_hat.shape[-1])), Y.reshape((-1,)), reduction='mean')
            optimizer.zero_grad()
            loss.backward()
            with torch.no_grad():
                clip_gradients(model, 1)
            optimizer.step()
            total += loss.item() * Y.numel()
            count += Y.numel()
        print(f"epoch {epoch + 1} perplexity {math.exp(total / count):.2f}")
    return math.exp(total / count)


scratch = RNNLMScratch(RNNScratch(len(vocab), 32), len(vocab))
ppl = train(scratch, 1, 15)
for name, rnn in [("rnn", nn.RNN(len(vocab), 32)), ("gru", nn.GRU(len(vocab), 32)), ("lstm", nn.LSTM(len(vocab), 32))]:
    rnn.flatten_parameters()
    concise = RNNLM(rnn, len(vocab))
    print(name, "final perplexity", round(train(concise, 1, 8), 2))
print("scratch final perplexity", round(ppl, 2))
assert ppl < 8
