"""Multi-output, don't-care aware two-level minimization (ESPRESSO's loop on row bitsets).

Why: one network per output wastes hidden neurons that several outputs could
share, and ignoring don't-cares wastes more.  A cube is ``Cube(pos, neg, outs,
rows)``: literal masks (bit i = input i), the outputs it feeds and its row
bitset.  It is valid when it meets no OFF row of any output it feeds.  The loop
is ESPRESSO's: expand every cube to a prime (drop literals greedily, keeping
the most ON rows, then feed every further output it may), drop redundant cubes
and output parts (irredundant), shrink each cube to what only it covers
(reduce), expand again, and stop when the cube count no longer falls.  Finally
the cubes seen along the way form a pool from which an integer program picks a
smallest cover (exact over the pool; over all primes when the pool holds them).

>>> from logicnets.incomplete import IncompleteFunction
>>> f = IncompleteFunction.from_cubes(["a", "b", "c"], ["y", "z"],
...     on=[("11-", 0b11), ("1-1", 0b01)], dc=[("0-1", 0b01)])
>>> sorted(cube_text(c, 3, 2) for c in minimize_cover(f).cubes)
['--1 10', '11- 11']
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import NamedTuple, Sequence

import numpy as np

from .incomplete import IncompleteFunction, cube_rows, variable_planes

__all__ = ["Cube", "CoverResult", "minimize_cover", "cover_is_valid", "cube_text"]


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


class _Space:
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
        for i, (pl, npl) in enumerate(zip(self.planes, self.nplanes)):
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


def _cost(cubes: Sequence[Cube]) -> tuple[int, int]:
    return len(cubes), sum((c.pos | c.neg).bit_count() for c in cubes)


def _rows_index(rows: int, nrows: int) -> np.ndarray:
    raw = np.frombuffer(rows.to_bytes((nrows + 7) // 8, "little"), dtype=np.uint8)
    return np.flatnonzero(np.unpackbits(raw, bitorder="little")[:nrows])


def _cube_indices(c: Cube, n: int) -> np.ndarray:
    """Row numbers of a cube, built from its literals (no pass over all 2^n rows)."""
    base = sum(1 << (n - 1 - i) for i in range(n) if c.pos >> i & 1)
    idx = np.array([base], dtype=np.int64)
    for i in range(n):
        if not (c.pos | c.neg) >> i & 1:
            idx = np.concatenate([idx, idx + (1 << (n - 1 - i))])
    return idx


def _pool_cover(sp: _Space, pool: list[Cube], time_limit: float) -> list[Cube] | None:
    """Smallest sub-cover of ``pool`` by an integer program (rows = classes of ON pairs)."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csc_matrix
    nrows = 1 << sp.n
    rng = np.random.default_rng(0)
    keys = rng.integers(1, 2 ** 63, size=len(pool), dtype=np.uint64)
    constraints: dict[int, list[int]] = {}
    order: list[int] = []
    cube_idx = [_cube_indices(c, sp.n) for c in pool]
    for k in range(sp.m):
        members = [j for j, c in enumerate(pool) if c.outs >> k & 1]
        on_mask = np.zeros(nrows, dtype=bool)
        on = _rows_index(sp.on[k], nrows)
        if on.size == 0:
            continue
        on_mask[on] = True
        sig = np.zeros(nrows, dtype=np.uint64)
        for j in members:
            sig[cube_idx[j]] += keys[j]
        vals, first = np.unique(sig[on], return_index=True)
        if (vals == 0).any():
            return None  # some ON pair is covered by no pool cube
        rowid = np.full(nrows, -1, dtype=np.int64)
        for row, v in zip(on[first].tolist(), vals.tolist()):
            if v not in constraints:
                constraints[v] = []
                rowid[row] = len(constraints) - 1
                order.append(v)
        for j in members:
            hit = rowid[cube_idx[j]]
            for cid in hit[hit >= 0].tolist():
                constraints[order[cid]].append(j)
    cols = [j for lst in constraints.values() for j in lst]
    rows = [i for i, lst in enumerate(constraints.values()) for _ in lst]
    A = csc_matrix((np.ones(len(cols)), (rows, cols)), shape=(len(constraints), len(pool)))
    lits = np.array([(c.pos | c.neg).bit_count() for c in pool], dtype=float)
    cost = 1.0 + lits / (sp.n * len(pool) + 1.0)
    res = milp(cost, constraints=[LinearConstraint(A, lb=1, ub=np.inf)], integrality=np.ones(len(pool)),
               bounds=Bounds(0, 1), options={"time_limit": time_limit, "disp": False})
    if res.x is None:
        return None
    chosen = [pool[j] for j in np.flatnonzero(np.round(res.x) > 0.5)]
    return chosen, res.status == 0


