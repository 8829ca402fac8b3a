"""Faults of a results folder (``lightning_mnist.study.store.ResultStore``): two runs on one
folder or one point, leftovers of a killed writer, a corrupt record, and hostile paths and files.

Each test is named after what the package promises. Nothing here trains a model: the points are
run by a stand-in that writes what a run writes, so the tests are about the folder, not the fit.
"""

from __future__ import annotations

import errno
import json
import os
import threading
import time
from pathlib import Path

import pytest

from lightning_mnist import cli
from lightning_mnist.study import sweeps
from lightning_mnist.study.figures import main as figures_main
from lightning_mnist.study.runs import run_sweep
from lightning_mnist.study.store import ResultStore
from lightning_mnist.study.sweeps import PROFILES, point_settings, sweep_points


def run_main(argv: list[str], capsys) -> tuple[int, str]:
    """``lightning-mnist ARGV``: its exit status and stderr."""
    try:
        cli.main(argv)
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    return code, capsys.readouterr().err


def one_line_error(code: int, err: str, *needles: str) -> None:
    lines = [ln for ln in err.splitlines() if ln.startswith("lightning-mnist") or "Traceback" in ln]
    assert code == 2, err
    assert "Traceback" not in err, err
    assert len(lines) == 1 and lines[0].startswith("lightning-mnist: error: "), err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def reproduce_logic(out: Path, capsys) -> tuple[int, str]:
    """The cheapest whole reproduction: the boolean stage and the report, no training."""
    return run_main(["reproduce", "--profile", "smoke", "--only", "logic", "--out", str(out)], capsys)


# --- two processes on one folder or one point -------------------------------------------------


def test_a_second_reproduce_on_a_busy_folder_is_refused_in_one_line(tmp_path, capsys):
    out = tmp_path / "out"
    with ResultStore(out, PROFILES["smoke"]).working():  # another reproduce holds the folder
        code, err = reproduce_logic(out, capsys)
    one_line_error(code, err, str(out), "in use by another run", f"process {os.getpid()}")
    assert not (out / "results" / "logic.json").exists() and not (out / "results" / "record.json").exists()
    assert reproduce_logic(out, capsys)[0] == 0  # released: the next one runs


