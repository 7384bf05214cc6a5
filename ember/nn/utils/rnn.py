"""Sequences of different lengths in one batch: padding and packing (``torch.nn.utils.rnn``).

A batch of sentences is ragged. Padding makes it a rectangle (T_max, B, *), but a recurrent layer would
then read the padding as input: the last state of a short sentence would be the state after its padding.
Packing fixes that. Sort the sequences longest first; at time step t only the first ``batch_sizes[t]`` of
them are still running, and ``PackedSequence.data`` holds exactly their entries, step after step:

    lengths 3, 2, 1:   a1 a2 a3            data        = a1 b1 c1 a2 b2 a3
                       b1 b2               batch_sizes = 3, 2, 1
                       c1

RNN, GRU and LSTM accept a PackedSequence: each sequence stops at its own end (h_n is its state after its
last real step), a reversed direction starts at each sequence's own end, and the output comes back
packed. ``pad_packed_sequence`` turns it into a padded rectangle again. Packing and unpacking are indexing
operations, so gradients flow through both.
"""

from typing import NamedTuple

from ...backend import xp
from ...ops.shape import cat, stack
from ...tensor import Tensor

__all__ = ["PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence", "pack_sequence",
           "unpad_sequence", "unpack_sequence"]


class PackedSequence(NamedTuple):
    """The entries of sequences sorted by decreasing length, time step after time step.

    ``data`` (sum of lengths, *); ``batch_sizes`` int64 (T_max,): sequences running at each step;
    ``sorted_indices`` / ``unsorted_indices``: the permutation from the caller's batch order to the sorted
    one and back (None when the batch was already sorted).
    """

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor = None
    unsorted_indices: Tensor = None


def _positions(batch_sizes):
    """(time, batch) of every packed entry: step t contributes rows 0 .. batch_sizes[t] - 1."""
    total = int(batch_sizes.sum())
    times = xp.repeat(xp.arange(len(batch_sizes)), batch_sizes)
    starts = xp.repeat(xp.cumsum(batch_sizes) - batch_sizes, batch_sizes)
    return times, xp.arange(total) - starts


def _batch_sizes(lengths, max_len):
    """batch_sizes[t] = how many sequences are longer than t (lengths sorted or not)."""
    return (lengths[None, :] > xp.arange(max_len)[:, None]).sum(axis=1).astype(xp.int64)


def _lengths_array(lengths):
    lengths = lengths.array if isinstance(lengths, Tensor) else lengths
    return xp.asarray(lengths, dtype=xp.int64).reshape(-1)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (T, B, *) (or (B, T, *) with ``batch_first``) whose sequence b has
    ``lengths[b]`` real steps. With ``enforce_sorted=False`` the batch may come in any order."""
    lengths = _lengths_array(lengths)
    batch_axis = 0 if batch_first else 1
    if lengths.size != input.shape[batch_axis]:
        raise ValueError(f"pack_padded_sequence: {lengths.size} lengths for a batch of {input.shape[batch_axis]} "
                         f"sequences (input shape {tuple(input.shape)}, batch_first={batch_first})")
    max_steps = input.shape[1 - batch_axis]
    if lengths.size and (lengths.min() < 1 or lengths.max() > max_steps):
        raise ValueError(f"pack_padded_sequence: lengths must be between 1 and the padded length {max_steps}, "
                         f"got {lengths.tolist()}")
    sorted_indices = unsorted_indices = None
    if enforce_sorted:
        if xp.any(lengths[1:] > lengths[:-1]):
            raise ValueError("pack_padded_sequence: lengths must be sorted in decreasing order when "
                             f"enforce_sorted=True, got {lengths.tolist()}; sort the batch or pass "
                             "enforce_sorted=False")
    else:
        order = xp.argsort(-lengths, kind="stable")
        lengths = lengths[order]
        sorted_indices, unsorted_indices = Tensor(order), Tensor(xp.argsort(order))
        input = input[order] if batch_first else input[:, order]
    batch_sizes = _batch_sizes(lengths, int(lengths[0]) if lengths.size else 0)
    times, rows = _positions(batch_sizes)
    data = input[rows, times] if batch_first else input[times, rows]
    return PackedSequence(data, Tensor(batch_sizes), sorted_indices, unsorted_indices)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Undo packing: (padded (T, B, *) or (B, T, *), lengths int64 (B,)), in the caller's batch order."""
    padded, lengths = padded_sorted(sequence, padding_value, total_length)
    if sequence.unsorted_indices is not None:
        order = sequence.unsorted_indices.array
        padded, lengths = padded[:, order], lengths[order]
    return (padded.transpose(0, 1) if batch_first else padded), Tensor(lengths)


def padded_sorted(sequence, padding_value=0.0, total_length=None):
    """The packed entries laid out as a time-major (T, B, *) rectangle in sorted order, and the lengths.

    Every cell of the rectangle picks one packed row, or an extra row holding ``padding_value``: one
    gather, whose gradient goes back to the packed rows.
    """
    data, batch_sizes = sequence.data, sequence.batch_sizes.array
    steps, batch = len(batch_sizes), int(batch_sizes[0])
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"pad_packed_sequence: total_length={total_length} is shorter than the longest "
                             f"sequence ({steps} steps)")
        steps = total_length
    times, rows = _positions(batch_sizes)
    index = xp.full((steps, batch), len(times), dtype=xp.int64)  # every cell starts at the padding row
    index[times, rows] = xp.arange(len(times))
    pad_row = Tensor(xp.full((1, *data.shape[1:]), padding_value, dtype=data.dtype))
    lengths = (batch_sizes[None, :] > xp.arange(batch)[:, None]).sum(axis=1).astype(xp.int64)
    return cat([data, pad_row])[index], lengths


def pack_sorted(padded, batch_sizes):
    """Pack a time-major (T, B, *) rectangle already in sorted order (the inverse of ``padded_sorted``)."""
    times, rows = _positions(batch_sizes)
    return padded[times, rows]


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack tensors of shapes (L_i, *) into (L_max, B, *) (or (B, L_max, *)), padding the short ones."""
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'right' or 'left', got {padding_side!r}")
    if not sequences:
        raise ValueError("pad_sequence: got an empty list of sequences")
    longest = max(s.shape[0] for s in sequences)
    rows = []
    for s in sequences:
        missing = longest - s.shape[0]
        if missing:
            pad = Tensor(xp.full((missing, *s.shape[1:]), padding_value, dtype=s.dtype))
            s = cat([s, pad]) if padding_side == "right" else cat([pad, s])
        rows.append(s)
    return stack(rows, dim=0 if batch_first else 1)


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of tensors (L_i, *) directly (pad_sequence, then pack_padded_sequence)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of unpadded sequences (L_i, *) from a padded batch and its lengths."""
    lengths = _lengths_array(lengths)
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [x[b, : int(n)] for b, n in enumerate(lengths)]


def unpack_sequence(packed_sequences):
    """The list of sequences (L_i, *), in the original batch order, from a PackedSequence."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
