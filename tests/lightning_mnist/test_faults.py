"""Faults a user or a cluster causes: stale results, SIGTERM, untrusted or wrong checkpoints,
failed writes, bad arguments. Each ends in a saved state and one line, never a traceback."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from lightning_mnist import cli
from lightning_mnist.backend import ROOT
from lightning_mnist.checkpoints import AtomicCheckpointIO
from lightning_mnist.errors import MissingResultsError
from lightning_mnist.study import reproduce as rep
from lightning_mnist.study import sweeps
from lightning_mnist.study.runs import run_sweep
from lightning_mnist.study.sweeps import PROFILES, collect, point_settings, sweep_points, write_json
from lightning_mnist.trainer_cli import build_cli
from logicnets.files import OutputPathError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def data_dir(helpers, tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("tiny")
    helpers.write_tiny(data, n_train=200, n_test=60)
    return data


def tiny_args(data_dir: Path, runs: Path, *extra: str, config: str = "seed_mlp") -> list[str]:
    return [
        "--config",
        config,
        "--data.data_dir",
        str(data_dir),
        "--data.verify_checksums",
        "false",
        "--data.batch_size",
        "16",
        "--data.steps_per_execution",
        "1",
        "--data.eval_batch_size",
        "60",
        "--trainer.logger.init_args.save_dir",
        str(runs),
        "--trainer.enable_progress_bar",
        "false",
        "--trainer.enable_model_summary",
        "false",
        "--trainer.accelerator",
        "cpu",
        *extra,
    ]


def run_main(argv: list[str], capsys, monkeypatch) -> tuple[int, str]:
    """``lightning-mnist ARGV`` in this process: (exit status, stderr)."""
    monkeypatch.setattr(sys, "argv", ["lightning-mnist"])
    try:
        cli.main(argv)
        code = 0
    except SystemExit as exit:
        code = exit.code
    return code, capsys.readouterr().err


def one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2, err[-2000:]
    assert "Traceback" not in err, err[-2000:]
    lines = [line for line in err.splitlines() if line.startswith("lightning-mnist: error:")]
    assert len(lines) == 1, err[-2000:]
    for needle in needles:
        assert needle in lines[0], lines[0]


def subprocess_env() -> dict:
    return dict(os.environ, PYTHONWARNINGS="ignore", OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))


# ---------------------------------------------------------------------------------------
# 1. Stale results
# ---------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------
# 5. One-line errors for bad arguments
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("layers", ["[{width: -3}]", "[{width: 0}]", "[{width: 8, dropout: 1.5}]"])
def test_bad_layer_is_one_line(layers, data_dir, tmp_path, capsys, monkeypatch):
    code, err = run_main(["fit", *tiny_args(data_dir, tmp_path, "--model.layers", layers)], capsys, monkeypatch)
    one_line_error(code, err, "bad layer")


def test_bad_depth_is_one_line(data_dir, tmp_path, capsys, monkeypatch):
    argv = ["fit", *tiny_args(data_dir, tmp_path, "--model.init_args.depth", "0", config="depth_sgd")]
    one_line_error(*run_main(argv, capsys, monkeypatch), "depth must be >= 1")


def test_a_genuine_value_error_stays_a_traceback():
    assert cli.user_error(ValueError("a bug")) is None
    assert cli.user_error(OSError(errno.ENOSPC, "No space left on device", "/x")) is not None


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["sweep", "width", "--index", "99"], ("points 0..21", "--index 99")),
        (["collect", "width", "--out", "{tmp}"], ("no results for sweep 'width'", "run it first")),
        (["reproduce", "--only", "bogus", "--out", "{tmp}"], ("bogus", "grid", "autoencoders")),
        (["reproduce", "--only", "--out", "{tmp}"], ("at least one stage",)),
    ],
)
def test_study_commands_refuse_bad_arguments_in_one_line(argv, needles, tmp_path, capsys, monkeypatch):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    one_line_error(*run_main(argv, capsys, monkeypatch), *needles)
    assert not (tmp_path / "report.md").exists()


# ---------------------------------------------------------------------------------------
# 3. Checkpoint trust and identity
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def checkpoints(data_dir, tmp_path_factory) -> dict[str, Path]:
    """A real checkpoint of seed_mlp and of autoencoder, one epoch of two batches each."""
    out = tmp_path_factory.mktemp("ckpts")
    found = {}
    for config in ("seed_mlp", "autoencoder"):
        args = tiny_args(data_dir, out / "runs", "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2")
        c = build_cli([*args, "--config", config], run=False)
        c.trainer.fit(c.model, datamodule=c.datamodule)
        found[config] = out / f"{config}.ckpt"
        c.trainer.save_checkpoint(found[config])
    return found


def bad_checkpoints(tmp_path: Path, good: Path) -> dict[str, tuple[str, str]]:
    """name -> (--ckpt_path, what the message must say)."""
    (tmp_path / "empty.ckpt").write_bytes(b"")
    (tmp_path / "text.ckpt").write_text("not a checkpoint\n")
    (tmp_path / "truncated.ckpt").write_bytes(good.read_bytes()[:2000])
    torch.save({"weights": torch.zeros(3)}, tmp_path / "plain.pt")

    class Evil:
        def __reduce__(self):
            return (os.system, ("touch pwned",))

    torch.save({"state_dict": {}, "payload": Evil()}, tmp_path / "evil.ckpt")
    return {
        "url": ("http://127.0.0.1:9/model.ckpt", "URL"),
        "https": ("https://example.org/x.ckpt", "URL"),
        "missing": (str(tmp_path / "none.ckpt"), "does not exist"),
        "empty": (str(tmp_path / "empty.ckpt"), "is empty"),
        "text": (str(tmp_path / "text.ckpt"), "not a PyTorch checkpoint"),
        "truncated": (str(tmp_path / "truncated.ckpt"), "cannot be read"),
        "no_state_dict": (str(tmp_path / "plain.pt"), "not a Lightning checkpoint"),
        "code": (str(tmp_path / "evil.ckpt"), "pickled objects"),
        "last": ("last", "no last checkpoint"),
    }


@pytest.mark.parametrize(
    "case", ["url", "https", "missing", "empty", "text", "truncated", "no_state_dict", "code", "last"]
)
def test_untrusted_or_broken_ckpt_path_is_refused_in_one_line(
    case, checkpoints, data_dir, tmp_path, capsys, monkeypatch
):
    path, needle = bad_checkpoints(tmp_path, checkpoints["seed_mlp"])[case]
    monkeypatch.chdir(tmp_path)
    argv = ["fit", *tiny_args(data_dir, tmp_path / "runs", "--trainer.max_epochs", "1"), "--ckpt_path", path]
    one_line_error(*run_main(argv, capsys, monkeypatch), needle, path if case != "last" else "")
    assert not (tmp_path / "pwned").exists()
    assert not list((tmp_path / "runs").glob("*/version_*/checkpoints/*.ckpt"))  # nothing trained


@pytest.mark.parametrize(
    ("subcommand", "config", "ckpt"),
    [("fit", "seed_mlp", "autoencoder"), ("test", "seed_mlp", "autoencoder"), ("validate", "autoencoder", "seed_mlp")],
)
def test_another_modules_checkpoint_is_refused(
    subcommand, config, ckpt, checkpoints, data_dir, tmp_path, capsys, monkeypatch
):
    argv = [subcommand, *tiny_args(data_dir, tmp_path, config=config), "--ckpt_path", str(checkpoints[ckpt])]
    one_line_error(*run_main(argv, capsys, monkeypatch), str(checkpoints[ckpt]), "this run's model")


def test_a_matching_checkpoint_still_loads(checkpoints, data_dir, tmp_path, capsys, monkeypatch):
    argv = ["test", *tiny_args(data_dir, tmp_path), "--ckpt_path", str(checkpoints["seed_mlp"])]
    code, err = run_main(argv, capsys, monkeypatch)
    assert code == 0, err[-3000:]


# ---------------------------------------------------------------------------------------
# 4. Atomic checkpoint writes
# ---------------------------------------------------------------------------------------


class Unpicklable:
    def __reduce__(self):
        raise RuntimeError("killed mid-save")


def test_checkpoint_io_never_leaves_a_partial_file(tmp_path):
    io = AtomicCheckpointIO()
    path = tmp_path / "ck" / "last.ckpt"
    io.save_checkpoint({"state_dict": {"w": torch.ones(3)}}, path)
    before = path.read_bytes()
    with pytest.raises(RuntimeError, match="killed mid-save"):
        io.save_checkpoint({"state_dict": {"w": torch.zeros(1000)}, "x": Unpicklable()}, path)
    assert path.read_bytes() == before and sorted(p.name for p in path.parent.iterdir()) == ["last.ckpt"]


def test_checkpoint_io_full_disk_names_the_path(tmp_path, monkeypatch):
    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    path = tmp_path / "full.ckpt"
    with pytest.raises(OutputPathError, match=r"full\.ckpt.*No space left"):
        AtomicCheckpointIO().save_checkpoint({"state_dict": {}}, path)
    assert not path.exists() and not list(tmp_path.iterdir())
    assert cli.user_error(OutputPathError("x")) is not None  # one line, exit 2


def test_cli_installs_the_atomic_checkpoint_io_unless_the_user_brings_one(data_dir, tmp_path):
    c = build_cli(tiny_args(data_dir, tmp_path), run=False)
    assert isinstance(c.trainer.strategy.checkpoint_io, AtomicCheckpointIO)
    own = ["--trainer.plugins", f"{ROOT}.plugins.TorchCheckpointIO"]
    c = build_cli([*tiny_args(data_dir, tmp_path), *own], run=False)
    assert type(c.trainer.strategy.checkpoint_io).__name__ == "TorchCheckpointIO"


def test_a_failed_metrics_write_names_the_file(data_dir, tmp_path, monkeypatch):
    """A full disk during a metrics flush names the file and leaves the last whole version."""
    import logicnets.files

    c = build_cli(tiny_args(data_dir, tmp_path), run=False)
    logger = c.trainer.logger
    logger.log_metrics({"x": 1.0}, step=0)
    logger.save()
    path = Path(logger.experiment.metrics_file_path)
    before = path.read_bytes()
    logger.log_metrics({"x": 2.0, "y": 3.0}, step=1)  # a new key: the whole file is rewritten

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(logicnets.files.os, "fsync", full)
    with pytest.raises(OutputPathError, match=r"metrics\.csv: No space left") as info:
        logger.save()
    assert cli.user_error(info.value) is info.value
    assert path.read_bytes() == before  # never half a file
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []
    monkeypatch.undo()
    logger.save()
    assert path.read_text().splitlines() == ["step,x,y", "0,1.0,", "1,2.0,3.0"]


# ---------------------------------------------------------------------------------------
# 2. SIGTERM (preemption)
# ---------------------------------------------------------------------------------------

STARTED = """
import time
from pathlib import Path
from lightning_mnist.backend import Callback

