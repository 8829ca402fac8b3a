"""study.store.ResultStore: the one owner of a results folder, passed as an argument."""

from __future__ import annotations

import json
import sys
import types

import pytest

from lightning_mnist.study import claims, reproduce, sweeps
from lightning_mnist.study.report import write_report
from lightning_mnist.study.store import ResultStore
from lightning_mnist.study.sweeps import PROFILES, point_settings, sweep_points


def fake(point, profile, acc=0.9) -> dict:
    return {"key": point.key, "x": point.x, "seed": point.seed, "test_acc": acc, "train_seconds": 1.0,
            "epochs": point.epochs or profile.epochs, "profile": profile.name,
            "settings": point_settings(point, profile)}  # fmt: skip


def test_every_path_of_a_results_folder_lies_under_it(tmp_path):
    store = ResultStore(tmp_path / "out", PROFILES["quick"])
    point = sweep_points("width", PROFILES["quick"])[0]
    paths = [
        store.point_path(point),
        store.results_path("width"),
        store.record_path,
        store.figure_path("grid"),
        store.checkpoint_path("autoencoder"),
        store.runs_folder,
        store.report_path("claims.csv"),
    ]
    assert all(p.is_relative_to(tmp_path / "out") for p in paths)
    assert store.point_path(point) == tmp_path / "out" / "points" / "width" / f"{point.key}.json"
    assert point.result_path(tmp_path / "out") == store.point_path(point)  # the old spelling asks the store
    assert store.expand("{out}/checkpoints/a.ckpt") == f"{tmp_path / 'out'}/checkpoints/a.ckpt"


def test_two_stores_on_one_folder_see_their_own_profile(tmp_path):
    """The profile is the store's, not the module's: judging one never changes the other."""
    smoke, quick = PROFILES["smoke"], PROFILES["quick"]
    point = sweep_points("seed_mlp", smoke)[0]
    ResultStore(tmp_path, smoke).save(point, fake(point, smoke))
    as_smoke, as_quick, as_any = ResultStore(tmp_path, smoke), ResultStore(tmp_path, quick), ResultStore(tmp_path)
    assert [r["key"] for r in as_smoke.runs("seed_mlp")] == [point.key]
    assert as_quick.runs("seed_mlp") == []
    assert len(as_any.runs("seed_mlp")) == 1
    assert as_smoke.runs("seed_mlp") == as_any.runs("seed_mlp")  # asked again, in another order


def test_the_stage_cache_reuses_a_stage_of_the_same_settings_only(tmp_path):
    calls = []

    def stage(profile, store):
        calls.append(profile.name)
        assert isinstance(store, ResultStore)
        return {"value": len(calls)}

    smoke = ResultStore(tmp_path, PROFILES["smoke"])
    assert smoke.stage("grid", stage)["value"] == 1
    assert smoke.stage("grid", stage)["value"] == 1
    with pytest.warns(UserWarning, match=r"grid\.json is stale"):
        assert ResultStore(tmp_path, PROFILES["quick"]).stage("grid", stage)["value"] == 2
    assert json.loads(smoke.results_path("grid").read_text())["settings"]["profile"] == "quick"


def test_the_record_keeps_every_invocation(tmp_path):
    store = ResultStore(tmp_path)
    for i in range(3):
        store.record({"command": f"run {i}"})
    assert [s["command"] for s in ResultStore(tmp_path).sessions()] == ["run 0", "run 1", "run 2"]


def module_state() -> dict:
    """Every global of every lightning_mnist module: its identity, and the contents of containers."""
    state = {}
    for name, module in list(sys.modules.items()):
        if not name.startswith("lightning_mnist") or not isinstance(module, types.ModuleType):
            continue
        for key, value in vars(module).items():
            if isinstance(value, (dict, list, set)) or not isinstance(
                value, (types.ModuleType, types.FunctionType, type)
            ):
                state[name, key] = (id(value), repr(value))
    return state


def test_a_reproduction_and_its_report_leave_no_module_state(tmp_path, monkeypatch):
    """No module global changes while a report is judged and written (the profile being judged
    is the store's), nor over a reproduction."""
    monkeypatch.setattr(sys, "argv", ["lightning-mnist"])
    smoke = PROFILES["smoke"]
    for point in sweep_points("seed_mlp", smoke):
        ResultStore(tmp_path, smoke).save(point, fake(point, smoke))
    sweeps.collect("seed_mlp", tmp_path, smoke)
    write_report(tmp_path, smoke)  # every module the report needs is imported now
    during = []
    monkeypatch.setattr(claims, "CLAIMS", (*claims.CLAIMS, lambda store: during.append(module_state()) or []))
    before = module_state()
    write_report(tmp_path, PROFILES["quick"])
    reproduce.reproduce(smoke, tmp_path, ["logic"], command="test")
    assert len(during) == 2  # one judgement per report
    for after in [*during, module_state()]:
        assert {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)} == set()
