"""The ``logicnets`` command line: output, JSON files, exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from logicnets import Layer, ThresholdNetwork, verify
from logicnets.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_compile_prints_network_and_verification(capsys):
    code, out, err = run(capsys, "compile", "x ^ y", "--verify")
    assert code == 0 and err == ""
    assert "h1 = theta(+x -y -0.5)" in out
    assert "verified: equivalent on all 4 rows" in out


def test_compile_minimize_reports_counts(capsys):
    code, out, _ = run(capsys, "compile", "a & b | a & ~b | ~a & b", "--minimize", "--verify")
    assert code == 0
    assert "hidden neurons: 2 (before minimisation: 3, minimal)" in out


def test_compile_truth_table_flag(capsys):
    code, out, _ = run(capsys, "compile", "x -> y", "--truth-table")
    assert code == 0
    assert "x y | expected network" in out
    assert "1 0 |        0       0" in out


def test_compile_json_writes_a_loadable_network(capsys, tmp_path):
    path = tmp_path / "xor.json"
    code, out, _ = run(capsys, "compile", "x ^ y", "--json", str(path))
    assert code == 0 and f"wrote {path}" in out
    net = ThresholdNetwork.load(path)
    assert verify(net, "x ^ y")
    assert json.loads(path.read_text())["format"] == "logicnets.ThresholdNetwork"
    assert sorted(os.listdir(tmp_path)) == ["xor.json"]


def test_compile_from_minterms_and_outputs(capsys):
    code, out, _ = run(capsys, "compile", "--minterms", "1,2", "--vars", "x,y", "--verify")
    assert code == 0 and "verified" in out
    code, out, _ = run(capsys, "compile", "--outputs", "0001", "--method", "auto", "--verify")
    assert code == 0 and "method: threshold; hidden neurons: 0" in out
    code, out, _ = run(capsys, "compile", "--minterms", "1,2", "--n", "2")
    assert code == 0 and "[x0, x1]" in out


def test_compile_methods(capsys):
    parity = " ^ ".join(f"x{i}" for i in range(8))
    code, out, _ = run(capsys, "compile", parity, "--method", "symmetric", "--verify")
    assert code == 0 and "hidden neurons: 8 (the DNF has at most 128 terms)" in out


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["compile", "x & & y"], "parse error at position 4"),
        (["compile", "__import__('os').system('true')"], "parse error"),
        (["compile"], "give a formula"),
        (["compile", "x", "--minterms", "1"], "not both"),
        (["compile", "--minterms", "1,x", "--n", "2"], "row numbers"),
        (["compile", "--minterms", "9", "--n", "2"], "not a row number"),
        (["compile", "--minterms", "1"], "--vars"),
        (["compile", "--outputs", "011"], "2^n outputs"),
        (["compile", "x ^ y", "--method", "threshold"], "not linearly separable"),
        (["verify", "/nonexistent.json", "x"], "cannot read"),
        (["compile", "x & y", "--vars", "x"], "not in the given variables"),
    ],
)
def test_bad_input_exits_2_with_a_message(capsys, argv, fragment):
    code, _out, err = run(capsys, *argv)
    assert code == 2
    assert fragment in err
    assert "Traceback" not in err


def test_usage_errors_exit_2(capsys):
    code, _, err = run(capsys, "frobnicate")
    assert code == 2 and "invalid choice" in err
    code, _, err = run(capsys, "compile", "x", "--method", "magic")
    assert code == 2
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "compile" in out


def test_verify_command_exit_codes(capsys, tmp_path):
    path = tmp_path / "or.json"
    assert main(["compile", "x | y", "--json", str(path)]) == 0
    capsys.readouterr()
    code, out, _ = run(capsys, "verify", str(path), "x | y")
    assert code == 0 and "verified" in out
    code, out, _ = run(capsys, "verify", str(path), "x ^ y")
    assert code == 1
    assert "FAILED" in out and "x=1 y=1: expected 0, network gives 1" in out


def test_compile_verify_failure_exit_1(capsys, monkeypatch):
    import logicnets.construct.compiler as comp

    real = comp.network_from_terms

    def sabotaged(terms, variables, stats=None):
        net = real(terms, variables, stats)
        return ThresholdNetwork(net.inputs, (net.layers[0], Layer([[1.0] * net.hidden_size], [-1.5])))

    monkeypatch.setattr(comp, "network_from_terms", sabotaged)
    code, out, _ = run(capsys, "compile", "x ^ y", "--verify")
    assert code == 1 and "FAILED" in out


def test_decompile_command(capsys, tmp_path):
    path = tmp_path / "n.json"
    main(["compile", "a & ~b | c", "--json", str(path)])
    capsys.readouterr()
    code, out, _ = run(capsys, "decompile", str(path))
    assert code == 0 and out.strip() == "a & ~b | c"
    code, out, _ = run(capsys, "decompile", str(path), "--simplify")
    assert code == 0 and "c" in out


def test_console_script_runs_as_a_process():
    exe = shutil.which("logicnets", path=os.path.dirname(sys.executable))
    cmd = [exe] if exe else [sys.executable, "-m", "logicnets.cli"]
    res = subprocess.run([*cmd, "compile", "x ^ y", "--verify"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "verified" in res.stdout
    res = subprocess.run([*cmd, "compile", "x ^"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "parse error" in res.stderr


def _net_file(tmp_path):
    path = tmp_path / "net.json"
    assert main(["compile", "x & y", "--json", str(path)]) == 0
    return path


HOSTILE_FILES = {
    "binary.json": bytes(range(256)) * 4,
    "latin1.json": '{"format": "caf\xe9"}'.encode("latin-1"),
    "deep.json": b"[" * 100_000 + b"]" * 100_000,
    "deepobj.json": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "hugeint.json": b'{"format": "logicnets.ThresholdNetwork", "version": ' + b"9" * 100_000 + b"}",
    "bigweight.json": (
        b'{"format": "logicnets.ThresholdNetwork", "version": 1, "inputs": ["x"], '
        b'"layers": [{"weights": [[' + b"9" * 390 + b']], "biases": [0]}]}'
    ),
    "nan.json": b'{"format": "logicnets.ThresholdNetwork", "version": 1, "inputs": ["x"], '
    b'"layers": [{"weights": [[NaN]], "biases": [0]}]}',
    "layers.json": b'{"format": "logicnets.ThresholdNetwork", "version": 1, "inputs": ["x"], "layers": 7}',
    "empty.json": b"",
}


@pytest.mark.parametrize("name", sorted(HOSTILE_FILES))
@pytest.mark.parametrize(
    "command",
    [
        ["verify", "{}", "x"],
        ["decompile", "{}"],
        ["verify", "{}", "--pla", "{}"],
        ["compile", "--file", "{}"],
        ["compile", "--pla", "{}"],
    ],
)
def test_hostile_input_files_exit_2_with_one_line_naming_the_file(capsys, tmp_path, name, command):
    path = tmp_path / name
    path.write_bytes(HOSTILE_FILES[name])
    code, _out, err = run(capsys, *[a.replace("{}", str(path)) for a in command])
    assert code == 2, err
    assert err.startswith("logicnets: error: ") and str(path) in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_output_paths_that_are_not_regular_files_are_refused(capsys, tmp_path):
    target = tmp_path / "real.json"
    target.write_text("keep")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    parent_is_file = tmp_path / "real.json" / "x.json"
    for out in (link, fifo, tmp_path, "/dev/null", parent_is_file):
        code, _out, err = run(capsys, "compile", "x", "--json", str(out))
        assert code == 2 and str(out) in err, err
        assert ".tmp" not in err and "Traceback" not in err
    assert target.read_text() == "keep"


def test_verification_failure_is_the_only_exit_1(capsys, tmp_path):
    path = _net_file(tmp_path)
    assert run(capsys, "verify", str(path), "x | y")[0] == 1
    assert run(capsys, "verify", str(path), "x & y")[0] == 0
    assert run(capsys, "verify", str(path), "x & (")[0] == 2
    assert run(capsys, "compile", "--minterms", "1", "--n", "-3")[0] == 2
    assert run(capsys, "compile", "--minterms", "1", "--n", "100000000000")[0] == 2
    assert run(capsys, "compile", "--minterms", "1" * 5000, "--n", "2")[0] == 2


def test_formula_file_that_is_not_utf8(capsys, tmp_path):
    path = tmp_path / "f.txt"
    path.write_bytes(b"x & \xff")
    code, _out, err = run(capsys, "compile", "--file", str(path))
    assert code == 2 and "not UTF-8" in err and str(path) in err
