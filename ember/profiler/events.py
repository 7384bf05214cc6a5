"""What a profile hands back: events, their averages, and torch's table.

``prof.key_averages()`` is an ``EventList`` of ``FunctionEventAvg`` rows, one per event name (per name and
input shapes with ``group_by_input_shape=True``), with torch.profiler's attributes: ``key``, ``count``,
``cpu_time_total`` and ``self_cpu_time_total`` (microseconds), ``cpu_time`` (the average per call),
``input_shapes``, ``cpu_memory_usage``, ``self_cpu_memory_usage``. Ember adds ``kind``: ``forward`` for an
op's forward (``Conv2d``), ``backward`` for its backward node (``Conv2dBackward0``), ``engine`` for the
backward engine's own work, ``optimizer`` and ``label`` (``record_function``).

``table(sort_by="self_cpu_time_total", row_limit=20)`` prints them as torch does.
"""

SORT_KEYS = ("self_cpu_time_total", "cpu_time_total", "cpu_time", "self_cpu_time", "count", "cpu_memory_usage",
             "self_cpu_memory_usage")


class FunctionEvent:
    """One recorded event (``prof.events()``); times in microseconds from the start of the profile."""

    def __init__(self, name, kind, start_ns, total_ns, self_ns, shapes, layer, memory, stack):
        self.name = self.key = name
        self.kind, self.layer = kind, layer
        self.time_range_start = start_ns / 1e3
        self.cpu_time_total = total_ns / 1e3
        self.self_cpu_time_total = self_ns / 1e3
        self.input_shapes = [list(s) for s in shapes] if shapes is not None else []
        self.cpu_memory_usage = self.self_cpu_memory_usage = memory
        self.stack = list(stack or ())
        self.count = 1

    def __repr__(self):
        return f"<FunctionEvent {self.name} ({self.kind}) cpu_time_total={self.cpu_time_total:.3f}us>"


class FunctionEventAvg:
    """One row of ``key_averages()``: the sums over every event with the same key."""

    def __init__(self, key, kind, count, total_ns, self_ns, shapes, memory, self_memory, stack):
        self.key = key
        self.kind = kind
        self.count = count
        self.cpu_time_total = total_ns / 1e3
        self.self_cpu_time_total = self_ns / 1e3
        self.input_shapes = [list(s) for s in shapes] if shapes is not None else []
        self.cpu_memory_usage = memory
        self.self_cpu_memory_usage = self_memory
        self.stack = list(stack or ())

    @property
    def cpu_time(self):
        """The average total time of one call (microseconds)."""
        return self.cpu_time_total / max(self.count, 1)

    @property
    def self_cpu_time(self):
        return self.self_cpu_time_total / max(self.count, 1)

    def __repr__(self):
        return (f"<FunctionEventAvg key={self.key} kind={self.kind} count={self.count} "
                f"self_cpu_time_total={self.self_cpu_time_total:.3f}us cpu_time_total={self.cpu_time_total:.3f}us>")


class EventList(list):
    """A list of events or averaged rows, printable as torch's table."""

    def __init__(self, rows=(), profile_memory=False, record_shapes=False, with_stack=False):
        super().__init__(rows)
        self.profile_memory, self.record_shapes, self.with_stack = profile_memory, record_shapes, with_stack

    def self_cpu_time_total(self):
        return sum(e.self_cpu_time_total for e in self)

    def table(self, sort_by=None, row_limit=100, max_name_column_width=55, max_shapes_column_width=80,
              header=None, top_level_events_only=False, **ignored):
        """torch's table: Name, Self CPU %, Self CPU, CPU total %, CPU total, CPU time avg, [memory], calls,
        [input shapes]. ``sort_by`` is one of SORT_KEYS (descending); ``row_limit`` keeps the first rows.
        torch's other display options (``max_src_column_width``, ``time_unit``, ``top_level_events_only``)
        are accepted and change nothing: times pick their own unit, as torch's default does."""
        rows = sort_rows(self, sort_by)
        grand = sum(e.self_cpu_time_total for e in self) or 1.0
        columns = [("Name", max_name_column_width, "<"), ("Self CPU %", 12, ">"), ("Self CPU", 12, ">"),
                   ("CPU total %", 12, ">"), ("CPU total", 12, ">"), ("CPU time avg", 12, ">")]
        if self.profile_memory:
            columns += [("CPU Mem", 12, ">"), ("Self CPU Mem", 12, ">")]
        columns.append(("# of Calls", 12, ">"))
        shapes = self.record_shapes and any(e.input_shapes for e in rows)
        if shapes:
            columns.append(("Input Shapes", max_shapes_column_width, "<"))
        body = []
        for e in rows[:row_limit] if row_limit is not None and row_limit >= 0 else rows:
            cells = [e.key, percent(e.self_cpu_time_total / grand), format_time(e.self_cpu_time_total),
                     percent(e.cpu_time_total / grand), format_time(e.cpu_time_total), format_time(e.cpu_time)]
            if self.profile_memory:
                cells += [format_memory(e.cpu_memory_usage), format_memory(e.self_cpu_memory_usage)]
            cells.append(str(e.count))
            if shapes:
                cells.append(str(e.input_shapes))
            body.append(cells)
        footer = f"Self CPU time total: {format_time(self.self_cpu_time_total())}"
        return render(columns, body, header, footer)


def sort_rows(rows, sort_by):
    if sort_by is None:
        return list(rows)
    if sort_by not in SORT_KEYS:
        raise ValueError(
            f"table(sort_by={sort_by!r}): Ember measures CPU time, so sort_by must be one of {', '.join(SORT_KEYS)} "
            "(device_time_total and cuda_time_total have no Ember counterpart)"
        )
    return sorted(rows, key=lambda e: getattr(e, sort_by), reverse=True)


def render(columns, body, header=None, footer=None):
    """Rows of cells under dashed rules, each column cut to its width (long names end in '...')."""
    widths = []
    for i, (title, limit, _) in enumerate(columns):
        longest = max([len(title)] + [len(row[i]) for row in body])
        widths.append(min(longest, limit) if i == 0 or columns[i][0] == "Input Shapes" else max(longest, 10))
    rule = "  ".join("-" * w for w in widths)

    def line(cells):
        out = []
        for cell, w, (_, _, align) in zip(cells, widths, columns):
            cell = cell if len(cell) <= w else cell[: w - 3] + "..."
            out.append(cell.ljust(w) if align == "<" else cell.rjust(w))
        return "  ".join(out).rstrip()

    lines = ([header] if header else []) + [rule, line([c[0] for c in columns]), rule]
    lines += [line(row) for row in body]
    lines.append(rule)
    if footer:
        lines.append(footer)
    return "\n".join(lines) + "\n"


def sorted_rows(rows, sort_by, keys, what):
    """``rows`` in their own order (``sort_by=None``) or by one of ``keys``, descending."""
    if sort_by is None:
        return list(rows)
    if sort_by not in keys:
        raise ValueError(f"{what}: sort_by must be one of {', '.join(keys)}, got {sort_by!r}")
    return sorted(rows, key=lambda r: getattr(r, sort_by), reverse=True)


def format_time(us):
    """torch's time format: 12.345us, 1.234ms, 1.234s."""
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def format_memory(nbytes):
    for unit, size in (("Gb", 1024 ** 3), ("Mb", 1024 ** 2), ("Kb", 1024)):
        if abs(nbytes) >= size:
            return f"{nbytes / size:.2f} {unit}"
    return f"{nbytes} b"


def percent(fraction):
    return f"{fraction * 100:.2f}%"
