"""ember.utils: torch.utils's pieces at torch's paths (``ember.utils.data`` is ``torch.utils.data``)."""

from . import data

__all__ = ["data"]
