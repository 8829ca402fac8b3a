"""study.report: the report is built from a store's files, the claims judged once."""

from __future__ import annotations

from lightning_mnist.study import report
from lightning_mnist.study.store import ResultStore
from lightning_mnist.study.sweeps import PROFILES


def test_the_claims_are_judged_once_per_report(tmp_path, monkeypatch):
    calls = []
    real = report.claims
    monkeypatch.setattr(report, "claims", lambda store: calls.append(store) or real(store))
    path = report.write_report(tmp_path, PROFILES["smoke"])
    assert len(calls) == 1 and calls[0].profile is PROFILES["smoke"] and calls[0].out == tmp_path
    assert path == tmp_path / "report.md"
    assert {p.name for p in tmp_path.iterdir()} >= {"report.md", "report.html", "claims.csv"}


def test_an_empty_folder_reports_what_is_missing(tmp_path):
    text = report.render_markdown(report.blocks(ResultStore(tmp_path, PROFILES["smoke"])))
    assert "Not finished, so their claims are missing above: grid, logic, softmax_gd (0 of 1 runs done)" in text
    assert "No record of the command (no record.json)" in text


def test_table_cells_escape_the_column_bar():
    text = report.render_markdown([("table", ["a"], [["x | y"]])])
    assert "| x \\| y |" in text


def test_a_report_reads_each_results_file_once(tmp_path, monkeypatch):
    """Many claims use the same sweep's points (seed_mlp: three claims): read once per report."""
    from collections import Counter
    from pathlib import Path

    from lightning_mnist.study.sweeps import point_settings, sweep_points

    smoke = PROFILES["smoke"]
    store = ResultStore(tmp_path, smoke)
    for name in ("softmax_gd", "seed_mlp", "seed_dropout"):
        for point in sweep_points(name, smoke):
            store.save(point, {"key": point.key, "x": None, "seed": point.seed, "test_acc": 0.9, "epochs": 1,
                               "train_seconds": 1.0, "settings": point_settings(point, smoke)})  # fmt: skip
        store.collect(name)
    reads = Counter()
    real = Path.read_text
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: reads.update([self]) or real(self, *a, **k))
    report.write_report(tmp_path, smoke)
    assert reads[store.point_path(sweep_points("seed_mlp", smoke)[0])] == 1
    assert reads and max(reads.values()) == 1
