"""The one optimizer and scheduler table behind ``--optimizer`` and ``--scheduler``, for every model
(the image models and the character language model alike)."""

from .. import optim
from .usage import UsageError

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta", "adabound")
SCHEDULERS = ("none", "onecycle", "cosine", "step", "exponential", "inverse-time", "plateau")


def make_optimizer(name, params, lr, momentum, weight_decay):
    """The optimizer ``name`` over ``params``; SGD uses Nesterov momentum when ``momentum > 0``."""
    if name not in OPTIMIZERS:
        raise UsageError(f"unknown optimizer '{name}'; choose one of: {', '.join(OPTIMIZERS)}")
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=momentum, nesterov=momentum > 0, weight_decay=weight_decay)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    cls = {"adam": optim.Adam, "adamw": optim.AdamW, "adagrad": optim.Adagrad, "adadelta": optim.Adadelta,
           "adabound": optim.AdaBound}[name]
    return cls(params, lr=lr, weight_decay=weight_decay)


def make_scheduler(name, optimizer, lr, epochs, steps_per_epoch):
    """The schedule ``name`` (None for 'none'). The Trainer steps each by what it is: OneCycle per batch,
    ReduceLROnPlateau with the validation loss, the others per epoch."""
    if name not in SCHEDULERS:
        raise UsageError(f"unknown scheduler '{name}'; choose one of: {', '.join(SCHEDULERS)}")
    S = optim.lr_scheduler
    if name == "none":
        return None
    if name == "onecycle":
        # Momentum cycles inversely to the lr where there is one (betas[0] for Adam); Adagrad and Adadelta
        # have none, and SGD with --momentum 0 asked for none.
        defaults = optimizer.defaults
        cycle = "betas" in defaults or defaults.get("momentum", 0) > 0
        return S.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * steps_per_epoch, cycle_momentum=cycle)
    if name == "cosine":
        return S.CosineAnnealingLR(optimizer, T_max=epochs)
    if name == "step":
        return S.StepLR(optimizer, step_size=max(1, epochs // 3), gamma=0.1)
    if name == "exponential":
        return S.ExponentialLR(optimizer, gamma=0.9)
    if name == "inverse-time":
        return S.InverseTimeLR(optimizer, decay_rate=0.5)
    return S.ReduceLROnPlateau(optimizer, mode="min", factor=0.1, patience=2)