#: The pool program works on dense per-output row arrays: skipped beyond this many (row, output) cells.
POOL_MAX_CELLS = 1 << 23

#: Up to this many inputs a second start (ON rows expanded one by one) is tried too; above,
#: the PLA's own cubes start alone (the second start rarely won there and cost the most time).
SECOND_START_VARS = 12

#: Up to this many inputs every output's prime implicants (3^n cells) join the pool.
PRIME_POOL_VARS = 11


def _single_output_primes(sp: _Space) -> list[Cube]:
    """Each output's primes of ON | DC, each feeding every output it may (exact candidates)."""
    from .minimize import prime_implicants
    from .truthtable import TruthTable
    n = sp.n
    out = []
    nrows = 1 << n
    for k in range(sp.m):
        care = sp.on[k] | sp.f.dc[k]
        if not sp.on[k]:
            continue
        bits = np.unpackbits(np.frombuffer(care.to_bytes((nrows + 7) // 8, "little"), np.uint8),
                             bitorder="little")[:nrows].astype(bool)
        table = TruthTable(tuple(f"x{i}" for i in range(n)), bits)
        for row in prime_implicants(table):
            pos = sum(1 << i for i in range(n) if row[i] == 1)
            neg = sum(1 << i for i in range(n) if row[i] == 0)
            rows = cube_rows(pos, neg, n)
            if not rows & sp.on[k]:
                continue
            outs = 0
            for o in range(sp.m):
                if rows & sp.on[o] and not rows & sp.off[o]:
                    outs |= 1 << o
            out.append(Cube(pos, neg, outs, rows))
    return out


def cover_is_valid(f: IncompleteFunction, cubes: Sequence[Cube]) -> bool:
    """Every cube avoids the OFF rows it feeds and every ON row is covered."""
    covered = [0] * f.n_outputs
    for c in cubes:
        if c.rows != cube_rows(c.pos, c.neg, f.n_inputs):
            return False
        for k in range(f.n_outputs):
            if c.outs >> k & 1:
                if c.rows & f.off[k]:
                    return False
                covered[k] |= c.rows
    return all(not (on & ~cov) for on, cov in zip(f.on, covered))


def minimize_cover(f: IncompleteFunction, *, max_iterations: int = 20, pool_ilp: bool = True,
                   time_limit: float = 10.0) -> CoverResult:
    """A small multi-output cover of ``f`` (prime cubes, irredundant); not proven minimal."""
    t0 = time.perf_counter()
    sp = _Space(f)
    n = f.n_inputs
    seen: dict = {}
    starts = []
    if f.cubes:
        starts.append([Cube(p, q, o, cube_rows(p, q, n)) for p, q, o in f.cubes])
    if not starts or n <= SECOND_START_VARS:
        starts.append(sp.minterm_start())
    best = None
    iterations = 0
    for start in starts:
        F = sp.irredundant(sp.expand(start, seen))
        cost = _cost(F)
        stale = 0
        while iterations < max_iterations and stale < 2:
            iterations += 1
            G = sp.irredundant(sp.expand(sp.reduce(F), seen))
            c2 = _cost(G)
            if c2 < cost:
                F, cost, stale = G, c2, 0
            else:
                stale += 1
        if best is None or cost < _cost(best):
            best = F
    method = "expand/irredundant/reduce"
    if n <= PRIME_POOL_VARS:
        for c in _single_output_primes(sp):
            seen.setdefault((c.pos, c.neg), c)
    if pool_ilp and len(seen) > len(best) and (1 << n) * f.n_outputs <= POOL_MAX_CELLS:
        pool = [sp.expand_one(c) if (c.pos, c.neg) not in seen else seen[(c.pos, c.neg)] for c in best]
        pool = list({(c.pos, c.neg): c for c in list(seen.values()) + pool}.values())
        # the program may not cost much more than the loop did (ESPRESSO-class speed)
        budget = min(time_limit, max(0.3, 2.0 * (time.perf_counter() - t0)))
        got = _pool_cover(sp, pool, budget)
        if got is not None:
            chosen, optimal = got
            chosen = sp.irredundant(chosen)
            if _cost(chosen) < _cost(best) and cover_is_valid(f, chosen):
                best = chosen
                method += " + cover of the prime pool (HiGHS)"
            if n <= PRIME_POOL_VARS and f.n_outputs == 1 and optimal and len(chosen) >= len(best):
                method += "; minimal (exact cover of all primes)"
    return CoverResult(best, method, time.perf_counter() - t0, iterations)
