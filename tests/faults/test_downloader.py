"""The downloader under hostile folders and mirrors: it never writes through a ``.part`` or
``.lock`` planted as a link (or a FIFO), never downloads more than any copy of the file can
take (an endless mirror is cut off), keeps a ``.part`` for a resume only when it can be the
file's beginning, and several processes on one folder download once (last round)."""

from __future__ import annotations

import gzip
import http.server
import multiprocessing
import os
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from lightning_mnist.data import datasets
from lightning_mnist.data.datasets import CANONICAL_SIZES, IMAGE_SHAPE
from lightning_mnist.data.download import fetch, max_download_bytes
from lightning_mnist.errors import DataError
from logicnets.files import OutputPathError

STEM = "train-images-idx3-ubyte"
NAME = STEM + ".gz"
REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(os.name != "posix", reason="symbolic links and FIFOs of POSIX")


def _fetch(tiny, mirror: str, dest: Path, **kw) -> Path:
    content = tiny.contents[STEM]
    return fetch((mirror,), NAME, dest, tiny.spec.md5s[STEM], shape=IMAGE_SHAPE, size=len(content), **kw)


@pytest.mark.parametrize("suffix", [".part", ".lock"])
@pytest.mark.parametrize("kind", ["link", "dangling link", "fifo"])
def test_a_planted_part_or_lock_is_refused_and_its_target_untouched(tiny, served, dest, tmp_path, suffix, kind):
    dest.mkdir()
    planted, outside = dest / (NAME + suffix), tmp_path / "outside" / "target"
    outside.parent.mkdir()
    if kind == "link":
        outside.write_bytes(b"precious")
        planted.symlink_to(outside)
    elif kind == "dangling link":
        planted.symlink_to(outside)
    else:
        os.mkfifo(planted)
    with pytest.raises(OutputPathError) as info:
        _fetch(tiny, served.url("a"), dest, timeout=5)
    message = str(info.value)
    assert len(message.splitlines()) == 1 and str(planted) in message, message
    assert ("FIFO" if kind == "fifo" else "symbolic link") in message
    if kind == "link":
        assert outside.read_bytes() == b"precious"
    else:
        assert not outside.exists()  # a lock link creates no file at its target
    assert os.path.lexists(planted) and not (dest / NAME).exists()


def test_a_planted_link_under_the_final_name_is_refused_before_downloading(tiny, served, dest, tmp_path):
    dest.mkdir()
    outside = tmp_path / "elsewhere.gz"
    outside.write_bytes(b"not the data")
    (dest / NAME).symlink_to(outside)
    with pytest.raises(OutputPathError, match="symbolic link"):
        _fetch(tiny, served.url("a"), dest)
    assert served.requests == [] and outside.read_bytes() == b"not the data"


class EndlessMirror:
    """Serves every file as an endless stream of zeros, without a Content-Length; counts
    what it managed to send."""

    def __init__(self) -> None:
        self.sent = 0
        mirror = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # the body ends when the connection does

            def do_GET(self) -> None:
                self.send_response(200)
                self.end_headers()
                block = b"\0" * 65536
                try:
                    while mirror.sent < 1 << 30:
                        self.wfile.write(block)
                        mirror.sent += len(block)
                except OSError:  # the client hung up
                    pass

            def log_message(self, *args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True).start()

    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}/m/"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_an_endless_mirror_is_cut_off_at_the_files_size_and_leaves_nothing(tiny, dest):
    mirror = EndlessMirror()
    try:
        with pytest.raises(DataError, match=r"more than the \d+ bytes any copy of the file can take") as info:
            _fetch(tiny, mirror.url(), dest, timeout=10)
    finally:
        mirror.close()
    cap = max_download_bytes(len(tiny.contents[STEM]), gz=True)
    assert mirror.sent < cap + (8 << 20)  # what the sockets buffered, not a filled disk
    assert "discarded" in str(info.value)
    assert list(dest.iterdir()) == []  # no .part of zeros kept "for a resume"


def test_a_mirror_announcing_more_than_the_file_is_refused_before_reading(tiny, served, dest):
    served.files[NAME] = b"\0" * (max_download_bytes(len(tiny.contents[STEM]), gz=True) + 1)
    with pytest.raises(DataError, match=r"more than the \d+ bytes any copy of the file can take \(Content-Length"):
        _fetch(tiny, served.url("a"), dest)
    assert list(dest.iterdir()) == []


