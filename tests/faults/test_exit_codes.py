"""Exit statuses a scheduler or a script can rely on: 130 after SIGINT (Ctrl-C), 143 after
SIGTERM, in every subcommand (Lightning's own ``exit(1)`` on Ctrl-C is not passed on: 1 means a
diverging run), and 2 for a bad argument (``logicnets --max-rows -5``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from faults_cli import write_tiny_mnist

from lightning_mnist import cli
from logicnets import cli as logicnets_cli

REPO = Path(__file__).resolve().parents[2]

# Marks that a loop is running, then makes each batch slow enough for a signal to land in it.
STARTED = """
import time
from pathlib import Path
from lightning_mnist.backend import Callback

class Started(Callback):
    def _started(self, *args):
        Path("started").touch()
        time.sleep(0.2)

    on_train_batch_end = on_validation_batch_end = on_test_batch_end = on_predict_batch_end = _started
"""


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_tiny_mnist(tmp_path_factory.mktemp("tiny"), n_test=64)


def interrupt(subcommand: str, signum: int, data: Path, tmp_path: Path) -> tuple[int, str]:
    """Run ``lightning-mnist SUBCOMMAND`` on tiny data, send ``signum`` once a batch has run:
    (exit status, stderr)."""
    (tmp_path / "started_cb.py").write_text(STARTED)
    args = [
        subcommand, "--config", "seed_mlp", "--data.data_dir", str(data), "--data.verify_checksums", "false",
        "--data.batch_size", "4", "--data.steps_per_execution", "1", "--data.eval_batch_size", "4",
        "--trainer.logger.init_args.save_dir", str(tmp_path / "runs"), "--trainer.enable_progress_bar", "false",
        "--trainer.accelerator", "cpu", "--trainer.max_epochs", "1000", "--trainer.callbacks+=started_cb.Started",
    ]  # fmt: skip
    env = dict(os.environ, PYTHONWARNINGS="ignore", OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, "-m", "lightning_mnist.cli", *args],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not (tmp_path / "started").exists():
        if proc.poll() is not None:
            pytest.fail(f"exited {proc.returncode} before a batch ran: {proc.stderr.read()[-3000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("no batch ran within 120 s")
        time.sleep(0.05)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err


@pytest.mark.parametrize("subcommand", ["fit", "predict"])
def test_sigint_during_a_run_exits_130_not_the_diverging_runs_1(subcommand, data, tmp_path):
    code, err = interrupt(subcommand, signal.SIGINT, data, tmp_path)
    assert code == 130, err[-3000:]
    assert "lightning-mnist: interrupted by SIGINT" in err and "Traceback" not in err


@pytest.mark.parametrize("subcommand", ["predict", "test", "validate"])
def test_sigterm_during_evaluation_or_prediction_exits_143_and_writes_no_predictions(subcommand, data, tmp_path):
    code, err = interrupt(subcommand, signal.SIGTERM, data, tmp_path)
    assert code == 143, err[-3000:]
    assert "lightning-mnist: interrupted by SIGTERM" in err and "Traceback" not in err
    assert not list((tmp_path / "runs").glob("**/predictions*.pt"))


def test_sigterm_after_the_last_batch_still_exits_143(monkeypatch, capsys):
    """Lightning wraps the CLI's SIGTERM handler while a loop runs and only notes the signal; one
    that lands after the loop's last check is reported as an interruption all the same."""

    def run_as_lightning_does(argv):
        ours = signal.getsignal(signal.SIGTERM)
        noted = []
        signal.signal(signal.SIGTERM, lambda signum, frame: (noted.append(signum), ours(signum, frame)))
        try:
            os.kill(os.getpid(), signal.SIGTERM)  # after the last batch: nothing stops the loop
            time.sleep(0.1)
        finally:
            signal.signal(signal.SIGTERM, ours)
        assert noted

    monkeypatch.setattr(cli, "build_cli", run_as_lightning_does)
    monkeypatch.setattr(sys, "argv", ["lightning-mnist"])
    with pytest.raises(SystemExit) as info:
        cli.main(["predict", "--config", "seed_mlp"])
    assert info.value.code == 143
    assert "interrupted by SIGTERM" in capsys.readouterr().err


def test_a_lightning_exit_1_without_sigint_stays_1(monkeypatch):
    """Only Ctrl-C turns Lightning's exit(1) into 130; any other exit status passes through."""

    def exits(argv):
        raise SystemExit(1)

    monkeypatch.setattr(cli, "build_cli", exits)
    monkeypatch.setattr(sys, "argv", ["lightning-mnist"])
    with pytest.raises(SystemExit) as info:
        cli.main(["fit", "--config", "seed_mlp"])
    assert info.value.code == 1


@pytest.mark.parametrize("value", ["-5", "-1", "many"])
def test_a_negative_or_non_numeric_max_rows_is_refused_with_exit_2(value, capsys):
    assert logicnets_cli.main(["compile", "x ^ y", "--truth-table", "--max-rows", value]) == 2
    err = capsys.readouterr().err
    assert f"argument --max-rows: {value!r}" in err or f"argument --max-rows: {value}" in err
    assert "Traceback" not in err


def test_max_rows_zero_or_more_is_accepted(capsys):
    assert logicnets_cli.main(["compile", "x ^ y", "--truth-table", "--max-rows", "0"]) == 0
    assert "4 more rows (--max-rows)" in capsys.readouterr().out
