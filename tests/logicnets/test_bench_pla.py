"""The PLA bench's worker and report (scripts/bench/bench_pla.py); ESPRESSO is not needed here."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from logicnets.construct.placompile import compile_function
from logicnets.pla.format import read_pla

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench" / "bench_pla.py"
MAJORITY = ".i 3\n.o 1\n.ilb a b c\n.ob f\n11- 1\n1-1 1\n-11 1\n.e\n"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_pla", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_worker(path: Path) -> tuple[int, list[dict]]:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--worker", str(path)], capture_output=True, text=True, timeout=300
    )
    return proc.returncode, [json.loads(line) for line in proc.stdout.splitlines()]


def test_worker_reports_the_network_as_json(tmp_path):
    pla = tmp_path / "maj3.pla"
    pla.write_text(MAJORITY)
    rc, rows = run_worker(pla)
    assert rc == 0
    assert rows[0]["status"] == "started"  # the first row comes before any work
    row = rows[-1]
    net = compile_function(read_pla(pla).function())  # the same compile, in this process
    assert row["status"] == "verified" and row["verdict"] is True and row["stage"] == "done"
    assert (row["name"], row["inputs"], row["outputs"]) == ("maj3.pla", 3, 1)
    assert row["hidden"] == net.hidden_size
    assert row["cubes"] == net.stats["cubes"] == row["stats"]["cubes"]
    assert row["engine"] and row["engine"] != "?"
    assert isinstance(row["compile_s"], float) and row["compile_s"] >= 0
    assert isinstance(row["verify_s"], float) and row["verify_s"] >= 0
    assert row["peak_mb"] > 0 and row["memory_mb"] == 2048


def test_worker_reports_a_bad_pla_as_a_row(tmp_path):
    pla = tmp_path / "bad.pla"
    pla.write_text(".i 3\n.o 1\n11 1\n.e\n")  # a product term one input short
    rc, rows = run_worker(pla)
    assert rc == 0
    row = rows[-1]
    assert row["status"] == "parse error" and row["stage"] == "read"
    assert "bad.pla:3:" in row["message"]
    assert (row["inputs"], row["outputs"]) == (3, 1)  # from the header, though the read failed
    assert "hidden" not in row


def test_a_worker_past_its_timeout_is_a_row(bench, tmp_path):
    pla = tmp_path / "maj3.pla"
    pla.write_text(MAJORITY)
    row = bench.run_worker(str(pla), timeout=0.001, memory_mb=2048, threshold=True)
    assert row["status"] == "timeout" and "over 0.001 s" in row["message"]
    assert (row["inputs"], row["outputs"]) == (3, 1)


def fake(name, status, hidden=None, cubes=None, compile_s=0.1):
    row = {"name": name, "status": status, "inputs": 4, "outputs": 1, "compile_s": compile_s, "verify_s": 0.01}
    if hidden is not None:
        row["hidden"] = hidden
    row["espresso"] = {"status": "ok", "cubes": cubes, "seconds": 0.01} if cubes is not None else None
    return row


def test_totals_and_exit_status(bench):
    rows = [fake("a", "verified", 3, 4), fake("b", "verified", 5, 4, 2.0), fake("c", "refused", compile_s=None)]
    s = bench.summarize(rows)
    assert (s["hidden"], s["espresso_cubes"], s["both"]) == (8, 8, 2)
    assert s["over"] == [("b", 5, 4)] and s["slowest"]["name"] == "b"
    assert s["failures"] == [("c", "refused", "")]
    assert bench.exit_code(s, strict=False) == 0  # a refusal is reported, not a wrong network
    assert bench.exit_code(s, strict=True) == 1
    s = bench.summarize([*rows, fake("d", "WRONG", 1, 4)])
    assert s["wrong"] == ["d"] and bench.exit_code(s, strict=False) == 1
    text = "\n".join(bench.totals_lines(s))
    assert "8 vs 8" not in text and "9 vs 12" in text and "b (5 vs 4)" in text


def test_markdown_replaces_only_its_own_section(bench, tmp_path):
    md = tmp_path / "doc.md"
    md.write_text(f"# Title\n\nprose\n\n{bench.MARK_BEGIN}\nold table\n{bench.MARK_END}\n\nafter\n")
    bench.write_markdown(str(md), f"{bench.MARK_BEGIN}\nnew table\n{bench.MARK_END}\n")
    text = md.read_text()
    assert "old table" not in text and "new table" in text
    assert text.startswith("# Title\n\nprose\n") and text.endswith("\n\nafter\n")


def test_a_missing_pla_path_is_one_line_and_exit_2(bench, tmp_path, capsys):
    assert bench.main([str(tmp_path / "nope.pla")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "nope.pla: no such file or folder" in err