@pytest.mark.parametrize(
    "bogus",
    [
        b"\0" * 100_000,  # zeros: not gzip
        b"\xff" * 1000,
        lambda tiny: gzip.compress(b"\0\0\x08\x01" + (9).to_bytes(4, "big"))[:40],  # labels, not images
        lambda tiny: gzip.compress(tiny.contents[STEM] + b"\0" * 5000),  # runs past the file's size
    ],
    ids=["zeros", "0xff", "wrong-header", "too-long"],
)
def test_a_part_that_cannot_be_the_files_beginning_is_not_resumed(tiny, served, dest, bogus):
    dest.mkdir()
    (dest / (NAME + ".part")).write_bytes(bogus(tiny) if callable(bogus) else bogus)
    _fetch(tiny, served.url("a"), dest)
    assert served.ranges("a") == [None]  # asked for the whole file, not a resume of garbage
    assert (dest / NAME).read_bytes() == tiny.gz(STEM) and sorted(p.name for p in dest.iterdir()) == [NAME]


def test_a_stalled_mirror_of_garbage_leaves_no_part(tiny, served, dest):
    served.mirror_files["z"] = {NAME: b"\0" * 5000}
    served.modes["z"] = "stall"
    served.cut_at = 700
    with pytest.raises(DataError, match=r"\.part discarded: not gzip data"):
        _fetch(tiny, served.url("z"), dest, timeout=0.5)
    assert list(dest.iterdir()) == []


def test_a_valid_beginning_is_still_kept_for_a_resume(tiny, served, dest):
    served.modes["a"] = "cut"
    served.cut_at = 700
    with pytest.raises(DataError, match="connection closed after 700"):
        _fetch(tiny, served.url("a"), dest)
    assert (dest / (NAME + ".part")).read_bytes() == tiny.gz(STEM)[:700]
    served.modes["a"] = "ok"
    _fetch(tiny, served.url("a"), dest)
    assert served.ranges("a") == [None, "bytes=700-"] and (dest / NAME).read_bytes() == tiny.gz(STEM)


def test_the_shipped_data_sets_bound_their_downloads_by_the_real_sizes():
    for spec in (datasets.MNIST, datasets.FASHION_MNIST):
        assert spec.sizes == CANONICAL_SIZES
    real = REPO / "data" / "mnist"
    if not (real / NAME).is_file():
        pytest.skip(f"the vendored MNIST is not in {real}")
    for stem, size in CANONICAL_SIZES.items():
        gz = real / (stem + ".gz")
        with gzip.open(gz) as f:
            assert len(f.read()) == size, stem
        assert gz.stat().st_size <= max_download_bytes(size, gz=True)


def test_ensure_files_passes_the_known_size_to_the_downloader(monkeypatch, tmp_path):
    seen = {}
    monkeypatch.setattr(datasets, "fetch", lambda *a, **kw: seen.setdefault(a[1], kw["size"]))
    datasets.ensure_files(replace(datasets.MNIST, system_dirs=()), tmp_path / "empty")
    assert seen == {stem + ".gz": size for stem, size in CANONICAL_SIZES.items()}


def _child(mirror: str, dest: Path, want: str, result: Path) -> None:
    try:
        fetch((mirror,), NAME, dest, want, timeout=10, deadline=60, shape=IMAGE_SHAPE)
    except BaseException as err:  # reported to the parent
        result.write_text(f"{type(err).__name__}: {err}")
        raise SystemExit(1) from None
    result.write_text("ok")


def test_two_processes_on_one_folder_download_once(tiny, served, dest, tmp_path):
    blob = tiny.gz(STEM)
    served.paces["a"] = (max(len(blob) // 20, 1), 0.02)
    ctx = multiprocessing.get_context("fork")
    results = [tmp_path / "r0", tmp_path / "r1"]
    procs = [ctx.Process(target=_child, args=(served.url("a"), dest, tiny.spec.md5s[STEM], r)) for r in results]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [(p.exitcode, r.read_text()) for p, r in zip(procs, results, strict=True)] == [(0, "ok")] * 2
    assert len(served.requests) == 1 and (dest / NAME).read_bytes() == blob
    assert sorted(p.name for p in dest.iterdir()) == [NAME]  # no .part, no .lock
