"""The IDX file format of MNIST and Fashion-MNIST: read (gzipped or not) and write.

An IDX file is a header and then the raw array, C order, **big-endian**::

    bytes 0-1   0x00 0x00                  always zero
    byte  2     dtype code                 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                                           0x0D float32, 0x0E float64
    byte  3     number of dimensions n     1 for labels, 3 for images
    4n bytes    n sizes, uint32 big-endian (N, then 28, 28 for images)
    the data    prod(sizes) items of the dtype, big-endian

So ``train-images-idx3-ubyte`` starts ``00 00 08 03 | 00 00 EA 60 | 00 00 00 1C | 00 00 00 1C``
(uint8, 3 dimensions, 60000 x 28 x 28) and is 16 + 47,040,000 bytes long.

The official files are distributed gzipped (``.gz``). Whether a file is gzipped is decided by its first
two bytes (the gzip magic ``1F 8B``), not by its name, so a renamed file still reads.
"""

import gzip
import os
import struct

from ...backend import xp
from .download import atomic_write

# dtype code -> big-endian NumPy dtype string
_CODES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_GZIP_MAGIC = b"\x1f\x8b"


class IDXError(ValueError):
    """The bytes are not a well-formed IDX file."""


def parse_idx(buffer, name="<bytes>"):
    """The array stored in the IDX bytes ``buffer`` (already decompressed), native byte order."""
    view = memoryview(buffer)
    if len(view) < 4:
        raise IDXError(f"{name}: {len(view)} bytes is too short for an IDX header (4 bytes at least)")
    zero, code, ndim = struct.unpack(">HBB", view[:4])
    if zero != 0 or code not in _CODES:
        raise IDXError(
            f"{name}: bad IDX magic number {bytes(view[:4]).hex(' ')}; expected 00 00, a dtype code "
            f"({', '.join(f'{c:#04x}' for c in _CODES)}) and the number of dimensions. "
            f"Is this an MNIST-style IDX file (gzipped or not)?"
        )
    header = 4 + 4 * ndim
    if len(view) < header:
        raise IDXError(f"{name}: the header promises {ndim} dimensions but the file ends after {len(view)} bytes")
    shape = struct.unpack(f">{ndim}I", view[4:header])
    dtype = xp.dtype(_CODES[code])
    count = 1
    for size in shape:
        count *= size
    expected = header + count * dtype.itemsize
    if len(view) != expected:
        raise IDXError(
            f"{name}: shape {shape} of {dtype.name} needs {expected} bytes, the file has {len(view)} "
            f"({'truncated' if len(view) < expected else 'trailing bytes'}); download it again"
        )
    array = xp.frombuffer(buffer, dtype=dtype, count=count, offset=header).reshape(shape)
    # Native byte order and a writable array that owns its memory (frombuffer views are read-only).
    return array.astype(dtype.newbyteorder("="))


def read_idx(path):
    """Read an IDX file, gzipped or not; returns the array in native byte order."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == _GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as e:
            raise IDXError(f"{path}: a damaged gzip file ({e}); download it again") from e
    return parse_idx(data, name=path)


def idx_bytes(array):
    """The IDX encoding of ``array`` (header + big-endian data)."""
    array = xp.asarray(array)
    codes = {xp.dtype(s).newbyteorder("="): c for c, s in _CODES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        raise IDXError(f"IDX cannot store dtype {array.dtype}; it holds uint8, int8, int16, int32, float32, float64")
    header = struct.pack(f">HBB{array.ndim}I", 0, codes[native], array.ndim, *array.shape)
    return header + xp.ascontiguousarray(array, dtype=_CODES[codes[native]]).tobytes()


def write_idx(path, array, compress=None):
    """Write ``array`` as an IDX file atomically; gzipped when ``compress`` (default: name ends ``.gz``)."""
    path = os.fspath(path)
    data = idx_bytes(array)
    if compress if compress is not None else path.endswith(".gz"):
        data = gzip.compress(data, mtime=0)  # mtime=0: the same array always gives the same bytes
    with atomic_write(path) as f:
        f.write(data)
    return path
