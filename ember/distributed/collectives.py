"""torch.distributed's collectives on Ember tensors: every process of the group calls the same one.

    all_reduce(t, op)          every rank's t becomes the elementwise SUM (AVG, MAX, ...) of all ranks' t
    broadcast(t, src)          every rank's t becomes src's t
    all_gather(ts, t)          ts[r] becomes rank r's t, on every rank
    reduce(t, dst, op)         only dst's t becomes the reduction
    gather / scatter           rank r's t to (from) slot r of dst's (src's) list
    barrier()                  nobody leaves before everybody has arrived

``src``/``dst`` are ranks in the default group, as in torch. The tensors are changed in place; a collective
returns None, or with ``async_op=True`` a ``Work`` whose ``wait()`` finishes it. A process that is not a
member of ``group`` returns at once. Objects (``broadcast_object_list``, ``all_gather_object``,
``gather_object``) travel as JSON — Ember never unpickles — so they are numbers, strings, lists and dicts
(a tuple arrives as a list).
"""

import json

from ..backend import array_device, host as xp, is_device_array, move, to_host
from .group import ReduceOp, world

__all__ = [
    "Work", "all_gather", "all_gather_into_tensor", "all_gather_object", "all_reduce", "barrier", "broadcast",
    "broadcast_object_list", "gather", "gather_object", "irecv", "isend", "recv", "reduce",
    "reduce_scatter_tensor", "scatter", "send",
]

_OP_NAMES = {ReduceOp.SUM: "sum", ReduceOp.AVG: "sum", ReduceOp.PRODUCT: "product", ReduceOp.MIN: "min",
             ReduceOp.MAX: "max", ReduceOp.BAND: "band", ReduceOp.BOR: "bor", ReduceOp.BXOR: "bxor"}


class Work:
    """A collective in flight (``async_op=True``): ``wait()`` finishes it and returns True."""

    def __init__(self, comm=None, request=None, what="", finish=None):
        self._comm, self._request, self._what, self._finish = comm, request, what, finish

    def wait(self, timeout=None):
        if self._request is not None:
            self._comm.wait(self._request, self._what)
            self._request = None
        if self._finish is not None:
            finish, self._finish = self._finish, None
            finish()
        return True

    def is_completed(self):
        return self._request is None or bool(self._request.Test())

    def is_success(self):
        return self.is_completed()

    def exception(self):
        return None


def _array(tensor, what, name="tensor"):
    array = getattr(tensor, "array", None)
    if array is None:
        raise TypeError(f"{what}: invalid function argument. Expected parameter `{name}` of type ember.Tensor but "
                        f"got {type(tensor).__name__} instead; wrap it: ember.tensor(...)")
    return array


class _Buffer:
    """A tensor's array as MPI needs it: contiguous and on the host. ``done()`` copies the result back when
    the buffer had to be a copy (a strided view, or a GPU array: MPI reads host memory)."""

    def __init__(self, tensor, what, name="tensor"):
        self.array = _array(tensor, what, name)
        self.buffer = xp.ascontiguousarray(to_host(self.array))
        self.copied = self.buffer is not self.array

    def done(self):
        if self.copied:
            on_device = is_device_array(self.array)
            self.array[...] = move(self.buffer, *array_device(self.array)) if on_device else self.buffer


def _members(group):
    """The group and its communicator, or (group, None) when this process is not a member."""
    group = world(group)
    return group, group.comm


def _op(op, what, dtype):
    if not isinstance(op, ReduceOp):
        raise ValueError(f"{what}: op must be a dist.ReduceOp (e.g. ReduceOp.SUM), got {op!r}")
    if op is ReduceOp.AVG and dtype.kind not in "fc":
        raise TypeError(f"{what}: ReduceOp.AVG needs a floating-point tensor, got {dtype}; use ReduceOp.SUM")
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and dtype.kind not in "biu":
        raise TypeError(f"{what}: {op.name} needs an integer or bool tensor, got {dtype}")
    return _OP_NAMES[op]