class Started(Callback):
    def on_train_batch_end(self, trainer, *args):
        Path("started").touch()
        time.sleep(0.02)
"""


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            pytest.fail(f"exited {proc.returncode} early: {proc.stderr.read()[-3000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"{path} never appeared")
        time.sleep(0.1)


def test_sigterm_during_fit_saves_a_resumable_checkpoint_and_exits_143(data_dir, tmp_path):
    (tmp_path / "started_cb.py").write_text(STARTED)
    runs = tmp_path / "runs"
    args = tiny_args(data_dir, runs, "--trainer.max_epochs", "1000", "--trainer.callbacks+=started_cb.Started")
    command = [sys.executable, "-m", "lightning_mnist.cli", "fit", *args]
    env = subprocess_env()
    proc = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(tmp_path / "started", proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err[-3000:]
    (ckpt,) = runs.glob("seed_mlp/version_0/checkpoints/interrupted.ckpt")
    assert f"interrupted by SIGTERM; checkpoint saved to {ckpt}" in err and "Traceback" not in err
    state = torch.load(ckpt, weights_only=True, map_location="cpu")
    assert state["global_step"] >= 1 and state["state_dict"]

    resume = subprocess.run(
        [sys.executable, "-m", "lightning_mnist.cli", "fit", *tiny_args(data_dir, runs, "--trainer.max_epochs", "2"),
         "--ckpt_path", str(ckpt)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert resume.returncode == 0, resume.stderr[-3000:]
    assert "Restored all states from the checkpoint" in resume.stdout + resume.stderr


SWEEP = """
import sys
from dataclasses import replace
from lightning_mnist.study import sweeps
from lightning_mnist import cli
from lightning_mnist.backend import ROOT

