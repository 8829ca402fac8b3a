"""Shared fixtures: small fake IDX data sets, a local HTTP mirror, the real MNIST files.

Nothing here touches the internet: downloads go to a ``http.server`` on 127.0.0.1 or to
``file://`` URLs.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import http.server
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from lightning_mnist.data import datasets
from lightning_mnist.data.datasets import SPLITS, DatasetSpec

REPO = Path(__file__).resolve().parents[2]
MNIST_STEMS = (*SPLITS["train"], *SPLITS["test"])
MNIST_CANDIDATES = (REPO / "data" / "mnist", REPO.parent / "shared" / "data" / "mnist")
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


# ---------------------------------------------------------------------------------------
# IDX helpers
# ---------------------------------------------------------------------------------------


def idx_bytes(array: np.ndarray, magic: bytes | None = None) -> bytes:
    """``array`` (uint8) as an IDX file; ``magic`` overrides the 4-byte magic number."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    head = magic if magic is not None else bytes([0, 0, 8, array.ndim])
    dims = b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return head + dims + array.tobytes()


def md5(content: bytes) -> str:
    return hashlib.md5(content).hexdigest()


def fake_split(n: int, seed: int, label_noise: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` learnable fake digits: a bright row at ``2 + 2 * label`` over low noise.

    A fraction ``label_noise`` of the labels is then redrawn at random (a harder set).

    Pixels (0, 0) and (0, 1) hold ``i % 256`` and ``i // 256``, so every image can be
    traced back to its index (row identity for split/shuffle tests).
    """
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    images = rng.integers(0, 60, size=(n, 28, 28)).astype(np.uint8)
    images[np.arange(n), 2 + 2 * labels.astype(np.int64), 2:26] = rng.integers(180, 256, size=(n, 24))
    images[:, 0, 0] = np.arange(n) % 256
    images[:, 0, 1] = np.arange(n) // 256
    images[0, 27, 27] = 255  # make sure 255 -> 1.0 is exercised
    if label_noise:
        redraw = rng.random(n) < label_noise
        labels[redraw] = rng.integers(0, 10, size=int(redraw.sum()))
    return images, labels


def image_ids(x) -> np.ndarray:
    """Indices encoded by ``fake_split`` in the first two pixels (x in [0, 1] floats)."""
    flat = np.asarray(x).reshape(len(x), -1)
    return np.rint(flat[:, 0] * 255).astype(int) + 256 * np.rint(flat[:, 1] * 255).astype(int)


@dataclass
class TinyData:
    spec: DatasetSpec
    data_dir: Path
    arrays: dict[str, np.ndarray]  # stem -> array
    contents: dict[str, bytes]  # stem -> uncompressed IDX bytes
    paths: dict[str, Path] = field(default_factory=dict)  # stem -> file written

    def gz(self, stem: str) -> bytes:
        return gzip.compress(self.contents[stem], mtime=0)

    def write(self, stem: str, content: bytes, gz: bool | None = None) -> Path:
        """Replace ``stem``'s file by ``content`` (gzipped when ``gz``, default: as before)."""
        old = self.paths.pop(stem, None)
        if gz is None:
            gz = old is not None and old.suffix == ".gz"
        if old is not None:
            old.unlink()
        path = self.data_dir / (stem + (".gz" if gz else ""))
        path.write_bytes(gzip.compress(content, mtime=0) if gz else content)
        self.paths[stem] = path
        return path


def write_tiny(
    data_dir: Path,
    n_train: int = 200,
    n_test: int = 97,
    seed: int = 0,
    gz_stems=("train-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
    write: bool = True,
    label_noise: float = 0.0,
) -> tuple[dict, dict, dict]:
    """Write a fake MNIST-layout data set; return (arrays, contents, paths) by stem."""
    data_dir.mkdir(parents=True, exist_ok=True)
    train = fake_split(n_train, seed, label_noise)
    test = fake_split(n_test, seed + 1, label_noise)
    arrays = dict(zip(MNIST_STEMS, (*train, *test), strict=True))
    contents = {stem: idx_bytes(a) for stem, a in arrays.items()}
    paths = {}
    if write:
        for stem, content in contents.items():
            gz = stem in gz_stems
            path = data_dir / (stem + (".gz" if gz else ""))
            path.write_bytes(gzip.compress(content, mtime=0) if gz else content)
            paths[stem] = path
    return arrays, contents, paths


@pytest.fixture
def make_tiny(tmp_path, monkeypatch):
    """Factory: write a tiny fake data set and register it as ``DATASETS[name]``."""

    def make(
        name: str = "tiny",
        n_train: int = 200,
        n_test: int = 97,
        seed: int = 0,
        gz_stems=("train-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
        mirrors: tuple[str, ...] = (),
        write: bool = True,
        system_dirs=(),
        data_dir: Path | None = None,
        md5s: dict | None = None,
    ) -> TinyData:
        data_dir = data_dir or tmp_path / name
        arrays, contents, paths = write_tiny(data_dir, n_train, n_test, seed, gz_stems, write)
        if not write:
            data_dir.mkdir(parents=True, exist_ok=True)
        spec = DatasetSpec(
            name=name,
            md5s=md5s or {s: md5(c) for s, c in contents.items()},
            mirrors=tuple(mirrors),
            system_dirs=tuple(system_dirs),
        )
        monkeypatch.setitem(datasets.DATASETS, name, spec)
        return TinyData(spec, data_dir, arrays, contents, paths)

    return make


@pytest.fixture
def tiny(make_tiny) -> TinyData:
    """200 train / 97 test fake images, a mix of .gz and raw files, registered as "tiny"."""
    return make_tiny()


# ---------------------------------------------------------------------------------------
# A local HTTP mirror
# ---------------------------------------------------------------------------------------


class MirrorServer:
    """Serves ``files`` under ``/<mirror>/<name>``; ``modes[mirror]`` picks the behaviour.

    Modes: ``"ok"`` (honours ``Range: bytes=N-`` with 206, 416 past the end),
    ``"norange"`` (ignores Range, always 200 + whole file), ``"cut"`` (announces the whole
    length but sends only ``cut_at`` bytes, then drops the connection), ``"corrupt"``
    (flips bytes in the middle of the file), ``"wrong"`` (``wrong_files[name]`` instead:
    valid but different content), ``"404"``, ``"stall"`` (sends ``cut_at`` bytes, then
    nothing for ``stall_s`` seconds or until the server closes, then drops the connection).
    ``mirror_files[mirror][name]`` serves other bytes on one mirror (say, another gzip of
    the same content); ``paces[mirror] = (nbytes, seconds)`` sends the body ``nbytes`` at a
    time with a pause after each (a slow or trickling mirror).
    """

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.wrong_files: dict[str, bytes] = {}
        self.modes: dict[str, str] = {}
        self.cut_at = 100
        self.mirror_files: dict[str, dict[str, bytes]] = {}
        self.paces: dict[str, tuple[int, float]] = {}
        self.stall_s = 30.0
        self.closing = threading.Event()
        self.requests: list[tuple[str, str, str | None]] = []  # (mirror, name, Range header)
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                _, mirror, name = self.path.split("/", 2)
                rng = self.headers.get("Range")
                server.requests.append((mirror, name, rng))
                mode = server.modes.get(mirror, "ok")
                data = server.mirror_files.get(mirror, {}).get(name, server.files.get(name))
                if mode == "404" or data is None:
                    self.send_error(404)
                    return
                if mode == "wrong":
                    data = server.wrong_files[name]
                if mode == "corrupt":
                    mid = len(data) // 2
                    data = data[:mid] + bytes(b ^ 0xFF for b in data[mid : mid + 16]) + data[mid + 16 :]
                start = 0
                if rng and mode in ("ok", "cut", "stall"):
                    assert rng.startswith("bytes=") and rng.endswith("-"), rng
                    start = int(rng[len("bytes=") : -1])
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                body = data[start:]
                self.send_response(206 if start else 200)
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if mode in ("cut", "stall"):
                    body = body[: server.cut_at]
                self.close_connection = True
                try:
                    nbytes, pause = server.paces.get(mirror, (len(body) or 1, 0.0))
                    for i in range(0, len(body), nbytes):
                        self.wfile.write(body[i : i + nbytes])
                        self.wfile.flush()
                        if pause and server.closing.wait(pause):
                            return
                    if mode == "stall":
                        server.closing.wait(server.stall_s)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up
                    pass

            def log_message(self, *args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def url(self, mirror: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}/{mirror}/"

    def ranges(self, mirror: str | None = None) -> list[str | None]:
        return [r for m, _, r in self.requests if mirror is None or m == mirror]

    def close(self) -> None:
        self.closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def mirror_server():
    server = MirrorServer()
    yield server
    server.close()


@pytest.fixture
def dead_url():
    """An http:// URL on 127.0.0.1 where nothing listens (connection refused)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/mnist/"


# ---------------------------------------------------------------------------------------
# The real data
# ---------------------------------------------------------------------------------------


def _has_all(directory: Path) -> bool:
    return all(any((directory / (s + ext)).is_file() for ext in ("", ".gz")) for s in MNIST_STEMS)


@pytest.fixture
def mnist_dir() -> Path:
    """A folder with the real MNIST files (the vendored copy first); skip when none has them."""
    for candidate in MNIST_CANDIDATES:
        if _has_all(candidate):
            return candidate
    pytest.skip("real MNIST files not found in " + " or ".join(map(str, MNIST_CANDIDATES)))


@pytest.fixture
def fashion_dir() -> Path:
    if not _has_all(FASHION_DIR):
        pytest.skip(f"Fashion-MNIST not installed in {FASHION_DIR} (Debian dataset-fashion-mnist)")
    return FASHION_DIR


@pytest.fixture(scope="session")
def helpers():
    """The helpers above, for test modules (which should not import conftest by name)."""
    from types import SimpleNamespace

    return SimpleNamespace(
        idx_bytes=idx_bytes,
        md5=md5,
        fake_split=fake_split,
        image_ids=image_ids,
        write_tiny=write_tiny,
        last_metrics=last_metrics,
    )


def last_metrics(run_dir: Path) -> dict[str, float]:
    """Last logged value of every column of a run's metrics.csv."""
    out: dict[str, float] = {}
    with open(run_dir / "metrics.csv") as f:
        for row in csv.DictReader(f):
            out.update({k: float(v) for k, v in row.items() if v})
    return out
