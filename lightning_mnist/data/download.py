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
(:func:`download_options`). Where the content's size is known (the shipped data sets), no
mirror can send more than any copy of it can take (:func:`max_download_bytes`), and a part is
kept for a resume only when it can be the file's beginning: gzip that inflates to the wanted
IDX header and not past the size. The part and the lock are opened through
``logicnets.files.open_regular``: never through a link, never a FIFO or device.
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
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from lightning_mnist.data.idx import MAX_ITEMS, md5, read_idx_bytes
from lightning_mnist.errors import DataError
from logicnets.files import OutputPathError, check_target, open_regular

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
GZIP_OVERHEAD = 64 << 10  # a gzip header (with a stored name) and trailer, generously
IDX_HEADER_MAX = 4 + 4 * 255  # magic number and at most 255 dimensions


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


def max_download_bytes(size: int, gz: bool) -> int:
    """The most bytes any copy of ``size`` bytes of content can take: ``size`` itself raw; as
    gzip, deflate's worst case (stored blocks: 5 bytes per 65535, RFC 1951) plus a header and
    trailer, with room for a stored file name. A mirror that sends more is cut off there."""
    return size + 5 * (size // 65535 + 1) + GZIP_OVERHEAD if gz else size


@dataclass(frozen=True)
class _Want:
    """What one download must produce: the content's md5 and, where known, its shape and size."""

    filename: str
    md5: str
    shape: tuple[int, ...] | None = None
    size: int | None = None  # uncompressed bytes

    @property
    def gz(self) -> bool:
        return self.filename.endswith(".gz")

    @property
    def cap(self) -> int | None:
        return None if self.size is None else max_download_bytes(self.size, self.gz)


def fetch(
    mirrors: tuple[str, ...],
    filename: str,
    dest_dir: Path,
    want_md5: str,
    timeout: float = DEFAULT_TIMEOUT,
    deadline: float = DEFAULT_DEADLINE,
    shape: tuple[int, ...] | None = None,
    size: int | None = None,
) -> Path:
    """Download ``filename`` from the first mirror that serves it with the right content.

    ``shape`` (as in ``parse_idx``) is checked from the IDX header before anything is
    decompressed. ``size``, the content's length where known, bounds the download (see
    :func:`max_download_bytes`). A file that another process put in place meanwhile,
    verified, counts. The ``.part`` and ``.lock`` are written through ``logicnets.files``: a
    link or special file planted under either name is refused (``OutputPathError``), untouched.
    """
    want = _Want(filename, want_md5, shape, size)
    dest, lock = dest_dir / filename, dest_dir / (filename + ".lock")
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
        held = _lock(lock)
    except OutputPathError:
        raise
    except OSError as err:
        raise DataError(
            f"{dest_dir}: cannot download into it ({err.strerror or err}); "
            "pass data_dir=... naming a folder you can write to, or put the files there yourself."
        ) from None
    try:
        if dest.is_file() and _problem(dest, want) is None:
            return dest  # another process finished it while we waited
        check_target(dest)  # it will be replaced: a planted link or FIFO is refused before downloading
        if held is not None:
            return _fetch(mirrors, want, dest, dest_dir / (filename + ".part"), timeout, deadline)
        part = dest_dir / f"{filename}.{os.getpid()}-{secrets.token_hex(4)}.part"
        try:
            return _fetch(mirrors, want, dest, part, timeout, deadline)
        finally:
            part.unlink(missing_ok=True)  # nobody else can resume a private part
    finally:
        _unlock(lock, held)


def _fetch(mirrors, want: _Want, dest: Path, part: Path, timeout: float, deadline: float) -> Path:
    errors = []
    for base in mirrors:
        url = base.rstrip("/") + "/" + want.filename
        end = time.monotonic() + deadline
        for fresh in (False, True):
            _discard_unless_a_beginning(part, want)
            try:
                resumed = _download(url, part, want.cap, timeout, deadline, end)
            except OutputPathError:
                raise
            except (OSError, urllib.error.URLError, http.client.HTTPException) as err:
                # partial bytes stay for a resume, if they can be the file's beginning
                dropped = _discard_unless_a_beginning(part, want)
                errors.append(f"{url}: {getattr(err, 'reason', None) or err}" + (f"; but {dropped}" if dropped else ""))
                break
            problem = _problem(part, want)
            if problem is None:
                check_target(dest)  # replace a regular file or nothing, never a planted link's name
                os.replace(part, dest)
                return dest
            part.unlink()  # corrupt: never resume from it
            if resumed and not fresh:
                continue  # the part may hold another encoding's bytes: once more, whole
            errors.append(f"{url}: {problem}")
            break
    raise DataError(f"{want.filename}: no mirror gave a valid copy ({'; '.join(errors)})")


def _problem(path: Path, want: _Want) -> str | None:
    """None when ``path`` holds ``want.md5`` content, else what is wrong with it."""
    try:
        got = md5(read_idx_bytes(path, want.shape, MAX_ITEMS, gz=want.gz))
    except DataError as err:
        got = f"unreadable ({err.__cause__ or err})"
    return None if got == want.md5 else f"content md5 {got}, expected {want.md5}"


def _discard_unless_a_beginning(part: Path, want: _Want) -> str | None:
    """Remove ``part`` when it cannot be the beginning of the wanted file (more bytes than any
    copy has, not gzip, not the IDX header of the wanted shape and size): a resume from it
    could only fail, and an endless or bogus mirror must not leave its bytes behind. Returns
    what was wrong, or None when the part is kept (or there is none)."""
    try:
        with open_regular(part, "rb") as f:
            empty = os.fstat(f.fileno()).st_size == 0
            problem = None if empty else _beginning_problem(f, want)
    except FileNotFoundError:
        return None
    if empty or problem is not None:
        part.unlink(missing_ok=True)
    return None if problem is None else f"{part.name} discarded: {problem}"


def _beginning_problem(f, want: _Want) -> str | None:
    have = os.fstat(f.fileno()).st_size
    if want.cap is not None and have > want.cap:
        return f"{have} bytes, more than the {want.cap} any copy of the file can take"
    head, total, limit = b"", 0, None
    try:
        for chunk in _content(f, want.gz):
            total += len(chunk)
            if limit is None:
                head += chunk[: IDX_HEADER_MAX - len(head)]
                limit = _declared_size(head, want)
            if limit is not None and total > limit:
                return f"its content runs past the {limit} bytes the file has"
    except zlib.error as err:
        return f"not gzip data ({err})"
    except DataError as err:
        return str(err)
    return None


def _content(f, gz: bool) -> Iterator[bytes]:
    """The (possibly truncated) content of file ``f``, a chunk at a time; gzip is inflated at
    most CHUNK bytes per step, so a bomb costs time in proportion to the bound, never memory."""
    inflate = zlib.decompressobj(wbits=31) if gz else None  # 31: a gzip header and trailer
    while chunk := f.read(CHUNK):
        if inflate is None:
            yield chunk
            continue
        while chunk and not inflate.eof:
            yield inflate.decompress(chunk, CHUNK)
            chunk = inflate.unconsumed_tail


def _declared_size(head: bytes, want: _Want) -> int | None:
    """The length the IDX header at the start of ``head`` declares (None while incomplete);
    DataError when it is not the wanted file's header."""
    if len(head) < 4:
        return None
    ndim = head[3]
    if head[:3] != b"\0\0\x08" or (want.shape is not None and ndim != len(want.shape)):
        raise DataError(f"content starts with 0x{head[:4].hex()}, not the IDX header of the file")
    if len(head) < 4 + 4 * ndim:
        return None
    dims = tuple(int.from_bytes(head[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    declared = 4 + 4 * ndim + math.prod(dims)
    wrong_shape = want.shape is not None and any(w not in (-1, d) for d, w in zip(dims, want.shape, strict=True))
    too_large = (dims and dims[0] > MAX_ITEMS) or math.prod(dims) > MAX_ITEMS * 28 * 28
    if wrong_shape or too_large or declared != (want.size or declared):
        raise DataError(f"IDX header declares dimensions {dims}, not those of the file")
    return declared


def _download(url: str, part: Path, cap: int | None, timeout: float, deadline: float, end: float) -> bool:
    """Append the rest of ``url`` to ``part`` (at most ``cap`` bytes in all); True when it
    resumed existing bytes."""
    with open_regular(part, "ab") as out:
        have = os.fstat(out.fileno()).st_size
        request = urllib.request.Request(url, headers={"User-Agent": "lightning-mnist"})
        if have:
            request.add_header("Range", f"bytes={have}-")
        try:
            response = urllib.request.urlopen(request, timeout=timeout)
        except urllib.error.HTTPError as err:
            if err.code != 416 or not have:
                raise
            response, resumed = None, True  # 416, nothing left to send: the part is complete
        if response is not None:
            with response:
                resumed = getattr(response, "status", 200) == 206
                if not resumed:
                    out.truncate(0)  # the whole file comes again
                _receive(response, out, have * resumed, cap, timeout, deadline, end, part.name)
        out.flush()
        os.fsync(out.fileno())
    return resumed


def _receive(response, out, start: int, cap, timeout: float, deadline: float, end: float, name: str) -> None:
    """Copy the body to ``out``, which holds ``start`` bytes already; raise OSError on a stall,
    the deadline, a body cut short, or more than ``cap`` bytes in all (an endless mirror)."""
    length = response.headers.get("Content-Length")
    length = int(length) if length is not None and length.isdigit() else None
    too_many = f"the mirror sends more than the {cap} bytes any copy of the file can take"
    if cap is not None and length is not None and start + length > cap:
        raise OSError(f"{too_many} (Content-Length {length})")
    read = getattr(response, "read1", None) or response.read  # what has arrived, not a full chunk
    received = 0
    while True:
        try:
            chunk = read(CHUNK)
        except TimeoutError:
            raise TimeoutError(
                f"no data for {timeout:g} s (timeout); the {start + received} bytes "
                f"received are kept in {name} for a resume"
            ) from None
        if not chunk:
            break
        out.write(chunk)
        received += len(chunk)
        if cap is not None and start + received > cap:
            raise OSError(too_many)
        if time.monotonic() > end and (length is None or received < length):
            raise TimeoutError(
                f"not done after the {deadline:g} s deadline; the {start + received} "
                f"bytes received are kept in {name} for a resume"
            )
    # http.client returns a body cut short by a dropped connection without an error; raise
    # one, so the partial bytes are kept for a resume instead of being judged corrupt.
    if length is not None and received < length:
        raise OSError(f"connection closed after {received} of {length} bytes")


def _lock(path: Path) -> BinaryIO | None:
    """An exclusive flock of ``path`` (never through a link), as its open file; None where
    there are no locks."""
    if fcntl is None:
        return None
    while True:
        held = open_regular(path, "ab")
        try:
            fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        except OSError:  # a filesystem without locks
            held.close()
            return None
        # The holder before us removes the file when done: then we hold an orphan; again.
        try:
            if _same_file(os.lstat(path), os.fstat(held.fileno())):
                return held
        except FileNotFoundError:
            pass
        held.close()


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _unlock(path: Path, held: BinaryIO | None) -> None:
    if held is not None:
        with contextlib.suppress(OSError):
            os.unlink(path)  # while still holding it, so that waiters see the inode change
        held.close()
