"""The project's one file writer: whole files or none, under the user's umask, never through a
link or into a special file; and the one bounded reader of user files.

Every file either package writes goes through this module (``lightning_mnist`` already
depends on ``logicnets``, so the writer lives in the package with no heavy dependencies):

* :func:`atomic_write` for whole files (results, checkpoints, configs, figures, reports,
  networks). The data go to a temporary file created beside the target (a rename across
  filesystems is a copy, not atomic), are flushed and fsynced, and replace the target by one
  rename: a reader, a kill or a full disk never leaves half a file under the final name.
* :func:`open_regular` for the few files that grow across calls (a download's ``.part``, a
  lock file).

Both refuse a target that is a symbolic link, a folder, a FIFO, a socket or a device with one
:class:`OutputPathError` line, and leave it untouched: a link planted in a reused run folder
would otherwise redirect the write to its target, and a FIFO would block the writer forever.
Names are opened with ``O_NOFOLLOW`` (and temporaries with ``O_EXCL``), and the target's
folder is pinned by a descriptor where the platform has ``dir_fd``, so a link planted between
the check and the write is not followed either. Folders above the target are the user's own
(a ``runs`` link to scratch space is fine) and are followed.

A killed writer leaves its temporary (``.NAME.XXXXXXXX.tmp``); :func:`remove_stale_temporaries`
removes those of dead writers. A writer holds an exclusive ``flock`` on its temporary from
creation to rename, so a temporary that can be locked belongs to nobody.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from .errors import LogicError

try:
    import fcntl
except ImportError:  # Windows: no flock; stale temporaries are told by their age
    fcntl = None

__all__ = [
    "MAX_READ_BYTES",
    "TEMPORARY",
    "OutputPathError",
    "atomic_write",
    "check_target",
    "open_regular",
    "read_text",
    "remove_stale_temporaries",
]

#: Largest user file read (a device such as /dev/zero would otherwise never end).
MAX_READ_BYTES = 64 << 20
#: The name of a writer's temporary: ``.<target name>.<8 random characters>.tmp``, beside the target.
TEMPORARY = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp", re.DOTALL)
#: Where the filesystem has no locks, a temporary untouched for this many seconds is a dead writer's.
UNLOCKED_STALE_SECONDS = 3600.0

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # opening a FIFO must not wait for a peer
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_BINARY = getattr(os, "O_BINARY", 0)
_DIR_FD = {os.open, os.stat, os.unlink, os.replace} <= os.supports_dir_fd and hasattr(os, "O_DIRECTORY")
_OPEN_MODES = {
    "ab": os.O_WRONLY | os.O_CREAT | os.O_APPEND,
    "a+b": os.O_RDWR | os.O_CREAT | os.O_APPEND,
    "r+b": os.O_RDWR,
    "rb": os.O_RDONLY,
}


class OutputPathError(OSError):
    """The target exists and is not a regular file, or cannot be written; names the path."""


def _kind(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    for test, kind in (
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a device"),
        (stat.S_ISBLK, "a device"),
    ):
        if test(mode):
            return kind
    return "not a regular file"


def _refusal(path: Path, kind: str) -> OutputPathError:
    return OutputPathError(
        f"{path} is {kind}: refusing to write through or replace it; remove it or choose another output path"
    )


def check_target(path: str | os.PathLike) -> None:
    """Raise ``OutputPathError`` when ``path`` exists and is not a regular file (a link, even
    to a regular file, a folder, a FIFO, a socket, a device); a missing path is fine."""
    path = Path(path)
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return
    except OSError as err:
        raise OutputPathError(f"cannot write {path}: {err.strerror or err}") from None
    kind = _kind(mode)
    if kind is not None:
        raise _refusal(path, kind)


class _Folder:
    """The target's folder, pinned by a descriptor where the platform allows (``dir_fd``):
    names are then resolved in that very folder, whatever happens to its path meanwhile."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | _CLOEXEC) if _DIR_FD else None

    def name(self, name: str) -> str:
        return name if self.fd is not None else os.fspath(self.folder / name)

    def lstat(self, name: str) -> os.stat_result:
        return os.stat(self.name(name), dir_fd=self.fd, follow_symlinks=False)

    def open(self, name: str, flags: int) -> int:
        return os.open(self.name(name), flags | _NOFOLLOW | _CLOEXEC | _BINARY, 0o666, dir_fd=self.fd)

    def unlink(self, name: str) -> None:
        os.unlink(self.name(name), dir_fd=self.fd)

    def replace(self, src: str, dst: str) -> None:
        os.replace(self.name(src), self.name(dst), src_dir_fd=self.fd, dst_dir_fd=self.fd)

    def check(self, path: Path) -> None:
        """``check_target`` inside the pinned folder."""
        try:
            kind = _kind(self.lstat(path.name).st_mode)
        except FileNotFoundError:
            return
        if kind is not None:
            raise _refusal(path, kind)

    def fsync(self) -> None:
        """Make a rename durable where the platform allows it (some filesystems cannot fsync a folder)."""
        fd = self.fd if self.fd is not None else _open_quietly(self.folder)
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.fsync(fd)
        if fd != self.fd:
            os.close(fd)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)


