"""Training: the Trainer, metrics, callbacks and checkpoints."""

from . import checkpoint
from .callbacks import Callback, EarlyStopping, ModelCheckpoint
from .metrics import Meter, accuracy, confusion_matrix, topk_correct
from .trainer import Trainer
