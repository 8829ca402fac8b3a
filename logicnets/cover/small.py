"""Tautology, complement and the supercube of a complement on small covers held as Python ints.

Why: the recursions of :mod:`.unate` end in very many tiny covers (a few cubes), where a numpy
call costs more than the work.  A cube as one Python int (the same two bits per input) makes
each step a handful of integer operations.  Same algorithms, same answers (tested against the
numpy versions).
"""

from __future__ import annotations

import numpy as np

__all__ = ["SMALL_CUBES", "OutOfBudget", "complement_ints", "from_ints", "sccc_ints", "tautology_ints", "to_ints"]

#: Covers up to this many cubes take the integer path.
SMALL_CUBES = 64


def to_ints(F: np.ndarray) -> list[int]:
    """Each row of input words as one int (word 0 least significant)."""
    width = 8 * F.shape[1] if F.ndim == 2 else 8
    raw = np.ascontiguousarray(F, dtype="<u8").tobytes()
    return [int.from_bytes(raw[i : i + width], "little") for i in range(0, len(raw), width)]


def from_ints(cubes: list[int], words: int) -> np.ndarray:
    """The rows of :func:`to_ints` back as a ``(len(cubes), words)`` uint64 array."""
    raw = b"".join(c.to_bytes(8 * words, "little") for c in cubes)
    return np.frombuffer(raw, dtype="<u8").astype(np.uint64).reshape(len(cubes), words)


def _literals(cubes: list[int], zero: int) -> tuple[int, int]:
    lit0 = lit1 = 0
    for c in cubes:
        lit0 |= c & ~(c >> 1) & zero
        lit1 |= (c >> 1) & ~c & zero
    return lit0, lit1


def _split(cubes: list[int], binate: int) -> int:
    """The even bit of the binate input that the most cubes fix."""
    best, best_count = 0, -1
    b = binate
    while b:
        low = b & -b
        mask = low | low << 1
        count = sum(1 for c in cubes if c & mask != mask)
        if count > best_count:
            best, best_count = low, count
        b ^= low
    return best


def _cofactor(cubes: list[int], low: int, value: int) -> list[int]:
    """Cubes allowing ``value`` for the input whose even bit is ``low``, made free in it."""
    bit, both = low << value, low | low << 1
    return [c | both for c in cubes if c & bit]


def tautology_ints(cubes: list[int], zero: int, full: int, n: int) -> bool:
    """Is the cover a tautology?  ``zero``: the even bits of all inputs; ``full``: all bits."""
    while True:
        if not cubes:
            return False
        if full in cubes:
            return True
        if sum(1 << (c & (c >> 1) & zero).bit_count() for c in cubes) < 1 << n:
            return False
        lit0, lit1 = _literals(cubes, zero)
        binate = lit0 & lit1
        if not binate:
            return False
        unate = lit0 ^ lit1
        if unate:
            cubes = [c for c in cubes if not ((c & ~(c >> 1)) | ((c >> 1) & ~c)) & unate]
            continue
        low = _split(cubes, binate)
        halves = sorted((_cofactor(cubes, low, 0), _cofactor(cubes, low, 1)), key=len)
        return all(tautology_ints(half, zero, full, n) for half in halves)  # the smaller fails sooner


def _sccc_unate(cubes: list[int], zero: int, full: int) -> int:
    out = full
    for c in cubes:
        lits = ~(c & (c >> 1)) & zero
        if lits and not lits & (lits - 1):  # exactly one literal
            out &= c ^ (lits | lits << 1)
    return out


def sccc_ints(cubes: list[int], zero: int, full: int) -> int | None:
    """The smallest cube holding the points the cover misses; None when it misses none."""
    if not cubes:
        return full
    if full in cubes:
        return None
    lit0, lit1 = _literals(cubes, zero)
    binate = lit0 & lit1
    if not binate:
        out = _sccc_unate(cubes, zero, full)
        return None if ~(out | out >> 1) & zero else out
    ceil = 0
    for c in cubes:
        ceil |= c
    if ceil != full:
        fixed = _sccc_unate([ceil], zero, full)
        if fixed == full:
            return fixed
        inner = sccc_ints([c | (full & ~ceil) for c in cubes], zero, full)
        return fixed if inner is None else (inner & ceil) | fixed
    low = _split(cubes, binate)
    result = None
    for value in (0, 1):
        part = sccc_ints(_cofactor(cubes, low, value), zero, full)
        if part is None:
            continue
        part &= ~(low << (1 - value))  # inside the half x = value
        result = part if result is None else result | part
        if result == full:
            return result
    return result


def _cube_complement(c: int, zero: int, full: int) -> list[int]:
    """De Morgan: one cube per literal of ``c``, holding the opposite literal."""
    out = []
    lits = ~(c & (c >> 1)) & zero
    while lits:
        low = lits & -lits
        out.append(full & ~(c & (low | low << 1)))
        lits ^= low
    return out


def _lift(side: list[int], other: list[int], literal: int) -> list[int]:
    """ESPRESSO's ``compl_lift``: a cube of one half's complement inside a cube of the other's
    holds its points in both halves, so it stays free in the split input; the others get
    ``literal`` (the cubes of both halves are free in that input)."""
    return [a if any(a & ~b == 0 for b in other) else a & literal for a in side]


def _merge(c0: list[int], c1: list[int], low: int, full: int) -> list[int]:
    """``x' C0 + x C1``: cubes in both halves kept once, the others lifted where the other
    half holds them, else given the literal of their half."""
    common = set(c0) & set(c1)
    only0 = _lift([c for c in c0 if c not in common], c1, full & ~(low << 1))
    only1 = _lift([c for c in c1 if c not in common], c0, full & ~low)
    return list(dict.fromkeys([*common, *only0, *only1]))


class OutOfBudget(Exception):
    """A complement took more recursion steps, or grew to more cubes, than its budget."""


def complement_ints(cubes: list[int], zero: int, full: int, budget: list[int], most: int | None = None) -> list[int]:
    """A cover of the points the cover misses (ESPRESSO's ``complement``: its special cases,
    the split on the most binate input, then merge with lifting).

    ``budget`` is a one-item list: recursion steps left; ``most`` the most cubes any part may
    have (default: the steps left).  Raises :class:`OutOfBudget` when either runs out.
    """
    budget[0] -= 1
    if budget[0] < 0:
        raise OutOfBudget
    if not cubes:
        return [full]
    if full in cubes:
        return []
    if len(cubes) == 1:
        return _cube_complement(cubes[0], zero, full)
    ceil = 0
    for c in cubes:
        ceil |= c
    if ceil != full:  # every cube fixes some inputs the same way: factor them out
        inner = complement_ints([c | (full & ~ceil) for c in cubes], zero, full, budget, most)
        return _cube_complement(ceil, zero, full) + [c & ceil for c in inner]
    lit0, lit1 = _literals(cubes, zero)
    low = _split(cubes, lit0 & lit1 or lit0 | lit1)
    c0 = complement_ints(_cofactor(cubes, low, 0), zero, full, budget, most)
    c1 = complement_ints(_cofactor(cubes, low, 1), zero, full, budget, most)
    out = _merge(c0, c1, low, full)
    if len(out) > (budget[0] if most is None else most):
        raise OutOfBudget
    return out
