"""DataParallel: torch's single-process multi-GPU wrapper, on one device.

torch splits each batch across GPUs, runs a replica of the module on each and gathers the outputs; with
no GPU (or one) it simply runs the module. Ember runs on one device, so the wrapper runs ``module`` on the
whole batch: the numbers are the same as torch's, and programs that wrap their model (d2l's multi-GPU
chapters fall back to ``[cpu]``) run unchanged. The wrapped module is ``.module``, so state_dict keys start
with ``module.`` exactly as torch's do.
"""

from ..module import Module


class DataParallel(Module):
    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DataParallel: expected an nn.Module to wrap, got {type(module).__name__}")
        self.module = module
        self.device_ids = list(device_ids) if device_ids is not None else []
        self.output_device = output_device
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)



def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0, module_kwargs=None):
    """torch.nn.parallel.data_parallel: DataParallel's forward as a function, ``module(*inputs, **module_kwargs)``.

    ``inputs`` is one input or a tuple of them, as in torch. With a GPU the module runs on the whole batch on
    that one device. With none, torch raises (it has no device to scatter to), and so does this.
    """
    from ... import cuda
    if not cuda.is_available():
        raise RuntimeError(
            "device type could not be determined: data_parallel needs a GPU; on the CPU call the module "
            "directly, module(*inputs)"
        )
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    return module(*inputs, **(module_kwargs or {}))
