"""Training: the Trainer (the one loop, for images and sequences), its guards, metrics, callbacks, logs and
checkpoints."""

from . import checkpoint
from .callbacks import Callback, EarlyStopping, ModelCheckpoint
from .guards import NonFiniteLossError
from .loggers import StepLog, TensorBoardLogger
from .metrics import Meter, accuracy, confusion_matrix, topk_correct
from .sequence import RecurrentState, detach_state
from .trainer import Trainer
