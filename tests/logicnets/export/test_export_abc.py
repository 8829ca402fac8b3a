"""BLIF and PLA exports read by Berkeley ABC (Debian's ``berkeley-abc``, where installed): its
``cec`` proves the BLIF equivalent to the network's own truth table (written here as a PLA of
minterms) up to 14 inputs, and to the exported PLA for the wide cube networks."""

from __future__ import annotations

import itertools
import shutil
import subprocess

import numpy as np
import pytest
from export_cases import PLAS, formula_networks, outputs_of

from logicnets.export import to_blif, to_pla

ABC = shutil.which("berkeley-abc") or shutil.which("yosys-abc")
pytestmark = pytest.mark.skipif(ABC is None, reason="Berkeley ABC is not installed (apt-get install berkeley-abc)")


def minterm_pla(net) -> str:
    """The network's own evaluation on all rows as a ``.type f`` PLA, one product term per row."""
    n = net.n_inputs
    assert n <= 14
    rows = np.array(list(itertools.product([0, 1], repeat=n)), dtype=np.uint8).reshape(-1, n)
    out = outputs_of(net, rows)
    names = list(net.outputs) if hasattr(net, "outputs") else ["out"]
    lines = [f".i {net.n_inputs}", f".o {len(names)}", ".ilb " + " ".join(net.inputs), ".ob " + " ".join(names)]
    pairs = zip(rows.tolist(), out.tolist(), strict=True)
    lines += ["".join(map(str, r)) + " " + "".join(map(str, o)) for r, o in pairs if any(o)]
    return "\n".join([*lines, ".e"]) + "\n"


def cec(tmp_path, blif: str, other: str, suffix: str) -> str:
    (tmp_path / "a.blif").write_text(blif)
    (tmp_path / f"b.{suffix}").write_text(other)
    cmd = f"cec {tmp_path / 'a.blif'} {tmp_path / f'b.{suffix}'}"
    res = subprocess.run([ABC, "-c", cmd], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return res.stdout


EQUAL = "Networks are equivalent"


@pytest.mark.parametrize("name", list(formula_networks()))
def test_blif_equals_the_networks_truth_table(tmp_path, name):
    net = formula_networks()[name]
    assert EQUAL in cec(tmp_path, to_blif(net), minterm_pla(net), "pla")


@pytest.mark.parametrize("threshold", [False, True], ids=["cubes", "threshold-merged"])
@pytest.mark.parametrize("name", [p for p in PLAS if p in ("sqn", "9sym")])
def test_small_pla_networks_equal_their_truth_tables(pla_network, tmp_path, name, threshold):
    _, net = pla_network(name, threshold)
    assert EQUAL in cec(tmp_path, to_blif(net), minterm_pla(net), "pla")


@pytest.mark.parametrize("name", PLAS)
def test_wide_cube_networks_blif_equals_pla(pla_network, tmp_path, name):
    _, net = pla_network(name, False)
    assert EQUAL in cec(tmp_path, to_blif(net), to_pla(net), "pla")


def test_abc_finds_a_wrong_cover(tmp_path):
    """The check can fail: one prime implicant dropped from a majority's cover."""
    net = formula_networks()["maj5 (threshold hidden)"]
    lines = to_blif(net).splitlines()
    first = next(k for k, line in enumerate(lines) if line[:1] in "01-")
    broken = "\n".join(lines[:first] + lines[first + 1 :]) + "\n"
    out = cec(tmp_path, broken, minterm_pla(net), "pla")
    assert EQUAL not in out and "NOT EQUIVALENT" in out.upper()
