"""torch.distributed's exception types: every one is a RuntimeError, as in torch."""


class DistError(RuntimeError):
    """Something went wrong between the processes of a group."""


class DistBackendError(DistError):
    """The transport failed: a collective timed out (a process died or hangs) or the group is broken."""


class DistNetworkError(DistError):
    """The processes could not reach each other."""


class DistStoreError(DistError):
    """The rendezvous store failed (Ember meets through the MPI launcher and has no store)."""