def test_two_runs_of_the_same_point_train_it_once(tmp_path, monkeypatch):
    """Two ``sweep --index 0`` at once: the second waits for the first and reuses its result,
    so the point is trained (and its metrics rows written) once."""
    quick = PROFILES["quick"]
    trained = []

    def slow_run(point, profile, out, **kw):
        trained.append(point.key)
        time.sleep(0.5)  # the second caller arrives while this one trains
        result = {"key": point.key, "x": point.x, "test_acc": 0.9, "train_seconds": 1.0, "epochs": profile.epochs,
                  "settings": point_settings(point, profile)}  # fmt: skip
        ResultStore(out, profile).save(point, result)
        return result

    monkeypatch.setattr(sweeps, "run_point", slow_run)
    results: list = []
    threads = [
        threading.Thread(target=lambda: results.append(run_sweep("seed_mlp", quick, tmp_path, index=0)))
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert trained == [sweep_points("seed_mlp", quick)[0].key]
    assert len(results) == 2 and results[0] == results[1]


def test_a_sweep_waits_while_a_reproduction_holds_the_folder(tmp_path, monkeypatch, capsys):
    smoke, ran = PROFILES["smoke"], []

    def fake_run(point, profile, out, **kw):
        ran.append(time.monotonic())
        result = {"key": point.key, "x": point.x, "test_acc": 0.5, "train_seconds": 1.0, "epochs": 1,
                  "settings": point_settings(point, profile)}  # fmt: skip
        ResultStore(out, profile).save(point, result)
        return result

    monkeypatch.setattr(sweeps, "run_point", fake_run)
    argv = ["sweep", "seed_mlp", "--profile", "smoke", "--index", "0", "--out", str(tmp_path)]
    with ResultStore(tmp_path, smoke).working():  # a reproduction works on the folder
        sweep = threading.Thread(target=run_main, args=(argv, capsys))
        sweep.start()
        time.sleep(1.0)
        assert ran == [] and sweep.is_alive()  # waiting, not training beside it
        released = time.monotonic()
    sweep.join(timeout=30)
    assert len(ran) == 1 and ran[0] >= released


def test_a_lock_file_that_is_a_link_is_refused_and_not_followed(tmp_path, capsys):
    out, target = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    (out / ".lock").symlink_to(target)
    code, err = reproduce_logic(out, capsys)
    one_line_error(code, err, str(out / ".lock"))
    assert not target.exists()


# --- leftovers of a killed writer ---------------------------------------------------------------


def test_temporary_files_of_a_killed_writer_are_cleaned_by_the_next_run(tmp_path, capsys):
    out = tmp_path / "out"
    left = [
        out / "figures" / ".grid.png.k3j2h1g0.tmp",  # a kill during the report
        out / "points" / "seed_mlp" / ".seed=1337.json.a1b2c3d4.tmp",  # a kill during a point's write
        out / "checkpoints" / ".autoencoder.ckpt.zz_9yx8w.tmp",  # a kill during a checkpoint save
    ]
    kept = [
        out / "figures" / "notes.tmp",  # not the writer's name pattern
        out / "figures" / ".grid.png.tmp",
        out / "figures" / ".width.png.q1w2e3r4.tmp",  # the writer's pattern, but newer than the lock
    ]
    for path in left + kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half a file")
    old = time.time() - 3600
    for path in left + kept[:2]:
        os.utime(path, (old, old))
    future = time.time() + 3600  # written after this run took the folder: another writer's, live
    os.utime(kept[2], (future, future))
    outside = tmp_path / "outside.k3j2h1g0.tmp"
    outside.write_bytes(b"not in the folder")
    (out / "figures" / ".link.png.abcdefgh.tmp").symlink_to(outside)
    assert reproduce_logic(out, capsys)[0] == 0
    assert [p for p in left if p.exists()] == []
    assert all(p.exists() for p in kept)
    assert outside.read_bytes() == b"not in the folder"


# --- the record of invocations ------------------------------------------------------------------


def test_a_corrupt_record_is_moved_aside_with_a_warning_not_dropped(tmp_path, capsys):
    out = tmp_path / "out"
    record = out / "results" / "record.json"
    record.parent.mkdir(parents=True)
    record.write_text('{"sessions": [{"command": "an earlier invocation"')  # cut short
    with pytest.warns(UserWarning, match=r"record\.json could not be read; moved it to .*record\.json\.corrupt-"):
        assert reproduce_logic(out, capsys)[0] == 0
    (aside,) = record.parent.glob("record.json.corrupt-*")
    assert aside.read_text() == '{"sessions": [{"command": "an earlier invocation"'
    assert len(json.loads(record.read_text())["sessions"]) == 1


def test_a_record_of_the_wrong_shape_is_kept_aside_too(tmp_path):
    store = ResultStore(tmp_path, PROFILES["smoke"])
    store.record_path.parent.mkdir(parents=True)
    store.record_path.write_text("[1, 2, 3]")
    with pytest.warns(UserWarning, match="could not be read"):
        store.record({"command": "now"})
    assert [s["command"] for s in store.sessions()] == ["now"]
    assert [p.read_text() for p in store.record_path.parent.glob("record.json.corrupt-*")] == ["[1, 2, 3]"]


# --- hostile paths and files: one line, exit 2 --------------------------------------------------


def test_reproduce_out_a_regular_file_is_one_line(tmp_path, capsys):
    out = tmp_path / "results.txt"
    out.write_text("mine")
    one_line_error(*reproduce_logic(out, capsys), str(out), "not a folder")
    assert out.read_text() == "mine"


@pytest.mark.parametrize(("field", "value"), [("test_acc", "high"), ("x", [1]), ("train_seconds", None)])
def test_a_point_file_with_a_malformed_value_is_one_line(tmp_path, capsys, field, value):
    quick = PROFILES["quick"]
    point = sweep_points("seed_mlp", quick)[0]
    result = {"key": point.key, "x": None, "test_acc": 0.9, "train_seconds": 1.0, "epochs": 5,
              "settings": point_settings(point, quick)}  # fmt: skip
    path = ResultStore(tmp_path, quick).save(point, {**result, field: value})
    code, err = run_main(["collect", "seed_mlp", "--profile", "quick", "--out", str(tmp_path)], capsys)
    one_line_error(code, err, str(path), field)
    code, err = run_main(["sweep", "seed_mlp", "--index", "0", "--out", str(tmp_path)], capsys)
    one_line_error(code, err, str(path), field)  # not silently retrained over


def test_figures_out_a_link_is_one_line_and_its_target_untouched(tmp_path, capsys):
    target, link = tmp_path / "target.png", tmp_path / "grid.png"
    target.write_bytes(b"precious")
    link.symlink_to(target)
    with pytest.raises(SystemExit) as exit_:
        figures_main(["--ckpt", str(tmp_path / "ae.ckpt"), "--out", str(link)])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and str(link) in err and "symbolic link" in err
    assert target.read_bytes() == b"precious" and link.is_symlink()


def test_a_full_disk_during_reproduce_names_the_path(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    code, err = reproduce_logic(out, capsys)
    one_line_error(code, err, "No space left on device", str(out / "results" / "logic.json"))
