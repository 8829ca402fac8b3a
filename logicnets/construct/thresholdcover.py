"""Merge cubes of a cover into threshold neurons: fewer hidden neurons than cubes.

Why: a hidden neuron may be any threshold function, so several cubes can share
one when their union is one.  Cubes ``L & r_1 | ... | L & r_k`` with common
literals ``L`` are the neuron ``[S·L + w·x >= ...]`` whenever the residual
``r_1 | ... | r_k`` is a threshold function ``w·x >= t``, decided exactly: over a few
variables by :func:`logicnets.construct.separable.threshold_function` on the residual's 2^k
points, over more by :func:`monotone_threshold` on its minimal true and maximal false points,
so the width of the function does not matter.  The union
is exactly the cubes, so it avoids the OFF set of every output it feeds when no
cube's inputs meet the OFF set of any of them (``forbidden``, decided on covers by the caller).

The work is bounded by counts, not by the clock, so the same cover always gives the same
neurons, on a fast machine or a loaded one.

>>> cubes = [(p, 0, 1) for p in (0b011, 0b101, 0b110)]  # majority of 3
>>> [(w, t) for w, t, _ in merge_cubes(cubes, 3, forbidden=lambda pos, neg: 0)]
[([1, 1, 1], 2)]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..cover.small import OutOfBudget, complement_ints
from ..prove.truthtable import TruthTable
from .separable import separating_weights, threshold_function

__all__ = ["MAX_PROGRAMS", "MAX_RESIDUAL_VARS", "Neuron", "cube_neuron", "merge_cubes", "monotone_threshold"]

#: Residuals over more variables than this are not tried (the LP grows as 2^k).
MAX_RESIDUAL_VARS = 10
#: At most this many residuals are decided by a linear program per call (equal ones once).
MAX_PROGRAMS = 2000

Neuron = tuple[list[int], int, int]  # weights, threshold (w·x >= t), outputs
Cube = tuple[int, int, int]  # positive literals, negative literals, outputs (bitmasks)


def cube_neuron(c: Cube, n: int) -> Neuron:
    """AND of the cube's literals: +1 / -1 weights, threshold = number of positive literals."""
    pos, neg, outs = c
    w = [1 if pos >> i & 1 else -1 if neg >> i & 1 else 0 for i in range(n)]
    return w, pos.bit_count(), outs


def _two_monotonic(grid: np.ndarray) -> bool:
    """Necessary for a threshold function: for every pair of variables the two mixed
    cofactors are ordered (one contains the other).  Cheap, and rules out most groups."""
    k = grid.ndim
    for i in range(k):
        for j in range(i + 1, k):
            a = np.take(np.take(grid, 1, axis=i), 0, axis=j - 1)
            b = np.take(np.take(grid, 0, axis=i), 1, axis=j - 1)
            if (a & ~b).any() and (b & ~a).any():
                return False
    return True


def _residual_neuron(group: Sequence[Cube], n: int, decided: dict) -> tuple[list[int], int] | None:
    """The group's union as one neuron, or None.  ``decided`` holds the residuals already
    decided (their answers), and its ``None`` key the programs left to run."""
    common_p = common_n = -1
    allp = alln = 0
    for pos, neg, _ in group:
        common_p &= pos
        common_n &= neg
        allp |= pos
        alln |= neg
    if allp & alln & ~(common_p | common_n):
        return None  # a residual variable in both polarities: not unate as written
    V = [i for i in range(n) if (allp | alln) >> i & 1 and not (common_p | common_n) >> i & 1]
    decide = _grid_residual if len(V) <= MAX_RESIDUAL_VARS else _wide_residual
    residual = decide(group, V, decided)
    if residual is None:
        return None
    w, t = [0] * n, residual[1]
    for j, v in enumerate(V):
        w[v] = residual[0][j]
    S = sum(abs(x) for x in w) + abs(t) + 1
    for i in range(n):
        if common_p >> i & 1:
            w[i] = S
            t += S
        elif common_n >> i & 1:
            w[i] = -S
    return w, t


def _grid_residual(group: Sequence[Cube], V: list[int], decided: dict) -> tuple[list[int], int] | None:
    """Weights over ``V`` and threshold of the residual, decided on its 2^k points."""
    k = len(V)
    grid = np.zeros((2,) * k, dtype=bool)
    for pos, neg, _ in group:
        idx = tuple(1 if pos >> v & 1 else 0 if neg >> v & 1 else slice(None) for v in V)
        grid[idx] = True
    if not _two_monotonic(grid):
        return None
    key = grid.tobytes() + bytes([k])
    if key not in decided:
        if decided[None] <= 0:
            return None
        decided[None] -= 1
        decided[key] = threshold_function(TruthTable(tuple(f"v{i}" for i in V), grid.reshape(-1)))
    tf = decided[key]
    if tf is None:
        return None
    return [int(x) for x in tf.weights], round(0.5 - tf.bias)  # w·x + bias >= 0  <=>  w·x >= -bias


def _wide_residual(group: Sequence[Cube], V: list[int], decided: dict) -> tuple[list[int], int] | None:
    """Weights over ``V`` and threshold of a residual over many variables, from its minimal
    true and maximal false points (:func:`monotone_threshold`), with no table."""
    negative = [any(neg >> v & 1 for _, neg, _ in group) for v in V]  # unate: one polarity each
    terms = tuple(sorted({sum(1 << j for j, v in enumerate(V) if (pos | neg) >> v & 1) for pos, neg, _ in group}))
    key = (len(V), terms)
    if key not in decided:
        if decided[None] <= 0:
            return None
        decided[None] -= 1
        decided[key] = monotone_threshold(list(terms), len(V))
    found = decided[key]
    if found is None:
        return None
    # a negative variable enters as 1 - x: w (1 - x) >= ...  moves w to the threshold
    weights = [-w if neg else w for w, neg in zip(found[0], negative, strict=True)]
    return weights, found[1] - sum(w for w, neg in zip(found[0], negative, strict=True) if neg)


