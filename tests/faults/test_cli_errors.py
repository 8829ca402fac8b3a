"""A ``--ckpt_path`` that names nothing loadable ends in one line and exit 2, never a traceback:
a folder, ``best`` / ``hpc`` with nothing to resolve, a model registry, a checkpoint whose
hyperparameters are not a dict. Nothing is trained."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from lightning_mnist import cli

STEMS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def write_tiny_mnist(folder: Path, n_train: int = 64, n_test: int = 32) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for stem, n in zip(STEMS, (n_train, n_train, n_test, n_test), strict=True):
        array = (rng.integers(0, 256, (n, 28, 28)) if "images" in stem else rng.integers(0, 10, n)).astype(np.uint8)
        head = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
        (folder / stem).write_bytes(head + array.tobytes())
    return folder


def run_main(argv: list[str], capsys, monkeypatch) -> tuple[int, str]:
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


def argv_for(subcommand: str, data: Path, runs: Path, ckpt_path: str) -> list[str]:
    return [
        subcommand, "--config", "seed_mlp", "--data.data_dir", str(data), "--data.verify_checksums", "false",
        "--trainer.logger.init_args.save_dir", str(runs), "--trainer.enable_progress_bar", "false",
        "--trainer.accelerator", "cpu", "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "1",
        "--ckpt_path", ckpt_path,
    ]  # fmt: skip


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_tiny_mnist(tmp_path_factory.mktemp("tiny"))


@pytest.mark.parametrize("subcommand", ["fit", "test"])
def test_a_folder_as_ckpt_path_is_one_line_naming_the_checkpoints_inside(
    subcommand, data, tmp_path, capsys, monkeypatch
):
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    (folder / "epoch=0-step=1.ckpt").write_bytes(b"")
    code, err = run_main(argv_for(subcommand, data, tmp_path / "runs", str(folder)), capsys, monkeypatch)
    one_line_error(code, err, str(folder), "is a folder", "epoch=0-step=1.ckpt")
    assert not list((tmp_path / "runs").glob("**/*.ckpt"))


@pytest.mark.parametrize(
    ("name", "needle"),
    [("best", "no best checkpoint"), ("hpc", "no HPC checkpoint"), ("registry:mnist-model", "model registries")],
)
@pytest.mark.parametrize("subcommand", ["fit", "test"])
def test_a_special_ckpt_path_with_nothing_to_resolve_is_one_line(
    subcommand, name, needle, data, tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    code, err = run_main(argv_for(subcommand, data, tmp_path / "runs", name), capsys, monkeypatch)
    one_line_error(code, err, f"--ckpt_path {name}", needle)
    assert not list((tmp_path / "runs").glob("**/*.ckpt"))


@pytest.mark.parametrize("hparams", [[1, 2], "lr=0.1", 3, {1: "x"}])
def test_hyperparameters_that_are_not_a_dict_are_one_line(hparams, data, tmp_path, capsys, monkeypatch):
    path = tmp_path / "odd.ckpt"
    torch.save({"state_dict": {}, "hyper_parameters": hparams}, path)
    code, err = run_main(argv_for("fit", data, tmp_path / "runs", str(path)), capsys, monkeypatch)
    one_line_error(code, err, str(path), "not a dict")
