"""Fetch one file from a list of mirrors: resumable, checksummed, atomic, safe to run in parallel.

Bytes go to ``<name>.part`` beside the destination. A later call resumes the part with an
HTTP Range request (a server that ignores Range simply sends the whole file again). Only a
part whose uncompressed content has the expected md5 is renamed to its final name, so a
crash or a bad mirror never leaves a corrupt file where the loader looks. Hand-written
because urllib has no resume and torchvision's helper would pull in torchvision.

Several processes may fetch into one folder at once (array jobs, nodes on a shared
filesystem, DDP ranks): each file is downloaded under an exclusive ``flock`` of
``<name>.lock``, and a process that gets the lock after another finished finds the final
file verified and is done. Where the filesystem has no locks, each process downloads into a
part of its own (``<name>.<pid>-<random>.part``) and the renames, of identical verified
content, are atomic.

Limits: ``timeout`` bounds connecting and every wait for more bytes (a stalled mirror keeps
what it sent in the part, for a resume); ``deadline`` bounds one file from one mirror (a
mirror that trickles). Both, and the mirror list, can be set by the environment
(:func:`download_options`).
"""

from __future__ import annotations

import contextlib
import http.client
import math
import os
import re
import secrets
import time
import urllib.error
import urllib.request
from pathlib import Path

from lightning_mnist.data.idx import MAX_ITEMS, md5, read_idx_bytes
from lightning_mnist.errors import DataError

try:
    import fcntl
except ImportError:  # Windows: per-process parts instead of a lock
    fcntl = None

CHUNK = 1 << 20
DEFAULT_TIMEOUT = 30.0  # seconds without a byte
DEFAULT_DEADLINE = 900.0  # seconds for one file from one mirror
ENV_MIRRORS = "LIGHTNING_MNIST_MIRRORS"
ENV_TIMEOUT = "LIGHTNING_MNIST_TIMEOUT"
ENV_DEADLINE = "LIGHTNING_MNIST_DEADLINE"


def download_options(
    mirrors: list[str] | tuple[str, ...] | str | None = None,
    timeout: float | None = None,
    deadline: float | None = None,
) -> tuple[tuple[str, ...] | None, float, float]:
    """``(mirrors, timeout, deadline)``: the arguments, else the environment, else the defaults.

    ``mirrors`` None (and ``$LIGHTNING_MNIST_MIRRORS`` unset or empty) means the data set's
    own mirrors; a string is split at commas and whitespace. ``$LIGHTNING_MNIST_TIMEOUT`` and
    ``$LIGHTNING_MNIST_DEADLINE`` are seconds. Raises ``DataError`` naming what is wrong.
    """
    if mirrors is None:
        mirrors = os.environ.get(ENV_MIRRORS, "").strip() or None
        where = f"${ENV_MIRRORS}"
    else:
        where = "mirrors"
    if mirrors is not None:
        mirrors = _mirror_list(mirrors, where)
    timeout = _seconds(timeout, ENV_TIMEOUT, DEFAULT_TIMEOUT, "timeout")
    deadline = _seconds(deadline, ENV_DEADLINE, DEFAULT_DEADLINE, "deadline")
    return mirrors, timeout, deadline


def _mirror_list(mirrors, where: str) -> tuple[str, ...]:
    if isinstance(mirrors, str):
        mirrors = [m for m in re.split(r"[,\s]+", mirrors) if m]
    if isinstance(mirrors, (bytes, dict)) or not hasattr(mirrors, "__iter__"):
        raise DataError(f"{where} must be a list of URLs, got {mirrors!r}")
    out = tuple(mirrors)
    for url in out:
        if not isinstance(url, str) or not re.match(r"(https?|file)://", url):
            raise DataError(
                f"{where}: {url!r} is not an http://, https:// or file:// URL of a folder "
                "holding the data set's .gz files"
            )
    if not out:
        raise DataError(f"{where} is empty: give at least one URL, or leave it unset for the default mirrors")
    return out


