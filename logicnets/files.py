"""The project's one file writer: whole files or none, under the user's umask; and the
one bounded reader of user files.

Both packages write through :func:`atomic_write` (``lightning_mnist`` already depends on
``logicnets``, so the writer lives in the package with no heavy dependencies). The data go to
a temporary file in the target's own folder (a rename across filesystems is a copy, not
atomic), are flushed and fsynced, and replace the target by one ``os.replace``: a reader, a
kill or a full disk never leaves half a file under the final name.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from .errors import LogicError

__all__ = ["MAX_READ_BYTES", "OutputPathError", "atomic_write", "read_text"]

#: Largest user file read (a device such as /dev/zero would otherwise never end).
MAX_READ_BYTES = 64 << 20


class OutputPathError(OSError):
    """The target exists and is not a regular file, or cannot be written; names the path."""


def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it: put it straight back
    os.umask(mask)
    return mask


def _check_target(path: Path) -> None:
    """Refuse to replace what is not a regular file (a device, a FIFO, a symlink, a folder)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(mode):
        kind = "a symbolic link" if stat.S_ISLNK(mode) else "a folder" if stat.S_ISDIR(mode) else "not a regular file"
        raise OutputPathError(f"{path} is {kind}: refusing to replace it; choose another output path")


def atomic_write(path: str | os.PathLike, data: bytes | str | Callable[[BinaryIO], object]) -> Path:
    """Write ``data`` (bytes, text as UTF-8, or a function that writes to a binary file) to
    ``path`` atomically; create missing folders; return the path.

    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "sub" / "hello.txt"
    >>> atomic_write(out, "hi\\n").read_text()
    'hi\\n'
    """
    path = Path(path)
    _check_target(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise OutputPathError(f"cannot write {path}: {err.strerror or err}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a normal file follows the umask
        os.replace(tmp, path)
    except BaseException as err:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(err, OSError) and not isinstance(err, OutputPathError):
            raise OutputPathError(f"cannot write {path}: {err.strerror or err}") from err
        raise
    _fsync_folder(path.parent)
    return path


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable where the platform allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems (and Windows) cannot fsync a folder; the rename still happened
    finally:
        os.close(fd)


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
