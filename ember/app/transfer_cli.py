"""The ``ember train`` flags for fine-tuning, distillation and the L1 penalty (the work is in transfer.py)."""

from .flags import type_for as F


def add_arguments(train):
    """Add the fine-tuning / distillation / regularisation flags to the ``ember train`` parser."""
    group = train.add_argument_group(
        "transfer learning, distillation, L1 (image models)",
        "fine-tune: ember train lenet5 --dataset mnist --init runs/lenet5-fashion-mnist/best.npz "
        "--head 'classifier.*' --head-lr 0.1; distil: ember train mlp --teacher runs/lenet5-mnist/best.npz "
        "(--temperature, shared with char-lm, is then the distillation temperature T, default 4)")
    group.add_argument("--init", default=None, metavar="FILE",
                       help="start from pretrained weights: an `ember train` checkpoint, an ember.save/torch.save "
                       "state_dict (.pt), or a .npz/.safetensors state_dict; tensors whose shape differs (the "
                       "classifier) stay freshly initialised, and are listed")
    group.add_argument("--freeze", action="append", default=None, metavar="PATTERN",
                       help="freeze the parameters whose names match this glob, e.g. 'features.*' (repeatable)")
    group.add_argument("--head", action="append", default=None, metavar="PATTERN",
                       help="the head's parameters for --head-lr (glob, repeatable; default: those --init did not "
                       "provide)")
    group.add_argument("--head-lr", type=F("head_lr"), default=None,
                       help="learning rate of the head; the rest learns at --lr")
    group.add_argument("--l1", type=F("l1"), default=None, metavar="LAMBDA",
                       help="add λ·Σ|w| over the weights (not biases) to the loss; with --weight-decay: elastic net")
    group.add_argument("--teacher", default=None, metavar="CHECKPOINT",
                       help="knowledge distillation from this `ember train` checkpoint (Hinton et al. 2015)")
    group.add_argument("--alpha", type=F("alpha"), default=None,
                       help="weight of the teacher's soft term in distillation (default 0.9)")