def _seconds(value, env: str, default: float, name: str) -> float:
    where = name
    if value is None:
        raw = os.environ.get(env, "").strip()
        if not raw:
            return default
        where = f"${env}"
        try:
            value = float(raw)
        except ValueError:
            raise DataError(f"{where} must be a number of seconds, got {raw!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (value > 0 and math.isfinite(value)):
        raise DataError(f"{where} must be a positive number of seconds, got {value!r}")
    return float(value)


def fetch(
    mirrors: tuple[str, ...],
    filename: str,
    dest_dir: Path,
    want_md5: str,
    timeout: float = DEFAULT_TIMEOUT,
    deadline: float = DEFAULT_DEADLINE,
    shape: tuple[int, ...] | None = None,
) -> Path:
    """Download ``filename`` from the first mirror that serves it with the right content.

    ``shape`` (as in ``parse_idx``) is checked from the IDX header before anything is
    decompressed. A file that another process put in place meanwhile, verified, counts.
    """
    dest, lock = dest_dir / filename, dest_dir / (filename + ".lock")
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
        fd = _lock(lock)
    except OSError as err:
        raise DataError(
            f"{dest_dir}: cannot download into it ({err.strerror or err}); "
            "pass data_dir=... naming a folder you can write to, or put the files there yourself."
        ) from None
    try:
        if dest.is_file() and _problem(dest, filename, want_md5, shape) is None:
            return dest  # another process finished it while we waited
        if fd is not None:
            return _fetch(mirrors, filename, dest, dest_dir / (filename + ".part"), want_md5, timeout, deadline, shape)
        part = dest_dir / f"{filename}.{os.getpid()}-{secrets.token_hex(4)}.part"
        try:
            return _fetch(mirrors, filename, dest, part, want_md5, timeout, deadline, shape)
        finally:
            part.unlink(missing_ok=True)  # nobody else can resume a private part
    finally:
        _unlock(lock, fd)


def _fetch(mirrors, filename, dest, part, want_md5, timeout, deadline, shape) -> Path:
    errors = []
    for base in mirrors:
        url = base.rstrip("/") + "/" + filename
        end = time.monotonic() + deadline
        for fresh in (False, True):
            try:
                resumed = _download(url, part, timeout, deadline, end)
            except (OSError, urllib.error.URLError, http.client.HTTPException) as err:
                # partial bytes stay for a resume
                errors.append(f"{url}: {getattr(err, 'reason', None) or err}")
                break
            problem = _problem(part, filename, want_md5, shape)
            if problem is None:
                with open(part, "rb+") as f:
                    os.fsync(f.fileno())
                os.replace(part, dest)
                return dest
            part.unlink()  # corrupt: never resume from it
            if resumed and not fresh:
                continue  # the part may hold another encoding's bytes: once more, whole
            errors.append(f"{url}: {problem}")
            break
    raise DataError(f"{filename}: no mirror gave a valid copy ({'; '.join(errors)})")


def _problem(path: Path, filename: str, want_md5: str, shape) -> str | None:
    """None when ``path`` holds ``want_md5`` content, else what is wrong with it."""
    try:
        got = md5(read_idx_bytes(path, shape, MAX_ITEMS, gz=filename.endswith(".gz")))
    except DataError as err:
        got = f"unreadable ({err.__cause__ or err})"
    return None if got == want_md5 else f"content md5 {got}, expected {want_md5}"


def _download(url: str, part: Path, timeout: float, deadline: float, end: float) -> bool:
    """Append the rest of ``url`` to ``part``; True when it resumed existing bytes."""
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "lightning-mnist"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        if err.code == 416 and have:  # nothing left to send: the part is complete
            return True
        raise
    with response:
        resumed = getattr(response, "status", 200) == 206
        length = response.headers.get("Content-Length")
        read = getattr(response, "read1", None) or response.read  # what has arrived, not a full chunk
        received = 0
        with open(part, "ab" if resumed else "wb") as out:
            while True:
                try:
                    chunk = read(CHUNK)
                except TimeoutError:
                    raise TimeoutError(
                        f"no data for {timeout:g} s (timeout); the {have * resumed + received} bytes "
                        f"received are kept in {part.name} for a resume"
                    ) from None
                if not chunk:
                    break
                out.write(chunk)
                received += len(chunk)
                if time.monotonic() > end and (length is None or received < int(length)):
                    raise TimeoutError(
                        f"not done after the {deadline:g} s deadline; the {have * resumed + received} "
                        f"bytes received are kept in {part.name} for a resume"
                    )
    # http.client returns a body cut short by a dropped connection without an error; raise
    # one, so the partial bytes are kept for a resume instead of being judged corrupt.
    if length is not None and received < int(length):
        raise OSError(f"connection closed after {received} of {length} bytes")
    return resumed


def _lock(path: Path) -> int | None:
    """An exclusive flock of ``path``, as its file descriptor; None where there are no locks."""
    if fcntl is None:
        return None
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:  # a filesystem without locks
            os.close(fd)
            return None
        # The holder before us removes the file when done: then we hold an orphan; again.
        try:
            st, mine = os.stat(path), os.fstat(fd)
            if (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino):
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)


def _unlock(path: Path, fd: int | None) -> None:
    if fd is not None:
        with contextlib.suppress(OSError):
            os.unlink(path)  # while still holding it, so that waiters see the inode change
        os.close(fd)
