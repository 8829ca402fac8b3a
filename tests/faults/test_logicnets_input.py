"""Hostile input to ``logicnets``: every reader has a stated bound, checked before the work,
and past it one line on stderr and exit 2; what ``decompile`` prints parses back.

The bounds: ``PlaLimits`` (``--pla-limits``) for a PLA's declared ``.i``/``.o``, terms and
size; ``MAX_JSON_DEPTH``, ``MAX_NETWORK_LAYERS`` and ``MAX_NETWORK_WEIGHTS`` for network files;
``MAX_DECOMPILE_SIZE`` for a decompiled formula.  Cases that used to hang run in a child
process with a timeout far above their time now, so a regression fails instead of hanging.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from logicnets.cli import main
from logicnets.formula.formula import Formula
from logicnets.formula.parser import parse_node
from logicnets.network.decompile import MAX_DECOMPILE_SIZE, decompile_formula
from logicnets.network.multinet import MultiOutputNetwork, load_network
from logicnets.network.network import MAX_NETWORK_LAYERS, Layer, ThresholdNetwork
from logicnets.rows import all_rows

#: Names that are no identifiers of the formula grammar (or are its keywords).
ODD_NAMES = ("(", "&", "a b", "", "and", "True", "not", "busA<31>", 'say "hi"', "back\\slash", "x->y", "0")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("logicnets: error: "), err
    assert "Traceback" not in err
    return lines[0]


def run_child(code: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """``code`` in a fresh interpreter; a hang fails the test after ``timeout`` seconds."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)


# ---------------------------------------------------------------- PLA header values


@pytest.mark.parametrize(
    ("header", "limit"),
    [
        (".i 2000\n.o 1\n", "inputs"),
        (".i 99999999999999999999999\n.o 1\n", "inputs"),
        (".i 2\n.o 1000000\n", "outputs"),
        (".i 2\n.o 1025\n", "outputs"),
    ],
)
def test_pla_header_past_its_limit_is_one_line_before_anything_is_built(capsys, tmp_path, header, limit):
    path = tmp_path / "big.pla"
    path.write_text(header + ".e\n")
    code, _, err = run(capsys, "compile", "--pla", str(path))
    line = one_line_error(err)
    assert code == 2
    assert f"--pla-limits {limit}=N" in line and "the limit is" in line


@pytest.mark.parametrize("n", [33, 40, 1000])
def test_pla_with_many_inputs_and_few_terms_compiles_and_is_proven(capsys, tmp_path, n):
    path = tmp_path / f"wide{n}.pla"
    path.write_text(f".i {n}\n.o 1\n{'1' * n} 1\n0{'-' * (n - 1)} 1\n.e\n")
    code, out, err = run(capsys, "compile", "--pla", str(path), "--verify")
    assert code == 0, err
    assert "verified" in out


def test_pla_with_thousands_of_outputs_compiles_within_raised_limits(capsys, tmp_path):
    m = 1500
    path = tmp_path / "outs.pla"
    path.write_text(f".i 4\n.o {m}\n1100 {'1' * m}\n0-1- {'01' * (m // 2)}\n.e\n")
    code, out, err = run(capsys, "compile", "--pla", str(path), "--pla-limits", f"outputs={m}", "--verify")
    assert code == 0, err
    assert f"for {m} output(s)" in out


def test_pla_names_with_control_characters_are_refused(capsys, tmp_path):
    path = tmp_path / "ctl.pla"
    path.write_text(".i 2\n.o 1\n.ilb a b\x01\n11 1\n.e\n")
    code, _, err = run(capsys, "compile", "--pla", str(path))
    assert code == 2 and "control character" in one_line_error(err)


# ---------------------------------------------------------------- network JSON


@pytest.mark.parametrize("closed", [True, False])
def test_network_json_with_a_long_run_of_escaped_quotes_is_read_in_linear_time(closed):
    # 2 MB: a scan that retries from every quote needed hours here; a linear one, milliseconds
    tail = '"}' if closed else ""
    child = run_child(
        "from logicnets.network.jsonio import loads\n"
        "from logicnets.errors import LogicError\n"
        f"text = '{{\"format\": \"' + '\\\\\"' * 1_000_000 + {tail!r}\n"
        "assert len(text) > 2_000_000, len(text)\n"
        "try:\n    loads(text, 'net.json')\nexcept LogicError as exc:\n    print(exc)\n"
    )
    assert child.returncode == 0, child.stderr
    assert closed or "not valid JSON" in child.stdout


