"""Preemption (SIGTERM): a fit saves a resumable ``interrupted.ckpt`` and exits 143; a sweep keeps
its finished points, abandons the current one without a checkpoint, and exits 143."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
import torch
from faults_cli import subprocess_env, tiny_args, wait_for

STARTED = """
import time
from pathlib import Path
from lightning_mnist.backend import Callback

class Started(Callback):
    def on_train_batch_end(self, trainer, *args):
        Path("started").touch()
        time.sleep(0.02)
"""


@pytest.mark.slow  # about 25 s on a busy 2-core machine: two CLI processes
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
