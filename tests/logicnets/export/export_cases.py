"""Networks for the export tests and the rows they are checked on (helpers, not fixtures).

The networks cover both kinds the writers meet: cube-only networks (PLAs compiled one neuron
per cube) and threshold networks (PLAs with threshold merging, symmetric and majority
formulas, a hand-built three-layer network), narrow (every row) and wide (random rows).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from logicnets import compile
from logicnets.network.multinet import MultiOutputNetwork
from logicnets.network.network import Layer, ThresholdNetwork

REPO = Path(__file__).resolve().parents[3]
SUITE = REPO.parent / "shared" / "logic-bench" / "pla"
BENCH = REPO / "scripts" / "bench" / "bench_pla.py"
#: Two small PLAs (every row) and two wide ones (more than 24 inputs: random rows, SAT proofs).
PLAS = ("sqn", "9sym", "misex2", "b4")
ALL_ROWS_UP_TO = 12
RANDOM_ROWS = 10_000


def suite_pla(name: str) -> Path:
    path = SUITE / f"{name}.pla"
    if not path.exists():
        pytest.skip(f"the shared PLA suite (../shared/logic-bench/pla) has no {name}.pla")
    return path


def formula_networks() -> dict[str, object]:
    """Threshold and cube networks from formulas and by hand, by name."""
    maj13 = ThresholdNetwork([f"v{i}" for i in range(13)], [(np.ones((1, 13)), [-6.5])])
    three_layers = ThresholdNetwork(
        ["a", "b", "c", "d"],
        [
            Layer([[1, 1, -1, 0], [0, -2, 1, 1], [1, 0, 0, -1]], [-0.5, 0.5, -0.5]),
            Layer([[1, -1, 1], [2, 1, -1]], [-0.5, -1.5]),
            Layer([[1, 1]], [-1.5]),
        ],
    )
    return {
        "maj3 (one neuron)": compile("(a&b)|(a&c)|(b&c)", method="auto"),
        "maj5 (threshold hidden)": compile(
            "(a&b&c)|(a&b&d)|(a&b&e)|(a&c&d)|(a&c&e)|(a&d&e)|(b&c&d)|(b&c&e)|(b&d&e)|(c&d&e)", method="symmetric"
        ),
        "parity5 (negated hidden)": compile("a^b^c^d^e", method="symmetric"),
        "parity14 (wide)": compile(" ^ ".join(f"x{i}" for i in range(14)), method="symmetric"),
        "dnf": compile("(a&~b)|(c&d&~e)|(~a&e)"),
        "maj13 (wide, one neuron)": maj13,
        "three layers": three_layers,
    }


def odd_names_network() -> MultiOutputNetwork:
    """Names Verilog cannot take as they are: a keyword, brackets, a space, non-ASCII, an output
    named as an input, and a hidden-looking input name ``h1``."""
    return MultiOutputNetwork(
        ["begin", "x[3]", "a b", "α", "h1"],
        ["h1", "out put", "x[3]_1"],
        Layer([[1, 1, 0, -1, 0], [0, 1, 1, 1, -1], [1, 0, 0, 0, 1]], [-1.5, -1.5, -0.5]),
        Layer([[1, 1, 0], [1, -1, 1], [0, 1, 1]], [-0.5, -0.5, -1.5]),
    )


def big_weights_network() -> ThresholdNetwork:
    """Weights past 2^31, so the Verilog sums need sized constants."""
    w = [[2.0**40, 2.0**40, -(2.0**41), 1], [3.0 * 2**33, -(2.0**34), 2.0**33, -1]]
    return ThresholdNetwork(["p", "q", "r", "s"], [Layer(w, [-(2.0**40) + 0.5, -(2.0**33)]), Layer([[1, -1]], [-0.5])])


def rows_for(n: int, seed: int = 0) -> np.ndarray:
    """Every row up to 12 inputs (first input most significant), else 10,000 random rows."""
    if n <= ALL_ROWS_UP_TO:
        return np.array(list(itertools.product([0, 1], repeat=n)), dtype=np.uint8).reshape(-1, n)
    return np.random.default_rng(seed).integers(0, 2, size=(RANDOM_ROWS, n), dtype=np.uint8)


def outputs_of(net, rows: np.ndarray) -> np.ndarray:
    """The network's own evaluation as a (rows, outputs) 0/1 array."""
    out = np.asarray(net(rows), dtype=np.uint8)
    return out.reshape(len(rows), -1)


def pla_outputs(text: str, rows: np.ndarray) -> np.ndarray:
    """A ``.type f`` PLA's outputs on ``rows``, read here without logicnets: an output is 1 where
    some product term with a 1 in its column matches the row (``0``/``1`` literal, ``-`` any)."""
    terms = [line.split() for line in text.splitlines() if line and line[0] in "01-"]
    m = len(terms[0][1]) if terms else int(next(w for w in text.split("\n") if w.startswith(".o ")).split()[1])
    out = np.zeros((len(rows), m), dtype=bool)
    for ins, outs in terms:
        match = np.ones(len(rows), dtype=bool)
        for k, ch in enumerate(ins):
            if ch != "-":
                match &= rows[:, k] == int(ch)
        for j, ch in enumerate(outs):
            if ch == "1":
                out[:, j] |= match
    return out.astype(np.uint8)


def blif_outputs(text: str, rows: np.ndarray) -> np.ndarray:
    """A combinational BLIF model's outputs on ``rows`` (a small reader, independent of
    logicnets): ``.inputs``, ``.outputs`` and ``.names`` covers, evaluated in dependency order;
    a cover whose rows end in 0 gives the complement."""
    inputs: list[str] = []
    outputs: list[str] = []
    blocks: list[tuple[list[str], str, list[tuple[str, str]]]] = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if not words or words[0] in (".model", ".end"):
            continue
        if words[0] == ".inputs":
            inputs += words[1:]
        elif words[0] == ".outputs":
            outputs += words[1:]
        elif words[0] == ".names":
            blocks.append((words[1:-1], words[-1], []))
        else:
            assert not words[0].startswith("."), f"unexpected BLIF line {line!r}"
            plane, value = words if len(words) == 2 else ("", words[0])
            blocks[-1][2].append((plane, value))
    value = {name: rows[:, k].astype(bool) for k, name in enumerate(inputs)}
    pending = blocks
    while pending:
        ready = [b for b in pending if all(s in value for s in b[0])]
        assert ready, f"signals never defined: {sorted({s for b in pending for s in b[0]} - set(value))}"
        for fanin, out, cover in ready:
            assert out not in value, f"{out} defined twice"
            on = np.zeros(len(rows), dtype=bool)
            for plane, _ in cover:
                on |= np.all([value[s] == (c == "1") for s, c in zip(fanin, plane, strict=True) if c != "-"], axis=0)
            value[out] = ~on if cover and cover[0][1] == "0" else on
        pending = [b for b in pending if b not in ready]
    return np.stack([value[name] for name in outputs], axis=1).astype(np.uint8)
