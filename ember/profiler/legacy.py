"""``ember.autograd.profiler``: torch's older profiler path, which tutorials still use.

    with ember.autograd.profiler.profile(record_shapes=True) as prof:
        with ember.autograd.profiler.record_function("forward"):
            model(x)
    print(prof.key_averages().table(sort_by="self_cpu_time_total"))

The same recorder as ``ember.profiler.profile``, with torch.autograd.profiler.profile's arguments
(``enabled=False`` records nothing). Autograd does not import the profiler (imports point downward):
``ember.profiler`` registers this module as ``ember.autograd.profiler`` when it is imported, which
``import ember`` always does.
"""

import sys

from .profile import profile as _profile
from .profile import record_function  # noqa: F401  (torch.autograd.profiler.record_function)


class profile(_profile):
    """torch.autograd.profiler.profile: ``enabled``, ``use_cuda`` and the recording options."""

    def __init__(self, enabled=True, *, use_cuda=False, use_device=None, record_shapes=False, with_flops=False,
                 profile_memory=False, with_stack=False, with_modules=False, use_kineto=False, use_cpu=True,
                 experimental_config=None, acc_events=False, custom_trace_id_callback=None):
        super().__init__(record_shapes=record_shapes, profile_memory=profile_memory, with_stack=with_stack,
                         with_flops=with_flops, use_cuda=use_cuda or use_device not in (None, "cpu"))
        self.enabled = enabled

    def start(self):
        if self.enabled:
            super().start()

    def table(self, sort_by=None, row_limit=100, **kwargs):
        """The table of every event's averages (torch's ``prof.table()`` on the legacy profiler)."""
        return self.key_averages().table(sort_by=sort_by, row_limit=row_limit, **kwargs)

    @property
    def function_events(self):
        return self.events()

    def total_average(self):
        """All events summed into one row."""
        rows = self.key_averages()
        total = rows[0].__class__("Total", "total", sum(r.count for r in rows), 0, 0, None, 0, 0, None)
        total.cpu_time_total = sum(r.self_cpu_time_total for r in rows)
        total.self_cpu_time_total = total.cpu_time_total
        total.cpu_memory_usage = total.self_cpu_memory_usage = sum(r.self_cpu_memory_usage for r in rows)
        return total


def register():
    """Make ``ember.autograd.profiler`` (attribute and import path) this module."""
    from .. import autograd

    module = sys.modules[__name__]
    autograd.profiler = module
    sys.modules.setdefault("ember.autograd.profiler", module)
