"""Babysitting the learning process (CS231n): five checks to run before a long training.

Each check asks one question a learner should ask of a freshly built network, answers it with numbers, and
passes or fails:

1. ``initial-loss``   With small random weights every class is equally likely, so the softmax loss of the
                      first forward pass (regularisation off) is -ln(1/C) = ln C: 2.303 for ten classes.
2. ``regularization`` Adding the L2 penalty ½λ‖W‖² (λ large) must make the loss go up.
3. ``overfit``        With regularisation off, the network must reach 100 % training accuracy on a tiny subset
                      (20 examples): if it cannot memorise 20 images, it cannot learn 60,000.
4. ``gradcheck``      The backward pass agrees with centred differences, (L(θ + εv) - L(θ - εv)) / 2ε, in
                      float64, on every parameter tensor.
5. ``update-ratio``   After one optimizer step, ‖ΔW‖ / ‖W‖ of every weight is near 1e-3: much smaller and the
                      learning rate is too low, much larger and it is too high.

    from ember.tools.babysit import babysit
    report = babysit(model, images, labels, lambda params: optim.SGD(params, lr=0.01, momentum=0.9))
    print(report)              # one line per check: PASS / FAIL and its numbers
    report.passed              # True when every check passed
    report.failed              # the names of the failing checks

Every check leaves the model as it found it (weights, buffers, training mode): each starts from the same
initial network, as a learner running them one by one on a fresh model would.
"""

import contextlib
import copy
import math
from dataclasses import dataclass, field

from .. import backend
from ..backend import errstate
from ..autograd.grad_mode import no_grad
from ..backend import xp
from ..nn.functional import cross_entropy

CHECKS = ("initial-loss", "regularization", "overfit", "gradcheck", "update-ratio")


@dataclass
class Check:
    """One check's verdict: ``name`` (one of CHECKS), ``passed``, a one-line ``summary`` with the numbers,
    more lines in ``details`` (e.g. one per layer) and the raw numbers in ``values``."""

    name: str
    passed: bool
    summary: str
    details: list = field(default_factory=list)
    values: dict = field(default_factory=dict)

    def __str__(self):
        lines = [f"{'PASS' if self.passed else 'FAIL'}  {self.name:<15} {self.summary}"]
        return "\n".join(lines + [f"      {line}" for line in self.details])


@dataclass
class Report:
    """The checks in the order they ran; ``str(report)`` is the table the CLI prints."""

    checks: list

    @property
    def passed(self):
        return all(c.passed for c in self.checks)

    @property
    def failed(self):
        return [c.name for c in self.checks if not c.passed]

    def __getitem__(self, name):
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(f"no check named {name!r}; the checks are {', '.join(c.name for c in self.checks)}")

    def to_dict(self):
        return {"passed": self.passed, "failed": self.failed,
                "checks": [{"name": c.name, "passed": c.passed, "summary": c.summary, **c.values}
                           for c in self.checks]}

    def __str__(self):
        verdict = "all checks passed" if self.passed else f"FAILED: {', '.join(self.failed)}"
        return "\n".join([str(c) for c in self.checks] + [verdict])


def babysit(model, images, labels, make_optimizer, *, overfit_size=20, overfit_steps=200, reg_strength=1.0,
            loss_tolerance=0.25, ratio_band=(1e-4, 1e-2), gradcheck_size=2, gradcheck_threshold=1e-6):
    """Run the five checks on ``model`` with a batch of training ``images`` (N, C, H, W) and ``labels`` (N,).

    ``make_optimizer(params)`` builds a fresh optimizer (no weight decay: regularisation stays off) for the
    overfit and update-ratio checks. The first ``overfit_size`` examples are the subset to memorise and the
    first ``gradcheck_size`` the tiny float64 batch. Returns a Report.
    """
    if len(images) < max(overfit_size, gradcheck_size):
        raise ValueError(f"babysit: needs at least {max(overfit_size, gradcheck_size)} examples (overfit_size "
                         f"{overfit_size}), got {len(images)}; pass a larger batch")
    return Report([
        check_initial_loss(model, images, labels, loss_tolerance),
        check_regularization(model, images, labels, reg_strength),
        check_overfit(model, images[:overfit_size], labels[:overfit_size], make_optimizer, overfit_steps),
        check_gradients(model, images[:gradcheck_size], labels[:gradcheck_size], threshold=gradcheck_threshold),
        check_update_ratios(model, images, labels, make_optimizer, ratio_band),
    ])


