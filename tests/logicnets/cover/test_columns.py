"""The column-held cover and the tests built on it, against brute force on small functions."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from logicnets.cover.columns import Columns
from logicnets.cover.cubes import CubeSpace
from logicnets.cover.espresso import essential


def _points(n: int) -> np.ndarray:
    return np.array(list(itertools.product([0, 1], repeat=n)), dtype=np.uint8).reshape(-1, n)


def _holds(codes: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """(cubes, points): does each cube (0/1/2 codes) hold each point?"""
    return ((codes[:, None, :] == 2) | (codes[:, None, :] == pts[None])).all(axis=2)


@pytest.mark.parametrize("seed", range(40))
def test_tautology_of_rows_on_some_inputs_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(1, 7)), int(rng.integers(0, 14))
    codes = rng.choice([0, 1, 2], size=(k, n), p=[0.3, 0.3, 0.4]).astype(np.uint8)
    sp = CubeSpace(n, 1)
    cols = Columns(sp, sp.from_codes(codes, np.ones((k, 1), np.uint8)))
    for _ in range(5):
        rows = [r for r in range(k) if rng.random() < 0.7]
        inputs = [i for i in range(n) if rng.random() < 0.7]
        freed = codes[rows].copy()
        freed[:, [i for i in range(n) if i not in inputs]] = 2
        expected = bool(_holds(freed, _points(n)).any(axis=0).all())
        assert cols.tautology(sum(1 << r for r in rows), inputs) == expected


def _primes(n: int, care: np.ndarray) -> np.ndarray:
    """Every prime implicant of the points in ``care`` (a boolean per point), by enumeration."""
    pts = _points(n)
    cubes = np.array(list(itertools.product([0, 1, 2], repeat=n)), dtype=np.uint8).reshape(-1, n)
    implicant = ~(_holds(cubes, pts) & ~care[None]).any(axis=1)
    imp = {tuple(c) for c in cubes[implicant]}

    def prime(c):
        return all(c[i] == 2 or tuple(2 if j == i else v for j, v in enumerate(c)) not in imp for i in range(n))

    return np.array([c for c in sorted(imp) if prime(c)], dtype=np.uint8).reshape(-1, n)


@pytest.mark.parametrize("seed", range(60))
def test_essential_primes_match_their_definition(seed):
    """A prime of a cover is essential iff it holds an ON point that no other prime of the
    function holds, whether the cover lists every prime or only enough of them (the consensus
    with the primes outside it stands in for those)."""
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(2, 5))
    value = rng.choice([0, 1, 2], size=2**n, p=[0.4, 0.45, 0.15])  # OFF, ON, don't-care
    pts = _points(n)
    if not (value == 1).any():
        return
    primes = _primes(n, value > 0)
    primes = primes[_holds(primes, pts)[:, value == 1].any(axis=1)]  # those holding an ON point
    held = _holds(primes, pts)[:, value == 1]
    expected = [bool((held[j] & ~np.delete(held, j, axis=0).any(axis=0)).any()) for j in range(len(primes))]
    keep = np.ones(len(primes), dtype=bool)
    if seed % 2:  # drop primes, in random order, while the rest still hold every ON point
        for j in rng.permutation(len(primes)).tolist():
            keep[j] = False
            keep[j] = not held[keep].any(axis=0).all()
    sp = CubeSpace(n, 1)
    F = sp.from_codes(primes[keep], np.ones((int(keep.sum()), 1), np.uint8))
    expected = [e for e, k in zip(expected, keep.tolist(), strict=True) if k]
    dc = pts[value == 2]
    D = sp.from_codes(dc, np.ones((len(dc), 1), np.uint8))
    assert essential(sp, F, D).tolist() == expected


@pytest.mark.parametrize("seed", range(20))
def test_drop_contained_keeps_exactly_the_cubes_no_other_cube_holds(seed):
    rng = np.random.default_rng(200 + seed)
    n, m, k = int(rng.integers(1, 6)), int(rng.integers(1, 4)), int(rng.integers(0, 30))
    codes = rng.choice([0, 1, 2], size=(k, n), p=[0.25, 0.25, 0.5]).astype(np.uint8)
    outs = rng.integers(0, 2, size=(k, m)).astype(np.uint8)
    sp = CubeSpace(n, m)
    cover = sp.from_codes(codes, outs)
    cover = np.vstack([cover, cover[: k // 3]])  # some repeats
    got = {tuple(r) for r in sp.to_strings(sp.drop_contained(cover))}
    pts = _points(n)
    sets = [(_holds(c[None], pts)[0], o) for c, o in zip(codes, outs, strict=True)]
    expected = set()
    for (pts_a, out_a), row in zip(sets, sp.to_strings(sp.from_codes(codes, outs)), strict=True):
        inside_other = any(
            (pts_a <= pts_b).all() and (out_a <= out_b).all() and row != other
            for (pts_b, out_b), other in zip(sets, sp.to_strings(sp.from_codes(codes, outs)), strict=True)
        )
        if not inside_other:
            expected.add(row)
    assert got == expected


def test_pool_rounds_stop_when_the_missed_points_stall():
    from logicnets.cover.pool import _stalled

    # apex5's rounds: about 200 points missed round after round, of 250 placed first
    assert not _stalled([368, 208], 250)
    assert _stalled([368, 208, 213], 250) is False  # fewer than two rounds before
    assert _stalled([368, 208, 213, 210], 250)
    # a converging tail of a few points keeps its rounds (soar: 2, 2, 2 of about 1000)
    assert not _stalled([15, 20, 8, 4, 2, 2, 2], 1000)
    assert not _stalled([552, 394, 258, 149, 87, 62, 31, 25, 13, 21], 449)


@pytest.mark.parametrize("seed", range(40))
def test_missed_point_is_a_point_the_rows_miss(seed):
    rng = np.random.default_rng(300 + seed)
    n, k = int(rng.integers(1, 7)), int(rng.integers(0, 12))
    codes = rng.choice([0, 1, 2], size=(k, n), p=[0.3, 0.3, 0.4]).astype(np.uint8)
    sp = CubeSpace(n, 1)
    cols = Columns(sp, sp.from_codes(codes, np.ones((k, 1), np.uint8)))
    rows = [r for r in range(k) if rng.random() < 0.8]
    inputs = [i for i in range(n) if rng.random() < 0.8]
    freed = codes[rows].copy()
    freed[:, [i for i in range(n) if i not in inputs]] = 2
    found = cols.missed_point(sum(1 << r for r in rows), inputs)
    held = _holds(freed, _points(n)).any(axis=0)
    if found is None:
        assert held.all()
    else:
        assert set(found) <= set(inputs)
        # every completion of the named inputs is missed
        pts = _points(n)
        named = np.ones(len(pts), dtype=bool)
        for i, v in found.items():
            named &= pts[:, i] == v
        assert named.any() and not held[named].any()