#: Wide residuals are decided while they have at most this many minimal true points and as
#: many maximal false points (a threshold function's complement can be far larger than it).
MAX_EXTREME_POINTS = 400


def _minimal(sets: Sequence[int]) -> list[int]:
    """The sets (bitmasks) with no other set inside them."""
    unique = sorted(set(sets), key=int.bit_count)
    return [a for i, a in enumerate(unique) if not any(b & a == b for b in unique[:i])]


def monotone_threshold(terms: list[int], k: int) -> tuple[list[int], int] | None:
    """Nonnegative integer weights and a threshold with ``w·x >= t`` exactly on the points
    of the positive function ``OR`` of ``terms`` (each a bitmask of variables ANDed), or None.

    A positive function is threshold iff some such ``w, t`` put every minimal true point at
    or above ``t`` and every maximal false point below it (a point above a minimal true point
    only gains weight).  The minimal true points are the minimal terms; the maximal false
    points are the primes of the complement (:func:`.small.complement_ints`: every prime of a
    unate function is in any cover of it).  Weights come from an integer program and are
    checked on both point sets in integers.  None too past ``MAX_EXTREME_POINTS``.

    >>> monotone_threshold([0b011, 0b101, 0b110], 3)  # majority of three
    ([1, 1, 1], 2)
    """
    true_sets = _minimal(terms)
    if not true_sets or true_sets[0] == 0 or len(true_sets) > MAX_EXTREME_POINTS:
        return None  # constant, or too many points
    zero = sum(1 << 2 * j for j in range(k))
    full = (1 << 2 * k) - 1
    cubes = [full & ~sum(1 << 2 * j for j in range(k) if t >> j & 1) for t in true_sets]  # x_j = 1 for j in t
    try:
        complement = complement_ints(cubes, zero, full, [50 * MAX_EXTREME_POINTS])
    except OutOfBudget:
        return None
    everyone = (1 << k) - 1
    # a complement cube's 0-literals are a prime's; the point 0 there, 1 elsewhere, is maximal false
    false_sets = [everyone & ~sum(1 << j for j in range(k) if not c >> (2 * j + 1) & 1) for c in complement]
    false_sets = [everyone & ~s for s in _minimal([everyone & ~f for f in false_sets])]
    if len(false_sets) > MAX_EXTREME_POINTS:
        return None
    relevant = [j for j in range(k) if any(t >> j & 1 for t in true_sets)]
    z = np.array([[s >> j & 1 for j in relevant] for s in true_sets + false_sets], dtype=np.int64)
    labels = np.arange(len(z)) < len(true_sets)
    found = separating_weights(z, labels, time_limit=10.0)
    if found is None:
        return None
    sums, t = z @ found[0], int(found[1])
    if not ((sums[labels] >= t).all() and (sums[~labels] <= t - 1).all()):
        return None  # pragma: no cover - the program's answer, checked in integers
    w = [0] * k
    for j, x in zip(relevant, found[0].tolist(), strict=True):
        w[j] = int(x)
    return w, t


def _shared(a: Cube, b: Cube) -> int:
    return ((a[0] & b[0]) | (a[1] & b[1])).bit_count()


def merge_cubes(
    cubes: Sequence[Cube],
    n: int,
    forbidden: Callable[[int, int], int],
    max_tries: int = 12,
    max_programs: int = MAX_PROGRAMS,
    answers: dict | None = None,
) -> list[Neuron]:
    """Greedily grow groups of cubes whose union is one threshold neuron.

    ``forbidden(pos, neg)``: the outputs whose OFF set the cube with those literals meets; a
    group may feed an output only when none of its cubes is forbidden it.  Each cube tries at
    most ``max_tries`` partners; at most ``max_programs`` linear programs run per call.
    ``answers`` keeps the residuals decided, for the next call on another cover of the same
    function (one already decided runs no program).
    """
    left = sorted(cubes, key=lambda c: (c[0] | c[1]).bit_count())  # largest cubes first
    forbids = [forbidden(p, q) for p, q, _ in left]
    used = [False] * len(left)
    decided: dict = {} if answers is None else answers
    decided[None] = max_programs
    out: list[Neuron] = []
    for i, c in enumerate(left):
        if used[i]:
            continue
        used[i] = True
        group, outs, banned = [c], c[2], forbids[i]
        best: tuple[list[int], int] | None = None
        cands = sorted((j for j in range(i + 1, len(left)) if not used[j]), key=lambda j: -_shared(left[j], c))
        tries = 0
        for j in cands:
            d = left[j]
            if tries >= max_tries or (_shared(d, c) == 0 and len(group) == 1):
                break  # sorted: nothing left shares a literal with c
            if (banned | forbids[j]) & (outs | d[2]):
                continue
            tries += 1
            nn = _residual_neuron([*group, d], n, decided)
            if nn is not None:
                group.append(d)
                used[j] = True
                outs, banned, best = outs | d[2], banned | forbids[j], nn
        out.append(cube_neuron(c, n) if best is None else (best[0], best[1], outs))
    return out