def _open_quietly(folder: Path) -> int | None:
    try:
        return os.open(folder, os.O_RDONLY)
    except OSError:
        return None


@contextlib.contextmanager
def _folder_of(path: Path, create: bool) -> Iterator[_Folder]:
    try:
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        folder = _Folder(path.parent)
    except OSError as err:
        raise OutputPathError(f"cannot write {path}: {err.strerror or err}") from None
    try:
        yield folder
    finally:
        folder.close()


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _create_temporary(folder: _Folder, path: Path) -> tuple[int, str]:
    """A new, locked temporary beside ``path``: ``O_EXCL`` never opens what exists (a link
    included). The lock tells :func:`remove_stale_temporaries` that a live writer owns it; a
    cleaner that removed the name before we locked it makes us take another."""
    for _ in range(100):
        name = f".{path.name}.{secrets.token_hex(4)}.tmp"
        try:
            fd = folder.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        except FileExistsError:
            continue
        if fcntl is not None:
            with contextlib.suppress(OSError):  # a filesystem without locks: the age rule protects it
                fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            if _same_file(folder.lstat(name), os.fstat(fd)):
                return fd, name
        except FileNotFoundError:
            pass
        os.close(fd)
    raise FileExistsError(f"no free temporary name beside {path}")


def _fill(f: BinaryIO, data: bytes | str | Callable[[BinaryIO], object]) -> None:
    if callable(data):
        data(f)
    else:
        f.write(data.encode() if isinstance(data, str) else data)
    f.flush()
    os.fsync(f.fileno())


def atomic_write(path: str | os.PathLike, data: bytes | str | Callable[[BinaryIO], object]) -> Path:
    """Write ``data`` (bytes, text as UTF-8, or a function that writes to a binary file) to
    ``path`` atomically; create missing folders; return the path.

    A ``path`` that is a link, a folder or a special file is refused (``OutputPathError``,
    untouched); so is every failure to write, naming the path.

    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "sub" / "hello.txt"
    >>> atomic_write(out, "hi\\n").read_text()
    'hi\\n'
    """
    path = Path(path)
    check_target(path)
    with _folder_of(path, create=True) as folder:
        tmp = None
        try:
            folder.check(path)
            fd, tmp = _create_temporary(folder, path)
            with os.fdopen(fd, "wb") as f:
                _fill(f, data)
                folder.check(path)  # a link or FIFO planted meanwhile is refused too
                folder.replace(tmp, path.name)  # before closing: the lock is held until the rename
        except BaseException as err:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    folder.unlink(tmp)
            if isinstance(err, OSError) and not isinstance(err, OutputPathError):
                raise OutputPathError(f"cannot write {path}: {err.strerror or err}") from err
            raise
        folder.fsync()
    return path


