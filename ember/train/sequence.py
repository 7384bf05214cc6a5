"""Recurrent models in the Trainer: the hidden state carried from one minibatch to the next.

d2l's ``train_ch8`` in two rules. With *sequential* minibatches (``SeqDataLoader(random_iter=False)``:
row i of minibatch k+1 continues row i of minibatch k) the state the model ends a minibatch with starts the
next one, *detached*: its values carry over, the gradient stops at the minibatch's first step (truncated
backpropagation through time, so memory and time stay bounded however long the text). With *random*
minibatches, which do not continue each other, every minibatch starts from zeros. Each epoch and each
evaluation starts from zeros too.

A recurrent model is called ``outputs, state = model(x, state)`` (``state=None`` means zeros), like
``CharLM`` and ``nn.LSTM``.
"""

from ..tensor import Tensor


def detach_state(state):
    """The state's values without their graph: a Tensor, or a tuple of them ((h, c) for an LSTM)."""
    if isinstance(state, Tensor):
        return state.detach()
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(s) for s in state)
    return state


class RecurrentState:
    """The state between the minibatches of one pass over a loader (see the module docstring)."""

    def __init__(self, loader):
        # A loader that does not say how it samples is taken as sequential, as SeqDataLoader's default.
        self.carry = not getattr(loader, "random_iter", False)
        self.state = None

    def __call__(self, model, x):
        """``model(x, state)``; remembers the new state and returns the outputs."""
        if not self.carry:
            self.state = None  # random minibatches do not continue each other: start from zeros
        elif self.state is not None:
            self.state = detach_state(self.state)  # keep the values, cut the graph: truncated BPTT
        outputs, self.state = model(x, self.state)
        return outputs
