"""Helpers of the fault catalogue: the ``lightning-mnist`` command on a tiny data set, in this
process or in a child, and the one-line error every user fault must end in."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from lightning_mnist import cli

REPO = Path(__file__).resolve().parents[2]


def tiny_args(data_dir: Path, runs: Path, *extra: str, config: str = "seed_mlp") -> list[str]:
    """Arguments of a quick CPU run of ``config`` on the tiny data set, logging under ``runs``."""
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


def run_main_out(argv: list[str], capsys, monkeypatch) -> tuple[int, str, str]:
    """``lightning-mnist ARGV`` in this process: (exit status, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["lightning-mnist"])
    try:
        cli.main(argv)
        code = 0
    except SystemExit as exit:
        code = exit.code
    out = capsys.readouterr()
    return code, out.out, out.err


def run_main(argv: list[str], capsys, monkeypatch) -> tuple[int, str]:
    """``lightning-mnist ARGV`` in this process: (exit status, stderr)."""
    code, _, err = run_main_out(argv, capsys, monkeypatch)
    return code, err


def one_line_error(code: int, err: str, *needles: str) -> str:
    """Exit 2, no traceback, exactly one ``lightning-mnist: error:`` line holding every needle
    (returned)."""
    assert code == 2, err[-2000:]
    assert "Traceback" not in err, err[-2000:]
    lines = [line for line in err.splitlines() if line.startswith("lightning-mnist: error:")]
    assert len(lines) == 1, err[-2000:]
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


STEMS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def idx_header(*dims: int) -> bytes:
    return bytes([0, 0, 8, len(dims)]) + b"".join(int(d).to_bytes(4, "big") for d in dims)


def write_tiny_mnist(folder: Path, n_train: int = 64, n_test: int = 32) -> Path:
    """Four uncompressed IDX files of random digits (seeded) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for stem, n in zip(STEMS, (n_train, n_train, n_test, n_test), strict=True):
        array = (rng.integers(0, 256, (n, 28, 28)) if "images" in stem else rng.integers(0, 10, n)).astype(np.uint8)
        (folder / stem).write_bytes(idx_header(*array.shape) + array.tobytes())
    return folder


def subprocess_env() -> dict:
    return dict(os.environ, PYTHONWARNINGS="ignore", OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            pytest.fail(f"exited {proc.returncode} early: {proc.stderr.read()[-3000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"{path} never appeared")
        time.sleep(0.1)
