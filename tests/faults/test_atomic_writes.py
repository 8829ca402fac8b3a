"""Failed writes: a checkpoint or metrics file is written whole or not at all, and a full disk
names the file (one line, exit 2) and leaves the last whole version."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
import torch
from faults_cli import tiny_args

from lightning_mnist import cli
from lightning_mnist.backend import ROOT
from lightning_mnist.checkpoints import AtomicCheckpointIO
from lightning_mnist.trainer_cli import build_cli
from logicnets.files import OutputPathError


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
