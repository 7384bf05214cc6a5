"""Counting a convolution's parameters and its work, the notes' two estimates (seeds/001, 000), with
``ember.summary`` doing the counting ("评估卷积的参数量是必须掌握的").

    python examples/conv_counts.py

1. A 32×32×3 image, 100 filters of 5×5 (stride 1, no padding). Each filter spans the input's depth, so it
   has 5·5·3 = 75 weights and one bias: 100 filters have 7,500 weights + 100 biases = 7,600 parameters,
   whatever the image size — the note's 5*5*3*1*100. Without weight sharing every one of the 28×28×100
   output units would have its own 75 weights: (5·5·3)·(28·28)·100 = 5,880,000, the note's second number,
   which is also the layer's multiply-accumulates (each output value is one 75-long dot product).
2. Why GoogLeNet puts 1×1 convolutions before its 5×5 ones (seeds/001 "巧妙地利用1*1的卷积核"; Andrew Ng's
   numbers): 28×28×192 → 32 channels with a 5×5 convolution ('same' padding) costs
   28·28·32 · 5·5·192 = 120.4 M MACs. First reducing to 16 channels with a 1×1 convolution costs
   28·28·16 · 192 = 2.4 M, then the 5×5 on 16 channels 28·28·32 · 5·5·16 = 10.0 M: 12.4 M in all, about a
   tenth, for the same output shape.
"""

import ember
from ember import nn


def conv_params():
    """(weights, biases, MACs) of Conv2d(3, 100, 5) on a 32×32×3 image, from ember.summary."""
    layer = nn.Conv2d(3, 100, kernel_size=5)
    row = ember.summary(nn.Sequential(layer), (3, 32, 32)).rows[0]
    weights, biases = layer.weight.numel(), layer.bias.numel()
    assert row.trainable == weights + biases
    return weights, biases, row.macs, row.output_shape


def bottleneck_macs():
    """(MACs of the direct 5×5, MACs of 1×1-then-5×5, and the bottleneck's per-layer MACs) on 28×28×192."""
    direct = nn.Sequential(nn.Conv2d(192, 32, 5, padding=2))
    reduced = nn.Sequential(nn.Conv2d(192, 16, 1), nn.Conv2d(16, 32, 5, padding=2))
    a = ember.summary(direct, (192, 28, 28))
    b = ember.summary(reduced, (192, 28, 28))
    assert a.rows[-1].output_shape == b.rows[-1].output_shape == (1, 32, 28, 28)
    return sum(r.macs for r in a.rows), sum(r.macs for r in b.rows), [r.macs for r in b.rows]


def main():
    weights, biases, macs, shape = conv_params()
    print(f"32x32x3 image, 100 filters of 5x5: output {list(shape[1:])}, {weights:,} weights + {biases} biases "
          f"= {weights + biases:,} parameters; without sharing {macs:,} weights (= the layer's MACs)")
    direct, reduced, parts = bottleneck_macs()
    print(f"28x28x192 -> 32 channels, 5x5: {direct / 1e6:.1f} M MACs; 1x1 to 16 first: "
          f"{parts[0] / 1e6:.1f} M + {parts[1] / 1e6:.1f} M = {reduced / 1e6:.1f} M ({reduced / direct:.1%})")


if __name__ == "__main__":
    main()
