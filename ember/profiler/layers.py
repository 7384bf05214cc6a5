"""The per-layer view: ``prof.key_averages(group_by="layer")`` (or ``prof.layer_table()``).

One row per module path, as ``named_modules`` names it under the outermost module called (the root row is
named by its class: ``ResNet``; its children ``layer1``, ``layer1.0``, ``layer1.0.conv1``...). Each row has

- ``forward_total``: the wall time of the module's calls (its ``__call__``, children and ops included);
- ``self_forward``: ``forward_total`` less its child modules' (its own ops and Python: a residual add);
- ``self_backward``: the time of the backward nodes created by ops that ran directly in this module;
- ``backward_total``: ``self_backward`` of this module and every module inside it.

Times are microseconds. A backward node belongs to the innermost module whose forward created it: the
backward of ``F.relu`` called inside ``BasicBlock.forward`` is the block's own.
"""

from .events import EventList, format_time, percent, render, sorted_rows

LAYER_SORT_KEYS = ("total", "forward_total", "backward_total", "self_forward", "self_backward", "self_total",
                   "count", "cpu_time_total", "self_cpu_time_total")


class LayerEventAvg:
    """One layer's row."""

    def __init__(self, key, type_name, count, forward_ns, self_forward_ns, backward_ns, self_backward_ns,
                 backward_calls, shapes, depth):
        self.key = key
        self.type = type_name
        self.count = count
        self.forward_total = forward_ns / 1e3
        self.self_forward = self_forward_ns / 1e3
        self.backward_total = backward_ns / 1e3
        self.self_backward = self_backward_ns / 1e3
        self.backward_calls = backward_calls
        self.input_shapes = [list(s) for s in shapes] if shapes is not None else []
        self.depth = depth

    @property
    def total(self):
        return self.forward_total + self.backward_total

    @property
    def self_total(self):
        return self.self_forward + self.self_backward

    # torch's names, so table(sort_by="cpu_time_total") works on both views
    cpu_time_total = total
    self_cpu_time_total = self_total

    def __repr__(self):
        return (f"<LayerEventAvg {self.key} ({self.type}) calls={self.count} forward={self.forward_total:.3f}us "
                f"backward={self.backward_total:.3f}us>")


class LayerList(EventList):
    """The layer rows, in the order the layers were first called (a depth-first walk of the model)."""

    def __init__(self, rows=(), grand_total_us=0.0, record_shapes=False):
        super().__init__(rows, record_shapes=record_shapes)
        self.grand_total_us = grand_total_us

    def table(self, sort_by=None, row_limit=100, max_name_column_width=45, max_shapes_column_width=60,
              header=None, **ignored):
        """Layer, Type, Calls, Self fwd, Forward total, Self bwd, Backward total, Total, Total %, [shapes].
        Unsorted, the rows follow the model's structure, indented by depth; ``sort_by`` is one of
        LAYER_SORT_KEYS (descending)."""
        rows = sorted_rows(self, sort_by, LAYER_SORT_KEYS, "layer table")
        grand = self.grand_total_us or 1.0
        columns = [("Layer", max_name_column_width, "<"), ("Type", 20, "<"), ("Calls", 6, ">"),
                   ("Self fwd", 11, ">"), ("Forward total", 13, ">"), ("Self bwd", 11, ">"),
                   ("Backward total", 14, ">"), ("Total", 11, ">"), ("Total %", 8, ">")]
        shapes = self.record_shapes and any(r.input_shapes for r in rows)
        if shapes:
            columns.append(("Input Shapes", max_shapes_column_width, "<"))
        body = []
        for r in rows[:row_limit] if row_limit is not None and row_limit >= 0 else rows:
            name = ("  " * r.depth + r.key) if sort_by is None else r.key
            cells = [name, r.type, str(r.count), format_time(r.self_forward), format_time(r.forward_total),
                     format_time(r.self_backward), format_time(r.backward_total), format_time(r.total),
                     percent(r.total / grand)]
            if shapes:
                cells.append(str(r.input_shapes))
            body.append(cells)
        footer = (f"Profiled time (self CPU total of all events): {format_time(self.grand_total_us)}; a layer's "
                  "backward is the time of the backward nodes its forward created")
        return render(columns, body, header, footer)


def layer_rows(stats, grand_total_us, record_shapes):
    """Build the LayerList from the recorder's LayerStat sums (backward totals summed over each subtree)."""
    stats = sorted(stats.values(), key=lambda s: s.order)
    rows = []
    for s in stats:
        if s.root and s.path == s.root:  # a root: everything recorded under it
            inside = [t for t in stats if t.root == s.root]
            depth = 0
        else:
            inside = [t for t in stats if t.path == s.path or t.path.startswith(s.path + ".")]
            prefixed = s.root and s.path.startswith(s.root + ".")  # a second root's children carry its label
            depth = s.path.count(".") + 1 - (s.root.count(".") + 1 if prefixed else 0)
        backward = sum(t.backward for t in inside)
        rows.append(LayerEventAvg(s.path, s.type or "?", s.count, s.forward, s.self_forward, backward, s.backward,
                                  s.backward_calls, s.shapes, depth))
    return LayerList(rows, grand_total_us, record_shapes)
