"""Cubes over row bitsets and ESPRESSO's steps on them: expand, irredundant, reduce.

A cube is ``Cube(pos, neg, outs, rows)``: literal masks (bit i = input i), the
outputs it feeds and its row bitset (:mod:`logicnets.pla.function`).  It is valid
when it meets no OFF row of any output it feeds.  :class:`Space` holds the function
and runs the steps; :mod:`.twolevel` loops them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from ..pla.function import IncompleteFunction, cube_rows, variable_planes

__all__ = ["CoverResult", "Cube", "Space", "cube_text"]


class Cube(NamedTuple):
    pos: int
    neg: int
    outs: int
    rows: int


@dataclass(frozen=True)
class CoverResult:
    cubes: list[Cube]
    method: str
    seconds: float
    iterations: int


def cube_text(c: Cube, n: int, m: int | None = None) -> str:
    """PLA-style text of a cube, e.g. ``'1-0 10'``."""
    m = m if m is not None else max(1, c.outs.bit_length())
    ins = "".join("1" if c.pos >> i & 1 else "0" if c.neg >> i & 1 else "-" for i in range(n))
    return ins + " " + "".join("1" if c.outs >> k & 1 else "0" for k in range(m))


class Space:
    """The function plus cached unions of OFF sets per output mask."""

    def __init__(self, f: IncompleteFunction) -> None:
        self.f = f
        self.n, self.m = f.n_inputs, f.n_outputs
        self.on, self.off = f.on, f.off
        self.planes = variable_planes(self.n)
        self.full = f.full
        self.nplanes = [self.full ^ p for p in self.planes]
        self.shift = [1 << (self.n - 1 - i) for i in range(self.n)]
        self._off_cache: dict[int, int] = {}

    def off_of(self, outs: int) -> int:
        v = self._off_cache.get(outs)
        if v is None:
            v = 0
            for k in range(self.m):
                if outs >> k & 1:
                    v |= self.off[k]
            self._off_cache[outs] = v
        return v

    def on_of(self, outs: int) -> int:
        v = 0
        for k in range(self.m):
            if outs >> k & 1:
                v |= self.on[k]
        return v

    def supercube(self, rows: int) -> tuple[int, int]:
        pos = neg = 0
        for i, (pl, npl) in enumerate(zip(self.planes, self.nplanes, strict=True)):
            if not rows & npl:
                pos |= 1 << i
            elif not rows & pl:
                neg |= 1 << i
        return pos, neg

    # ------------------------------------------------------------ expand
    def expand_one(self, c: Cube) -> Cube:
        pos, neg, outs, rows = c
        off = self.off_of(outs)
        target = self.on_of(outs)
        while True:
            best = None
            for i in range(self.n):
                bit = 1 << i
                if pos & bit:
                    new = rows | (rows >> self.shift[i])
                elif neg & bit:
                    new = rows | (rows << self.shift[i])
                else:
                    continue
                if new & off:
                    continue
                score = (new & target).bit_count()
                if best is None or score > best[0]:
                    best = (score, i, new)
            if best is None:
                break
            _, i, rows = best
            pos &= ~(1 << i)
            neg &= ~(1 << i)
        for k in range(self.m):
            if not outs >> k & 1 and rows & self.on[k] and not rows & self.off[k]:
                outs |= 1 << k
        return Cube(pos, neg, outs, rows)

    def expand(self, cubes: list[Cube], seen: dict | None = None) -> list[Cube]:
        order = sorted(cubes, key=lambda c: -c.rows.bit_count())
        out: list[Cube] = []
        union = [0] * self.m
        for c in order:
            if all(not (c.rows & ~union[k]) for k in range(self.m) if c.outs >> k & 1):
                continue  # every row it feeds is covered by expanded cubes already
            e = self.expand_one(c)
            if seen is not None:
                seen[(e.pos, e.neg)] = e
            for k in range(self.m):
                if e.outs >> k & 1:
                    union[k] |= e.rows
            out.append(e)
        return out

    # --------------------------------------------------- irredundant/reduce
    def _suffixes(self, cubes: Sequence[Cube]) -> list[list[int]]:
        """suffix[k][j] = union of rows of cubes j.. that feed output k."""
        n = len(cubes)
        suf = []
        for k in range(self.m):
            s = [0] * (n + 1)
            acc = 0
            for j in range(n - 1, -1, -1):
                if cubes[j].outs >> k & 1:
                    acc |= cubes[j].rows
                s[j] = acc
            suf.append(s)
        return suf

    def irredundant(self, cubes: list[Cube]) -> list[Cube]:
        order = sorted(cubes, key=lambda c: (c.rows.bit_count(), c.outs.bit_count()))
        suf = self._suffixes(order)
        prefix = [0] * self.m
        kept = []
        for j, c in enumerate(order):
            outs = 0
            for k in range(self.m):
                if c.outs >> k & 1 and c.rows & self.on[k] & ~(prefix[k] | suf[k][j + 1]):
                    outs |= 1 << k
            if outs:
                for k in range(self.m):
                    if outs >> k & 1:
                        prefix[k] |= c.rows
                kept.append(Cube(c.pos, c.neg, outs, c.rows))
        return kept

    def reduce(self, cubes: list[Cube]) -> list[Cube]:
        order = sorted(cubes, key=lambda c: -c.rows.bit_count())
        suf = self._suffixes(order)
        prefix = [0] * self.m
        out = []
        for j, c in enumerate(order):
            need_all = 0
            outs = 0
            for k in range(self.m):
                if c.outs >> k & 1:
                    need = c.rows & self.on[k] & ~(prefix[k] | suf[k][j + 1])
                    if need:
                        need_all |= need
                        outs |= 1 << k
            if not outs:
                continue
            pos, neg = self.supercube(need_all)
            r = cube_rows(pos, neg, self.n)
            for k in range(self.m):
                if outs >> k & 1:
                    prefix[k] |= r
            out.append(Cube(pos, neg, outs, r))
        return out

    # -------------------------------------------------------------- start
    def minterm_start(self) -> list[Cube]:
        """Expand uncovered ON rows one at a time (no 2^n minterm list)."""
        uncovered = list(self.on)
        cubes = []
        while True:
            k = next((k for k in range(self.m) if uncovered[k]), None)
            if k is None:
                return cubes
            row = (uncovered[k] & -uncovered[k]).bit_length() - 1
            pos = neg = 0
            outs = 0
            for o in range(self.m):
                if self.on[o] >> row & 1:
                    outs |= 1 << o
            for i in range(self.n):
                if row >> (self.n - 1 - i) & 1:
                    pos |= 1 << i
                else:
                    neg |= 1 << i
            e = self.expand_one(Cube(pos, neg, outs, 1 << row))
            cubes.append(e)
            for o in range(self.m):
                if e.outs >> o & 1:
                    uncovered[o] &= ~e.rows
