"""Read and validate IDX files, the format MNIST and Fashion-MNIST ship in.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of
dimensions), one big-endian uint32 per dimension, then the raw array. MNIST uses only the
unsigned-byte type (0x08). Every check names the file and says what to do, so a corrupt
download never surfaces as a numpy reshape error.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import zlib
from pathlib import Path

import numpy as np

from lightning_mnist.errors import DataError

UBYTE = 0x08
# The most items one IDX file may declare (EMNIST's largest split has 698k): a header that
# claims more is refused before anything is allocated or decompressed (a gzip bomb).
MAX_ITEMS = 1 << 20
# A gzip'd IDX file may declare at most IDX_EXPANSION times its own size plus IDX_SLACK bytes
# of content, checked from its header before the content is inflated: MNIST's files inflate
# about 2-5x, and a bomb (deflate reaches ~1000x) is refused while it has cost a few bytes.
IDX_EXPANSION = 32
IDX_SLACK = 1 << 20


def read_bytes(path: Path, gz: bool | None = None) -> bytes:
    """The uncompressed content of ``path`` (gzip when ``gz``, by default when it ends in .gz)."""
    try:
        if path.suffix == ".gz" if gz is None else gz:
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (OSError, EOFError, zlib.error) as err:  # gzip raises all three on damage
        raise DataError(
            f"{path}: cannot be read ({err}); the file is damaged or truncated. "
            "Delete it and run again to fetch a fresh copy."
        ) from err


def read_idx_bytes(
    path: Path, shape: tuple[int, ...] | None = None, max_items: int = MAX_ITEMS, gz: bool | None = None
) -> bytes:
    """The uncompressed content of the IDX file ``path``, decompressing no more than it declares.

    The header is read first and its dimensions checked against ``shape`` (as in
    :func:`parse_idx`) and ``max_items``, and for gzip the declared size against the file's
    (``IDX_EXPANSION``); then at most the declared size plus one byte is read, so a small gzip
    whose header claims 2**31 images, or 800 MB of zeros, is refused without inflating it.
    Content that is not IDX at all is returned short, for :func:`parse_idx` to name the fault.
    ``gz``: gzip-compressed (default: when the name ends in .gz).
    """
    gz = path.suffix == ".gz" if gz is None else gz
    try:
        with gzip.open(path, "rb") if gz else open(path, "rb") as f:
            head = f.read(4)
            bad_ndim = len(head) == 4 and shape is not None and head[3] != len(shape)
            if len(head) < 4 or head[:2] != b"\0\0" or head[2] != UBYTE or bad_ndim:
                return head
            head += f.read(4 * head[3])
            if len(head) < 4 + 4 * head[3]:
                return head
            dims = _check_header(head, str(path), shape, max_items)
            if gz:
                _check_expansion(path, math.prod(dims))
            return head + f.read(math.prod(dims) + 1)
    except (OSError, EOFError, zlib.error) as err:
        raise DataError(
            f"{path}: cannot be read ({err}); the file is damaged or truncated. "
            "Delete it and run again to fetch a fresh copy."
        ) from err


def _check_expansion(path: Path, declared: int) -> None:
    """Refuse a gzip'd file whose header declares more than IDX_EXPANSION x its size + IDX_SLACK."""
    size = path.stat().st_size
    if declared > IDX_EXPANSION * size + IDX_SLACK:
        raise DataError(
            f"{path}: header declares {declared} bytes of data in a {size}-byte gzip file, more than the "
            f"{IDX_EXPANSION}x its size + {IDX_SLACK} bytes a real data file inflates to; refusing to decompress "
            "it (a gzip bomb?). Delete it and run again to fetch a fresh copy."
        )


def md5(content: bytes) -> str:
    return hashlib.md5(content).hexdigest()


def parse_idx(content: bytes, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """Parse an unsigned-byte IDX array of the expected ``shape``.

    ``shape`` entries of -1 accept any length (the number of items).

    >>> raw = bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9])
    >>> parse_idx(raw, "labels", (-1,))
    array([7, 8, 9], dtype=uint8)
    """
    if len(content) < 4:
        raise DataError(f"{name}: only {len(content)} bytes, too short to be an IDX file.")
    zero, dtype, ndim = content[:2], content[2], content[3]
    if zero != b"\0\0" or dtype != UBYTE:
        raise DataError(
            f"{name}: wrong IDX magic number 0x{content[:4].hex()} "
            f"(expected 0x000008{len(shape):02x}, unsigned bytes in {len(shape)} dimensions); "
            "this is not an MNIST-style IDX file."
        )
    if ndim != len(shape):
        raise DataError(
            f"{name}: has {ndim} dimensions, expected {len(shape)} (images are 3-d, labels 1-d); is it the right file?"
        )
    header = 4 + 4 * ndim
    if len(content) < header:
        raise DataError(f"{name}: truncated inside its header ({len(content)} bytes).")
    dims = _check_header(content, name, shape)
    size = int(np.prod(dims))
    if len(content) - header != size:
        raise DataError(
            f"{name}: header promises {size} bytes of data for dimensions {dims}, "
            f"the file has {len(content) - header}; it is truncated or padded."
        )
    return np.frombuffer(content, dtype=np.uint8, offset=header).reshape(dims)


def _check_header(
    content: bytes, name: str, shape: tuple[int, ...] | None, max_items: int | None = None
) -> tuple[int, ...]:
    """The dimensions in ``content``'s (complete) header, checked against ``shape`` and ``max_items``."""
    ndim = content[3]
    dims = tuple(int.from_bytes(content[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    for got, want in zip(dims, shape if shape is not None else dims, strict=True):
        if want != -1 and got != want:
            raise DataError(f"{name}: dimensions {dims}, expected {_fmt(shape)}.")
    if max_items is not None and dims and dims[0] > max_items:
        raise DataError(
            f"{name}: header claims {dims[0]} items (dimensions {dims}), more than the {max_items} "
            "any MNIST-style file has; refusing to decompress it. The file is corrupt or not a data set."
        )
    if max_items is not None and math.prod(dims) > max_items * 28 * 28:
        raise DataError(
            f"{name}: header claims dimensions {dims}, {math.prod(dims)} bytes, more than "
            "any MNIST-style file has; refusing to decompress it. The file is corrupt or not a data set."
        )
    return dims


def check_labels(labels: np.ndarray, name: str, num_classes: int = 10) -> None:
    bad = np.flatnonzero(labels >= num_classes)
    if bad.size:
        raise DataError(
            f"{name}: label {int(labels[bad[0]])} at index {int(bad[0])} is outside "
            f"0..{num_classes - 1} ({bad.size} such labels); the file is corrupt."
        )


def _fmt(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join("N" if s == -1 else str(s) for s in shape) + ")"
