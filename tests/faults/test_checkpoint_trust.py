"""Untrusted or wrong checkpoints: a ``--ckpt_path`` that is a URL, missing, empty, truncated,
not a checkpoint, carries code, or holds another module is refused in one line before
Lightning loads it; nothing is trained and no code runs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from faults_cli import one_line_error, run_main, tiny_args

from lightning_mnist.trainer_cli import build_cli


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
