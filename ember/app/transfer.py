"""Transfer learning, knowledge distillation and the L1 penalty for ``ember train`` (CS231n lecture 7, d2l 14.2).

Fine-tuning (``--init FILE --freeze PATTERN --head-lr LR``):

1. *Initialise* the model from pretrained weights: an ``ember train`` checkpoint, a file of ``ember.save``
   or ``torch.save`` (a state_dict, read by Ember's restricted unpickler: tensors and containers only) or a
   plain ``.npz`` / ``.safetensors`` state_dict. Every tensor whose name and shape match is copied; one
   whose shape differs (the classifier, built for another number of classes) is skipped and keeps its
   fresh initialisation, and the skipped names are printed.
2. *Freeze* the parameters whose names match glob patterns (``features.*``): ``requires_grad`` becomes
   False and they are left out of the optimizer, so the pretrained body is a fixed feature extractor.
3. *Two learning rates* (torch parameter groups): the pretrained body learns at ``--lr`` (small: it is
   already good), the head at ``--head-lr`` (large: it starts from random). The head is what ``--head
   PATTERN`` names (those parameters are *not* taken from the file even where the shapes match: a new
   task gets a new classifier), or else every parameter the file did not provide.

Distillation (``--teacher CHECKPOINT --temperature T --alpha A``): the training objective becomes
``ember.nn.functional.distillation_loss`` of the student's logits and the teacher's (computed in
evaluation mode, without a graph). L1 (``--l1 LAMBDA``): λ·Σ|w| over the weights is added to the objective.
Validation and test report the plain cross-entropy either way, so runs with and without are comparable.
"""

import fnmatch
import os
import sys

from .. import backend
from ..autograd.grad_mode import no_grad
from ..nn.distillation import distillation_loss
from ..tensor import Tensor
from ..train import checkpoint
from .usage import UsageError


def _log(message):
    print(message, file=sys.stderr)


# ---- 1. reading pretrained weights --------------------------------------------------------------------------


def _as_array(value):
    return value.array if isinstance(value, Tensor) else backend.xp.asarray(value)


def _state_dict_in(obj, path):
    """The state_dict inside what a file held: the dict itself, or the one under 'model' / 'state_dict'
    (an ``ember train`` checkpoint, a common torch training checkpoint)."""
    if not isinstance(obj, dict):
        raise UsageError(f"--init {path} holds a {type(obj).__name__}, not a state_dict (a dict of tensors); save "
                         "model.state_dict() instead of the model")
    for key in ("model", "state_dict", "model_state_dict"):
        if isinstance(obj.get(key), dict):
            return _state_dict_in(obj[key], path)
    tensors = {k: _as_array(v) for k, v in obj.items() if isinstance(k, str) and hasattr(v, "shape")}
    if not tensors:
        raise UsageError(f"--init {path} holds no tensors (keys: {', '.join(map(str, list(obj)[:8]))})")
    return tensors


def read_weights(path):
    """The named arrays of a pretrained-weights file (see the module docstring for the formats)."""
    if not os.path.isfile(path):
        raise UsageError(f"--init: no file at {path}")
    ext = os.path.splitext(path)[1].lower()
    try:
        if ext == ".safetensors":
            from ..models.weights import read_state_dict

            return read_state_dict(path)
        if ext == ".npz":
            try:
                return _state_dict_in(checkpoint.load(path), path)  # an `ember train` checkpoint
            except checkpoint.CheckpointError as error:
                if "not an Ember checkpoint" not in str(error):
                    raise
            from ..models.weights import read_state_dict  # a plain numpy.savez of a state_dict

            return read_state_dict(path)
        from ..serialization import load

        return _state_dict_in(load(path), path)  # ember.save or torch.save (never runs code from the file)
    except UsageError:
        raise
    except Exception as error:  # noqa: BLE001 (a damaged or foreign file: one line naming it)
        raise UsageError(f"--init {path} could not be read: {' '.join(str(error).split())}") from error


def load_pretrained(model, weights, new=(), log=_log):
    """Copy every tensor of ``weights`` whose name and shape match ``model``'s, except the names in ``new``
    (the new head); returns the names loaded.

    A model tensor the file lacks, or has with another shape (a classifier for another number of classes),
    keeps its fresh initialisation; those names are printed. A file sharing no name with the model is an
    error (the wrong model, or a prefix such as ``module.`` from DataParallel).
    """
    own = model.state_dict()
    loaded = {k: v for k, v in weights.items()
              if k in own and k not in new and tuple(v.shape) == tuple(own[k].shape)}
    if not any(k in own for k in weights):
        raise UsageError(f"--init: none of the file's {len(weights)} tensors has a name of this model (file: "
                         f"{', '.join(list(weights)[:4])}...; model: {', '.join(list(own)[:4])}...); was it saved "
                         "from another architecture?")
    model.load_state_dict(loaded, strict=False)
    reshaped = [f"{k} {tuple(weights[k].shape)} -> {tuple(own[k].shape)}" for k in own
                if k in weights and k not in loaded and k not in new]
    named = [k for k in own if k in new]
    absent = [k for k in own if k not in weights]
    log(f"--init: loaded {len(loaded)} of the model's {len(own)} tensors")
    if reshaped:
        log("--init: kept freshly initialised (the file's shape differs): " + ", ".join(reshaped))
    if absent:
        log("--init: kept freshly initialised (not in the file): " + ", ".join(absent))
    if named:
        log("--init: kept freshly initialised (--head): " + ", ".join(named))
    return set(loaded)


# ---- 2. freezing and 3. parameter groups ----------------------------------------------------------------