def open_regular(path: str | os.PathLike, mode: str = "ab") -> BinaryIO:
    """Open a file that grows across calls (a download's ``.part``, a lock file), creating it
    for ``"ab"`` and ``"a+b"``; ``"r+b"`` and ``"rb"`` need it to exist.

    Never through a link (``O_NOFOLLOW``), and only a regular file: a planted link, FIFO,
    socket or device is refused with ``OutputPathError`` and left untouched.
    """
    path = Path(path)
    check_target(path)
    flags = _OPEN_MODES[mode]
    try:
        fd = os.open(path, flags | _NOFOLLOW | _NONBLOCK | _CLOEXEC | _BINARY, 0o666)
    except OSError as err:
        if isinstance(err, FileNotFoundError) and not flags & os.O_CREAT:
            raise
        check_target(path)  # a link planted since the check: say so
        raise OutputPathError(f"cannot open {path}: {err.strerror or err}") from None
    kind = _kind(os.fstat(fd).st_mode)
    if kind is not None:
        os.close(fd)
        raise _refusal(path, kind)
    if _NONBLOCK and fcntl is not None:  # back to ordinary blocking I/O on the regular file
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~_NONBLOCK)
    return os.fdopen(fd, mode)


def remove_stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Remove what killed writers left in ``folder`` (not its subfolders); return the paths removed.

    Only names of the writer's pattern (:data:`TEMPORARY`), only regular files (a link of that
    name stays), and only those no live writer holds: a writer locks its temporary from
    creation to rename. Where the filesystem has no locks, only temporaries untouched for
    :data:`UNLOCKED_STALE_SECONDS`. A folder that is missing or unreadable removes nothing.
    """
    folder = Path(folder)
    try:
        names = [entry.name for entry in os.scandir(folder) if TEMPORARY.fullmatch(entry.name)]
        if not names:
            return []
        pinned = _Folder(folder)
    except OSError:
        return []
    try:
        return [folder / name for name in names if _remove_if_stale(pinned, name)]
    finally:
        pinned.close()


def _remove_if_stale(folder: _Folder, name: str) -> bool:
    try:
        seen = folder.lstat(name)
        if not stat.S_ISREG(seen.st_mode):
            return False
        fd = folder.open(name, os.O_RDONLY | _NONBLOCK)
    except OSError:
        return False
    try:
        if not _same_file(os.fstat(fd), seen) or not _writer_is_gone(fd, seen):
            return False
        folder.unlink(name)  # while holding its lock: a writer that locks it next sees its name gone
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def _writer_is_gone(fd: int, seen: os.stat_result) -> bool:
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False  # a live writer holds it
        except OSError:
            pass  # no locks on this filesystem
    return time.time() - seen.st_mtime >= UNLOCKED_STALE_SECONDS


def read_text(path: str | os.PathLike, what: str = "file", max_bytes: int = MAX_READ_BYTES) -> str:
    """The UTF-8 text of a user's file (``"-"`` is standard input), at most ``max_bytes``.

    Every failure is a ``LogicError`` whose message starts with the path and says what is
    wrong: missing, unreadable, too large, or not UTF-8 text.

    >>> import tempfile, pathlib
    >>> bad = pathlib.Path(tempfile.mkdtemp()) / "bad.txt"
    >>> _ = bad.write_bytes(b"x\\xff")
    >>> read_text(bad, "formula file")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    logicnets.errors.LogicError: .../bad.txt: formula file is not UTF-8 text (byte 0xff at offset 1)
    """
    name = "<stdin>" if os.fspath(path) == "-" else os.fspath(path)
    try:
        if name == "<stdin>" and not hasattr(sys.stdin, "buffer"):  # replaced by a text stream
            data = sys.stdin.read(max_bytes + 1).encode("utf-8", "surrogateescape")
        elif name == "<stdin>":
            data = sys.stdin.buffer.read(max_bytes + 1)
        else:
            with open(path, "rb") as fh:
                data = fh.read(max_bytes + 1)
    except OSError as err:
        raise LogicError(f"{name}: cannot read {what}: {err.strerror or err}") from None
    if len(data) > max_bytes:
        raise LogicError(f"{name}: {what} is larger than {max_bytes} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise LogicError(
            f"{name}: {what} is not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start})"
        ) from None
