"""Copying a tensor to another device, differentiably (the device half of ``Tensor.to``)."""

from ..autograd.function import Function
from ..devices import move, of


class ToDevice(Function):
    """z = a, held on another device; dz/da = 1, so the gradient is copied back to a's device."""

    @staticmethod
    def forward(ctx, a, where):
        ctx.source = of(a)
        return move(a, where)

    @staticmethod
    def backward(ctx, grad):
        return move(grad, ctx.source), None


def to_device(x, where):
    """``x`` on the checked device ``where`` (see ember.device.placement), recorded for backward."""
    return ToDevice.apply(x, where)