def _finish(work, async_op):
    if async_op:
        return work
    work.wait()
    return None


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``tensor`` over every process of ``group``, in place on each (see the module docstring)."""
    group, comm = _members(group)
    array = _array(tensor, "all_reduce")
    name = _op(op, "all_reduce", array.dtype)
    if comm is None:
        return _finish(Work(), async_op)
    gpu = group.gpu_comm(array, name)
    if gpu is not None:  # NCCL, GPU to GPU, in place
        gpu.all_reduce(array, name)
        if op is ReduceOp.AVG:
            array /= group.size()
        return _finish(Work(), async_op)
    buf = _Buffer(tensor, "all_reduce")

    def finish():
        if op is ReduceOp.AVG:
            buf.buffer /= group.size()
        buf.done()

    request = comm.start_all_reduce(buf.buffer, name)
    return _finish(Work(comm, request, "all_reduce", finish), async_op)


def reduce(tensor, dst=0, op=ReduceOp.SUM, group=None, async_op=False):
    group, comm = _members(group)
    buf = _Buffer(tensor, "reduce")
    name = _op(op, "reduce", buf.buffer.dtype)
    root = group.group_rank(dst, "reduce")
    if comm is not None:
        comm.reduce(buf.buffer, root, name)
        if comm.rank == root:
            if op is ReduceOp.AVG:
                buf.buffer /= group.size()
            buf.done()
    return _finish(Work(), async_op)


def broadcast(tensor, src=0, group=None, async_op=False):
    group, comm = _members(group)
    root = group.group_rank(src, "broadcast")
    gpu = group.gpu_comm(_array(tensor, "broadcast"))
    if gpu is not None:  # NCCL, GPU to GPU
        gpu.broadcast(tensor.array, root)
    elif comm is not None:
        buf = _Buffer(tensor, "broadcast")
        comm.broadcast(buf.buffer, root)
        buf.done()
    return _finish(Work(), async_op)


def _slots(tensor_list, like, size, what, name):
    if len(tensor_list) != size:
        raise ValueError(f"{what}: {name} has {len(tensor_list)} tensors, expected one per process ({size})")
    for i, t in enumerate(tensor_list):
        slot = _array(t, what, name)
        if slot.shape != like.shape or slot.dtype != like.dtype:
            raise ValueError(f"{what}: {name}[{i}] has shape {tuple(slot.shape)} and dtype {slot.dtype}, expected "
                             f"{tuple(like.shape)} and {like.dtype} like the input tensor")


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """``tensor_list[r]`` becomes rank r's ``tensor``, on every rank."""
    group, comm = _members(group)
    buf = _Buffer(tensor, "all_gather")
    _slots(tensor_list, buf.buffer, group.size(), "all_gather", "tensor_list")
    if comm is not None:
        out = comm.all_gather(buf.buffer, xp.empty((group.size(),) + buf.buffer.shape, buf.buffer.dtype))
        for slot, part in zip(tensor_list, out):
            slot.array[...] = part
    return _finish(Work(), async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Every rank's ``input_tensor`` concatenated (or stacked) along dim 0 into ``output_tensor``."""
    group, comm = _members(group)
    buf = _Buffer(input_tensor, "all_gather_into_tensor", "input_tensor")
    out = _Buffer(output_tensor, "all_gather_into_tensor", "output_tensor")
    n, shape = group.size(), buf.buffer.shape
    stacked = (n,) + shape
    concatenated = ((n * shape[0],) + shape[1:]) if shape else None
    if out.buffer.shape not in (stacked, concatenated) or out.buffer.dtype != buf.buffer.dtype:
        raise ValueError(f"all_gather_into_tensor: output_tensor has shape {tuple(out.buffer.shape)}, expected "
                         f"{concatenated or stacked} (world size {n} times the input's {tuple(shape)}) and dtype "
                         f"{buf.buffer.dtype}")
    if comm is not None:
        comm.all_gather(buf.buffer, out.buffer.reshape(stacked))
        out.done()
    return _finish(Work(), async_op)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``input`` over the ranks; rank r keeps the r-th of ``world_size`` equal parts along dim 0."""
    group, comm = _members(group)
    src = _Buffer(input, "reduce_scatter_tensor", "input")
    out = _Buffer(output, "reduce_scatter_tensor", "output")
    name = _op(op, "reduce_scatter_tensor", src.buffer.dtype)
    n = group.size()
    if src.buffer.size != n * out.buffer.size or src.buffer.dtype != out.buffer.dtype:
        raise ValueError(f"reduce_scatter_tensor: input has {src.buffer.size} elements, expected world size {n} "
                         f"times output's {out.buffer.size}, of dtype {out.buffer.dtype}")
    if comm is not None:
        comm.reduce_scatter(src.buffer, out.buffer, name)
        if op is ReduceOp.AVG:
            out.buffer /= n
        out.done()
    return _finish(Work(), async_op)


def _root_list(tensors, at_root, like, group, what, name, role, rank):
    """The root passes one tensor per process (like ``like``); every other rank passes none."""
    if at_root:
        if tensors is None:
            raise ValueError(f"{what}: the {role} rank must pass {name} (one tensor per process)")
        _slots(tensors, like, group.size(), what, name)
    elif tensors:
        raise ValueError(f"{what}: only the {role} rank {rank} passes {name}; this rank should pass None")


def gather(tensor, gather_list=None, dst=0, group=None, async_op=False):
    """Rank r's ``tensor`` into ``gather_list[r]`` on ``dst`` (the others pass no list)."""
    group, comm = _members(group)
    buf = _Buffer(tensor, "gather")
    root = group.group_rank(dst, "gather")
    if comm is None:
        return _finish(Work(), async_op)
    _root_list(gather_list, comm.rank == root, buf.buffer, group, "gather", "gather_list", "destination", dst)
    out = xp.empty((group.size(),) + buf.buffer.shape, buf.buffer.dtype) if comm.rank == root else None
    comm.gather(buf.buffer, out, root)
    if comm.rank == root:
        for slot, part in zip(gather_list, out):
            slot.array[...] = part
    return _finish(Work(), async_op)


def scatter(tensor, scatter_list=None, src=0, group=None, async_op=False):
    """``tensor`` on rank r becomes ``scatter_list[r]`` of ``src``."""
    group, comm = _members(group)
    buf = _Buffer(tensor, "scatter")
    root = group.group_rank(src, "scatter")
    if comm is None:
        return _finish(Work(), async_op)
    _root_list(scatter_list, comm.rank == root, buf.buffer, group, "scatter", "scatter_list", "source", src)
    chunks = xp.stack([t.array for t in scatter_list]) if comm.rank == root else None
    comm.scatter(chunks, buf.buffer, root)
    buf.done()
    return _finish(Work(), async_op)


def barrier(group=None, async_op=False, device_ids=None):
    """Wait until every process of ``group`` has reached this barrier."""
    _, comm = _members(group)
    if comm is not None:
        comm.barrier()
    return _finish(Work(), async_op)


# ---- point to point --------------------------------------------------------------------------------------------


def _peer(group, comm, rank, what):
    """The group rank of ``rank``, which must be another process (torch refuses sending to oneself)."""
    peer = group.group_rank(rank, what)
    if comm is None or peer == comm.rank:
        raise ValueError(f"{what}: invalid rank {rank}: it must be another process of the group (this process is "
                         f"rank {group.ranks[comm.rank] if comm is not None else 'not a member'})")
    return peer


def send(tensor, dst, group=None, tag=0):
    group, comm = _members(group)
    _peer(group, comm, dst, "send")
    comm.send(_Buffer(tensor, "send").buffer, group.group_rank(dst, "send"), tag)


def recv(tensor, src=None, group=None, tag=0):
    """Receive into ``tensor`` (from any rank when ``src`` is None); returns the sender's rank."""
    group, comm = _members(group)
    buf = _Buffer(tensor, "recv")
    sender = comm.recv(buf.buffer, None if src is None else _peer(group, comm, src, "recv"), tag)
    buf.done()
    return group.ranks[sender]


def isend(tensor, dst, group=None, tag=0):
    group, comm = _members(group)
    peer = _peer(group, comm, dst, "isend")
    buf = _Buffer(tensor, "isend")
    comm.calls += 1
    request = comm.comm.Isend(buf.buffer, dest=peer, tag=tag)
    return Work(comm, request, f"isend to rank {dst}")


def irecv(tensor, src=None, group=None, tag=0):
    group, comm = _members(group)
    source = comm.MPI.ANY_SOURCE if src is None else _peer(group, comm, src, "irecv")
    buf = _Buffer(tensor, "irecv")
    comm.calls += 1
    request = comm.comm.Irecv(buf.buffer, source=source, tag=tag)
    return Work(comm, request, f"irecv from rank {src}", buf.done)


# ---- objects, as JSON ------------------------------------------------------------------------------------------


def _encode(obj, what):
    try:
        return xp.frombuffer(json.dumps(obj).encode(), dtype=xp.uint8)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{what}: Ember sends objects as JSON (it never unpickles), and {error}; send numbers, "
                        "strings, lists and dicts, or tensors with the tensor collectives") from None


