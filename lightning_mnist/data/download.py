"""Fetch one file from a list of mirrors: resumable, checksummed, atomic.

Bytes go to ``<name>.part`` beside the destination. A later call resumes the part with an
HTTP Range request (a server that ignores Range simply sends the whole file again). Only a
part whose uncompressed content has the expected md5 is renamed to its final name, so a
crash or a bad mirror never leaves a corrupt file where the loader looks. Hand-written
because urllib has no resume and torchvision's helper would pull in torchvision.
"""

from __future__ import annotations

import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path

from lightning_mnist.data.idx import md5, read_bytes
from lightning_mnist.errors import DataError

CHUNK = 1 << 20


def fetch(mirrors: tuple[str, ...], filename: str, dest_dir: Path, want_md5: str, timeout: float = 30.0) -> Path:
    """Download ``filename`` from the first mirror that serves it with the right content."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / filename
    part = dest_dir / (filename + ".part")
    errors = []
    for base in mirrors:
        url = base.rstrip("/") + "/" + filename
        try:
            _download(url, part, timeout)
        except (OSError, urllib.error.URLError) as err:  # partial bytes stay for a resume
            errors.append(f"{url}: {getattr(err, 'reason', err)}")
            continue
        try:
            got = md5(read_bytes(part, gz=filename.endswith(".gz")))
        except DataError as err:
            got = f"unreadable ({err.__cause__})"
        if got == want_md5:
            os.replace(part, dest)
            return dest
        part.unlink()  # corrupt: never resume from it
        errors.append(f"{url}: content md5 {got}, expected {want_md5}")
    raise DataError(f"{filename}: no mirror gave a valid copy ({'; '.join(errors)})")


def _download(url: str, part: Path, timeout: float) -> None:
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "lightning-mnist"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        if err.code == 416 and have:  # nothing left to send: the part is complete
            return
        raise
    with response:
        resumed = getattr(response, "status", 200) == 206
        length = response.headers.get("Content-Length")
        with open(part, "ab" if resumed else "wb") as out:
            shutil.copyfileobj(response, out, CHUNK)
            received = out.tell() - (have if resumed else 0)
    # http.client returns a body cut short by a dropped connection without an error; raise
    # one, so the partial bytes are kept for a resume instead of being judged corrupt.
    if length is not None and received < int(length):
        raise OSError(f"connection closed after {received} of {length} bytes")
