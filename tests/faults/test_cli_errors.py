"""A ``--ckpt_path`` that names nothing loadable ends in one line and exit 2, never a traceback:
a folder, ``best`` / ``hpc`` with nothing to resolve, a model registry, a checkpoint whose
hyperparameters are not a dict. Nothing is trained."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from faults_cli import one_line_error, run_main, write_tiny_mnist


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
