"""Minimal DNF (fewest terms = fewest hidden neurons) from a truth table.

Why our own: sympy's ``simplify_logic`` silently skips minimisation above 8
variables and ``SOPform`` is greedy and slow on dense functions.  Here:

* exact (up to ``EXACT_VARS`` variables): all implicants at once as a 3^n
  boolean array (index 2 = "variable absent"), primes by one vectorised pass,
  then a minimum set cover solved as an integer program with scipy's HiGHS
  (fewest terms first, then fewest literals);
* heuristic otherwise (up to ``HEURISTIC_VARS``): expand every term to a prime
  implicant and drop redundant ones (an Espresso-style pass) — not guaranteed
  minimal, and the result says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import LogicError
from .dnf import Term, absorb

__all__ = ["EXACT_VARS", "HEURISTIC_VARS", "MinimizeResult", "minimize_table", "prime_implicants"]

EXACT_VARS = 14
HEURISTIC_VARS = 22
#: Beyond this many primes the exact cover is skipped (it would take too long).
MAX_PRIMES = 20_000


def _columns(table: Any) -> tuple[np.ndarray, int]:
    """The output column (2^n bools) of a TruthTable, or of a bool array given directly."""
    out = np.asarray(getattr(table, "outputs", table), dtype=bool).reshape(-1)
    n = out.size.bit_length() - 1
    if out.size == 0 or 1 << n != out.size:
        raise LogicError(f"a truth table needs 2^n outputs, got {out.size}")
    return out, n


@dataclass(frozen=True)
class MinimizeResult:
    terms: list[Term]
    exact: bool  # True: no DNF with fewer terms exists
    method: str


def _cubes_to_terms(cubes: np.ndarray) -> list[Term]:
    out = []
    for row in cubes:
        p = n = 0
        for i, v in enumerate(row):
            if v == 1:
                p |= 1 << i
            elif v == 0:
                n |= 1 << i
        out.append((p, n))
    return out


def prime_implicants(table: Any) -> np.ndarray:
    """Prime implicants as rows of 0/1/2 per variable (2 = absent); ``table`` is a
    TruthTable or its column of 2^n outputs.

    >>> prime_implicants([False, True, True, True]).tolist()
    [[1, 2], [2, 1]]
    """
    out, n = _columns(table)
    if n > EXACT_VARS + 2:
        raise LogicError(f"prime implicants of {n} variables need 3^{n} cells; at most {EXACT_VARS + 2}")
    g = out.reshape((2,) * n)
    for axis in range(n):
        a0 = np.take(g, 0, axis=axis)
        a1 = np.take(g, 1, axis=axis)
        g = np.stack([a0, a1, a0 & a1], axis=axis)
    prime = g.copy()
    for axis in range(n):
        dc = np.take(g, 2, axis=axis)
        for v in (0, 1):
            sl = [slice(None)] * n
            sl[axis] = v
            prime[tuple(sl)] &= ~dc
    return np.argwhere(prime).astype(np.int8)


def _cover_matrix(cubes: np.ndarray, on: np.ndarray, n: int):
    from scipy.sparse import csc_matrix

    row_of = -np.ones(1 << n, dtype=np.int64)
    row_of[on] = np.arange(on.size)
    weights = 1 << np.arange(n - 1, -1, -1, dtype=np.int64)
    rows, cols = [], []
    for j, cube in enumerate(cubes):
        base = int(np.sum(weights[cube == 1]))
        free = weights[cube == 2]
        if free.size:
            combos = (np.arange(1 << free.size)[:, None] >> np.arange(free.size)[None, :]) & 1
            mins = base + combos @ free
        else:
            mins = np.array([base])
        r = row_of[mins]
        rows.append(r)
        cols.append(np.full(r.size, j))
    rows_a = np.concatenate(rows)
    cols_a = np.concatenate(cols)
    return csc_matrix((np.ones(rows_a.size), (rows_a, cols_a)), shape=(on.size, len(cubes)))


def _exact_cover(cubes: np.ndarray, on: np.ndarray, n: int, time_limit: float):
    from scipy.optimize import Bounds, LinearConstraint, milp

    A = _cover_matrix(cubes, on, n)
    m = len(cubes)
    cover = LinearConstraint(A, lb=np.ones(A.shape[0]), ub=np.inf)
    opts = {"time_limit": time_limit, "disp": False}
    res = milp(np.ones(m), constraints=[cover], integrality=np.ones(m), bounds=Bounds(0, 1), options=opts)
    if res.x is None:
        return None, False
    x = np.round(res.x).astype(bool)
    optimal = res.status == 0
    if optimal:
        lits = (cubes != 2).sum(axis=1).astype(float)
        k = int(x.sum())
        res2 = milp(
            lits,
            constraints=[cover, LinearConstraint(np.ones((1, m)), lb=0, ub=k)],
            integrality=np.ones(m),
            bounds=Bounds(0, 1),
            options=opts,
        )
        if res2.x is not None and int(np.round(res2.x).sum()) <= k:
            x = np.round(res2.x).astype(bool)
    return cubes[x], optimal


def _is_implicant(arr: np.ndarray, p: int, nmask: int, n: int) -> bool:
    idx = tuple(1 if p >> i & 1 else 0 if nmask >> i & 1 else slice(None) for i in range(n))
    return bool(np.all(arr[idx]))


def _heuristic(out: np.ndarray, n: int, start: Sequence[Term]) -> list[Term]:
    arr = out.reshape((2,) * n)
    terms: list[Term] = []
    for p, q in absorb(start):
        for i in range(n):  # expand: drop every literal we can
            bit = 1 << i
            if (p | q) & bit and _is_implicant(arr, p & ~bit, q & ~bit, n):
                p, q = p & ~bit, q & ~bit
        terms.append((p, q))
    terms = absorb(terms)
    # irredundant: drop terms whose rows are all covered by the others (big terms first)
    count = np.zeros(arr.shape, dtype=np.int32)
    idxs = []
    for p, q in terms:
        idx = tuple(1 if p >> i & 1 else 0 if q >> i & 1 else slice(None) for i in range(n))
        idxs.append(idx)
        count[idx] += 1
    keep = []
    order = sorted(range(len(terms)), key=lambda t: -(terms[t][0] | terms[t][1]).bit_count())
    dropped = set()
    for t in order:
        if np.all(count[idxs[t]] >= 2):
            count[idxs[t]] -= 1
            dropped.add(t)
    keep = [t for i, t in enumerate(terms) if i not in dropped]
    return keep


def minimize_table(table: Any, start: Sequence[Term] | None = None, time_limit: float = 10.0) -> MinimizeResult:
    """Fewest-term DNF of a truth table.

    ``start`` (terms of any DNF of the same function) seeds the heuristic used
    above ``EXACT_VARS`` variables; the minterms are used when it is missing.

    ``table`` is a TruthTable or its column of 2^n outputs (first variable most significant).

    >>> r = minimize_table([0, 0, 0, 1, 0, 1, 1, 1])        # majority of a, b, c
    >>> sorted(r.terms), r.exact
    ([(3, 0), (5, 0), (6, 0)], True)
    """
    out, n = _columns(table)
    on = np.flatnonzero(out)
    if on.size == 0:
        return MinimizeResult([], True, "constant")
    if on.size == out.size:
        return MinimizeResult([(0, 0)], True, "constant")
    if n <= EXACT_VARS:
        cubes = prime_implicants(out)
        if len(cubes) <= MAX_PRIMES:
            chosen, optimal = _exact_cover(cubes, on, n, time_limit)
            if chosen is not None:
                terms = _cubes_to_terms(chosen)
                if optimal:
                    return MinimizeResult(terms, True, "prime implicants + exact cover (HiGHS)")
                return MinimizeResult(
                    _heuristic(out, n, terms), False, "prime implicants + cover stopped at the time limit"
                )
    if n > HEURISTIC_VARS:
        raise LogicError(
            f"minimising a function of {n} variables is beyond the limit of "
            f"{HEURISTIC_VARS}; compile without minimize=True"
        )
    if start is None:
        if on.size > 1 << 16:
            raise LogicError(f"{on.size} true rows and no starting DNF: too many to minimise")
        start = []
        full = (1 << n) - 1
        for m in on.tolist():
            p = sum(1 << i for i in range(n) if m >> (n - 1 - i) & 1)
            start.append((p, full & ~p))
    return MinimizeResult(_heuristic(out, n, start), False, "expand + irredundant (heuristic)")
