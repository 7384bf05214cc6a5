"""How a tensor's values print: torch's layout (``torch/_tensor_str.py``) on top of NumPy's array2string.

torch prints floats with 4 decimals, every element the same width (``0.8240``, not ``0.824``), whole-valued
floats as ``1.``, scientific notation when the largest |x| is over 1e8 or the ratio of the largest to the
smallest non-zero |x| is over 1000 or the smallest is under 1e-4 (NumPy's rule is the same), lines up to 80
characters wide, and over 1000 elements it shows the first and last 3 along each dim around ``...``.
"""

import sys

from . import printing
from .backend import xp


def format_values(array, prefix="tensor("):
    """The body of ``repr(tensor)``: ``array`` laid out as torch lays it out, lines after the first indented
    under ``prefix``. ``ember.set_printoptions`` changes precision, threshold, edgeitems, linewidth, sci_mode."""
    options = printing.options
    floatmode = "maxprec"
    if array.dtype.kind in "fc" and array.size:
        finite = xp.abs(array[xp.isfinite(array)])
        nonzero = finite[finite != 0]
        if finite.size and not xp.all(finite == xp.round(finite)):
            floatmode = "fixed"  # torch pads every value to the same number of decimals
        elif nonzero.size and (nonzero.max() > 1e8 or nonzero.max() / nonzero.min() > 1000):
            floatmode = "fixed"  # whole numbers in scientific notation still get 4 decimals: 1.0000e+02
    threshold = options["threshold"]
    extra = {}
    if options["sci_mode"] is not None and array.dtype.kind == "f":
        extra["suppress_small"] = not options["sci_mode"]
        if options["sci_mode"]:
            extra["formatter"] = {"float_kind": lambda v: f"{v:.{options['precision']}e}"}
    body = xp.array2string(array, separator=", ", prefix=prefix, precision=options["precision"], floatmode=floatmode,
                           threshold=sys.maxsize if threshold == float("inf") else int(threshold),
                           edgeitems=options["edgeitems"],
                           max_line_width=options["linewidth"] + 1,  # NumPy counts a closing ']' that torch doesn't
                           **extra)
    return body.replace(", ...,", ",  ...,")  # torch's elided middle of a row is one space wider


def add_suffixes(text, suffixes, indent=len("tensor(")):
    """``text`` (``tensor(`` + values) closed with ``, dtype=...``, ``, grad_fn=...`` and ``)``; a suffix that
    would push the last line past 80 characters goes on its own line, indented under the values, as in torch."""
    parts = [text]
    last_line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > printing.options["linewidth"]:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    return "".join(parts) + ")"
