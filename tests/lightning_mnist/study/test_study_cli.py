"""study.cli: one front for reproduce | sweep | collect, sharing --profile and --out."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lightning_mnist.study import cli as study_cli


@pytest.mark.parametrize("command", [["reproduce"], ["sweep", "width"], ["collect", "width"]])
def test_every_command_takes_the_shared_options(command, tmp_path):
    args = study_cli.parser().parse_args([*command, "--profile", "smoke", "--out", str(tmp_path)])
    assert (args.command, args.profile, args.out) == (command[0], "smoke", tmp_path)


def test_sweep_list_prints_the_points(capsys, tmp_path):
    study_cli.main(["sweep", "width", "--profile", "smoke", "--list", "--out", str(tmp_path)])
    assert capsys.readouterr().out.splitlines() == [
        "0 width=2-seed=1337", "1 width=2-seed=1338", "2 width=128-seed=1337", "3 width=128-seed=1338"
    ]  # fmt: skip


def test_python_m_study_is_the_same_front(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "lightning_mnist.study", "collect", "width", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("lightning-mnist: error: no results for sweep 'width'")


def test_reproduce_records_the_command_as_typed(tmp_path, monkeypatch):
    seen = {}
    monkeypatch.setattr("lightning_mnist.study.reproduce.reproduce", lambda *a, **k: seen.update(k) or tmp_path)
    study_cli.main(["reproduce", "--only", "logic", "--out", str(tmp_path)])
    assert seen["command"] == f"lightning-mnist reproduce --only logic --out {tmp_path}"
