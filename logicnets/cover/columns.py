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

__all__ = ["Columns", "bitsets", "feeding_any", "minus", "missing", "once", "tally"]


def bitsets(matrix: np.ndarray) -> list[int]:
    """Each row of a boolean matrix as an int: bit ``r`` for column ``r``."""
    packed = np.packbits(np.asarray(matrix, dtype=bool), axis=1, bitorder="little")
    return [int.from_bytes(row.tobytes(), "little") for row in packed]


def tally(bitsets: list[int]) -> list[int]:
    """Bit-sliced counter: how many of ``bitsets`` hold each row (int ``k`` holds bit ``k`` of
    every row's count)."""
    slices: list[int] = []
    for carry in bitsets:
        for k, s in enumerate(slices):
            slices[k] = s ^ carry
            carry &= s
            if not carry:
                break
        if carry:
            slices.append(carry)
    return slices


def minus(count: list[int], rows: int) -> list[int]:
    """The counter less one on ``rows`` (each of them counts at least one)."""
    out = list(count)
    for k, s in enumerate(out):
        out[k] = s ^ rows
        rows &= ~s
        if not rows:
            break
    return out


def missing(count: list[int], universe: int) -> int:
    """The rows of ``universe`` the counter holds none of."""
    held = 0
    for s in count:
        held |= s
    return universe & ~held


def once(count: list[int]) -> int:
    """The rows the counter holds exactly once."""
    more = 0
    for s in count[1:]:
        more |= s
    return count[0] & ~more if count else 0


def feeding_any(feeds: list[int], outputs: int) -> int:
    """The union of ``feeds[k]`` over the outputs ``k`` in ``outputs`` (bit ``k``)."""
    rows = 0
    while outputs:
        low = outputs & -outputs
        rows |= feeds[low.bit_length() - 1]
        outputs ^= low
    return rows