def _gather_bytes(comm, size, payload):
    """Every rank's byte string (any length), in rank order."""
    lengths = comm.all_gather(xp.array([payload.size], xp.int64), xp.empty((size, 1), xp.int64))[:, 0]
    padded = xp.zeros(int(lengths.max()), xp.uint8)
    padded[: payload.size] = payload
    out = comm.all_gather(padded, xp.empty((size, padded.size), xp.uint8))
    return [bytes(row[:n]) for row, n in zip(out, lengths)]


def broadcast_object_list(object_list, src=0, group=None, device=None):
    """``object_list`` on every rank becomes (in place) src's list."""
    group, comm = _members(group)
    root = group.group_rank(src, "broadcast_object_list")
    if comm is None:
        return
    payload = _encode(list(object_list), "broadcast_object_list") if comm.rank == root else xp.empty(0, xp.uint8)
    length = comm.broadcast(xp.array([payload.size], xp.int64), root)
    data = payload.copy() if comm.rank == root else xp.empty(int(length[0]), xp.uint8)
    comm.broadcast(data, root)
    received = json.loads(bytes(data).decode())
    if len(received) != len(object_list):
        raise ValueError(f"broadcast_object_list: rank {src} sent {len(received)} objects but this rank's list has "
                         f"{len(object_list)} slots; give every rank a list of the same length")
    object_list[:] = received


def all_gather_object(object_list, obj, group=None):
    """``object_list[r]`` becomes rank r's ``obj``, on every rank."""
    group, comm = _members(group)
    if len(object_list) != group.size():
        raise ValueError(f"all_gather_object: object_list has {len(object_list)} slots, expected one per process "
                         f"({group.size()})")
    if comm is None:
        return
    parts = _gather_bytes(comm, group.size(), _encode(obj, "all_gather_object"))
    object_list[:] = [json.loads(p.decode()) for p in parts]


def gather_object(obj, object_gather_list=None, dst=0, group=None):
    """Rank r's ``obj`` into ``object_gather_list[r]`` on ``dst``."""
    group, comm = _members(group)
    root = group.group_rank(dst, "gather_object")
    if comm is None:
        return
    if comm.rank == root and (object_gather_list is None or len(object_gather_list) != group.size()):
        raise ValueError(f"gather_object: the destination rank passes object_gather_list with one slot per process "
                         f"({group.size()})")
    parts = _gather_bytes(comm, group.size(), _encode(obj, "gather_object"))
    if comm.rank == root:
        object_gather_list[:] = [json.loads(p.decode()) for p in parts]
