"""LeNet-5's per-layer table, as the d2l note (seeds/004) quotes it from LeCun et al. (1998), recomputed by
``ember.summary`` on Ember's faithful LeNet-5 (``lenet5_classic``: trainable subsampling, C3's partial
connection table, the RBF output layer).

    python examples/lenet_table.py

    layer  output      params  connections
    C1     6@28×28        156      122,304
    S2     6@14×14         12        5,880
    C3     16@10×10     1,516      151,600
    S4     16@5×5          32        2,000
    C5     120@1×1     48,120       48,120
    F6     84          10,164       10,164

A "connection" is one input wire of one unit (the bias counts as a wire from a constant 1): weight sharing
makes a convolution's connections far outnumber its parameters. The note writes 156,000 connections for
C3; the paper (Section II.B) says 151,600, which is what C3's connection table gives: 6 maps see 3 of
S2's maps, 9 see 4, 1 sees all 6, so 60 input maps of 25 weights and 16 biases = 1,516 parameters, each
used at 10×10 positions = 151,600 connections.
"""

import ember

NOTE = {  # the note's numbers: (params, connections); None where it gives none
    "c1": (156, 122304), "s2": (12, 5880), "c3": (1516, 156000), "s4": (32, 2000), "c5": (None, 48120),
    "f6": (10164, None),
}


def lenet_rows():
    """{layer: (output shape, trainable parameters, connections, MACs)} from ember.summary."""
    model = ember.models.create("lenet5_classic")
    rows = ember.summary(model, (1, 32, 32)).rows
    return {r.name: (r.output_shape[1:], r.trainable, r.connections, r.macs) for r in rows if r.name in NOTE}


def main():
    print(f"{'layer':<6}{'output':<16}{'params':>8}{'connections':>13}{'MACs':>10}   the note")
    for name, (shape, params, connections, macs) in lenet_rows().items():
        note = ", ".join(f"{w} {v:,}" for w, v in zip(("params", "connections"), NOTE[name]) if v is not None)
        print(f"{name.upper():<6}{str(list(shape)):<16}{params:>8,}{connections:>13,}{macs:>10,}   {note}")
    print("C3: the note's 156,000 connections is a slip for the paper's 151,600.")


if __name__ == "__main__":
    main()
