"""A smallest cover chosen from the primes ESPRESSO's loop has seen, by an integer program.

Why: the loop is a local search; among all the primes it expanded on the way there is often a
smaller cover than the one it ended with.  Choosing one is set cover, but over which points?
Enumerating ON points is exponential, so the points are generated lazily: start with one point
per ON cube and output, solve, then ask the covers (tautology of cofactors) for an ON point the
chosen primes miss, add it, and solve again, until none is missed.  The result is then a valid
cover; it is the smallest one over the pool when HiGHS proves its program optimal.

The work is bounded by counts (rounds, branch-and-bound nodes), not by the clock, so a PLA
gets the same cover on a fast machine and on a loaded one.
"""

from __future__ import annotations

import numpy as np

from .columns import Columns
from .cubes import CubeSpace
from .small import to_ints

__all__ = ["pool_cover", "solve_cover"]


def _points_as_cubes(sp: CubeSpace, codes: np.ndarray, outs: np.ndarray) -> np.ndarray:
    bits = np.zeros((len(codes), sp.m), dtype=np.uint8)
    bits[np.arange(len(codes)), outs] = 1
    return sp.from_codes(codes, bits)


def _first_points(sp: CubeSpace, F: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One point per (ON cube, output), free inputs drawn at random."""
    codes, outs = sp.input_codes(F), sp.output_bits(F)
    rows, ks = np.nonzero(outs)
    pts = codes[rows].copy()
    free = pts == 2
    pts[free] = rng.integers(0, 2, size=int(free.sum()))
    return _points_as_cubes(sp, pts, ks)


def _missed(sp: CubeSpace, F: np.ndarray, G: np.ndarray) -> list[np.ndarray]:
    """One point per (cube of ``F``, output) that ``G`` misses: the tautology of the cofactor
    by columns names it (inputs it leaves open take 0)."""
    cols, codes, out = Columns(sp, G), sp.input_codes(F), []
    for c_codes, c_out in zip(codes, to_ints(F[:, sp.wi :]), strict=True):
        rows, free = cols.meeting(c_codes), np.flatnonzero(c_codes == 2).tolist()
        for k in range(c_out.bit_length()):
            found = cols.missed_point(rows & cols.feeds[k], free) if c_out >> k & 1 else None
            if found is not None:
                point = np.where(c_codes == 2, 0, c_codes)
                point[list(found)] = list(found.values())
                out.append(_points_as_cubes(sp, point[None], np.array([k]))[0])
    return out


def _holding(sp: CubeSpace, pool: np.ndarray, points: np.ndarray) -> np.ndarray:
    """``(len(points), len(pool))`` booleans: which primes hold each point, in blocks of a few
    tens of MB."""
    out = np.zeros((len(points), len(pool)), dtype=bool)
    step = max(1, 2_000_000 // max(1, len(pool) * sp.words))
    for s in range(0, len(points), step):
        out[s : s + step] = ~(points[s : s + step, None, :] & ~pool[None]).any(axis=-1)
    return out


#: Up to this many candidate primes the set cover is first tried by branch and bound in
#: Python (at most ``SMALL_COVER_NODES`` nodes): exact, and no scipy import for small functions.
SMALL_COVER_COLUMNS = 64
SMALL_COVER_NODES = 20_000
#: Branch-and-bound nodes HiGHS may explore per program.
COVER_NODES = 500
#: Programs with more nonzeros than this are not solved (their root relaxation alone can take
#: tens of seconds); the loop's cover is kept.
COVER_NONZEROS = 140_000
#: A guard against a program that stalls; it does not bind on the suite's PLAs, and where it
#: would, the result could depend on the machine's speed.
COVER_SECONDS = 20.0


class _OutOfNodes(Exception):
    pass


def _branch_and_bound(rows: list[int], cost: np.ndarray) -> np.ndarray:
    """Cheapest set of columns (bitmask per row: the columns covering it) hitting every row."""
    best = [float("inf"), 0]
    costs = cost.tolist()
    nodes = [0]

    def visit(chosen: int, spent: float) -> None:
        nodes[0] += 1
        if nodes[0] > SMALL_COVER_NODES:
            raise _OutOfNodes
        if spent >= best[0]:
            return
        open_rows = [r for r in rows if not r & chosen]
        if not open_rows:
            best[0], best[1] = spent, chosen
            return
        row = min(open_rows, key=int.bit_count)  # the row with the fewest choices
        for j in sorted(range(len(costs)), key=lambda j: costs[j]):
            if row >> j & 1:
                visit(chosen | 1 << j, spent + costs[j])

    visit(0, 0.0)
    return np.array([best[1] >> j & 1 for j in range(len(costs))], dtype=bool)


def _distinct_rows(A: np.ndarray) -> np.ndarray:
    """The rows of ``A``, each once, in the order they first appear."""
    if len(A) < 2:
        return A
    _, first = np.unique(np.packbits(A, axis=1), axis=0, return_index=True)
    return A[np.sort(first)]


def solve_cover(A: np.ndarray, cost: np.ndarray, node_limit: int = COVER_NODES) -> tuple[np.ndarray | None, bool]:
    """The cheapest columns of ``A`` (rows x columns, booleans) covering every row, and whether
    that is proven optimal; None when nothing was found within ``node_limit`` nodes, or the
    program has more than ``COVER_NONZEROS`` nonzeros."""
    if A.sum() > COVER_NONZEROS:
        return None, False
    A = _distinct_rows(A)  # points that the same primes hold are one constraint
    if A.shape[1] <= SMALL_COVER_COLUMNS:
        masks = [sum(1 << j for j in np.flatnonzero(row).tolist()) for row in A]
        try:
            return _branch_and_bound(masks, cost), True
        except _OutOfNodes:
            pass
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csc_matrix

    rows, cols = np.nonzero(A)
    matrix = csc_matrix((np.ones(len(rows)), (rows, cols)), shape=A.shape)
    res = milp(
        cost,
        constraints=[LinearConstraint(matrix, lb=1, ub=np.inf)],
        integrality=np.ones(len(cost)),
        bounds=Bounds(0, 1),
        options={"node_limit": node_limit, "time_limit": COVER_SECONDS, "disp": False},
    )
    if res.x is None:
        return None, False
    return np.round(res.x) > 0.5, res.status == 0


def _stalled(missed_per_round: list[int], first_points: int) -> bool:
    """Are the rounds not converging?  A round that misses as many points as the round two
    before did has gained nothing in two programs; only a tail of at most 1% of the first
    points is given the remaining rounds."""
    last = missed_per_round[-1]
    return len(missed_per_round) > 2 and last >= missed_per_round[-3] and 100 * last > first_points


def pool_cover(
    sp: CubeSpace, F: np.ndarray, D: np.ndarray, pool: np.ndarray, beat: int, max_rounds: int = 20
) -> tuple[np.ndarray, bool] | None:
    """The fewest primes of ``pool`` that cover ``F`` outside ``D`` (points generated lazily),
    when fewer than ``beat``.

    Returns (cover, proven smallest over the pool), or None when out of rounds or nodes, when
    a program over some of the points already proves ``beat`` primes are needed (more points
    only raise that bound), or when the points stall (:func:`_stalled`).
    """
    points = _first_points(sp, F, np.random.default_rng(0))
    points = points[~_holding(sp, D, points).any(axis=1)] if len(D) else points
    cost = 1.0 + (sp.n - sp.free_inputs(pool)) / (sp.n * len(pool) + 1.0)
    A, missed_per_round = _holding(sp, pool, points), []
    for _ in range(max_rounds):
        if not A.any(axis=1).all():
            return None  # a point no prime of the pool covers: the pool cannot cover F
        chosen, optimal = solve_cover(A, cost)
        if chosen is None or (optimal and chosen.sum() >= beat):
            return None
        missed = _missed(sp, F, np.vstack([pool[chosen], D]))
        if not missed:
            return pool[chosen], optimal
        missed_per_round.append(len(missed))
        if _stalled(missed_per_round, len(points)):
            return None
        A = np.vstack([A, _holding(sp, pool, np.array(missed, dtype=np.uint64))])
    return None
