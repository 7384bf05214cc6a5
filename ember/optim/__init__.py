"""Optimizers and learning-rate schedules, with ``torch.optim``'s names, arguments and numbers.

    opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = ember.optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
    for epoch in range(90):
        for x, y in loader:
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            ember.nn.utils.clip_grad_norm_(model.parameters(), 1.0)   # optional
            opt.step()
        sched.step()

Gradient clipping lives in ``ember.nn.utils`` (as in PyTorch); it is re-exported here for convenience.
"""

from ..nn.utils import clip_grad_norm_, clip_grad_value_
from . import lr_scheduler
from .adabound import AdaBound
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adamw import AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = [
    "Optimizer", "SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "AdaBound",
    "lr_scheduler", "clip_grad_norm_", "clip_grad_value_",
]
from .adamax import Adamax
from .asgd import ASGD
from .lbfgs import LBFGS
from .nadam import NAdam
from .radam import RAdam
from .rprop import Rprop

__all__ += ["Adamax", "ASGD", "LBFGS", "NAdam", "RAdam", "Rprop"]
