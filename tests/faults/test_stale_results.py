"""Stale results: a result, stage or report row computed under other settings (another profile,
epochs, data, overrides) is never reused or reported; it is rerun with a warning."""

from __future__ import annotations

from dataclasses import replace

import pytest

from lightning_mnist.errors import MissingResultsError
from lightning_mnist.study import reproduce as rep
from lightning_mnist.study import sweeps
from lightning_mnist.study.runs import run_sweep
from lightning_mnist.study.sweeps import PROFILES, collect, point_settings, sweep_points, write_json


def fake_result(point, profile, acc: float = 0.5) -> dict:
    return {
        "key": point.key,
        "x": point.x,
        "test_acc": acc,
        "train_seconds": 1.0,
        "epochs": profile.epochs,
        "settings": point_settings(point, profile),
    }


def test_another_profiles_point_files_are_rerun_with_a_warning_and_not_collected(tmp_path, monkeypatch):
    smoke, quick = PROFILES["smoke"], PROFILES["quick"]
    for point in sweep_points("seed_mlp", smoke):
        write_json(point.result_path(tmp_path), fake_result(point, smoke, acc=0.1))
    with pytest.raises(MissingResultsError, match="profile 'quick'"):
        collect("seed_mlp", tmp_path, quick)  # smoke's files are no quick results

    ran = []

    def fake_run(point, profile, out, **kw):
        ran.append(point.key)
        result = fake_result(point, profile, acc=0.9)
        write_json(point.result_path(out), result)
        return result

    monkeypatch.setattr(sweeps, "run_point", fake_run)
    with pytest.warns(UserWarning, match="stale.*profile: 'smoke' there, 'quick' now"):
        results = run_sweep("seed_mlp", quick, tmp_path)
    assert ran == [p.key for p in sweep_points("seed_mlp", quick)]
    assert {r["test_acc"] for r in results} == {0.9}
    (row,) = collect("seed_mlp", tmp_path, quick)
    assert (row["acc_mean"], row["profile"]) == (0.9, "quick")
    ran.clear()
    assert run_sweep("seed_mlp", quick, tmp_path) == results and ran == []  # now fresh: kept


@pytest.mark.parametrize(
    "change",
    [
        {"epochs": 7},
        {"limit_train_batches": 3},
        {"data_dir": "/elsewhere"},
        {"verify_checksums": False},
        {"seeds": 5},
    ],
)
def test_any_setting_that_determines_a_point_makes_its_file_stale(tmp_path, monkeypatch, change):
    quick = PROFILES["quick"]
    point = sweep_points("seed_mlp", quick)[0]
    write_json(point.result_path(tmp_path), fake_result(point, quick))
    assert sweeps.load_result(point, quick, tmp_path) is not None
    with pytest.warns(UserWarning, match="stale"):
        assert sweeps.load_result(point, replace(quick, **change), tmp_path) is None
    other = replace(point, overrides=("--model.init_args.lr", "0.5"))
    with pytest.warns(UserWarning, match="overrides"):
        assert sweeps.load_result(other, quick, tmp_path) is None


def test_result_files_without_settings_are_rerun(tmp_path):
    quick = PROFILES["quick"]
    point = sweep_points("seed_mlp", quick)[0]
    write_json(point.result_path(tmp_path), {"x": None, "test_acc": 0.5, "train_seconds": 1.0, "epochs": 5})
    with pytest.warns(UserWarning, match="records no settings"):
        assert sweeps.load_result(point, quick, tmp_path) is None


def test_stages_of_another_profile_are_rerun(tmp_path):
    calls = []

    def stage(profile, out):
        calls.append(profile.name)
        return {"value": profile.name}

    assert rep.run_stage("grid", stage, PROFILES["smoke"], tmp_path)["value"] == "smoke"
    assert rep.run_stage("grid", stage, PROFILES["smoke"], tmp_path)["value"] == "smoke"
    with pytest.warns(UserWarning, match="stale"):
        assert rep.run_stage("grid", stage, PROFILES["quick"], tmp_path)["value"] == "quick"
    assert calls == ["smoke", "quick"]


def test_report_leaves_out_another_profiles_results(tmp_path):
    from lightning_mnist.study.report import write_report

    row = {"n": 2, "acc_std": 0.0, "epochs": 1, "seconds_mean": 1.0, "profile": "smoke"}
    rows = [{**row, "x": 2, "acc_mean": 0.6}, {**row, "x": 4, "acc_mean": 0.7}]
    write_json(tmp_path / "results" / "width.json", rows)
    smoke = write_report(tmp_path, PROFILES["smoke"]).read_text()
    quick = write_report(tmp_path, PROFILES["quick"]).read_text()
    assert "60.00 ± 0.00 %" in smoke and "60.00" not in quick
