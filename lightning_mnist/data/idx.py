"""Read and validate IDX files, the format MNIST and Fashion-MNIST ship in.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of
dimensions), one big-endian uint32 per dimension, then the raw array. MNIST uses only the
unsigned-byte type (0x08). Every check names the file and says what to do, so a corrupt
download never surfaces as a numpy reshape error.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from pathlib import Path

import numpy as np

from lightning_mnist.errors import DataError

UBYTE = 0x08


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
    dims = tuple(int.from_bytes(content[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    for got, want in zip(dims, shape, strict=True):
        if want != -1 and got != want:
            raise DataError(f"{name}: dimensions {dims}, expected {_fmt(shape)}.")
    size = int(np.prod(dims))
    if len(content) - header != size:
        raise DataError(
            f"{name}: header promises {size} bytes of data for dimensions {dims}, "
            f"the file has {len(content) - header}; it is truncated or padded."
        )
    return np.frombuffer(content, dtype=np.uint8, offset=header).reshape(dims)


def check_labels(labels: np.ndarray, name: str, num_classes: int = 10) -> None:
    bad = np.flatnonzero(labels >= num_classes)
    if bad.size:
        raise DataError(
            f"{name}: label {int(labels[bad[0]])} at index {int(bad[0])} is outside "
            f"0..{num_classes - 1} ({bad.size} such labels); the file is corrupt."
        )


def _fmt(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join("N" if s == -1 else str(s) for s in shape) + ")"
