"""Linearly separable (threshold) functions: one neuron instead of a DNF layer.

Majority of n inputs is a single neuron but C(n, n/2) DNF terms.  Test: a
threshold function is unate in every variable (monotone up or down), so we
check that first; then an integer program (scipy HiGHS) finds the smallest
integer weights w >= 1 and threshold t with w·x >= t on every minimal true
point and w·x <= t-1 on every maximal false point of the monotone version.
Integer weights keep the neuron exact and readable (majority: all ones).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import LogicError
from ..prove.truthtable import TruthTable

#: Up to this many relevant variables the smallest weights are found by trying every weight
#: vector up to ``m + 1`` (every threshold function of <= 5 variables has one; Muroga):
#: no integer program, so no scipy import for small neurons.
BRUTE_FORCE_VARS = 5

__all__ = [
    "BRUTE_FORCE_VARS",
    "SEPARABLE_MAX_VARS",
    "ThresholdFunction",
    "separating_weights",
    "threshold_function",
    "unateness",
]

#: Most relevant variables for which separability is decided.
SEPARABLE_MAX_VARS = 16


@dataclass(frozen=True)
class ThresholdFunction:
    """``f(x) = [weights·x + bias >= 0]`` with integer weights and a half-integer bias."""

    weights: np.ndarray
    bias: float


def unateness(table: TruthTable) -> list[int | None]:
    """Per variable: +1 monotone increasing, -1 decreasing, 0 irrelevant, None neither.

    >>> unateness(TruthTable.from_source("x & ~y | z & x"))
    [1, -1, 1]
    >>> unateness(TruthTable.from_source("x ^ y"))
    [None, None]
    """
    arr = table.cube_array()
    out: list[int | None] = []
    for i in range(table.n):
        f0, f1 = np.take(arr, 0, axis=i), np.take(arr, 1, axis=i)
        up, down = bool(np.all(f0 <= f1)), bool(np.all(f1 <= f0))
        out.append(0 if up and down else 1 if up else -1 if down else None)
    return out


def threshold_function(table: TruthTable, time_limit: float = 10.0) -> ThresholdFunction | None:
    """One neuron computing the table, or None if it is not linearly separable.

    >>> tf = threshold_function(TruthTable.from_source("a & b | a & c | b & c"))
    >>> tf.weights.tolist(), tf.bias
    ([1, 1, 1], -1.5)
    >>> threshold_function(TruthTable.from_source("a ^ b")) is None
    True
    """
    n = table.n
    out = table.outputs
    if not out.any():
        return ThresholdFunction(np.zeros(n, dtype=np.int64), -0.5)
    if out.all():
        return ThresholdFunction(np.zeros(n, dtype=np.int64), 0.5)
    signs = unateness(table)
    if any(s is None for s in signs):
        return None
    rel = [i for i, s in enumerate(signs) if s != 0]
    if len(rel) > SEPARABLE_MAX_VARS:
        raise LogicError(
            f"deciding linear separability of {len(rel)} relevant variables is beyond the limit of {SEPARABLE_MAX_VARS}"
        )
    arr = table.cube_array()
    # monotone version over the relevant variables: flip decreasing ones, fix irrelevant ones at 0
    for i, s in enumerate(signs):
        if s == -1:
            arr = np.flip(arr, axis=i)
    idx = tuple(slice(None) if s != 0 else 0 for s in signs)
    g = arr[idx]
    m = len(rel)
    minimal = g.copy()
    maximal = ~g
    for axis in range(m):
        s1 = [slice(None)] * m
        s1[axis] = 1
        s0 = [slice(None)] * m
        s0[axis] = 0
        minimal[tuple(s1)] &= ~g[tuple(s0)]
        maximal[tuple(s0)] &= g[tuple(s1)]
    ones = np.argwhere(minimal).astype(float)
    zeros = np.argwhere(maximal).astype(float)
    if m <= BRUTE_FORCE_VARS:
        small = _smallest_weights(ones, zeros, m)
        return None if small is None else _signed(small[0], small[1], rel, signs, g)
    points = np.vstack([ones, zeros])
    labels = np.concatenate([np.ones(len(ones), dtype=bool), np.zeros(len(zeros), dtype=bool)])
    found = separating_weights(points, labels, time_limit)
    return None if found is None else _signed(found[0], found[1], rel, signs, g)


def separating_weights(z: np.ndarray, labels: np.ndarray, time_limit: float) -> tuple[np.ndarray, int] | None:
    """Smallest integer weights w >= 1 and threshold t with w·z >= t exactly on the true rows
    (an integer program, HiGHS); None if there are none."""
    from scipy.optimize import Bounds, LinearConstraint, milp  # only here: its import costs ~0.3 s

    m = z.shape[1]
    A = np.hstack([z.astype(float), -np.ones((len(z), 1))])
    lb = np.where(labels, 0.0, -np.inf)
    ub = np.where(labels, np.inf, -1.0)
    res = milp(
        np.concatenate([np.ones(m), [0.0]]),
        constraints=[LinearConstraint(A, lb, ub)],
        integrality=np.ones(m + 1),
        bounds=Bounds(np.concatenate([np.ones(m), [-np.inf]]), np.inf),
        options={"time_limit": time_limit, "disp": False},
    )
    if res.x is None:
        return None
    return np.round(res.x[:m]).astype(np.int64), round(res.x[m])


def _smallest_weights(ones: np.ndarray, zeros: np.ndarray, m: int) -> tuple[np.ndarray, int] | None:
    """The weights in 1..m+1 of least sum (then least threshold) that put every minimal true
    point at or above a threshold and every maximal false point below it; None if none."""
    grid = np.stack(np.meshgrid(*[np.arange(1, m + 2)] * m, indexing="ij"), axis=-1).reshape(-1, m)
    t = (grid @ ones.T).min(axis=1) if len(ones) else np.zeros(len(grid))
    below = (grid @ zeros.T).max(axis=1) < t if len(zeros) else np.ones(len(grid), dtype=bool)
    if not below.any():
        return None
    order = np.lexsort((t, grid.sum(axis=1)))
    best = order[below[order]][0]
    return grid[best].astype(np.int64), int(t[best])


def _signed(w_m: np.ndarray, t: int, rel: list[int], signs: list, g: np.ndarray) -> ThresholdFunction | None:
    """Weights of the monotone version back on the original variables (decreasing ones negated)."""
    n, m = len(signs), len(rel)
    weights = np.zeros(n, dtype=np.int64)
    neg_total = 0
    for j, i in enumerate(rel):
        weights[i] = w_m[j] * signs[i]
        if signs[i] == -1:
            neg_total += int(w_m[j])
    # sum_pos w x + sum_neg w (1 - x) >= t  <=>  weights·x >= t - neg_total
    tf = ThresholdFunction(weights, float(-(t - neg_total) + 0.5))
    z = np.zeros((2,) * m, dtype=np.int64)
    for axis in range(m):
        shape = [1] * m
        shape[axis] = 2
        z = z + w_m[axis] * np.arange(2).reshape(shape)
    if not np.array_equal(z >= t, g):  # pragma: no cover - safety net
        return None
    return tf
