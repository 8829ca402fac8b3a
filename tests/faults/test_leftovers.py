"""Leftovers: a writer killed mid-write leaves its temporary (``.NAME.XXXXXXXX.tmp``) beside
the target; the next run in that folder removes it (checkpoint folders on the first save).
Only a dead writer's: a live writer's temporary, other files of a similar name, and links are
never removed. (A download's bogus ``.part`` is ``test_downloader.py``'s.)"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from lightning_mnist.checkpoints import AtomicCheckpointIO
from logicnets import files
from logicnets.files import TEMPORARY, atomic_write, remove_stale_temporaries

pytestmark = pytest.mark.skipif(os.name != "posix", reason="fork and SIGKILL")


class KilledHere:
    """Pickling this kills the process: a kill in the middle of a checkpoint save."""

    def __reduce__(self):
        os.kill(os.getpid(), signal.SIGKILL)


def _killed_save(path: Path) -> None:
    AtomicCheckpointIO().save_checkpoint({"state_dict": {"w": torch.ones(1000)}, "x": KilledHere()}, path)


def killed_writer(path: Path) -> list[Path]:
    """Run a checkpoint save of ``path`` in a child that is killed in the middle; the temporaries left."""
    child = multiprocessing.get_context("fork").Process(target=_killed_save, args=(path,))
    child.start()
    child.join(60)
    assert child.exitcode == -signal.SIGKILL
    return [p for p in path.parent.iterdir() if TEMPORARY.fullmatch(p.name)]


def test_a_killed_checkpoint_save_leaves_a_temporary_that_the_next_save_removes(tmp_path):
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    (left,) = killed_writer(folder / "last.ckpt")
    assert left.name.startswith(".last.ckpt.") and not (folder / "last.ckpt").exists()
    AtomicCheckpointIO().save_checkpoint({"state_dict": {"w": torch.zeros(3)}}, folder / "epoch=1.ckpt")
    assert sorted(p.name for p in folder.iterdir()) == ["epoch=1.ckpt"]
    assert torch.equal(torch.load(folder / "epoch=1.ckpt", weights_only=True)["state_dict"]["w"], torch.zeros(3))


def test_a_live_writers_temporary_is_never_removed(tmp_path):
    target, started, go = tmp_path / "big.bin", threading.Event(), threading.Event()

    def slow(f):
        f.write(b"half")
        started.set()
        assert go.wait(30)
        f.write(b" and the rest")

    writer = threading.Thread(target=atomic_write, args=(target, slow))
    writer.start()
    try:
        assert started.wait(30)
        (tmp,) = list(tmp_path.iterdir())
        assert remove_stale_temporaries(tmp_path) == [] and tmp.exists()
    finally:
        go.set()
        writer.join(30)
    assert target.read_bytes() == b"half and the rest" and list(tmp_path.iterdir()) == [target]


def test_only_dead_writers_temporaries_are_removed(tmp_path):
    folder = tmp_path / "results"
    folder.mkdir()
    (dead,) = killed_writer(folder / "point.json")
    keep = {
        ".notes.tmp": "a user's file",  # no random part
        "point.json.abcd1234.tmp": "no leading dot",
        ".point.json.ABCD1234.tmp": "not the writer's alphabet",
        "point.json": "the result itself",
    }
    for name, text in keep.items():
        (folder / name).write_text(text)
    (folder / ".link.json.abcd1234.tmp").symlink_to(tmp_path / "outside")  # a link is never removed
    (folder / ".sub.abcd1234.tmp").mkdir()  # nor a folder
    (folder / "sub").mkdir()
    (sub_dead,) = killed_writer(folder / "sub" / "x.ckpt")  # nor anything in a subfolder

    assert remove_stale_temporaries(folder) == [dead]
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [*keep, ".link.json.abcd1234.tmp", ".sub.abcd1234.tmp", "sub"]
    )
    assert sub_dead.exists()
    assert remove_stale_temporaries(tmp_path / "missing") == []


def test_without_locks_only_old_temporaries_count_as_dead(tmp_path, monkeypatch):
    (dead,) = killed_writer(tmp_path / "x.ckpt")
    monkeypatch.setattr(files, "fcntl", None)  # a filesystem (or platform) without flock
    assert remove_stale_temporaries(tmp_path) == [] and dead.exists()
    old = time.time() - files.UNLOCKED_STALE_SECONDS - 60
    os.utime(dead, (old, old))
    assert remove_stale_temporaries(tmp_path) == [dead] and not dead.exists()


def test_a_writer_whose_temporary_was_swept_before_it_locked_it_takes_another(tmp_path, monkeypatch):
    """The instant between creating a temporary and locking it: a cleaner may remove it then;
    the writer notices (the name no longer names its file) and starts over."""
    import fcntl

    swept = []

    def flock(fd, op):
        if not swept:  # the first temporary is removed before the writer locks it
            (tmp,) = [p for p in tmp_path.iterdir() if TEMPORARY.fullmatch(p.name)]
            tmp.unlink()
            swept.append(tmp.name)
        return fcntl.flock(fd, op)

    monkeypatch.setattr(files, "fcntl", SimpleNamespace(flock=flock, LOCK_EX=fcntl.LOCK_EX, LOCK_NB=fcntl.LOCK_NB))
    out = atomic_write(tmp_path / "out.txt", "whole")
    assert swept and out.read_text() == "whole" and list(tmp_path.iterdir()) == [out]
