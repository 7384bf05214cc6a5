"""``parameters_to_vector`` / ``vector_to_parameters``: all parameters as one flat vector and back (torch's
``torch.nn.utils.convert_parameters``), for second-order methods, hypernetworks and parameter averaging."""

from ...ops.shape import cat
from ...tensor import Tensor


def parameters_to_vector(parameters):
    """One 1-D tensor of every parameter's values, in order (differentiable, as torch's)."""
    parameters = list(parameters)
    if not parameters:
        raise RuntimeError("parameters_to_vector: expected a non-empty iterable of parameters")
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Make each parameter's data the next slice of the 1-D ``vec`` (a view of it, as in torch)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    offset = 0
    array = vec.array
    for p in parameters:
        n = p.array.size
        if offset + n > array.size:
            raise RuntimeError(f"vector_to_parameters: the vector has {array.size} values, fewer than the parameters")
        # a view of vec, as torch (param.data = vec[...].view_as(param))
        p.array = array[offset:offset + n].reshape(p.array.shape).astype(p.array.dtype, copy=False)
        offset += n
