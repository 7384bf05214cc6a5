"""The multiclass SVM (hinge) loss on the notes' three-image example (seeds/002, CS231n lecture 3).

    python examples/svm_loss.py

Scores of a linear classifier for three images, one column per class (CS231n's cat, car and frog; the
note calls the first image 小鸡). Each row's correct class is on the diagonal:

                cat    car    frog
    image 1     3.2    5.1    -1.7     (a cat)
    image 2     1.3    4.9     2.0     (a car)
    image 3     2.2    2.5    -3.1     (a frog)

L_i = Σ_{j≠y_i} max(0, s_j − s_{y_i} + 1): 2.9, 0 and 12.9, mean 5.27.

The note's L3 is an arithmetic slip. It writes max(0, 2.2 − (−3.1) + 1) + max(0, 2.5 − (−3.1) + 1) =
5.3 + 5.6 = 10.9, but 2.2 + 3.1 + 1 = 6.3 and 2.5 + 3.1 + 1 = 6.6, so L3 = 12.9; the mean over the
three images is (2.9 + 0 + 12.9) / 3 = 5.27 (CS231n's figure), not (2.9 + 0 + 10.9) / 3 = 4.6.

Ember computes it with ``F.multi_margin_loss``, torch's hinge loss, which divides each L_i by the number of
classes C; multiplying by C gives the notes' sum back.
"""

import ember
import ember.nn.functional as F

SCORES = [[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]]
LABELS = [0, 1, 2]
CLASSES = ("cat", "car", "frog")


def svm_losses(scores=SCORES, labels=LABELS, margin=1.0):
    """(per-image losses L_i, their mean, the margins max(0, s_j − s_y + 1) with the correct class at 0)."""
    s = ember.tensor(scores, dtype=ember.float64)
    y = ember.tensor(labels)
    classes = s.shape[1]
    per_image = F.multi_margin_loss(s, y, margin=margin, reduction="none") * classes  # torch divides by C
    correct = s.gather(1, y.reshape(-1, 1))  # (N, 1): s_{y_i}
    margins = (s - correct + margin).clamp(min=0)
    margins = margins * (1 - F.one_hot(y, classes))  # j = y_i is not a mistake
    return [round(v, 10) for v in per_image.tolist()], round(per_image.mean().item(), 10), margins.tolist()


def main():
    losses, mean, margins = svm_losses()
    print("margins max(0, s_j - s_y + 1), correct class shown as 0:")
    for i, row in enumerate(margins):
        print(f"  image {i + 1} ({CLASSES[LABELS[i]]}): " + "  ".join(f"{c} {m:4.1f}" for c, m in zip(CLASSES, row)))
    print("L_i = " + ", ".join(f"{v:.1f}" for v in losses) + f"; mean {mean:.2f}")
    print("The note's 10.9 for image 3 is a slip: 2.2 - (-3.1) + 1 = 6.3, 2.5 - (-3.1) + 1 = 6.6.")


if __name__ == "__main__":
    main()
