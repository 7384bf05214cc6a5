"""DistributedDataParallel: every process trains a copy of the model on its own share of the data, and the
copies stay equal because they average their gradients before each step.

With N processes each on a batch of B samples and the loss a mean over the batch, the average of the N
gradients is the gradient of the mean loss over all N·B samples — exactly what one process would get on
the whole batch. So N processes take the same steps as one, each doing 1/N of the work:

    model = DistributedDataParallel(model)   # rank 0's weights (and buffers) are broadcast to every rank
    loss = loss_fn(model(x), y)              # x: this rank's share of the batch
    loss.backward()                          # gradients averaged over the ranks during backward
    optimizer.step()                         # the same step on every rank

How the averaging works (as torch's reducer): the parameters are put in *buckets* of about
``bucket_cap_mb`` megabytes (the first one 1 MB), in reverse order of ``parameters()``, which is roughly
the order backward produces their gradients. When the last gradient of a bucket has been accumulated
(a post-accumulate hook), the bucket's gradients are copied into one flat buffer and its all-reduce is
started; backward goes on meanwhile, and at the end of the backward pass (a queued callback) every
bucket is waited for, divided by N, and copied back into ``.grad``. One all-reduce per bucket instead of
one per parameter: each collective has a fixed cost, and LeNet-5's ten parameters fit in one bucket.
Buckets are always started in the same order on every rank, because MPI pairs collectives by order.

``broadcast_buffers=True`` (the default) copies rank 0's buffers (BatchNorm's running statistics) to every
rank before each forward, so that evaluation gives the same answer everywhere; ``nn.SyncBatchNorm`` goes
further and normalises with the statistics of the whole global batch. ``no_sync()`` skips the averaging
(gradient accumulation over several backward passes, averaged on the last). ``state_dict`` keys start
with ``module.``, as in torch; save ``model.module`` to load the weights without the wrapper.
"""

import contextlib

from ... import distributed as dist
from ...autograd.grad_mode import no_grad
from ...autograd.hooks import queue_callback
from ...backend import is_device_array, xp
from ...tensor import Tensor
from ..module import Module

_FIRST_BUCKET_BYTES = 1024 * 1024  # torch's dist._DEFAULT_FIRST_BUCKET_BYTES: start communicating early


class _Bucket:
    """Parameters whose gradients are averaged together in one flat buffer."""

    def __init__(self, params):
        self.params = params
        self.sizes = [p.array.size for p in params]
        self.offsets = [sum(self.sizes[:i]) for i in range(len(params))]
        self.buffer = xp.empty(sum(self.sizes), dtype=params[0].array.dtype)
        self.ready = 0  # gradients accumulated in this backward pass
        self.request = None  # the all-reduce in flight
        self.launched = False

    def launch(self, comm, group, fill_missing):
        """Copy the gradients into the buffer and start its all-reduce."""
        for p, start, n in zip(self.params, self.offsets, self.sizes):
            if p.grad is not None:
                self.buffer[start : start + n] = p.grad.array.reshape(-1)
            elif fill_missing:  # a parameter this rank did not use: it contributes zeros
                self.buffer[start : start + n] = 0
            else:
                raise RuntimeError(_unused_message(p))
        if is_device_array(self.buffer):  # GPU: NCCL (or the host) reduces it now
            group.all_reduce_array(self.buffer)
        else:
            self.request = comm.start_all_reduce(self.buffer)
        self.launched = True

    def finish(self, comm, world_size):
        """Wait for the all-reduce and hand each parameter its averaged gradient."""
        if self.request is not None:
            comm.wait(self.request, "DistributedDataParallel's gradient all_reduce")
            self.request = None
        self.buffer /= world_size
        for p, start, n in zip(self.params, self.offsets, self.sizes):
            averaged = self.buffer[start : start + n].reshape(p.array.shape)
            if p.grad is None:
                p.grad = Tensor(averaged.copy())
            else:
                p.grad.array[...] = averaged
        self.ready, self.launched = 0, False


def _unused_message(param):
    return (
        f"DistributedDataParallel: a parameter of shape {tuple(param.shape)} received no gradient in this backward "
        "pass, so its bucket cannot be averaged (its loss did not use it). If some parameters are left unused on "
        "purpose, pass find_unused_parameters=True to DistributedDataParallel"
    )