# ---- the checks ---------------------------------------------------------------------------------------------


def check_initial_loss(model, images, labels, tolerance=0.25):
    """Cross-entropy of the untrained model against ln C, C = the number of classes (the logits' width).

    Passes when |loss - ln C| <= tolerance · ln C. The forward runs in training mode, as the first step
    of training sees it (batch statistics, dropout), and changes nothing.
    """
    with preserved(model), no_grad(), _quiet():
        logits = _logits(model(images))
        loss = float(cross_entropy(logits, labels).item())
    classes = logits.shape[-1]
    expected = math.log(classes)
    off = abs(loss - expected) / expected
    passed = math.isfinite(loss) and off <= tolerance
    summary = (f"loss {loss:.4f} vs ln({classes}) = {expected:.4f}: off by {off:.1%} "
               f"(allowed {tolerance:.0%})")
    if not passed:
        summary += "; the initial weights are too large (confident from the start) or the outputs are not logits"
    return Check("initial-loss", passed, summary, values=dict(loss=loss, expected=expected, relative_error=off))


def l2_penalty(model):
    """½ Σ ‖W‖² over the weights (trained parameters with two or more dimensions), as a Tensor.

    Biases and normalisation scales are left out, as in CS231n: they do not multiply inputs, so shrinking
    them buys no smoothness. Its gradient, W, is what SGD's ``weight_decay`` adds (times λ).
    """
    total = None
    for p in _weights(model).values():
        term = (p * p).sum()
        total = term if total is None else total + term
    if total is None:
        raise ValueError("l2_penalty: the model has no weights (no parameter with two or more dimensions)")
    return total * 0.5


def check_regularization(model, images, labels, strength=1.0):
    """The data loss, then data loss + λ · ½‖W‖²: the second must be larger (by more than 1 %).

    λ = 1 is 2,000 times the usual weight decay (5e-4): the penalty must show. A model whose weights are
    all zero has no penalty to add, and fails.
    """
    with preserved(model), no_grad(), _quiet():
        data_loss = float(cross_entropy(_logits(model(images)), labels).item())
        penalty = float(l2_penalty(model).item())
    total = data_loss + strength * penalty
    passed = math.isfinite(total) and total > data_loss * 1.01
    summary = f"loss {data_loss:.4f} -> {total:.4f} with ½λ‖W‖², λ = {strength:g}"
    if not passed:
        summary += " (the loss did not go up: are the weights all zero?)"
    return Check("regularization", passed, summary,
                 values=dict(data_loss=data_loss, regularized_loss=total, penalty=penalty, strength=strength))


def check_overfit(model, images, labels, make_optimizer, steps=200):
    """Train on ``images`` alone (the whole subset is one minibatch) for up to ``steps`` steps; passes when
    one step's forward pass classifies every example correctly (100 % training accuracy).

    The loop is the plain one: forward, loss, zero the gradients, backward, update. The accuracy at step k
    is that of the forward pass before the k-th update. A NaN or infinite loss (an exploding learning
    rate) fails the check at once.
    """
    n, best, memorised = len(images), 0.0, None
    with preserved(model), _quiet():
        optimizer = make_optimizer(model.parameters())
        for step in range(1, steps + 1):
            outputs = model(images)
            loss = training_loss(model, outputs, labels)
            value = float(loss.item())
            if not math.isfinite(value):
                summary = (f"{n} examples: the loss became NaN/inf ({value}) at step {step} (the learning "
                           "rate explodes: lower it)")
                return Check("overfit", False, summary, values=dict(examples=n, steps=step, diverged=True))
            predicted = _logits(outputs).array.argmax(axis=1)  # (n,)
            best = max(best, float((predicted == labels.array).mean()))
            if best == 1.0:
                memorised = step
                break
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    if memorised is not None:
        summary = f"{n} examples: 100 % training accuracy at step {memorised} (loss {value:.4f})"
    else:
        summary = (f"{n} examples: best training accuracy {best:.0%} in {steps} steps (last loss {value:.4f}); "
                   f"a network that cannot memorise {n} examples will not learn")
    return Check("overfit", memorised is not None, summary,
                 values=dict(examples=n, steps=memorised or steps, best_accuracy=best, loss=value, diverged=False))


