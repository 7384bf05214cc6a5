"""torch.nn.SyncBatchNorm: batch norm whose training statistics are those of the whole global batch, spread
over the processes of a process group (the maths, its collectives and its backward are in ember.ops.sync_norm).

Data-parallel training gives each process a slice of the batch; plain batch norm would then normalise with
each slice's own statistics, which are noisier the smaller the slice. SyncBatchNorm exchanges each channel's
(count, mean, M2) between the processes, so N processes on B/N samples each normalise exactly as one
process on all B samples would. It synchronises only when training inside an initialised process group of
more than one process; otherwise (one process, evaluation) it is plain batch norm.
"""

from .. import distributed as dist  # torch.distributed: is a process group running, and how large
from ..autograd import no_grad
from ..ops.norm import batch_norm
from ..ops.sync_norm import sync_batch_norm
from ..ops.validate import same_dtype, tensor_input
from .batchnorm import _BatchNorm
from .instancenorm import _InstanceNorm


class SyncBatchNorm(_BatchNorm):
    """Batch norm over (N, C, +) inputs with μ, σ² per channel C over the batch of every process in
    ``process_group`` (default: the whole world) while training."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 process_group=None, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device=device, dtype=dtype,
                         bias=bias)
        self.process_group = process_group

    def _check_input_dim(self, input):
        if input.ndim < 2:
            raise ValueError(f"expected at least 2D input (got {input.ndim}D input)")

    def _check_non_zero_input_channels(self, input):
        if input.shape[1] == 0:
            raise ValueError("SyncBatchNorm number of input channels should be non-zero")

    def forward(self, input):
        tensor_input(input, self)
        self._check_input_dim(input)
        self._check_non_zero_input_channels(input)
        same_dtype(input, self.weight if self.weight is not None else self.running_mean, self)
        momentum = self._count_batch()
        # Batch statistics normalise while training, and in evaluation when there are no running ones.
        bn_training = self.training or (self.running_mean is None and self.running_var is None)
        # The buffers go in only to be updated (training and tracking) or to normalise (evaluation).
        running_mean = self.running_mean if not self.training or self.track_running_stats else None
        running_var = self.running_var if not self.training or self.track_running_stats else None
        need_sync = bn_training and self.training and dist.is_initialized()
        if need_sync:
            process_group = self.process_group if self.process_group else dist.group.WORLD
            need_sync = dist.get_world_size(process_group) > 1
        if not need_sync:
            return batch_norm(input, running_mean, running_var, self.weight, self.bias, bn_training, momentum,
                              self.eps, layer=self)
        return sync_batch_norm(input, self.weight, self.bias, running_mean, running_var, self.eps, momentum,
                               process_group, layer=self)

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """Every BatchNorm1d/2d/3d layer inside ``module`` (InstanceNorm is left alone) replaced by a
        SyncBatchNorm sharing its parameters, running statistics and training mode; returns ``module``, or
        the new layer when ``module`` itself is a batch-norm layer. Convert before wrapping the model in
        DistributedDataParallel."""
        module_output = module
        if isinstance(module, _BatchNorm) and not isinstance(module, _InstanceNorm):
            module_output = SyncBatchNorm(module.num_features, module.eps, module.momentum, module.affine,
                                          module.track_running_stats, process_group, bias=module.bias is not None)
            if module.affine:
                with no_grad():  # the very same Parameters: an optimizer built on the old model still holds them
                    module_output.weight = module.weight
                    module_output.bias = module.bias
            module_output.running_mean = module.running_mean
            module_output.running_var = module.running_var
            module_output.num_batches_tracked = module.num_batches_tracked
            module_output.training = module.training
            if hasattr(module, "qconfig"):
                module_output.qconfig = module.qconfig
        for name, child in module.named_children():
            module_output.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        del module
        return module_output