class DistributedDataParallel(Module):
    """torch.nn.parallel.DistributedDataParallel (see the module docstring)."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True, init_sync=True,
                 process_group=None, bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, delay_all_reduce_named_params=None,
                 param_to_hook_all_reduce=None, mixed_precision=None, device_mesh=None):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: expected an nn.Module to wrap, got {type(module).__name__}")
        group = dist.group.WORLD if process_group is None else process_group
        if group is None:
            dist.get_world_size()  # torch's ValueError: the default process group has not been initialized
        if group.comm is None:
            raise ValueError(f"DistributedDataParallel: this process (rank {dist.get_rank()}) is not a member of "
                             f"process_group (ranks {group.ranks})")
        params = list(dict.fromkeys(p for p in module.parameters() if p.requires_grad))
        if not params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter "
                               "that requires a gradient.")
        on_gpu = any(is_device_array(p.array) for p in params)
        if (device_ids or output_device is not None) and not on_gpu:
            raise ValueError(
                "DistributedDataParallel device_ids and output_device arguments only work with single-device/"
                f"multiple-device GPU modules or CPU modules, but got device_ids {device_ids}, output_device "
                "None, and module parameters {device(type='cpu')}. On the CPU leave device_ids out"
            )
        if bucket_cap_mb is not None and not bucket_cap_mb > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be positive, got {bucket_cap_mb}")
        self.module = module
        self.process_group, self.dim = group, dim
        self.device_ids, self.output_device = device_ids, output_device
        self.broadcast_buffers, self.find_unused_parameters = broadcast_buffers, find_unused_parameters
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)
        self.require_backward_grad_sync = True  # False inside no_sync()
        self.require_forward_param_sync = True
        self.gradient_as_bucket_view, self.static_graph = gradient_as_bucket_view, static_graph
        self._buckets, self._next, self._pending = [], 0, False
        self._handles = []
        if group.size() > 1:
            _check_same_model(group, params)
            if init_sync:
                self._broadcast([*params, *self._buffers_to_sync()])
            self._buckets = _make_buckets(params, self.bucket_bytes_cap)
            self._bucket_of = {id(p): b for b in self._buckets for p in b.params}
            self._handles = [p.register_post_accumulate_grad_hook(self._grad_ready) for p in params]

    # ---- forward: the same buffers everywhere ------------------------------------------------------------------

    def forward(self, *inputs, **kwargs):
        if self._pending:  # a backward pass started averaging and never finished (an exception in it)
            self._reset()
        if self.broadcast_buffers and self.require_forward_param_sync:
            self._sync_buffers()
        return self.module(*inputs, **kwargs)

    def _sync_buffers(self):
        """Rank 0's buffers on every rank (a collective: every rank calls it at the same point)."""
        if self._buckets:
            self._broadcast(self._buffers_to_sync())

    def _buffers_to_sync(self):
        return [b for b in self.module.buffers() if b is not None]

    def _broadcast(self, tensors):
        """Rank 0's values of ``tensors`` on every rank: one broadcast per dtype of all of them, flattened."""
        by_dtype = {}
        for t in tensors:
            by_dtype.setdefault(t.array.dtype, []).append(t)
        for dtype, group in by_dtype.items():
            flat = Tensor(xp.concatenate([t.array.reshape(-1) for t in group]))
            dist.broadcast(flat, src=self.process_group.ranks[0], group=self.process_group)
            start = 0
            for t in group:
                t.array[...] = flat.array[start : start + t.array.size].reshape(t.array.shape)
                start += t.array.size

    # ---- backward: bucketed, ordered all-reduce ------------------------------------------------------------------

    def _grad_ready(self, param):
        if not self.require_backward_grad_sync:
            return
        if not self._pending:
            self._pending = True
            queue_callback(self._finish_backward)
        bucket = self._bucket_of[id(param)]
        bucket.ready += 1
        # Start every bucket that is complete, in bucket order (each rank must start them in the same order).
        while self._next < len(self._buckets) and self._buckets[self._next].ready == len(self._buckets[self._next].params):
            self._buckets[self._next].launch(self.process_group.comm, self.process_group, self.find_unused_parameters)
            self._next += 1
        for b in self._buckets[: self._next]:  # let MPI move the buckets in flight along
            if b.request is not None:
                b.request.Test()

    def _finish_backward(self):
        comm, size = self.process_group.comm, self.process_group.size()
        try:
            for bucket in self._buckets[self._next :]:  # buckets with parameters that got no gradient
                bucket.launch(comm, self.process_group, self.find_unused_parameters)
            with no_grad():
                for bucket in self._buckets:
                    bucket.finish(comm, size)
        finally:
            self._reset()

    def _reset(self):
        for bucket in self._buckets:
            bucket.ready, bucket.launched = 0, False
        self._next, self._pending = 0, False

    @contextlib.contextmanager
    def no_sync(self):
        """Backward passes in this block keep their gradients local (accumulated in ``.grad``, not averaged);
        the first backward after it averages everything accumulated."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous


def _make_buckets(params, cap):
    """Buckets of at most ``cap`` bytes (the first at most 1 MB), one dtype each, in reverse parameter order."""
    buckets, current, size, limit = [], [], 0, min(_FIRST_BUCKET_BYTES, cap)
    for p in reversed(params):
        nbytes = p.array.nbytes
        if current and (size + nbytes > limit or p.array.dtype != current[0].array.dtype):
            buckets.append(_Bucket(current))
            current, size, limit = [], 0, cap
        current.append(p)
        size += nbytes
    if current:
        buckets.append(_Bucket(current))
    return buckets


def _check_same_model(group, params):
    """Every rank must wrap the same architecture: compare the parameters' shapes and dtypes across ranks."""
    mine = [[list(p.shape), str(p.array.dtype)] for p in params]
    everyone = [None] * group.size()
    dist.all_gather_object(everyone, mine, group=group)
    for rank, theirs in enumerate(everyone):
        if theirs != mine:
            raise RuntimeError(
                f"DistributedDataParallel expects the same model on every rank, but rank {group.rank()} has "
                f"{len(mine)} parameters and rank {rank} has {len(theirs)} (or different shapes or dtypes); "
                "build the model the same way on every rank"
            )