def check_gradients(model, images, labels, eps=(1e-6, 1e-7, 1e-8), threshold=1e-6, directions=3, seed=0):
    """Compare backward with centred differences in float64 on every parameter tensor of a copy of ``model``.

    For a parameter θ and a random direction v (standard normal, θ's shape), backward gives a = g · v and
    the loss gives n = (L(θ + εv) - L(θ - εv)) / 2ε; the relative error is |a - n| / max(|a|, |n|) (0 when
    both are 0). A random direction sees every element at once: a wrong gradient anywhere in θ shows up.
    Passes when every tensor's error is below ``threshold``.

    Kinks. ReLU is not differentiable at 0, nor max-pooling at a tie: when ±εv carries one of the network's
    pre-activations across 0, that difference is off by a part of the unit's contribution. The more units,
    the likelier (ResNet-20 on two digits: errors near 1e-3 at ε = 1e-6, near 1e-8 at ε = 1e-8). A kink's
    error shrinks with ε and depends on the direction; a wrong gradient's does neither. So a tensor is
    measured at the step sizes ``eps`` in turn, along up to ``directions`` random directions, stopping at
    the first agreement, and keeps its smallest error: a wrong gradient fails all of them.

    Round-off. The differences cannot resolve less than about 10 · 2.2e-16 · |L| / ε (5e-9 for L = 2.3 and
    ε = 1e-6): where |a - n| is below it the two agree as far as can be measured, whatever the ratio. That
    matters for a gradient of exactly 0 (a bias in front of batch norm), which the differences see as
    ±1e-10: a relative error of 1 that means nothing. Such tensors pass and are listed as unmeasurable.
    """
    twin = copy.deepcopy(model).double()  # float64: the differences need its 16 digits, and ``model`` stays as it is
    x = images.double() if images.dtype != xp.float64 else images
    rng_state = backend.get_rng_state()  # the same dropout masks in every forward pass
    rng = xp.random.default_rng(seed)
    steps = (eps,) if isinstance(eps, (int, float)) else tuple(eps)

    def loss():
        backend.set_rng_state(rng_state)
        return training_loss(twin, twin(x), labels)

    with _quiet():
        twin.zero_grad()
        base = loss()
        base.backward()
        unit_roundoff = 10 * float(xp.finfo(xp.float64).eps) * max(1.0, abs(float(base.item())))
        errors, agree = {}, {}
        for name, p in twin.named_parameters():
            if not p.requires_grad:  # frozen (LeNet-5's fixed RBF codes): no gradient to check
                continue
            analytic_grad = p.grad.array if p.grad is not None else xp.zeros_like(p.array)
            errors[name], agree[name] = math.inf, False
            for _ in range(directions):
                error, within = _directional_error(loss, p, analytic_grad, rng.standard_normal(p.shape), steps,
                                                   threshold, unit_roundoff)
                errors[name] = min(errors[name], error)
                if error < threshold or within:
                    agree[name] = True
                    break
    backend.set_rng_state(rng_state)
    unmeasurable = [name for name in errors if agree[name] and not errors[name] < threshold]
    measured = [name for name in errors if name not in unmeasurable]
    worst = max(measured, key=lambda k: errors[k]) if measured else None
    passed = all(agree.values())
    summary = f"float64, {len(x)} examples, {len(errors)} parameter tensors: "
    summary += (f"worst relative error {errors[worst]:.1e} ({worst}), allowed {threshold:.0e}" if worst
                else "every gradient is 0 to within round-off")
    if unmeasurable:
        summary += f"; {len(unmeasurable)} with a gradient too small to measure"
    details = [f"{name:<30} {errors[name]:.1e}" for name in errors if not agree[name]]
    details += [f"{name:<30} {errors[name]:.1e}, but |a - n| is within round-off: too small to measure"
                for name in unmeasurable]
    return Check("gradcheck", passed, summary, details,
                 values=dict(errors=errors, worst=worst, unmeasurable=unmeasurable))


def _directional_error(loss, p, analytic_grad, v, steps, threshold, unit_roundoff):
    """(relative error, whether |a - n| is within round-off) of the derivative of ``loss`` along ``v``,
    trying the step sizes in turn until one agrees (check_gradients explains why)."""
    analytic = float((analytic_grad * v).sum())
    original = p.array.copy()
    best = (math.inf, False)
    for eps in steps:
        with no_grad():
            p.array[...] = original + eps * v
            plus = float(loss().item())
            p.array[...] = original - eps * v
            minus = float(loss().item())
            p.array[...] = original
        numeric = (plus - minus) / (2 * eps)
        error, within = _relative_error(analytic, numeric), abs(analytic - numeric) <= unit_roundoff / eps
        if error < best[0] or within:
            best = (min(error, best[0]), within or best[1])
        if error < threshold or within:
            break
    return best


