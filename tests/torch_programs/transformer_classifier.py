"""A small Transformer encoder classifier in the style of the PyTorch tutorials: nn.Embedding, sinusoidal
positional encoding built with torch.arange/exp/sin/cos and register_buffer, nn.TransformerEncoder with a
key padding mask, LayerNorm, GELU, AdamW, clip_grad_norm_. Learns whether a sequence has more 1s than 2s."""
import math

import torch
import torch.nn as nn


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, dropout=0.1, max_len=64):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, 1, d_model)
        pe[:, 0, 0::2] = torch.sin(position * div_term)
        pe[:, 0, 1::2] = torch.cos(position * div_term)
        self.register_buffer('pe', pe)

    def forward(self, x):
        x = x + self.pe[:x.size(0)]
        return self.dropout(x)


class Classifier(nn.Module):
    def __init__(self, vocab=4, d_model=32, nhead=4, layers=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model, padding_idx=0)
        self.pos = PositionalEncoding(d_model, dropout=0.0)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=64, dropout=0.0, activation="gelu")
        self.encoder = nn.TransformerEncoder(layer, layers, norm=nn.LayerNorm(d_model), enable_nested_tensor=False)
        self.head = nn.Linear(d_model, 2)

    def forward(self, tokens, padding_mask):
        x = self.pos(self.embed(tokens.t()) * math.sqrt(self.embed.embedding_dim))   # (T, B, D)
        x = self.encoder(x, src_key_padding_mask=padding_mask)
        keep = (~padding_mask).t().unsqueeze(-1).float()
        return self.head((x * keep).sum(0) / keep.sum(0))


def batch(n, generator):
    lengths = torch.randint(4, 16, (n,), generator=generator)
    tokens = torch.randint(1, 3, (n, 16), generator=generator)
    mask = torch.arange(16).unsqueeze(0) >= lengths.unsqueeze(1)
    tokens = tokens.masked_fill(mask, 0)
    labels = ((tokens == 1).sum(1) > (tokens == 2).sum(1)).long()
    return tokens, mask, labels


torch.manual_seed(0)
g = torch.Generator().manual_seed(0)
model = Classifier()
opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
for step in range(150):
    tokens, mask, labels = batch(64, g)
    loss = nn.functional.cross_entropy(model(tokens, mask), labels)
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
model.eval()
with torch.no_grad():
    tokens, mask, labels = batch(512, g)
    acc = (model(tokens, mask).argmax(-1) == labels).float().mean().item()
print(f"loss {loss.item():.3f} accuracy {acc:.3f}")
assert acc > 0.8
