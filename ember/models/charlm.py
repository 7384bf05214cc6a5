"""A character-level language model (d2l ch. 8–9): tokens -> one-hot or embedding -> RNN/GRU/LSTM -> Linear.

At every position the model reads a character and predicts the next one: the decoder turns the recurrent
state h_t into scores over the vocabulary, and training minimises the cross-entropy of the true next
character, whose exponential is the perplexity (1 for a perfect model, |V| for a uniform guess).

    model = CharLM(vocab_size=len(vocab), hidden_size=256, cell="lstm")
    logits, state = model(X)               # X (batch, steps) int64 -> logits (batch, steps, vocab)
    text = model.generate(vocab["d"] ..., 100, temperature=0.8)

``bidirectional=True`` builds a tagger (each position sees the whole sequence) — useful for labelling
tasks, but it cannot predict the next character, since it has already read it; ``generate`` refuses it.
"""

from .. import nn
from ..autograd.grad_mode import no_grad
from ..backend import host, to_host, xp
from ..nn import functional as F
from ..tensor import Tensor

CELLS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


class CharLM(nn.Module):
    """Embedding (``embedding_dim``) or one-hot (``embedding_dim=None``) input, a deep recurrent layer
    (``cell`` in rnn/gru/lstm, ``num_layers``, ``dropout`` between layers), and a linear decoder."""

    def __init__(self, vocab_size, hidden_size=256, num_layers=1, cell="lstm", embedding_dim=None, dropout=0.0,
                 bidirectional=False):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"CharLM: unknown cell '{cell}'; choose one of {', '.join(CELLS)}")
        self.vocab_size, self.cell, self.embedding_dim = vocab_size, cell, embedding_dim
        if embedding_dim:
            self.embedding = nn.Embedding(vocab_size, embedding_dim)
        else:
            self.add_module("embedding", None)
        self.rnn = CELLS[cell](embedding_dim or vocab_size, hidden_size, num_layers=num_layers, dropout=dropout,
                               bidirectional=bidirectional, batch_first=True)
        self.decoder = nn.Linear(hidden_size * (2 if bidirectional else 1), vocab_size)

    def forward(self, tokens, state=None):
        """tokens (batch, steps) int64 -> (logits (batch, steps, vocab), final state)."""
        if tokens.ndim != 2:
            raise ValueError(f"CharLM: expected token indices of shape (batch, steps), got {tuple(tokens.shape)}")
        if self.embedding is not None:
            x = self.embedding(tokens)
        else:
            x = F.one_hot(tokens, self.vocab_size).float()
        out, state = self.rnn(x, state)
        return self.decoder(out), state

    def loss(self, logits, targets, loss_fn=F.cross_entropy):
        """Mean cross-entropy of every next character: logits (B, T, V) against targets (B, T)."""
        return loss_fn(logits.reshape(-1, self.vocab_size), targets.reshape(-1))

    def generate(self, prompt, num_tokens, temperature=1.0, generator=None):
        """Continue ``prompt`` (a list of token indices) by ``num_tokens`` sampled tokens; returns all indices.

        The prompt warms up the state (d2l's "warm-up period"); then each step samples the next token from
        softmax(logits / temperature): below 1 sharpens towards the likeliest character, above 1 flattens,
        and ``temperature=0`` always takes the likeliest (greedy decoding).
        """
        if self.rnn.bidirectional:
            raise ValueError("CharLM.generate: a bidirectional model reads the future and cannot generate text; "
                             "train it with bidirectional=False")
        if not prompt:
            raise ValueError("CharLM.generate: the prompt must hold at least one token")
        rng = generator if generator is not None else host.random.default_rng()
        was_training = self.training
        self.eval()
        tokens = [int(t) for t in prompt]
        with no_grad():
            logits, state = self(Tensor(xp.asarray([tokens], dtype=xp.int64)))
            for _ in range(num_tokens):
                scores = to_host(logits.array[0, -1]).astype(host.float64)  # sampled on the host
                tokens.append(_sample(scores, temperature, rng))
                logits, state = self(Tensor(xp.asarray([[tokens[-1]]], dtype=xp.int64)), state)
        self.train(was_training)
        return tokens


def _sample(scores, temperature, rng):
    if temperature <= 0:
        return int(host.argmax(scores))
    z = scores / temperature
    p = host.exp(z - z.max())
    return int(rng.choice(len(p), p=p / p.sum()))