def check_update_ratios(model, images, labels, make_optimizer, band=(1e-4, 1e-2)):
    """‖ΔW‖ / ‖W‖ of every weight after one optimizer step on ``images``; passes when all lie in ``band``.

    ΔW is what the optimizer really changed (momentum and Adam's scaling included), not lr · ∇W.
    CS231n's rule of thumb is about 1e-3. All-zero weights give an infinite ratio and fail.
    """
    with preserved(model), _quiet():
        weights = _weights(model)
        before = {name: p.array.copy() for name, p in weights.items()}
        optimizer = make_optimizer(model.parameters())
        optimizer.zero_grad()
        training_loss(model, model(images), labels).backward()
        optimizer.step()
        ratios = {}
        for name, p in weights.items():
            change, size = float(xp.linalg.norm(p.array - before[name])), float(xp.linalg.norm(before[name]))
            ratios[name] = change / size if size > 0 else (math.inf if change > 0 else math.nan)
    low, high = band
    outside = [name for name, r in ratios.items() if not low <= r <= high]  # NaN is outside too
    finite = [r for r in ratios.values() if math.isfinite(r)]
    spread = f"{min(finite):.1e} .. {max(finite):.1e}" if finite else "none finite"
    summary = (f"after one step: {spread} over {len(ratios)} weights, allowed [{low:.0e}, {high:.0e}]"
               + (f"; {len(outside)} outside" if outside else ""))
    details = [f"{name:<30} {r:.1e}{'' if name not in outside else _ratio_hint(r, low)}"
               for name, r in ratios.items()]
    return Check("update-ratio", not outside, summary, details, values=dict(ratios=ratios, band=list(band)))


# ---- broken networks, to see the checks fail ----------------------------------------------------------------


def kill_relus(model, bias=-10.0):
    """Set every bias to ``bias`` (-10): each ReLU after it receives a negative input and outputs 0 for
    every example, so no gradient flows through it (the 'dead ReLU' network). Returns the model."""
    biases = [p for name, p in model.named_parameters() if name.endswith("bias")]
    if not biases:
        raise ValueError("kill_relus: the model has no biases to push below zero")
    with no_grad():
        for p in biases:
            p.array[...] = bias
    return model


def zero_init(model):
    """Set every parameter to 0: every unit of a layer computes the same thing and gets the same gradient
    (here none at all behind the last layer), so the units never become different (the symmetry problem).
    Returns the model."""
    with no_grad():
        for p in model.parameters():
            p.array[...] = 0
    return model


BREAKS = {"dead-relu": kill_relus, "zero-init": zero_init}


# ---- helpers --------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def preserved(model):
    """Run a block, then put back every parameter, buffer and the training mode of ``model`` as they were;
    the block runs in training mode."""
    saved = {name: t.array.copy() for name, t in model.state_dict().items()}
    was_training = model.training
    model.train()
    try:
        yield model
    finally:
        model.load_state_dict(saved)
        model.zero_grad()
        model.train(was_training)


def _quiet():
    """No overflow/invalid warnings from the array library: a check reports a non-finite loss itself."""
    return errstate(over="ignore", invalid="ignore")


def _weights(model):
    """{name: parameter} of the trained parameters with two or more dimensions (matrices and kernels)."""
    return {name: p for name, p in model.named_parameters() if p.dim() >= 2 and p.requires_grad}


def training_loss(model, outputs, labels):
    """The loss training minimises, as ember's Trainer computes it: the model's own ``loss`` where it has one
    (GoogLeNet adds its auxiliary classifiers'), else the cross-entropy of the logits."""
    model_loss = getattr(model, "loss", None)
    if callable(model_loss):
        return model_loss(outputs, labels, cross_entropy)
    return cross_entropy(outputs, labels)


def _logits(outputs):
    """The main output of a model that also returns auxiliary ones (GoogLeNet in training mode)."""
    return outputs[0] if isinstance(outputs, tuple) else outputs


def _relative_error(a, b):
    if a == b:  # both 0 included: a unit that is dead stays dead under ±ε, exactly
        return 0.0
    if not (math.isfinite(a) and math.isfinite(b)):
        return math.inf
    return abs(a - b) / max(abs(a), abs(b))


def _ratio_hint(ratio, low):
    if math.isnan(ratio):
        return "  <- the weights are zero and did not move"
    if ratio < low:
        return "  <- too small: raise the learning rate (or this layer gets no gradient)"
    return "  <- too large: lower the learning rate"
