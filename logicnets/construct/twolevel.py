"""Multi-output, don't-care aware two-level minimization (ESPRESSO's loop on row bitsets).

Why: one network per output wastes hidden neurons that several outputs could
share, and ignoring don't-cares wastes more.  Cubes and the steps on them are
in :mod:`.cubes`.  The loop is ESPRESSO's: expand every cube to a prime (drop literals greedily, keeping
the most ON rows, then feed every further output it may), drop redundant cubes
and output parts (irredundant), shrink each cube to what only it covers
(reduce), expand again, and stop when the cube count no longer falls.  Finally
the cubes seen along the way form a pool from which an integer program picks a
smallest cover (exact over the pool; over all primes when the pool holds them).

>>> from logicnets.construct.cubes import cube_text
>>> from logicnets.pla.function import IncompleteFunction
>>> f = IncompleteFunction.from_cubes(["a", "b", "c"], ["y", "z"],
...     on=[("11-", 0b11), ("1-1", 0b01)], dc=[("0-1", 0b01)])
>>> sorted(cube_text(c, 3, 2) for c in minimize_cover(f).cubes)
['--1 10', '11- 11']
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from ..formula.minimize import prime_implicants
from ..pla.function import IncompleteFunction, cube_rows
from .cubes import CoverResult, Cube, Space

__all__ = [
    "POOL_MAX_CELLS",
    "POOL_MAX_MATRIX",
    "PRIME_POOL_VARS",
    "SECOND_START_VARS",
    "cover_is_valid",
    "minimize_cover",
]


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


def _pool_cover(sp: Space, pool: list[Cube]) -> list[Cube] | None:
    """Smallest sub-cover of ``pool`` by an integer program (rows = classes of ON pairs)."""
    from ..cover.pool import solve_cover

    if sum(x.bit_count() for x in sp.on) * len(pool) > POOL_MAX_MATRIX or len(pool) > POOL_MAX_PRIMES:
        return None  # the program's matrix (up to one row per ON point) would pass its bound
    nrows = 1 << sp.n
    rng = np.random.default_rng(0)
    keys = rng.integers(1, 2**63, size=len(pool), dtype=np.uint64)
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
        for row, v in zip(on[first].tolist(), vals.tolist(), strict=True):
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
    A = np.zeros((len(constraints), len(pool)), dtype=bool)
    A[rows, cols] = True
    lits = np.array([(c.pos | c.neg).bit_count() for c in pool], dtype=float)
    cost = 1.0 + lits / (sp.n * len(pool) + 1.0)
    picked, optimal = solve_cover(A, cost)
    if picked is None:
        return None
    return [pool[j] for j in np.flatnonzero(picked)], optimal


#: The pool program over more primes than this is not tried: its root node alone can take
#: longer than the whole compile should (ex1010, a random function of 10 inputs: 8801 primes,
#: 14 s for one node).  The suite's shared PLAs have at most 1998.
POOL_MAX_PRIMES = 4000

#: The pool program works on dense per-output row arrays: skipped beyond this many (row, output) cells.
POOL_MAX_CELLS = 1 << 23

#: The pool program's matrix, ON (row, output) points x pool cubes, at most: it grows with the
#: square of the outputs (both factors do), and past this the loop's cover is kept.  The suite's
#: largest is prom2's 6e6; 128 random outputs of 10 inputs asked for 5e8 cells and 4 GB.
POOL_MAX_MATRIX = 1 << 24

#: Up to this many inputs a second start (ON rows expanded one by one) is tried too; above,
#: the PLA's own cubes start alone (the second start rarely won there and cost the most time).
SECOND_START_VARS = 12

#: Up to this many inputs every output's prime implicants (3^n cells) join the pool.
PRIME_POOL_VARS = 11

#: Up to this many (row, output) cells a packing bound is tried first: when it proves the loop's
#: cover smallest over the pool, the integer program (and scipy's import, ~0.3 s) is spared.
PACKING_MAX_CELLS = 1 << 12


def _packing_bound(sp: Space, pool: Sequence[Cube]) -> int:
    """ON (row, output) points no two of which one pool cube covers: no cover taken from the
    pool has fewer cubes than that.

    Greedy, the points with the fewest covering cubes first; each point kept forbids, per
    output, the rows of every cube that covers it.
    """
    nrows = 1 << sp.n

    def bits(x: int) -> np.ndarray:
        raw = np.frombuffer(x.to_bytes((nrows + 7) // 8, "little"), dtype=np.uint8)
        return np.unpackbits(raw, bitorder="little")[:nrows].astype(bool)

    rows = np.array([bits(c.rows) for c in pool])  # (cubes, rows)
    feeds = np.array([[c.outs >> k & 1 for k in range(sp.m)] for c in pool], dtype=bool)  # (cubes, outputs)
    on = np.array([bits(x) for x in sp.on])  # (outputs, rows)
    count = feeds.T.astype(np.int32) @ rows.astype(np.int32)
    ks, rs = np.nonzero(on)
    forbidden = np.zeros_like(on)
    kept = 0
    for i in np.argsort(count[ks, rs], kind="stable").tolist():
        k, r = ks[i], rs[i]
        if forbidden[k, r]:
            continue
        kept += 1
        hit = feeds[:, k] & rows[:, r]
        forbidden |= (feeds[hit].T.astype(np.int32) @ rows[hit].astype(np.int32)) > 0
    return kept


def _bit_matrix(sets: Sequence[int], nrows: int) -> np.ndarray:
    """Row bitsets (Python ints) as a (sets, nrows) boolean matrix."""
    raw = b"".join(x.to_bytes((nrows + 7) // 8, "little") for x in sets)
    bits = np.unpackbits(np.frombuffer(raw, np.uint8).reshape(len(sets), -1), axis=1, bitorder="little")
    return bits[:, :nrows].astype(bool)


def _single_output_primes(sp: Space) -> list[Cube]:
    """Each output's primes of ON | DC, each feeding every output it may (exact candidates).

    Outputs with the same ON | DC share their primes, and the outputs a prime may feed are
    found for all outputs at once in numpy: no Python loop over outputs per prime.
    """
    n = sp.n
    nrows = 1 << n
    on, off = _bit_matrix(sp.on, nrows), _bit_matrix(sp.off, nrows)
    primes: dict[tuple[int, int], int] = {}  # (pos, neg) -> rows, first seen first
    by_care: dict[int, list[tuple[int, int, int]]] = {}
    for k in range(sp.m):
        if not sp.on[k]:
            continue
        care = sp.on[k] | sp.f.dc[k]
        if care not in by_care:
            bits = _bit_matrix([care], nrows)[0]
            found = []
            for row in prime_implicants(bits):
                pos = sum(1 << i for i in range(n) if row[i] == 1)
                neg = sum(1 << i for i in range(n) if row[i] == 0)
                found.append((pos, neg, cube_rows(pos, neg, n)))
            by_care[care] = found
        for pos, neg, rows in by_care[care]:
            if rows & sp.on[k]:
                primes.setdefault((pos, neg), rows)
    out = []
    for (pos, neg), rows in primes.items():
        idx = _rows_index(rows, nrows)
        feeds = on[:, idx].any(axis=1) & ~off[:, idx].any(axis=1)
        outs = int.from_bytes(np.packbits(feeds, bitorder="little").tobytes(), "little")
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
    return all(not (on & ~cov) for on, cov in zip(f.on, covered, strict=True))


def minimize_cover(f: IncompleteFunction, *, max_iterations: int = 20, pool_ilp: bool = True) -> CoverResult:
    """A small multi-output cover of ``f`` (prime cubes, irredundant); not proven minimal."""
    t0 = time.perf_counter()
    sp = Space(f)
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
    pool_fits = pool_ilp and (1 << n) * f.n_outputs <= POOL_MAX_CELLS
    on_points = sum(x.bit_count() for x in sp.on)
    if n <= PRIME_POOL_VARS and pool_fits and on_points * len(seen) <= POOL_MAX_MATRIX:
        for c in _single_output_primes(sp):
            seen.setdefault((c.pos, c.neg), c)
    if pool_fits and len(seen) > len(best):
        pool = [sp.expand_one(c) if (c.pos, c.neg) not in seen else seen[(c.pos, c.neg)] for c in best]
        pool = list({(c.pos, c.neg): c for c in list(seen.values()) + pool}.values())
        small = (1 << n) * f.n_outputs <= PACKING_MAX_CELLS
        got = (list(best), True) if small and _packing_bound(sp, pool) >= len(best) else None
        got = got or _pool_cover(sp, pool)
        if got is not None:
            chosen, optimal = got
            chosen = sp.irredundant(chosen)
            if _cost(chosen) < _cost(best) and cover_is_valid(f, chosen):
                best = chosen
                method += " + cover of the prime pool (HiGHS)"
            if n <= PRIME_POOL_VARS and f.n_outputs == 1 and optimal and len(chosen) >= len(best):
                method += "; minimal (exact cover of all primes)"
    return CoverResult(best, method, time.perf_counter() - t0, iterations)
