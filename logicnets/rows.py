"""The row convention shared by every table, evaluator and checker in the package.

Row r assigns variable i the bit ``(r >> (n-1-i)) & 1``: the first variable is the
most significant bit, as in sympy's ``SOPform`` minterms and ``truth_table``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .errors import LogicError

__all__ = ["MAX_TABLE_VARS", "all_rows", "row_bits", "row_block"]

#: Largest number of variables for an explicit table (2^26 rows = 64 MiB of bools).
MAX_TABLE_VARS = 26


def row_bits(rows: Sequence[int] | np.ndarray, n: int) -> np.ndarray:
    """The 0/1 assignments of the given row numbers, as a (len(rows), n) uint8 array.

    >>> row_bits([1, 2], 2).tolist()
    [[0, 1], [1, 0]]
    """
    r = np.asarray(rows, dtype=np.int64).reshape(-1)
    shifts = np.arange(n - 1, -1, -1, dtype=np.int64)
    return ((r[:, None] >> shifts[None, :]) & 1).astype(np.uint8).reshape(len(r), n)


def row_block(start: int, count: int, n: int) -> np.ndarray:
    """Rows ``start .. start+count-1`` as a (count, n) uint8 array."""
    return row_bits(np.arange(start, start + count, dtype=np.int64), n)


def all_rows(n: int) -> np.ndarray:
    """All 2^n assignments as a (2^n, n) uint8 array, first column most significant.

    >>> all_rows(2).tolist()
    [[0, 0], [0, 1], [1, 0], [1, 1]]
    """
    if n > MAX_TABLE_VARS:
        raise LogicError(f"{n} variables give 2^{n} rows; at most {MAX_TABLE_VARS} can be listed")
    return row_block(0, 1 << n, n)
