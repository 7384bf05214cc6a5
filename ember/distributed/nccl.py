"""NCCL: collectives between GPUs, for CuPy arrays (``cupy.cuda.nccl``), where CuPy provides it.

MPI moves host memory; a GPU's gradients would make a round trip through the host for every all-reduce.
NCCL reduces them GPU to GPU. The processes still meet through MPI: rank 0 makes NCCL's unique id and
broadcasts it over the MPI communicator, then every rank joins the NCCL communicator with its rank.
``all_reduce`` and ``broadcast`` of a CuPy array go through NCCL when it is available; everything else
(and every CuPy array without NCCL) is staged through the host by collectives.py.
"""

from ..backend import host

_DTYPES = {"float16": "NCCL_FLOAT16", "float32": "NCCL_FLOAT32", "float64": "NCCL_FLOAT64", "int32": "NCCL_INT32",
           "int64": "NCCL_INT64", "uint8": "NCCL_UINT8", "int8": "NCCL_INT8"}
_OPS = {"sum": "NCCL_SUM", "product": "NCCL_PROD", "min": "NCCL_MIN", "max": "NCCL_MAX"}


def nccl_module():
    """``cupy.cuda.nccl`` when CuPy is installed with NCCL, else None."""
    try:
        from cupy.cuda import nccl
    except Exception:  # no CuPy, or CuPy without a CUDA driver
        return None
    return nccl if getattr(nccl, "available", False) else None


class NcclCommunicator:
    """The GPUs of an MPI communicator's ranks (one GPU per rank: the current CuPy device)."""

    def __init__(self, comm):
        self.nccl = nccl_module()
        uid = host.zeros(128, host.int64)  # NCCL's unique id: 128 chars, made by rank 0 and sent to all
        if comm.rank == 0:
            uid[:] = self.nccl.get_unique_id()
        comm.broadcast(uid, 0)
        self.comm = self.nccl.NcclCommunicator(comm.size, tuple(int(c) for c in uid), comm.rank)

    def supports(self, array, op="sum"):
        return array.flags.c_contiguous and str(array.dtype) in _DTYPES and op in _OPS

    def _dtype(self, array):
        return getattr(self.nccl, _DTYPES[str(array.dtype)])

    def all_reduce(self, array, op="sum"):
        import cupy

        stream = cupy.cuda.get_current_stream()
        self.comm.allReduce(array.data.ptr, array.data.ptr, array.size, self._dtype(array),
                            getattr(self.nccl, _OPS[op]), stream.ptr)
        stream.synchronize()
        return array

    def broadcast(self, array, root):
        import cupy

        stream = cupy.cuda.get_current_stream()
        self.comm.bcast(array.data.ptr, array.size, self._dtype(array), root, stream.ptr)
        stream.synchronize()
        return array