def test_network_json_nesting_is_bounded_outside_strings_only(capsys, tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text('{"a": ' + "[" * 5000 + "]" * 5000 + "}")
    code, _, err = run(capsys, "decompile", str(deep))
    assert code == 2 and "levels deep" in one_line_error(err)
    # brackets inside a string (with escaped quotes before them) are not nesting
    fine = ThresholdNetwork(("a", "b"), (Layer([[1, 1]], [-1.5]),), {"note": '\\"' + "[" * 5000})
    path = tmp_path / "fine.json"
    fine.save(path)
    assert load_network(path).stats["note"].endswith("[" * 10)


def test_network_with_more_layers_than_the_limit_is_refused(capsys, tmp_path):
    layers = [{"weights": [[1.0]], "biases": [-0.5]}] * (MAX_NETWORK_LAYERS + 1)
    path = tmp_path / "layers.json"
    path.write_text(
        json.dumps({"format": "logicnets.ThresholdNetwork", "version": 1, "inputs": ["x"], "layers": layers})
    )
    code, _, err = run(capsys, "decompile", str(path))
    assert code == 2 and f"limit of {MAX_NETWORK_LAYERS}" in one_line_error(err)


def test_network_weights_are_bounded_before_the_matrix_is_built(monkeypatch, capsys, tmp_path):
    from logicnets.network import network

    monkeypatch.setattr(network, "MAX_NETWORK_WEIGHTS", 8)
    net = ThresholdNetwork(("a", "b", "c"), (Layer(np.ones((3, 3)), [-0.5] * 3), Layer([[1, 1, 1]], [-0.5])))
    path = tmp_path / "wide.json"
    net.save(path)
    code, _, err = run(capsys, "decompile", str(path))
    assert code == 2 and "limit of 8 weights" in one_line_error(err)


def test_network_names_with_control_characters_are_refused(capsys, tmp_path):
    path = tmp_path / "ctl.json"
    ThresholdNetwork(("a", "b\nc"), (Layer([[1, 1]], [-1.5]),)).save(path)
    code, _, err = run(capsys, "decompile", str(path))
    assert code == 2 and "control character" in one_line_error(err)


# ---------------------------------------------------------------- decompile


def deep_network(layers: int) -> ThresholdNetwork:
    """``layers`` layers of AND and OR of the previous two neurons: the formula doubles per layer."""
    body = [Layer([[1, 1], [1, 1]], [-1.5, -0.5]) for _ in range(layers - 1)]
    return ThresholdNetwork(("a", "b"), (*body, Layer([[1, 1]], [-0.5])))


def test_decompile_of_a_deep_network_stops_with_one_line_naming_the_bound(tmp_path):
    path = tmp_path / "deep31.json"
    deep_network(31).save(path)
    child = run_child(f"import sys\nfrom logicnets.cli import main\nsys.exit(main(['decompile', {str(path)!r}]))")
    assert child.returncode == 2, child.stderr
    line = one_line_error(child.stderr)
    assert f"limit of {MAX_DECOMPILE_SIZE}" in line and "--simplify" in line
    # the way the message offers works: the truth table's minimal DNF
    child = run_child(
        f"import sys\nfrom logicnets.cli import main\nsys.exit(main(['decompile', {str(path)!r}, '--simplify']))"
    )
    assert child.returncode == 0 and child.stdout.strip() == "a | b"


def same_function(text: str, names: tuple[str, ...], net) -> bool:
    formula = Formula.parse(text, names)
    rows = all_rows(len(names))
    return bool(np.array_equal(formula.evaluate(rows), np.asarray(net(rows)).astype(bool)))


def test_decompile_prints_formulas_over_odd_names_that_parse_back_to_the_same_function(capsys, tmp_path):
    rng = np.random.default_rng(7)
    names = ODD_NAMES[:6]
    for trial in range(6):
        w1 = rng.integers(-2, 3, (4, len(names)))
        net = ThresholdNetwork(names, (Layer(w1, rng.integers(-2, 2, 4) + 0.5), Layer([[1, -1, 1, 1]], [-0.5])))
        path = tmp_path / f"odd{trial}.json"
        net.save(path)
        code, out, err = run(capsys, "decompile", str(path))
        assert code == 0, err
        assert same_function(out.strip(), names, net), out


def test_decompile_of_a_pla_with_odd_names_prints_lines_that_parse_back(capsys, tmp_path):
    ins, outs = ("busA<31>", "(", "and", "x-1"), ("f<0>", "or", 'q"')
    pla = tmp_path / "odd.pla"
    pla.write_text(
        f".i 4\n.o 3\n.ilb {' '.join(ins)}\n.ob {' '.join(outs)}\n11-- 100\n--11 011\n1-1- 010\n0000 001\n.e\n"
    )
    net_path = tmp_path / "odd.json"
    code, _, err = run(capsys, "compile", "--pla", str(pla), "--json", str(net_path))
    assert code == 0, err
    code, out, err = run(capsys, "decompile", str(net_path))
    assert code == 0, err
    net = load_network(net_path)
    assert isinstance(net, MultiOutputNetwork)
    lines = out.strip().splitlines()
    assert len(lines) == len(outs)
    for k, line in enumerate(lines):
        left, _, right = line.partition(" = ")
        assert parse_node(left) == ("var", outs[k])
        assert same_function(right, ins, net.output(k)), line


def test_every_odd_name_round_trips_through_the_formula_grammar():
    for name in ODD_NAMES:
        net = ThresholdNetwork((name, "z"), (Layer([[1, -1]], [-0.5]),))
        text = str(decompile_formula(net))
        assert same_function(text, (name, "z"), net), (name, text)


def test_formula_files_with_quoted_names_compile(capsys, tmp_path):
    path = tmp_path / "f.txt"
    path.write_text('"busA<31>" & ~"and" | "a b"')
    code, out, err = run(capsys, "compile", "--file", str(path), "--verify")
    assert code == 0, err
    assert "verified" in out
