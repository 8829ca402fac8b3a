"""Advisory locks on lock files inside a results folder (``fcntl.flock``).

Two processes on one results folder (two ``reproduce``), or on one sweep point (two ``sweep
--index`` of the same point), would both train and both append their metrics rows. The lock
file is opened without following a link (``O_NOFOLLOW``) and must be a regular file; the kernel
releases the lock when its holder dies, so a killed run never leaves the folder locked.
"""

from __future__ import annotations

import fcntl
import os
import stat
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from lightning_mnist.errors import ConfigError

__all__ = ["FolderBusyError", "hold", "hold_all"]


class FolderBusyError(ConfigError):
    """Another process holds the lock: the user is to wait for it or choose another folder."""


def _open(path: Path) -> int:
    """The lock file's descriptor; refuse a link or anything but a regular file, in one line."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, 0o644)
    except OSError as err:
        why = err.strerror or err
        raise ConfigError(f"cannot open the lock file {path}: {why}; remove it if it is a link") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ConfigError(f"the lock file {path} is not a regular file; remove it")
    return fd


def _holder(fd: int) -> str:
    try:
        pid = os.pread(fd, 32, 0).decode().strip()
    except (OSError, UnicodeDecodeError):
        pid = ""
    return f" (process {pid})" if pid.isdigit() else ""


def _note_holder(fd: int, text: str | None = None) -> None:
    """Write our process id (or ``text``) into the lock file, for the message another process
    shows (best effort: a full disk must not stop the run over a courtesy)."""
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, (f"{os.getpid()}\n" if text is None else text).encode(), 0)
    except OSError:
        pass


@contextmanager
def hold(path: Path, wait: bool = True, what: str | None = None, shared: bool = False) -> Iterator[float]:
    """Hold a lock on ``path`` for the block; yields the time it was acquired.

    ``shared``: many holders at once (sweeps on different points), none beside an exclusive one
    (a reproduction). ``wait=False``: if the lock is taken, raise FolderBusyError naming ``what``."""
    fd = _open(Path(path))
    try:
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise FolderBusyError(
                f"{what or path} is in use by another run{_holder(fd)}; wait for it to finish, or choose another --out"
            ) from None
        acquired = time.time()
        if not shared:
            _note_holder(fd)
        try:
            yield acquired
        finally:
            if not shared:
                _note_holder(fd, "")  # no stale process id for the next message
    finally:
        os.close(fd)  # closing releases the lock


@contextmanager
def hold_all(paths: list[Path]) -> Iterator[None]:
    """Hold every lock of ``paths`` (waiting for each; taken in sorted order, so never a deadlock)."""
    with ExitStack() as stack:
        for path in sorted(set(paths)):
            stack.enter_context(hold(path, wait=True))
        yield