sweeps.PROFILES["tiny"] = replace(
    sweeps.PROFILES["smoke"], name="tiny", data_dir=sys.argv[1], verify_checksums=False,
    epochs=1000, limit_train_batches=2, depths=(1, 2),
)
real = sweeps.run_point

def run_point(point, profile, out, **kw):
    # the first point is quick, the second trains until it is stopped
    return real(point, replace(profile, epochs=1) if point.key.endswith("1-seed=1337") else profile, out, **kw)

sweeps.run_point = run_point
cli.main(["sweep", "depth_sgd", "--profile", "tiny", "--out", sys.argv[2]])
"""


def test_sigterm_during_a_sweep_keeps_finished_points_and_exits_143(data_dir, tmp_path):
    (tmp_path / "sweep.py").write_text(SWEEP)
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "sweep.py", str(data_dir), str(out)],
        cwd=tmp_path, env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    first = out / "points" / "depth_sgd" / "depth=1-seed=1337.json"
    wait_for(first, proc)
    time.sleep(2)  # into the second point (its set-up, or its training)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err[-3000:]
    assert "interrupted by SIGTERM; finished points are kept" in err and "Traceback" not in err
    assert json.loads(first.read_text())["test_acc"] is not None
    assert sorted(p.name for p in first.parent.glob("*.json")) == [first.name]
    assert not list(out.glob("runs/**/*.ckpt"))  # the abandoned point leaves no checkpoint
