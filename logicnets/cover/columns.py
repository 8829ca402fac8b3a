"""A cover held by columns: per input and value, the set of its cubes with that literal.

Why: the covering questions of the loop (is cube c covered by these other cubes, for this
output?) are tautologies of cofactors, and the cofactor of a cube ``p`` by ``c`` is ``p`` with
``c``'s literals made free.  Held by columns, with one Python-int bitset over the cover's rows per
literal, a cofactor needs no copy: it is a set of rows and the inputs ``c`` leaves free, and each
step of the unate recursion costs a few big-int operations per input, whatever the number of
cubes.  Same recursion, same answers as :func:`.unate.tautology`.

>>> from .cubes import CubeSpace
>>> sp = CubeSpace(2, 1)
>>> cols = Columns(sp, sp.from_strings(["1-", "01", "00"], ["1"] * 3))
>>> cols.tautology(0b111, [0, 1]), cols.tautology(0b011, [0, 1]), cols.tautology(0b011, [1])
(True, False, True)
"""

from __future__ import annotations

import numpy as np

from .cubes import CubeSpace

__all__ = ["Columns", "bitsets"]


def bitsets(matrix: np.ndarray) -> list[int]:
    """Each row of a boolean matrix as an int: bit ``r`` for column ``r``."""
    packed = np.packbits(np.asarray(matrix, dtype=bool), axis=1, bitorder="little")
    return [int.from_bytes(row.tobytes(), "little") for row in packed]


class Columns:
    """The cover ``G`` by columns: ``zeros[i]``/``ones[i]`` are the rows whose input ``i`` is
    the literal 0/1, ``feeds[k]`` the rows feeding output ``k``."""

    def __init__(self, sp: CubeSpace, G: np.ndarray) -> None:
        codes = sp.input_codes(G).T
        self.zeros, self.ones = bitsets(codes == 0), bitsets(codes == 1)
        self.feeds = bitsets(sp.output_bits(G).T)

    def feeding_any(self, outputs: int) -> int:
        """The rows feeding one of ``outputs`` (bit ``k``: output ``k``)."""
        rows = 0
        while outputs:
            low = outputs & -outputs
            rows |= self.feeds[low.bit_length() - 1]
            outputs ^= low
        return rows

    def tautology(self, rows: int, inputs: list[int]) -> bool:
        """Do the cubes in ``rows``, with every input outside ``inputs`` made free, hold every
        point?  Unate inputs drop the cubes that fix them; then split on the most binate input,
        the smaller half first (it fails sooner)."""
        zeros, ones = self.zeros, self.ones
        while True:
            if not rows:
                return False
            binate, fixed, unate, best, best_key = [], 0, 0, -1, (-1, 0)
            for i in inputs:
                a, b = rows & zeros[i], rows & ones[i]
                if a and b:
                    binate.append(i)
                    fixed |= a | b
                    na, nb = a.bit_count(), b.bit_count()
                    if (na + nb, -abs(na - nb)) > best_key:
                        best, best_key = i, (na + nb, -abs(na - nb))
                elif a or b:
                    unate |= a | b
            if rows & ~(fixed | unate):
                return True  # a cube with no literal left: the universe
            if not unate:
                break
            rows, inputs = rows & ~unate, binate
        rest = [i for i in binate if i != best]
        halves = sorted((rows & ~ones[best], rows & ~zeros[best]), key=int.bit_count)
        return all(self.tautology(half, rest) for half in halves)
