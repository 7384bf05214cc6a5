"""Knowledge distillation (Hinton, Vinyals & Dean, 2015, "Distilling the Knowledge in a Neural Network").

A small *student* learns from a large *teacher*'s softened predictions as well as from the labels. The
teacher's probabilities at a temperature T > 1 carry "dark knowledge": that a 7 looks more like a 1 than
like a 6, which a one-hot label cannot say. The loss is built from existing differentiable ops (log_softmax,
softmax, kl_div, cross_entropy), so its gradient comes from theirs.
"""

from ..ops.activation import log_softmax, softmax
from ..ops.loss import cross_entropy
from ..ops.loss_more import kl_div


def distillation_loss(student_logits, teacher_logits, target, T=4.0, alpha=0.9):
    """The distillation objective for a batch of logits (N, C) and integer class targets (N,)::

        L = alpha · T² · KL( softmax(t/T) ‖ softmax(s/T) ) + (1 − alpha) · CE(s, y)

    with s the student's logits, t the teacher's, KL averaged over the batch (``batchmean``: the true
    KL divergence per sample). T² keeps the soft term's gradient on the same scale as the hard term's when
    T changes: the gradient of the soft term with respect to s scales as 1/T² (Hinton et al., §2).

    The torch equivalent, term for term::

        alpha * T * T * F.kl_div(F.log_softmax(s / T, 1), F.softmax(t / T, 1), reduction="batchmean")
            + (1 - alpha) * F.cross_entropy(s, y)

    No gradient flows into the teacher: its logits are detached here (pass them computed under no_grad
    anyway, to save the teacher's graph). ``alpha=1`` learns from the teacher alone, ``alpha=0`` from the
    labels alone (plain cross-entropy).
    """
    if not (isinstance(T, (int, float)) and T > 0):
        raise ValueError(f"distillation_loss: the temperature T must be a positive number, got {T!r}; "
                         "Hinton et al. use T between 2 and 20 (4 is a common choice)")
    if not (isinstance(alpha, (int, float)) and 0 <= alpha <= 1):
        raise ValueError(f"distillation_loss: alpha is the weight of the teacher's term, a number in [0, 1], "
                         f"got {alpha!r}")
    if tuple(student_logits.shape) != tuple(teacher_logits.shape):
        raise ValueError(f"distillation_loss: the student's logits {tuple(student_logits.shape)} and the teacher's "
                         f"{tuple(teacher_logits.shape)} must have the same shape (the same batch and classes)")
    soft_targets = softmax(teacher_logits.detach() / T, 1)
    soft = kl_div(log_softmax(student_logits / T, 1), soft_targets, reduction="batchmean")
    hard = cross_entropy(student_logits, target)
    return soft * (alpha * T * T) + hard * (1 - alpha)
