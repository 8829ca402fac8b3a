"""Verilog export, checked by a real simulator: Icarus Verilog runs the module on every row up
to 12 inputs (10,000 random rows above), one vvp run per network reading its vectors from a
file, and its outputs must equal the network's own evaluation."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from export_cases import PLAS, big_weights_network, formula_networks, odd_names_network, outputs_of, rows_for

from logicnets.export import to_verilog
from logicnets.network.network import ThresholdNetwork


def make_testbench(n: int, m: int, count: int, vectors: Path, ports: list[str] | None = None) -> str:
    """A testbench that reads ``count`` rows of ``n`` bits and prints the ``m`` outputs per row.
    Input k is bit n-1-k (the row's k-th character); ports connect by position unless named."""
    ins = [f"x[{n - 1 - k}]" for k in range(n)]
    outs = [f"y[{m - 1 - j}]" for j in range(m)]
    wires = ins + outs
    conns = ", ".join(wires if ports is None else [f".{p}({w})" for p, w in zip(ports, wires, strict=True)])
    return f"""module tb;
  reg [{n - 1}:0] vectors [0:{count - 1}];
  reg [{n - 1}:0] x;
  wire [{m - 1}:0] y;
  integer i;
  dut u ({conns});
  initial begin
    $readmemb("{vectors}", vectors);
    for (i = 0; i < {count}; i = i + 1) begin
      x = vectors[i];
      #1 $display("%b", y);
    end
    $finish;
  end
endmodule
"""


def simulate(tools, tmp_path: Path, verilog: str, rows: np.ndarray, m: int, ports=None) -> np.ndarray:
    """The module's outputs on ``rows`` as iverilog/vvp compute them (one run for all rows)."""
    iverilog, vvp = tools
    (tmp_path / "dut.v").write_text(verilog)
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("\n".join("".join(map(str, r)) for r in rows.tolist()) + "\n")
    (tmp_path / "tb.v").write_text(make_testbench(rows.shape[1], m, len(rows), vectors, ports))
    build = subprocess.run(
        [iverilog, "-g2001", "-Wall", "-o", str(tmp_path / "sim"), str(tmp_path / "tb.v"), str(tmp_path / "dut.v")],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr
    assert "dut.v" not in build.stderr, build.stderr  # no warning about the exported module
    run = subprocess.run([vvp, "-n", str(tmp_path / "sim")], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    lines = [line for line in run.stdout.splitlines() if re.fullmatch(r"[01xz]+", line)]
    assert len(lines) == len(rows), run.stdout[-500:]
    assert not any(set(line) - {"0", "1"} for line in lines), "x or z in the outputs"
    return np.array([[int(c) for c in line] for line in lines], dtype=np.uint8)


def check_against_network(tools, tmp_path: Path, net) -> None:
    rows = rows_for(net.n_inputs)
    expected = outputs_of(net, rows)
    got = simulate(tools, tmp_path, to_verilog(net, module="dut"), rows, expected.shape[1])
    bad = np.flatnonzero((got != expected).any(axis=1))
    assert bad.size == 0, f"{bad.size} rows differ, first {rows[bad[0]].tolist()}: {got[bad[0]]} vs {expected[bad[0]]}"


@pytest.mark.parametrize("threshold", [False, True], ids=["cubes", "threshold-merged"])
@pytest.mark.parametrize("name", PLAS)
def test_pla_networks_simulate_as_the_network(iverilog, pla_network, tmp_path, name, threshold):
    _, net = pla_network(name, threshold)
    check_against_network(iverilog, tmp_path, net)


@pytest.mark.parametrize("name", list(formula_networks()))
def test_formula_networks_simulate_as_the_network(iverilog, tmp_path, name):
    check_against_network(iverilog, tmp_path, formula_networks()[name])


def test_weights_past_32_bits_simulate_exactly(iverilog, tmp_path):
    net = big_weights_network()
    assert "43'd1099511627776*p" in to_verilog(net)  # sized constants: the sums are 43 bits wide
    check_against_network(iverilog, tmp_path, net)


def test_a_wrong_module_is_caught(iverilog, tmp_path):
    """The comparison can fail: one threshold off by one changes the simulated outputs."""
    net = formula_networks()["maj5 (threshold hidden)"]
    text = to_verilog(net, module="dut")
    broken = text.replace(">= 3;", ">= 2;")
    assert broken != text
    rows = rows_for(5)
    assert (simulate(iverilog, tmp_path, broken, rows, 1) != outputs_of(net, rows)).any()


def test_odd_names_are_escaped_or_mapped_and_stated(iverilog, tmp_path):
    net = odd_names_network()
    text = to_verilog(net, module="dut")
    stated = dict(re.findall(r"^// (\S+) is the network's \w+(?: \w+)? (\".*\")$", text, flags=re.M))
    assert json.loads(stated["a_b"]) == "a b" and json.loads(stated["u03b1"]) == "α"
    assert json.loads(stated["h1_2"]) == "h1" and json.loads(stated["out_put"]) == "out put"
    assert "wire h1_1;" in text  # the hidden neuron h1, renamed beside the input h1, needs no comment
    # ports by name: escaped identifiers end at a space; renamed ones as the comments state
    ports = ["\\begin ", "\\x[3] ", "a_b", "u03b1", "h1", "h1_2", "out_put", "\\x[3]_1 "]
    rows = rows_for(net.n_inputs)
    got = simulate(iverilog, tmp_path, text, rows, net.n_outputs, ports=ports)
    assert (got == outputs_of(net, rows)).all()


def test_text_form():
    from logicnets import compile

    text = to_verilog(compile("(a & ~b) | c", method="threshold"), module="m")
    assert "module m (\n  input wire a,\n  input wire b,\n  input wire c,\n  output wire out\n);" in text
    assert "  assign out = (a + 2*c) >= (1 + b);" in text
    assert text.count("assign") == 1 and text.startswith("//") and "endmodule" in text


def test_fresh_names_never_take_the_networks_own():
    net = ThresholdNetwork(["a b", "a_b", "3x"], [(np.array([[1.0, 1, 1]]), [-1.5])])
    text = to_verilog(net)
    assert "input wire a_b_1,\n  input wire a_b,\n  input wire \\3x ," in text
    assert '// a_b_1 is the network\'s input "a b"' in text and text.count("// a_b") == 1
