"""The softmax classifier on the notes' first image (seeds/002, CS231n lecture 3).

    python examples/softmax_loss.py

Scores 3.2 (the correct class: the note's 小鸡, CS231n's cat), 5.1 and −1.7. Exponentiate (24.5, 164.0,
0.18), normalise: the correct class gets 24.5 / (24.5 + 164.0 + 0.18) = 0.13. The loss is −log 0.13:
2.04 with the natural logarithm (what ``F.cross_entropy`` computes, and what training uses), 0.89 with
log base 10 (CS231n's slide). As the note says, the base only scales the loss by a constant.
"""

import math

import ember
import ember.nn.functional as F

SCORES = [3.2, 5.1, -1.7]
LABEL = 0


def softmax_example(scores=SCORES, label=LABEL):
    """(the exponentiated scores, the probabilities, the loss −ln p_y from cross_entropy)."""
    s = ember.tensor([scores], dtype=ember.float64)  # (1, C): one image
    unnormalised = s.exp()
    probabilities = F.softmax(s, dim=1)  # shifted by the max inside: no overflow for large scores
    loss = F.cross_entropy(s, ember.tensor([label]))
    return unnormalised[0].tolist(), probabilities[0].tolist(), loss.item()


def main():
    e, p, loss = softmax_example()
    print("exp(scores):   " + "  ".join(f"{v:.2f}" for v in e))
    print("probabilities: " + "  ".join(f"{v:.4f}" for v in p))
    print(f"p(correct) = {p[LABEL]:.2f}; loss = -ln p = {loss:.4f} (-log10 p = {loss / math.log(10):.2f})")


if __name__ == "__main__":
    main()
