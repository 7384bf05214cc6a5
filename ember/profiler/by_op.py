"""The per-op view: ``prof.key_averages(group_by="op")``, one row per Function with its forward and its
backward side by side (``Conv2d`` and ``Conv2dBackward0`` on one line).

Times are self times (an op's own time, without ops it called), in microseconds, so the column sums are
the time spent in ops. The engine's own work, the optimizer and labels are not ops: the footer gives their
self time, so the rows plus the footer account for everything recorded.
"""

from .events import EventList, format_time, percent, render, sorted_rows
from .recorder import BACKWARD, FORWARD

OP_SORT_KEYS = ("total", "forward", "backward", "forward_calls", "backward_calls", "cpu_time_total",
                "self_cpu_time_total")


class OpEventAvg:
    """One Function's row: its forward and its backward node."""

    def __init__(self, key):
        self.key = key
        self.forward_calls = self.backward_calls = 0
        self.forward = self.backward = 0.0  # microseconds of self time

    @property
    def total(self):
        return self.forward + self.backward

    cpu_time_total = self_cpu_time_total = total

    @property
    def count(self):
        return self.forward_calls

    def __repr__(self):
        return (f"<OpEventAvg {self.key} forward={self.forward:.3f}us x{self.forward_calls} "
                f"backward={self.backward:.3f}us x{self.backward_calls}>")


class OpList(EventList):
    def __init__(self, rows=(), grand_total_us=0.0, other=()):
        super().__init__(rows)
        self.grand_total_us = grand_total_us
        self.other = other  # (kind, self time in us) of what is not an op

    def table(self, sort_by="total", row_limit=100, max_name_column_width=40, header=None, **ignored):
        """Op, forward calls / self time / average, backward calls / self time / average, total, total %,
        backward / forward. ``sort_by`` is one of OP_SORT_KEYS (descending)."""
        rows = sorted_rows(self, sort_by, OP_SORT_KEYS, "op table")
        grand = self.grand_total_us or 1.0
        columns = [("Op", max_name_column_width, "<"), ("Fwd calls", 9, ">"), ("Forward", 11, ">"),
                   ("Fwd avg", 11, ">"), ("Bwd calls", 9, ">"), ("Backward", 11, ">"), ("Bwd avg", 11, ">"),
                   ("Total", 11, ">"), ("Total %", 8, ">"), ("Bwd/Fwd", 7, ">")]
        body = []
        for r in rows[:row_limit] if row_limit is not None and row_limit >= 0 else rows:
            body.append([r.key, str(r.forward_calls), format_time(r.forward),
                         format_time(r.forward / r.forward_calls) if r.forward_calls else "-",
                         str(r.backward_calls), format_time(r.backward),
                         format_time(r.backward / r.backward_calls) if r.backward_calls else "-",
                         format_time(r.total), percent(r.total / grand),
                         f"{r.backward / r.forward:.2f}" if r.forward else "-"])
        ops = sum(r.total for r in self)
        rest = ", ".join(f"{kind} {format_time(us)}" for kind, us in self.other if us)
        footer = (f"Ops (self): {format_time(ops)} of {format_time(self.grand_total_us)} recorded"
                  + (f"; not ops: {rest}" if rest else ""))
        return render(columns, body, header, footer)


def op_rows(stats, grand_total_us):
    """Fold the recorder's rows into one per Function (``XBackward0`` joins ``X``)."""
    rows, other = {}, {}
    for s in stats.values():
        if s.kind == FORWARD:
            name = s.name
        elif s.kind == BACKWARD:
            name = s.name[: -len("Backward0")] if s.name.endswith("Backward0") else s.name
        else:
            other[s.kind] = other.get(s.kind, 0.0) + s.self_time / 1e3
            continue
        row = rows.get(name) or rows.setdefault(name, OpEventAvg(name))
        if s.kind == FORWARD:
            row.forward_calls += s.count
            row.forward += s.self_time / 1e3
        else:
            row.backward_calls += s.count
            row.backward += s.self_time / 1e3
    return OpList(rows.values(), grand_total_us, tuple(other.items()))
