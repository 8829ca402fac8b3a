"""Bit-sliced evaluation: 64 truth-table rows per uint64 word, numpy-vectorised.

Why: exhaustive verification of n inputs touches 2^n rows; row-by-row sympy
manages ~10^4 rows/s, these kernels 10^8-10^9.  Rows are numbered with the
first variable as the most significant bit (sympy's convention).  Row r lives
in word r // 64, bit r % 64.  A chunk holds ``2^k`` words; for variable i with
row bit b = n-1-i the column ("plane") is

* b < 6: a constant in-word pattern (0xAAAA..., 0xCCCC..., ...),
* 6 <= b < 6+k: whole words of 0 or ~0 alternating along the chunk,
* b >= 6+k: the same word for the whole chunk (a numpy scalar).

Conjunctions of literals are written with one strided numpy assignment each
("cube fill"), so a DNF costs one operation per term, not per literal.  The
evaluators of formulas (:mod:`.formula_bits`) and networks (:mod:`.network_bits`)
are built on this layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from ..errors import LogicError

__all__ = ["ONES", "ZERO", "Layout", "TableBits", "combine", "is_scalar", "pack", "unpack"]

ONES = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
ZERO = np.uint64(0)
LOW = tuple(
    np.uint64(v)
    for v in (
        0xAAAA_AAAA_AAAA_AAAA,
        0xCCCC_CCCC_CCCC_CCCC,
        0xF0F0_F0F0_F0F0_F0F0,
        0xFF00_FF00_FF00_FF00,
        0xFFFF_0000_FFFF_0000,
        0xFFFF_FFFF_0000_0000,
    )
)
#: Words per chunk (2^14 words = 2^20 rows = 128 KiB per plane).
CHUNK_LOG = 14


@lru_cache(maxsize=64)
def _word_plane(k: int, j: int) -> np.ndarray:
    idx = np.arange(1 << k, dtype=np.uint64)
    plane = np.where((idx >> np.uint64(j)) & np.uint64(1), ONES, ZERO)
    plane.setflags(write=False)
    return plane


class Layout:
    """How 2^n rows split into chunks of words; yields the input planes."""

    def __init__(self, n: int, chunk_log: int = CHUNK_LOG) -> None:
        if n < 0:
            raise LogicError("number of variables must be >= 0")
        self.n = n
        self.k = min(max(n - 6, 0), chunk_log)
        self.words = 1 << self.k
        self.n_chunks = 1 << max(n - 6 - self.k, 0)
        self.rows_per_chunk = min(64 * self.words, 1 << n)
        self.valid = ONES if n >= 6 else np.uint64((1 << (1 << n)) - 1)

    def planes(self, chunk: int) -> list[Any]:
        out = []
        for i in range(self.n):
            b = self.n - 1 - i
            if b < 6:
                out.append(LOW[b])
            elif b < 6 + self.k:
                out.append(_word_plane(self.k, b - 6))
            else:
                out.append(ONES if (chunk >> (b - 6 - self.k)) & 1 else ZERO)
        return out

    def full(self, plane: Any) -> np.ndarray:
        """A plane as an array of ``words`` words (scalars broadcast), masked to valid rows."""
        arr = np.empty(self.words, dtype=np.uint64)
        arr[...] = plane
        if self.n < 6:
            arr &= self.valid
        return arr

    def cube(self, literals: Sequence[tuple[int, bool]]) -> tuple[np.uint64, tuple, int, int] | None:
        """Precompute a conjunction of (variable index, positive) literals for cube fills.

        Returns (in-word pattern, word-axis index, chunk mask, chunk value), or None if
        the conjunction is contradictory.
        """
        pattern = ONES
        idx: list[Any] = [slice(None)] * self.k
        cmask = cval = 0
        for i, positive in literals:
            b = self.n - 1 - i
            if b < 6:
                pattern &= LOW[b] if positive else ~LOW[b]
            elif b < 6 + self.k:
                axis = self.k - 1 - (b - 6)
                want = 1 if positive else 0
                if isinstance(idx[axis], int) and idx[axis] != want:
                    return None
                idx[axis] = want
            else:
                bit = 1 << (b - 6 - self.k)
                want = bit if positive else 0
                if cmask & bit and (cval & bit) != want:
                    return None
                cmask |= bit
                cval |= want
        if self.n < 6:
            pattern &= self.valid
        if pattern == ZERO:
            return None
        return pattern, tuple(idx), cmask, cval

    def fill(self, out: np.ndarray, cubes: Sequence[tuple], chunk: int) -> None:
        """OR each cube into ``out`` (an array of ``words`` words) for this chunk."""
        view = out.reshape((2,) * self.k)
        for pattern, idx, cmask, cval in cubes:
            if chunk & cmask == cval:
                view[idx] |= pattern


def is_scalar(p: Any) -> bool:
    return not isinstance(p, np.ndarray)


def combine(op: str, values: list[Any]) -> Any:
    """AND/OR/XOR many planes: scalars folded first, arrays combined in place."""
    scal = [v for v in values if is_scalar(v)]
    arrs = [v for v in values if not is_scalar(v)]
    s = None
    for v in scal:
        s = v if s is None else (s & v if op == "and" else s | v if op == "or" else s ^ v)
    if op == "and" and s is not None and s == ZERO:
        return ZERO
    if op == "or" and s is not None and s == ONES:
        return ONES
    if not arrs:
        return s
    fn = {"and": np.bitwise_and, "or": np.bitwise_or, "xor": np.bitwise_xor}[op]
    if s is not None and not ((op == "and" and s == ONES) or (op != "and" and s == ZERO)):
        acc = fn(arrs[0], s)
    elif len(arrs) == 1:
        return arrs[0]
    else:
        acc = fn(arrs[0], arrs[1])
        arrs = arrs[1:]
    for a in arrs[1:]:
        fn(acc, a, out=acc)
    return acc


class TableBits:
    """Bit-sliced view of an explicit output column (a truth table)."""

    def __init__(self, outputs: np.ndarray, layout: Layout) -> None:
        self.outputs = np.asarray(outputs, dtype=bool)
        self.layout = layout

    def chunk(self, planes: Sequence[Any], chunk: int) -> Any:
        r = self.layout.rows_per_chunk
        return pack(self.outputs[chunk * r : (chunk + 1) * r], self.layout)


def pack(bits: np.ndarray, layout: Layout) -> np.ndarray:
    """Pack a bool column of one chunk into words (row r -> word r//64, bit r%64)."""
    bits = np.asarray(bits, dtype=bool)
    padded = np.zeros(layout.words * 64, dtype=bool)
    padded[: bits.size] = bits
    return np.packbits(padded, bitorder="little").view("<u8").astype(np.uint64)


def unpack(words: np.ndarray, rows: int) -> np.ndarray:
    """Inverse of :func:`pack`: the first ``rows`` bits as a bool array."""
    w = np.ascontiguousarray(words, dtype="<u8")
    return np.unpackbits(w.view(np.uint8), bitorder="little")[:rows].astype(bool)
