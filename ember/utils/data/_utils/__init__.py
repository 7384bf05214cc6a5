"""The DataLoader's internals at torch's path (torch.utils.data._utils): collation, fetching, workers and
the data pipeline's random generators."""

from . import collate, fetch, random, worker

__all__ = ["collate", "fetch", "random", "worker"]
