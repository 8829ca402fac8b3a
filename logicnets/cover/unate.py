"""Tautology and complement by the unate recursive paradigm, on single-output covers.

Why recursive: a cover is a tautology (or has a complement) that can be read off directly when it
is unate, and splitting on the most binate input (Shannon: ``F = x F_x + x' F_x'``) makes both
cofactors smaller and more unate.  Nothing here enumerates rows, so the cost follows the cover,
not 2^n.  The covers are the input words of :class:`.CubeSpace` covers (``(k, space.wi)`` arrays);
the output part plays no role for one output.

>>> from .cubes import CubeSpace
>>> sp = CubeSpace(2, 1)
>>> F = sp.from_strings(["1-", "01"], ["1", "1"])[:, : sp.wi]
>>> tautology(sp, F), tautology(sp, np.vstack([F, sp.from_strings(["00"], ["1"])[:, : sp.wi]]))
(False, True)
>>> [a for a, _ in sp.to_strings(np.hstack([complement(sp, F), np.ones((1, 1), np.uint64)]))]
['00']
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import LogicError
from .cubes import CubeSpace
from .small import SMALL_CUBES, OutOfBudget, complement_ints, from_ints, sccc_ints, tautology_ints, to_ints

__all__ = ["CoverLimitError", "complement", "supercube_of_complement", "tautology"]

_ONE = np.uint64(1)


class CoverLimitError(LogicError):
    """A complement grew past the cube budget (ESPRESSO's complement can explode too)."""


def _literal_counts(sp: CubeSpace, F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per input: how many cubes have the literal x=0 and how many x=1."""
    lit0 = F & ~(F >> _ONE) & sp.zero_bits
    lit1 = (F >> _ONE) & ~F & sp.zero_bits
    bits0 = np.unpackbits(np.ascontiguousarray(lit0.astype("<u8")).view(np.uint8), axis=1, bitorder="little")
    bits1 = np.unpackbits(np.ascontiguousarray(lit1.astype("<u8")).view(np.uint8), axis=1, bitorder="little")
    n2 = 2 * sp.n
    return bits0[:, :n2:2].sum(axis=0, dtype=np.int64), bits1[:, :n2:2].sum(axis=0, dtype=np.int64)


def _split_input(zeros: np.ndarray, ones: np.ndarray) -> int:
    """ESPRESSO's choice: the most binate input (most literals, then most balanced)."""
    binate = (zeros > 0) & (ones > 0)
    score = np.where(binate, (zeros + ones) * 1_000_000 - np.abs(zeros - ones), -1)
    if score.max() < 0:
        score = zeros + ones
    return int(np.argmax(score))


def cofactor_input(sp: CubeSpace, F: np.ndarray, i: int, value: int) -> np.ndarray:
    """Cubes of ``F`` that allow input ``i`` = ``value``, with that input made free."""
    word, bit = divmod(2 * i, 64)
    allowed = (F[:, word] >> np.uint64(bit + value)) & _ONE
    out = F[allowed.astype(bool)].copy()
    out[:, word] |= np.uint64(3 << bit)
    return out


def _universal(sp: CubeSpace) -> np.ndarray:
    return sp.full[: sp.wi]


def _volume_below_one(sp: CubeSpace, F: np.ndarray) -> bool:
    """The cubes' sizes add up to less than the whole space: cannot be a tautology."""
    free = sp.free_inputs(F)
    return float(np.exp2(free.astype(np.float64) - sp.n).sum()) < 1.0 - 1e-12


def tautology(sp: CubeSpace, F: np.ndarray) -> bool:
    """Does the single-output cover ``F`` (input words only) hold every input point?"""
    while True:
        if len(F) <= SMALL_CUBES:
            return tautology_ints(to_ints(F), *sp.int_masks, sp.n)
        if len(F) == 0:
            return False
        if (_universal(sp) == F).all(axis=1).any():
            return True
        if _volume_below_one(sp, F):
            return False
        zeros, ones = _literal_counts(sp, F)
        unate = ((zeros > 0) ^ (ones > 0)).nonzero()[0]
        if len(unate) == sp.n or not ((zeros > 0) & (ones > 0)).any():
            return False  # unate without the universal cube
        if len(unate):
            # A cube with a unate literal can be dropped: setting that input against it removes it
            # and keeps the rest, so F is a tautology iff the cubes free in every unate input are.
            F = F[_free_in(sp, F, unate)]
            continue
        i = _split_input(zeros, ones)
        halves = sorted((cofactor_input(sp, F, i, 0), cofactor_input(sp, F, i, 1)), key=len)
        return all(tautology(sp, half) for half in halves)  # the smaller half fails sooner


def _free_in(sp: CubeSpace, F: np.ndarray, inputs: np.ndarray) -> np.ndarray:
    mask = np.zeros(sp.wi, dtype=np.uint64)
    for i in inputs.tolist():
        word, bit = divmod(2 * i, 64)
        mask[word] |= np.uint64(3 << bit)
    return ((F & mask) == mask).all(axis=1)


def _cube_complement(sp: CubeSpace, c: np.ndarray) -> np.ndarray:
    """De Morgan: one cube per literal of ``c``, holding the opposite literal."""
    codes = sp.input_codes(np.hstack([c[None], np.zeros((1, sp.wo), np.uint64)]))[0]
    lits = np.flatnonzero(codes < 2)
    out = np.repeat(_universal(sp)[None], len(lits), axis=0)
    for r, i in enumerate(lits.tolist()):
        word, bit = divmod(2 * i, 64)
        out[r, word] &= ~np.uint64(1 << (bit + int(codes[i])))
    return out


#: Default bound on a complement's cubes; its recursion may take ``STEPS_PER_CUBE`` times as
#: many steps (cordic's OFF set, 5313 cubes, takes about 300,000).
COMPLEMENT_LIMIT = 200_000
STEPS_PER_CUBE = 5


def complement(sp: CubeSpace, F: np.ndarray, limit: int = COMPLEMENT_LIMIT) -> np.ndarray:
    """A cover of the points that the single-output cover ``F`` misses (input words only).

    Raises :class:`CoverLimitError` as soon as the result passes ``limit`` cubes or the work
    ``STEPS_PER_CUBE * limit`` recursive steps: a complement can grow exponentially, and then
    it should stop early.  Groups of cubes that share no input with the others are
    complemented apart first (ESPRESSO's partition, here as a bound): the complement is the
    product of the groups' complements, so their sizes' product bounds it before it is built,
    and ``x0 x1 + x2 x3 + ... + x128 x129`` (2^65 cubes) stops at once.
    """
    steps, most = [0], STEPS_PER_CUBE * limit

    def rec(F: np.ndarray) -> np.ndarray:
        steps[0] += 1
        if steps[0] > most:
            raise CoverLimitError(f"the complement needs more than {most} steps (limit {limit} cubes)")
        if len(F) == 0:
            return _universal(sp)[None].copy()
        full = _universal(sp)
        if (full == F).all(axis=1).any():
            return np.zeros((0, sp.wi), dtype=np.uint64)
        if len(F) <= SMALL_CUBES:
            budget = [most - steps[0]]
            try:
                got = complement_ints(to_ints(F), *sp.int_masks, budget, limit)
            except OutOfBudget:
                raise CoverLimitError(f"the complement needs more than {most} steps or {limit} cubes") from None
            steps[0] = most - budget[0]
            return from_ints(got, sp.wi)
        ceil = np.bitwise_or.reduce(F, axis=0)
        if not (ceil == full).all():
            # every cube fixes some inputs the same way: F = ceil & F', so F' = ceil' + ceil & (F')'
            return np.vstack([_cube_complement(sp, ceil), rec(F | (full & ~ceil)) & ceil])
        zeros, ones = _literal_counts(sp, F)
        i = _split_input(zeros, ones)
        out = _merge(sp, rec(cofactor_input(sp, F, i, 0)), rec(cofactor_input(sp, F, i, 1)), i)
        if len(out) > limit:
            raise CoverLimitError(f"the complement has more than {limit} cubes")
        return out

    parts = _partition(sp, F) if len(F) > 1 else [F]
    if len(parts) > 1 and math.prod(len(rec(part)) for part in parts) > limit:
        raise CoverLimitError(f"the complement has more than {limit} cubes")
    return rec(F)


def _partition(sp: CubeSpace, F: np.ndarray) -> list[np.ndarray]:
    """The cubes of ``F`` in groups that share no input with each other (connected by shared
    literals); one group when everything is connected."""
    codes = sp.input_codes(np.hstack([F, np.zeros((len(F), sp.wo), np.uint64)]))
    supports = [sum(1 << i for i in np.flatnonzero(row < 2).tolist()) for row in codes]
    groups: list[tuple[int, list[int]]] = []
    for j, support in enumerate(supports):
        joined, rows, rest = support, [j], []
        for group in groups:
            if group[0] & joined:
                joined, rows = joined | group[0], rows + group[1]
            else:
                rest.append(group)
        groups = [*rest, (joined, rows)]
    return [F[sorted(rows)] for _, rows in groups]


def _merge(sp: CubeSpace, c0: np.ndarray, c1: np.ndarray, i: int) -> np.ndarray:
    """``x' C0 + x C1``, with a cube found in both kept once and free in ``x``."""
    word, bit = divmod(2 * i, 64)
    both, only0, only1 = _common_rows(c0, c1)
    lit0, lit1 = c0[only0].copy(), c1[only1].copy()
    lit0[:, word] &= ~np.uint64(2 << bit)
    lit1[:, word] &= ~np.uint64(1 << bit)
    out = np.vstack([c0[both], lit0, lit1])
    if len(out) > 1 and ((len(lit0) and len(both)) or (len(lit1) and len(both))):
        out = _drop_contained_inputs(out)
    return out


def _common_rows(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of ``a`` also in ``b`` (mask on a), rows of a not in b, rows of b not in a."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros(len(a), bool), np.ones(len(a), bool), np.ones(len(b), bool)
    dt = np.dtype((np.void, a.dtype.itemsize * a.shape[1]))
    va, vb = np.ascontiguousarray(a).view(dt).ravel(), np.ascontiguousarray(b).view(dt).ravel()
    in_b = np.isin(va, vb)
    in_a = np.isin(vb, va)
    return in_b, ~in_b, ~in_a


def _drop_contained_inputs(F: np.ndarray) -> np.ndarray:
    """Drop cubes inside another cube of ``F`` (input words only)."""
    size = np.bitwise_count(F).sum(axis=1)
    F = F[np.argsort(-size, kind="stable")]
    keep = np.ones(len(F), dtype=bool)
    for j in range(len(F)):
        if keep[j]:
            keep[j + 1 :] &= (F[j + 1 :] & ~F[j]).any(axis=1)
    return F[keep]


def _sccc_of_cubes(sp: CubeSpace, F: np.ndarray) -> np.ndarray:
    """SCCC of a unate cover: each one-literal cube confines the complement to the other
    literal; cubes with more literals confine nothing (ESPRESSO's ``sccc_cube``)."""
    full = sp.full[: sp.wi]
    lits = sp.n - sp.free_inputs(F)
    single = F[lits == 1]
    if not len(single):
        return full.copy()
    fields = ~(single & (single >> _ONE)) & sp.zero_bits  # the even bit of the one literal
    flipped = single ^ (fields | (fields << _ONE))
    return np.bitwise_and.reduce(flipped, axis=0) & full


def _from_int(value: int, words: int) -> np.ndarray:
    return np.frombuffer(value.to_bytes(8 * words, "little"), dtype="<u8").astype(np.uint64)


def supercube_of_complement(sp: CubeSpace, F: np.ndarray) -> np.ndarray | None:
    """The smallest cube holding every point that ``F`` (input words) misses; None if none.

    ESPRESSO's ``sccc``: the special cases (unate cover, an input every cube fixes the same
    way) are read off directly; otherwise split on the most binate input, stopping as soon
    as the result is the whole space.
    """
    full = sp.full[: sp.wi]
    if len(F) <= SMALL_CUBES:
        got = sccc_ints(to_ints(F), *sp.int_masks)
        return None if got is None else _from_int(got, sp.wi)
    if len(F) == 0:
        return full.copy()
    if (full == F).all(axis=1).any():
        return None
    zeros, ones = _literal_counts(sp, F)
    if not ((zeros > 0) & (ones > 0)).any():
        out = _sccc_of_cubes(sp, F)
        return None if sp.empty_inputs(out[None])[0] else out
    ceil = np.bitwise_or.reduce(F, axis=0)
    if not (ceil == full).all():
        fixed = _sccc_of_cubes(sp, ceil[None])
        if (fixed == full).all():
            return fixed  # two inputs fixed by every cube: the complement spans everything
        inner = supercube_of_complement(sp, F | (full & ~ceil))
        return fixed if inner is None else (inner & ceil) | fixed
    i = _split_input(zeros, ones)
    word, bit = divmod(2 * i, 64)
    result = None
    for value in (0, 1):
        part = supercube_of_complement(sp, cofactor_input(sp, F, i, value))
        if part is None:
            continue
        part = part.copy()
        part[word] &= ~np.uint64(1 << (bit + 1 - value))
        result = part if result is None else result | part
        if (result == full).all():
            return result
    return result
