"""Merge cubes of a cover into threshold neurons: fewer hidden neurons than cubes.

Why: a hidden neuron may be any threshold function, so several cubes can share
one when their union is one.  Cubes ``L & r_1 | ... | L & r_k`` with common
literals ``L`` are the neuron ``[S·L + w·x >= ...]`` whenever the residual
``r_1 | ... | r_k`` (over few variables) is a threshold function ``w·x >= t``,
decided exactly by :func:`logicnets.construct.separable.threshold_function`.  The union
is exactly the cubes' rows, so it avoids the OFF rows of every output it feeds
when each cube did (checked again on the bitsets).

>>> from logicnets.construct.twolevel import Cube
>>> from logicnets.pla.function import cube_rows
>>> cubes = [Cube(p, 0, 1, cube_rows(p, 0, 3)) for p in (0b011, 0b101, 0b110)]  # majority
>>> [(w, t) for w, t, _, _ in merge_cubes(cubes, 3, off_of=lambda o: 0)]
[([1, 1, 1], 2)]
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from ..pla.function import neuron_rows
from ..prove.truthtable import TruthTable
from .separable import threshold_function
from .twolevel import Cube

__all__ = ["MAX_RESIDUAL_VARS", "Neuron", "cube_neuron", "merge_cubes"]

#: Residuals over more variables than this are not tried (the LP grows as 2^k).
MAX_RESIDUAL_VARS = 10

Neuron = tuple[list[int], int, int, int]  # weights, threshold (w·x >= t), outputs, rows


def cube_neuron(c: Cube, n: int) -> Neuron:
    """AND of the cube's literals: +1 / -1 weights, threshold = number of positive literals."""
    w = [1 if c.pos >> i & 1 else -1 if c.neg >> i & 1 else 0 for i in range(n)]
    return w, c.pos.bit_count(), c.outs, c.rows


_CACHE: dict = {}


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


def _residual_neuron(group: Sequence[Cube], n: int) -> tuple[list[int], int] | None:
    common_p = common_n = -1
    for c in group:
        common_p &= c.pos
        common_n &= c.neg
    allp = alln = 0
    for c in group:
        allp |= c.pos
        alln |= c.neg
    if allp & alln & ~(common_p | common_n):
        return None  # a residual variable in both polarities: not unate as written
    V = [i for i in range(n) if (allp | alln) >> i & 1 and not (common_p | common_n) >> i & 1]
    if len(V) > MAX_RESIDUAL_VARS:
        return None
    k = len(V)
    grid = np.zeros((2,) * k, dtype=bool)
    for c in group:
        idx = tuple(1 if c.pos >> v & 1 else 0 if c.neg >> v & 1 else slice(None) for v in V)
        grid[idx] = True
    if not _two_monotonic(grid):
        return None
    key = grid.tobytes() + bytes([k])
    if key not in _CACHE:
        if len(_CACHE) > 100_000:
            _CACHE.clear()
        _CACHE[key] = threshold_function(TruthTable(tuple(f"v{i}" for i in V), grid.reshape(-1)))
    tf = _CACHE[key]
    if tf is None:
        return None
    w = [0] * n
    for j, v in enumerate(V):
        w[v] = int(tf.weights[j])
    t = round(0.5 - tf.bias)  # w·x + bias >= 0  <=>  w·x >= -bias (integer: ceil)
    S = sum(abs(x) for x in w) + abs(t) + 1
    for i in range(n):
        if common_p >> i & 1:
            w[i] = S
            t += S
        elif common_n >> i & 1:
            w[i] = -S
    return w, t


def merge_cubes(
    cubes: Sequence[Cube], n: int, off_of: Callable[[int], int], time_budget: float = 2.0, max_tries: int = 12
) -> list[Neuron]:
    """Greedily grow groups of cubes whose union is one threshold neuron."""
    t_end = time.perf_counter() + time_budget
    left = sorted(cubes, key=lambda c: -c.rows.bit_count())
    used = [False] * len(left)
    out: list[Neuron] = []
    for i, c in enumerate(left):
        if used[i]:
            continue
        used[i] = True
        group = [c]
        best: tuple[list[int], int] | None = None
        if time.perf_counter() < t_end:
            cands = sorted(
                (j for j in range(i + 1, len(left)) if not used[j]),
                key=lambda j: -((left[j].pos & c.pos) | (left[j].neg & c.neg)).bit_count(),
            )
            tries = 0
            for j in cands:
                if tries >= max_tries or time.perf_counter() > t_end:
                    break
                d = left[j]
                if ((d.pos & c.pos) | (d.neg & c.neg)) == 0 and len(group) == 1:
                    break  # sorted: nothing left shares a literal with c
                outs = d.outs
                for g in group:
                    outs |= g.outs
                rows = d.rows
                for g in group:
                    rows |= g.rows
                if rows & off_of(outs):
                    continue
                tries += 1
                nn = _residual_neuron([*group, d], n)
                if nn is not None:
                    group.append(d)
                    used[j] = True
                    best = nn
        if best is None:
            out.append(cube_neuron(c, n))
            continue
        outs = rows = 0
        for g in group:
            outs |= g.outs
            rows |= g.rows
        w, t = best
        if n <= 18 and neuron_rows(w, t, n) != rows:  # pragma: no cover - safety net (exact by construction)
            out.extend(cube_neuron(g, n) for g in group)
            continue
        out.append((w, t, outs, rows))
    return out