def _matching(names, patterns, flag):
    chosen = set()
    for pattern in patterns:
        hits = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
        if not hits:
            raise UsageError(f"{flag} {pattern} matches no parameter; the model's are named like "
                             f"{', '.join(names[:6])}... (glob patterns: features.*, *.bias)")
        chosen.update(hits)
    return chosen


def freeze(model, patterns):
    """Set ``requires_grad=False`` on the parameters whose names match any glob pattern; returns their names."""
    params = dict(model.named_parameters())
    frozen = _matching(list(params), patterns, "--freeze")
    if len(frozen) == len(params):
        raise UsageError(f"--freeze {' '.join(patterns)} freezes every parameter: nothing would learn")
    for name in frozen:
        params[name].requires_grad_(False)
    return frozen


def head_names(model, head_patterns, loaded):
    """The head's parameter names: those ``--head`` patterns match, else those not loaded from ``--init``.
    (The patterns also match the head's buffers, e.g. a batch norm's running statistics, for ``--init``.)"""
    names = [n for n, _ in model.named_parameters()]
    if head_patterns:
        return _matching(names, head_patterns, "--head")
    if loaded is None:
        raise UsageError("--head-lr needs to know which parameters are the head: give --init (the head is what the "
                         "file does not provide) or --head PATTERN")
    head = {n for n in names if n not in loaded}
    if not head:
        raise UsageError("--head-lr: --init provided every parameter (the same number of classes?), so there is no "
                         "new head; name it with --head PATTERN, e.g. --head 'classifier.*'")
    return head


def parameter_groups(model, lr, head=None, head_lr=None):
    """The optimizer's parameter groups over the trainable parameters: one at ``lr``, or the body at ``lr``
    and the head at ``head_lr``. Returns (groups, learning rates), one rate per group."""
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    if head_lr is None:
        return [{"params": [p for _, p in trainable]}], [lr]
    body = [p for n, p in trainable if n not in head]
    top = [p for n, p in trainable if n in head]
    if not top:
        raise UsageError("--head-lr: every parameter of the head is frozen; drop the --freeze pattern that matches it")
    if not body:
        return [{"params": top, "lr": head_lr}], [head_lr]
    return [{"params": body, "lr": lr}, {"params": top, "lr": head_lr}], [lr, head_lr]


def _listed(value):
    return [value] if isinstance(value, str) else list(value or [])


def prepare(model, config, resumed_config=None):
    """What ``ember train`` does with --init, --freeze, --head and --head-lr before building the optimizer:
    returns (parameter groups, one learning rate per group, the head's names or None).

    On a resume (``resumed_config``: the checkpoint's config) the weights come from the checkpoint, so
    --init is not read again, and the head is the one saved there (``head_params``), so the groups match
    the optimizer state being restored.
    """
    head_patterns = _listed(config.get("head"))
    loaded = None  # the names --init provided
    if config.get("init") and resumed_config is None:
        if head_patterns:
            head_names(model, head_patterns, None)  # a pattern that matches nothing is refused here
        new = {k for k in model.state_dict() if any(fnmatch.fnmatchcase(k, p) for p in head_patterns)}
        loaded = load_pretrained(model, read_weights(config["init"]), new)
    if config.get("freeze"):
        freeze(model, _listed(config["freeze"]))
    head = None
    if config.get("head_lr") is not None:
        saved = (resumed_config or {}).get("head_params")
        head = set(saved) if saved else head_names(model, head_patterns, loaded)
    groups, lrs = parameter_groups(model, config["lr"], head, config.get("head_lr"))
    return groups, lrs, head


# ---- the training objective: distillation and the L1 penalty ------------------------------------------------


def l1_term(model, lam):
    """λ·Σ|w| over the trainable *weights*: parameters with two or more dimensions (linear and convolution
    kernels). Biases and normalisation scales/shifts are left out, as weight decay conventionally leaves
    them: shrinking them to zero buys no sparsity of connections. Its gradient is λ·sign(w)."""
    total = None
    for p in model.parameters():
        if p.requires_grad and p.ndim >= 2:
            term = p.abs().sum()
            total = term if total is None else total + term
    if total is None:
        raise UsageError("--l1: the model has no trainable weights (parameters of two or more dimensions)")
    return total * lam


def load_teacher(path, load_model, classes, channels, size, dataset):
    """The teacher network from an ``ember train`` checkpoint, in evaluation mode and without gradients."""
    teacher, config, _ = load_model(path)
    if teacher is None:
        raise UsageError(f"--teacher {path} is a char-lm checkpoint; a teacher must be an image classifier")
    got = (config["num_classes"], config["in_channels"], config["input_size"])
    if got != (classes, channels, size):
        raise UsageError(f"--teacher {path} was trained for {got[0]} classes of {got[1]}x{got[2]}x{got[2]} images; "
                         f"this run has {classes} classes of {channels}x{size}x{size}")
    if config.get("dataset") != dataset:
        raise UsageError(f"--teacher {path} was trained on {config.get('dataset')}, this run is on {dataset}: the "
                         "inputs are standardised differently; train the teacher on the same dataset")
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    return teacher, config["model"]


def objective(model, loss_fn, teacher=None, temperature=4.0, alpha=0.9, l1=None):
    """The training objective ``(x, outputs, targets) -> loss`` for the Trainer's ``train_loss``, or None
    when it is the plain loss (no teacher, no L1)."""
    if teacher is None and not l1:
        return None

    def loss(x, outputs, targets):
        if teacher is None:
            own = getattr(model, "loss", None)
            value = own(outputs, targets, loss_fn) if callable(own) else loss_fn(outputs, targets)
        else:
            with no_grad():  # the teacher only answers; no graph, no gradient
                teacher_logits = teacher(x)
            value = distillation_loss(outputs, teacher_logits, targets, T=temperature, alpha=alpha)
        return value + l1_term(model, l1) if l1 else value

    return loss
