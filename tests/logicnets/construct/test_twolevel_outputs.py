"""The row engine (``twolevel``) with many outputs: nothing per output per prime, and the pool
program's matrix bounded before it is built."""

from __future__ import annotations

import numpy as np
import pytest

from logicnets.construct import twolevel
from logicnets.construct.cubes import Space
from logicnets.formula.minimize import prime_implicants
from logicnets.pla.format import parse_pla
from logicnets.pla.function import cube_rows


def many_outputs(m: int, seed: int = 0) -> str:
    """A PLA of 5 inputs and three product terms: its ``m`` outputs have at most 7 distinct functions."""
    rng = np.random.default_rng(seed)
    shapes = ["11---", "0-1-1", "--0-0"]
    rows = []
    for s, shape in enumerate(shapes):
        outs = "".join("1" if rng.integers(3) == s else "0" for _ in range(m))
        rows.append(f"{shape} {outs}")
    return f".i 5\n.o {m}\n" + "\n".join(rows) + "\n.e\n"


def reference_primes(sp: Space) -> list[tuple[int, int, int, int]]:
    """Per output, its primes of ON | DC, each with every output it may feed (the definition)."""
    n, nrows, seen = sp.n, 1 << sp.n, {}
    for k in range(sp.m):
        if not sp.on[k]:
            continue
        care = sp.on[k] | sp.f.dc[k]
        bits = np.array([care >> r & 1 for r in range(nrows)], dtype=bool)
        for row in prime_implicants(bits):
            pos = sum(1 << i for i in range(n) if row[i] == 1)
            neg = sum(1 << i for i in range(n) if row[i] == 0)
            rows = cube_rows(pos, neg, n)
            if rows & sp.on[k]:
                outs = sum(1 << o for o in range(sp.m) if rows & sp.on[o] and not rows & sp.off[o])
                seen.setdefault((pos, neg), (pos, neg, outs, rows))
    return list(seen.values())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_single_output_primes_match_the_definition(seed):
    rng = np.random.default_rng(seed)
    rows = ["".join(rng.choice(list("01-"), 6)) + " " + "".join(rng.choice(list("01-"), 5)) for _ in range(12)]
    sp = Space(parse_pla(".i 6\n.o 5\n" + "\n".join(rows) + "\n.e\n").function())
    got = [(c.pos, c.neg, c.outs, c.rows) for c in twolevel._single_output_primes(sp)]
    assert got == reference_primes(sp)


def test_primes_are_found_once_per_distinct_care_set_not_per_output(monkeypatch):
    calls = []

    def counting(table):
        calls.append(1)
        return prime_implicants(table)

    monkeypatch.setattr(twolevel, "prime_implicants", counting)
    f = parse_pla(many_outputs(300)).function()
    cubes = twolevel._single_output_primes(Space(f))
    assert len(calls) <= 7  # each output is ON on a nonempty union of three cubes: 7 functions, 300 outputs
    assert cubes and all(c.outs for c in cubes)


def test_pool_program_past_its_matrix_bound_is_skipped_and_the_loop_cover_kept(monkeypatch):
    from logicnets.cover import pool

    def no_program(*args, **kwargs):
        raise AssertionError("the pool program ran past POOL_MAX_MATRIX")

    monkeypatch.setattr(pool, "solve_cover", no_program)
    monkeypatch.setattr(twolevel, "POOL_MAX_MATRIX", 10)
    monkeypatch.setattr(twolevel, "PACKING_MAX_CELLS", 0)
    f = parse_pla(many_outputs(40, seed=3)).function()
    result = twolevel.minimize_cover(f)
    assert twolevel.cover_is_valid(f, result.cubes)
    assert "HiGHS" not in result.method