class Columns:
    """The cover ``G`` by columns: ``zeros[i]``/``ones[i]`` are the rows whose input ``i`` is
    the literal 0/1, ``feeds[k]`` the rows feeding output ``k``."""

    def __init__(self, sp: CubeSpace, G: np.ndarray) -> None:
        codes = sp.input_codes(G).T
        self.zeros, self.ones = bitsets(codes == 0), bitsets(codes == 1)
        self.feeds = bitsets(sp.output_bits(G).T)
        self.all = (1 << len(G)) - 1
        #: the universal cube, as an int of two bits per input (the layout of :mod:`.small`)
        self.full = sp.int_masks[1]

    def contradicting(self, codes: np.ndarray) -> list[int]:
        """Per literal of a cube with these input ``codes``: the rows with the opposite one."""
        return [self.ones[i] if v == 0 else self.zeros[i] for i, v in enumerate(codes.tolist()) if v < 2]

    def meeting(self, codes: np.ndarray) -> int:
        """The rows whose inputs meet a cube with these input ``codes``."""
        apart = 0
        for rows in self.contradicting(codes):
            apart |= rows
        return self.all & ~apart

    def set_row(self, r: int, old: np.ndarray, new: np.ndarray, outputs_left: int) -> None:
        """Row ``r`` changes its input codes from ``old`` to ``new`` and feeds only the outputs
        in ``outputs_left`` (bit k: output k) of those it fed."""
        bit = 1 << r
        for i in np.flatnonzero(old != new).tolist():
            for held, value in ((self.zeros, 0), (self.ones, 1)):
                held[i] = held[i] | bit if new[i] == value else held[i] & ~bit
        for k, feeds in enumerate(self.feeds):
            if feeds & bit and not outputs_left >> k & 1:
                self.feeds[k] = feeds & ~bit

    def feeding_any(self, outputs: int) -> int:
        """The rows feeding one of ``outputs`` (bit ``k``: output ``k``)."""
        return feeding_any(self.feeds, outputs)

    def _inputs_of(self, rows: int, inputs: list[int]) -> tuple[list[int], int, int, int, dict[int, int]]:
        """One pass over ``inputs`` for the cubes in ``rows``: the binate inputs, the rows with
        a binate literal, the rows with a unate one, the most binate input (most literals,
        then most balanced), and per unate input the value its cubes all miss."""
        zeros, ones = self.zeros, self.ones
        binate, with_binate, with_unate, best, best_key, missing_value = [], 0, 0, -1, (-1, 0), {}
        for i in inputs:
            a, b = rows & zeros[i], rows & ones[i]
            if a and b:
                binate.append(i)
                with_binate |= a | b
                na, nb = a.bit_count(), b.bit_count()
                if (na + nb, -abs(na - nb)) > best_key:
                    best, best_key = i, (na + nb, -abs(na - nb))
            elif a or b:
                with_unate |= a | b
                missing_value[i] = 1 if a else 0
        return binate, with_binate, with_unate, best, missing_value

    def tautology(self, rows: int, inputs: list[int]) -> bool:
        """Do the cubes in ``rows``, with every input outside ``inputs`` made free, hold every
        point?  :meth:`missed_point` without building the point."""
        while True:
            if not rows:
                return False
            binate, with_binate, with_unate, best, _ = self._inputs_of(rows, inputs)
            if rows & ~(with_binate | with_unate):
                return True  # a cube with no literal left: the universe
            if not with_unate:
                break
            rows, inputs = rows & ~with_unate, binate
        rest = [i for i in binate if i != best]
        low, high = rows & ~self.ones[best], rows & ~self.zeros[best]
        if low.bit_count() > high.bit_count():
            low, high = high, low
        return self.tautology(low, rest) and self.tautology(high, rest)

    def missed_point(self, rows: int, inputs: list[int]) -> dict[int, int] | None:
        """A point that the cubes in ``rows`` (every input outside ``inputs`` made free) miss,
        as {input: value} for the inputs it needs (any value elsewhere); None when they miss
        none.  Unate inputs drop the cubes that fix them (the point takes the other value);
        then split on the most binate input, the smaller half first (it misses sooner)."""
        zeros, ones = self.zeros, self.ones
        point: dict[int, int] = {}
        while True:
            if not rows:
                return point
            binate, with_binate, with_unate, best, missing_value = self._inputs_of(rows, inputs)
            if rows & ~(with_binate | with_unate):
                return None  # a cube with no literal left: the universe
            if not with_unate:
                break
            point.update(missing_value)
            rows, inputs = rows & ~with_unate, binate
        rest = [i for i in binate if i != best]
        halves = [(0, rows & ~ones[best]), (1, rows & ~zeros[best])]
        if halves[0][1].bit_count() > halves[1][1].bit_count():
            halves.reverse()
        for value, half in halves:
            found = self.missed_point(half, rest)
            if found is not None:
                return {**point, best: value, **found}
        return None

    def sccc(self, rows: int, inputs: list[int]) -> int | None:
        """The smallest cube holding the points that the cubes in ``rows`` (with every input
        outside ``inputs`` made free) miss, as an int of two bits per input; None when they
        miss none.  ESPRESSO's ``sccc``: its special cases, then a split on a binate input."""
        if not rows:
            return self.full
        zeros, ones = self.zeros, self.ones
        binate, same, held, best, best_count = [], [], 0, -1, -1
        for i in inputs:
            a, b = rows & zeros[i], rows & ones[i]
            held |= a | b
            if a and b:
                binate.append(i)
                if (a | b).bit_count() > best_count:
                    best, best_count = i, (a | b).bit_count()
            elif a == rows or b == rows:
                same.append((i, 0 if a else 1))
        if rows & ~held:
            return None  # a cube with no literal left: the universe
        if not binate:
            return self._sccc_unate(rows, inputs)
        if same:  # every cube has the same literal there: its opposite half is all missed
            if len(same) > 1:
                return self.full
            i, v = same[0]
            half = self.full & ~(1 << (2 * i + v))
            inner = self.sccc(rows, [x for x in inputs if x != i])
            return half if inner is None else self.full  # both halves reached: every input free
        rest = [x for x in inputs if x != best]
        out = None
        for value, allowed in ((0, rows & ~ones[best]), (1, rows & ~zeros[best])):
            part = self.sccc(allowed, rest)
            if part is not None:
                part &= ~(1 << (2 * best + 1 - value))  # inside the half x = value
                out = part if out is None else out | part
                if out == self.full:
                    break
        return out

    def _sccc_unate(self, rows: int, inputs: list[int]) -> int:
        """Unate cubes miss the points outside each single-literal cube: the cube of the
        opposite literals of those (nothing else narrows it)."""
        single, more = 0, 0
        for i in inputs:
            lit = rows & (self.zeros[i] | self.ones[i])
            more |= single & lit
            single |= lit
        single &= ~more
        out = self.full
        for i in inputs:
            if single & self.zeros[i]:
                out &= ~(1 << (2 * i))
            elif single & self.ones[i]:
                out &= ~(1 << (2 * i + 1))
        return out
