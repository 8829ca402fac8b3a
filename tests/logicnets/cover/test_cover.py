"""The cube engine against brute force: every operation is checked point by point on small
random covers, and the minimizer's covers are checked to cover ON and avoid OFF."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from logicnets.cover.cubes import CubeSpace
from logicnets.cover.espresso import espresso, off_cover
from logicnets.cover.unate import CoverLimitError, complement, supercube_of_complement, tautology
from logicnets.pla.function import IncompleteFunction


def _points(n: int) -> np.ndarray:
    return np.array(list(itertools.product([0, 1], repeat=n)), dtype=np.uint8).reshape(-1, n)


def _covered(codes: np.ndarray, n: int) -> np.ndarray:
    """Which points of the n-cube the cubes (0/1/2 codes) hold: plain numpy, no cube algebra."""
    pts = _points(n)
    out = np.zeros(len(pts), dtype=bool)
    for c in codes:
        out |= ((c == 2) | (pts == c)).all(axis=1)
    return out


def _random_cover(rng, n: int, k: int, free: float = 0.5) -> np.ndarray:
    p = (1 - free) / 2
    return rng.choice([0, 1, 2], size=(k, n), p=[p, p, free]).astype(np.uint8)


def _input_words(sp: CubeSpace, codes: np.ndarray) -> np.ndarray:
    return sp.from_codes(codes, np.ones((len(codes), sp.m), np.uint8))[:, : sp.wi]


def _codes_of(sp: CubeSpace, words: np.ndarray) -> np.ndarray:
    return sp.input_codes(np.hstack([words, np.ones((len(words), sp.wo), np.uint64)]))


@pytest.mark.parametrize("seed", range(6))
def test_tautology_complement_and_sccc_agree_with_points(seed):
    rng = np.random.default_rng(seed)
    for trial in range(60):
        n, k = int(rng.integers(1, 8)), int(rng.integers(0, 14 if trial % 2 else 70))  # both paths
        sp = CubeSpace(n, 1)
        codes = _random_cover(rng, n, k)
        F = _input_words(sp, codes)
        on = _covered(codes, n)
        assert tautology(sp, F) == on.all()
        C = complement(sp, F)
        assert (_covered(_codes_of(sp, C), n) == ~on).all()
        sc = supercube_of_complement(sp, F)
        if on.all():
            assert sc is None
        else:
            assert (sc == np.bitwise_or.reduce(C, axis=0)).all()


def test_layout_conversions_round_trip_past_one_word():
    sp = CubeSpace(70, 65)  # inputs over three words, outputs over two
    rng = np.random.default_rng(1)
    codes = _random_cover(rng, 70, 20)
    outs = rng.integers(0, 2, size=(20, 65)).astype(np.uint8)
    F = sp.from_codes(codes, outs)
    assert F.shape == (20, sp.words) and sp.words == 5
    assert (sp.input_codes(F) == codes).all() and (sp.output_bits(F) == outs).all()
    assert (sp.from_triples(sp.to_triples(F)) == F).all()
    assert (sp.free_inputs(F) == (codes == 2).sum(axis=1)).all()


def test_cofactor_distance_containment_and_sharp():
    sp = CubeSpace(4, 2)
    F = sp.from_strings(["1-0-", "0--1", "11--"], ["10", "01", "11"])
    c = sp.from_strings(["1---"], ["11"])[0]
    assert sp.to_strings(sp.cofactor(F, c)) == [("--0-", "10"), ("-1--", "11")]
    assert sp.distance(sp.from_strings(["0-1-"], ["10"])[0], F).tolist() == [2, 1, 1]
    assert sp.contains(F, sp.from_strings(["110-"], ["10"])[0]).tolist() == [True, False, True]
    a, b = sp.from_strings(["----", "1-0-"], ["11", "10"])
    pieces = sp.sharp(a, b)
    got = _covered(sp.input_codes(pieces[sp.output_bits(pieces)[:, 0] == 1]), 4)
    want = ~_covered(np.array([[1, 2, 0, 2]]), 4)
    assert (got == want).all()  # output 0: everything outside 1-0-
    assert _covered(sp.input_codes(pieces[sp.output_bits(pieces)[:, 1] == 1]), 4).all()  # output 1 untouched
    # the pieces of a sharp are disjoint
    for i, j in itertools.combinations(range(len(pieces)), 2):
        assert not sp.intersects(pieces[i], pieces[j][None])[0]


def test_complement_stops_at_its_limit():
    sp = CubeSpace(16, 1)
    codes = np.full((8, 16), 2, dtype=np.uint8)
    for j in range(8):
        codes[j, 2 * j : 2 * j + 2] = 1  # x0x1 + x2x3 + ... : the complement has 2^8 cubes
    with pytest.raises(CoverLimitError, match=r"more than 100 (cubes|steps)"):
        complement(sp, _input_words(sp, codes), limit=100)
    assert len(complement(sp, _input_words(sp, codes))) == 256


def _check_cover(f: IncompleteFunction, cover: np.ndarray, table: np.ndarray) -> None:
    codes, outs = f.space.input_codes(cover), f.space.output_bits(cover)
    for k in range(f.n_outputs):
        got = _covered(codes[outs[:, k] == 1], f.n_inputs)
        assert got[table[:, k] == 1].all(), "an ON point is missed"
        assert not got[table[:, k] == 0].any(), "an OFF point is covered"


@pytest.mark.parametrize("seed", range(10))
def test_espresso_covers_on_and_avoids_off(seed):
    rng = np.random.default_rng(100 + seed)
    n, m = int(rng.integers(2, 8)), int(rng.integers(1, 5))
    table = rng.choice(3, size=(1 << n, m), p=[0.45, 0.35, 0.2])  # 0 OFF, 1 ON, 2 DC
    rows = [sum(1 << r for r in range(1 << n) if table[r, k] == v) for v in (1, 2) for k in range(m)]
    f = IncompleteFunction.from_rows([f"x{i}" for i in range(n)], [f"y{k}" for k in range(m)], rows[:m], rows[m:])
    sp = f.space
    R = off_cover(sp, f.on_cover, f.dc_cover)
    cover, _ = espresso(sp, f.on_cover, f.dc_cover, R, pool=True)
    _check_cover(f, cover, table)
    assert len(cover) <= int((table == 1).any(axis=1).sum())  # never more than the ON minterms


def test_espresso_at_120_inputs_without_tables():
    rng = np.random.default_rng(7)
    n, m = 120, 3
    names = [f"x{i}" for i in range(n)]
    active = rng.choice(n, size=12, replace=False)  # spread over all four input words
    on = []
    for _ in range(40):
        text = ["-"] * n
        for i in rng.choice(active, size=4, replace=False):
            text[i] = "01"[rng.integers(2)]
        on.append(("".join(text), int(rng.integers(1, 1 << m))))
    f = IncompleteFunction.from_cubes(names, [f"y{k}" for k in range(m)], on=on)
    sp = f.space
    cover, _ = espresso(sp, f.on_cover, f.dc_cover, f.off_cover)
    assert 0 < len(cover) <= 40
    # every cube of the result avoids OFF, every ON cube is inside the result (per output)
    for c in cover:
        assert not sp.intersects(c, f.off_cover).any()
    for c in f.on_cover:
        for k in np.flatnonzero(sp.output_bits(c[None])[0]):
            mine = cover[sp.output_bits(cover)[:, k] == 1]
            meet = mine[sp.empty_inputs(mine[:, : sp.wi] & c[: sp.wi]) == 0]
            assert tautology(sp, meet[:, : sp.wi] | (sp.full[: sp.wi] & ~c[: sp.wi]))


def test_essential_primes_follow_the_consensus_theorem():
    from logicnets.cover.espresso import essential

    sp = CubeSpace(3, 1)
    F = sp.from_strings(["11-", "0-1", "-11"], ["1"] * 3)  # ab + a'c + bc: bc is their consensus
    assert essential(sp, F, sp.empty()).tolist() == [True, True, False]
    # a don't-care can take over a minterm that only one prime covered
    assert essential(sp, F[:2], sp.from_strings(["110"], ["1"])).tolist() == [False, True]
    two = CubeSpace(2, 2)  # multi-output: x0 for both outputs, x1 only for the second
    G = two.from_strings(["1-", "-1"], ["11", "01"])
    assert essential(two, G, two.empty()).tolist() == [True, True]


def test_a_complement_of_independent_groups_is_bounded_before_it_is_built():
    """o64 of the suite: x0 x1 + x2 x3 + ... over 130 inputs has 2^65 complement cubes; the
    groups' sizes multiply past the limit before the whole cover is recursed into (the step
    budget, which says "steps", is not what stops it)."""
    sp = CubeSpace(130, 1)
    codes = np.full((65, 130), 2, dtype=np.uint8)
    for j in range(65):
        codes[j, 2 * j : 2 * j + 2] = 1
    with pytest.raises(CoverLimitError, match=r"^the complement has more than 200000 cubes$"):
        complement(sp, _input_words(sp, codes))
    # within the limit the product is the complement itself
    small = CubeSpace(6, 1)
    three = np.full((3, 6), 2, dtype=np.uint8)
    for j in range(3):
        three[j, 2 * j : 2 * j + 2] = 1
    got = complement(small, _input_words(small, three))
    assert len(got) == 8
    assert (_covered(_codes_of(small, got), 6) == ~_covered(three, 6)).all()
