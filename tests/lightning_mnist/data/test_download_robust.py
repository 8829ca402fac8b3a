"""Downloads under stress: parallel processes, gzip bombs, mixed mirrors, stalls, deadlines.

All against the local ``mirror_server`` (conftest) or file:// URLs; parallel downloads are
real processes (forked, so they share the imports) on one data folder.
"""

from __future__ import annotations

import gzip
import multiprocessing
import os
import time
import zlib

import pytest

from lightning_mnist import DataError, MNISTDataModule
from lightning_mnist.data import datasets, download, idx
from lightning_mnist.data.datasets import IMAGE_SHAPE, load_split
from lightning_mnist.data.download import download_options, fetch

STEM = "train-images-idx3-ubyte"
NAME = STEM + ".gz"


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name != NAME)


# --- several processes, one folder ------------------------------------------------------


def _child(mirror, dest, want, result, no_lock, delay):
    if no_lock:
        download.fcntl = None
    time.sleep(delay)
    try:
        fetch((mirror,), NAME, dest, want, timeout=10, deadline=60, shape=IMAGE_SHAPE)
    except BaseException as err:  # report anything, the parent asserts on it
        result.write_text(f"{type(err).__name__}: {err}")
        raise SystemExit(1) from None
    result.write_text("ok")


def _run_parallel(tmp_path, jobs):
    ctx = multiprocessing.get_context("fork")
    procs = []
    for i, args in enumerate(jobs):
        result = tmp_path / f"result{i}"
        procs.append((ctx.Process(target=_child, args=(*args[:3], result, *args[3:])), result))
    for p, _ in procs:
        p.start()
    for p, _ in procs:
        p.join(60)
    return [(p.exitcode, r.read_text() if r.exists() else "no result") for p, r in procs]


@pytest.mark.parametrize("no_lock", [False, True], ids=["flock", "no-locks"])
@pytest.mark.parametrize("speeds", ["equal", "unequal"])
def test_two_processes_download_into_one_folder(tiny, served, dest, tmp_path, no_lock, speeds):
    blob, want = tiny.gz(STEM), tiny.spec.md5s[STEM]
    served.paces["slow"] = (max(len(blob) // 20, 1), 0.02)  # ~0.4 s per copy
    served.paces["fast"] = (len(blob), 0.0)
    if speeds == "equal":
        jobs = [(served.url("slow"), dest, want, no_lock, 0.0), (served.url("slow"), dest, want, no_lock, 0.0)]
    else:  # the fast one starts later and finishes first where nothing serialises them
        jobs = [(served.url("slow"), dest, want, no_lock, 0.0), (served.url("fast"), dest, want, no_lock, 0.1)]
    assert _run_parallel(tmp_path, jobs) == [(0, "ok"), (0, "ok")]
    assert (dest / NAME).read_bytes() == blob
    assert _leftovers(dest) == []  # no .part, no lock file
    if not no_lock:  # the second found the first's verified file: one download in all
        assert len(served.requests) == 1


def test_waiter_takes_the_file_another_process_finished(tiny, served, dest, tmp_path):
    # Hold the lock here; meanwhile a child waits. Put the verified file in place, release:
    # the child returns it without a request.
    # (Locked after the fork: a forked child would inherit, and keep, the lock.)
    dest.mkdir()
    lock = dest / (NAME + ".lock")
    ctx = multiprocessing.get_context("fork")
    result = tmp_path / "result"
    p = ctx.Process(target=_child, args=(served.url("a"), dest, tiny.spec.md5s[STEM], result, False, 0.5))
    p.start()
    fd = download._lock(lock)
    assert fd is not None
    time.sleep(1.0)
    (dest / NAME).write_bytes(tiny.gz(STEM))
    download._unlock(lock, fd)
    p.join(30)
    assert (p.exitcode, result.read_text()) == (0, "ok")
    assert served.requests == []
    assert _leftovers(dest) == []


def test_stale_lock_file_does_not_block(tiny, served, dest):
    dest.mkdir()
    (dest / (NAME + ".lock")).write_bytes(b"")  # left by a killed process: no lock held
    fetch((served.url("a"),), NAME, dest, tiny.spec.md5s[STEM])
    assert (dest / NAME).read_bytes() == tiny.gz(STEM) and _leftovers(dest) == []


def test_unwritable_folder_is_one_data_error(tiny, served, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DataError, match="cannot download into it"):
        fetch((served.url("a"),), NAME, blocker / "sub", tiny.spec.md5s[STEM])


# --- bounded decompression --------------------------------------------------------------


def _bomb(header_dims, payload_mb):
    """A gzip of an IDX header with ``header_dims`` and ``payload_mb`` MiB of zeros."""
    z = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip container
    head = bytes([0, 0, 8, len(header_dims)]) + b"".join(d.to_bytes(4, "big") for d in header_dims)
    out = [z.compress(head)]
    zeros = bytes(1 << 20)
    out += [z.compress(zeros) for _ in range(payload_mb)]
    return b"".join(out) + z.flush()


@pytest.fixture
def counted_reads(monkeypatch):
    """The sizes asked of every gzip stream ``idx`` opens (-1 = read everything)."""
    sizes = []
    real_open = gzip.open

    def counting_open(*args, **kwargs):
        f = real_open(*args, **kwargs)
        real_read = f.read

        def read(n=-1):
            sizes.append(n)
            return real_read(n)

        f.read = read
        return f

    monkeypatch.setattr(idx.gzip, "open", counting_open)
    return sizes


def test_bomb_refused_from_its_header_when_downloaded(tiny, served, dest, counted_reads):
    served.files[NAME] = _bomb((2**31, 28, 28), 64)
    with pytest.raises(DataError, match=r"header claims 2147483648 items.*refusing to decompress") as err:
        fetch((served.url("a"),), NAME, dest, tiny.spec.md5s[STEM], shape=IMAGE_SHAPE)
    assert str(err.value).startswith(f"{NAME}: no mirror gave a valid copy")
    assert -1 not in counted_reads and sum(counted_reads) < 1000  # the header, nothing more
    assert list(dest.iterdir()) == []


def test_bomb_refused_without_a_shape(tiny, served, dest, counted_reads):
    served.files[NAME] = _bomb((60000, 1 << 16, 1 << 16), 1)
    with pytest.raises(DataError, match="refusing to decompress"):
        fetch((served.url("a"),), NAME, dest, tiny.spec.md5s[STEM])
    assert -1 not in counted_reads and sum(counted_reads) < 1000


def test_bomb_in_data_dir_refused_on_load(tiny, counted_reads):
    tiny.paths[STEM].unlink()
    (tiny.data_dir / NAME).write_bytes(_bomb((2**31, 28, 28), 64))
    datasets._load_cached.cache_clear()
    with pytest.raises(DataError, match="header claims 2147483648 items"):
        load_split(tiny.spec, tiny.data_dir, "train", verify_checksums=False)
    assert -1 not in counted_reads and sum(counted_reads) < 1000


def test_stream_longer_than_its_header_read_no_further(tiny, counted_reads):
    # 10 images declared, 64 MiB of zeros behind them: read 10 images + 1 byte, then refuse.
    tiny.paths[STEM].unlink()
    (tiny.data_dir / NAME).write_bytes(_bomb((10, 28, 28), 64))
    datasets._load_cached.cache_clear()
    with pytest.raises(DataError, match="truncated or padded"):
        load_split(tiny.spec, tiny.data_dir, "train", verify_checksums=False)
    assert -1 not in counted_reads and sum(counted_reads) < 16 + 10 * 784 + 100


# --- a resume from a mirror with other bytes ----------------------------------------------


def _other_encoding(tiny):
    other = gzip.compress(tiny.contents[STEM], compresslevel=1, mtime=12345)
    assert other != tiny.gz(STEM)
    return other


def test_resume_from_other_encoding_retries_whole(tiny, served, dest):
    other = _other_encoding(tiny)
    served.modes["a"] = "cut"
    served.cut_at = 500
    served.mirror_files["b"] = {NAME: other}
    fetch((served.url("a"), served.url("b")), NAME, dest, tiny.spec.md5s[STEM], shape=IMAGE_SHAPE)
    assert served.ranges("b") == ["bytes=500-", None]  # resumed garbage, then whole
    assert (dest / NAME).read_bytes() == other and _leftovers(dest) == []


def test_part_from_other_encoding_does_not_fail_every_rerun(tiny, served, dest):
    # A .part left by a run against another mirror: the first rerun already succeeds.
    dest.mkdir()
    (dest / (NAME + ".part")).write_bytes(_other_encoding(tiny)[:800])
    fetch((served.url("a"),), NAME, dest, tiny.spec.md5s[STEM])
    assert served.ranges("a") == ["bytes=800-", None]
    assert (dest / NAME).read_bytes() == tiny.gz(STEM) and _leftovers(dest) == []


def test_retry_from_scratch_once_per_mirror(tiny, served, dest):
    dest.mkdir()
    (dest / (NAME + ".part")).write_bytes(_other_encoding(tiny)[:800])
    wrong = gzip.compress(tiny.contents[STEM][:-1] + b"\x01")  # valid IDX, other content
    served.mirror_files["a"] = served.mirror_files["b"] = {NAME: wrong}  # both honour Range
    with pytest.raises(DataError, match="no mirror gave a valid copy"):
        fetch((served.url("a"), served.url("b")), NAME, dest, tiny.spec.md5s[STEM])
    assert served.ranges("a") == ["bytes=800-", None] and served.ranges("b") == [None]
    assert list(dest.iterdir()) == []


# --- stalls and trickles ------------------------------------------------------------------


def test_stalled_mirror_keeps_what_it_sent(tiny, served, dest):
    served.modes["a"] = "stall"
    served.cut_at = 700
    t0 = time.monotonic()
    with pytest.raises(DataError, match=r"no data for 0.5 s \(timeout\); the 700 bytes received are kept"):
        fetch((served.url("a"),), NAME, dest, tiny.spec.md5s[STEM], timeout=0.5)
    assert time.monotonic() - t0 < 10
    assert (dest / (NAME + ".part")).read_bytes() == tiny.gz(STEM)[:700]
    served.modes["a"] = "ok"
    fetch((served.url("a"),), NAME, dest, tiny.spec.md5s[STEM])
    assert served.ranges("a") == [None, "bytes=700-"]
    assert (dest / NAME).read_bytes() == tiny.gz(STEM)


def test_trickling_mirror_hits_the_deadline_then_next_mirror(tiny, served, dest):
    served.paces["a"] = (100, 0.05)  # 2 kB/s, and never silent for long
    t0 = time.monotonic()
    fetch((served.url("a"), served.url("b")), NAME, dest, tiny.spec.md5s[STEM], timeout=5, deadline=0.6)
    assert time.monotonic() - t0 < 10
    (_, rng_b) = served.ranges("b")[0], served.ranges("b")[0]
    assert rng_b is not None and rng_b.startswith("bytes=")  # b resumed what a sent
    assert (dest / NAME).read_bytes() == tiny.gz(STEM)


def test_trickling_only_mirror_fails_with_deadline(tiny, served, dest):
    served.paces["a"] = (100, 0.05)
    with pytest.raises(DataError, match=r"not done after the 0.6 s deadline; the \d+ bytes received are kept"):
        fetch((served.url("a"),), NAME, dest, tiny.spec.md5s[STEM], timeout=5, deadline=0.6)
    part = (dest / (NAME + ".part")).read_bytes()
    assert 0 < len(part) < len(tiny.gz(STEM)) and tiny.gz(STEM).startswith(part)


# --- settings: arguments, environment ------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch):
    for var in (download.ENV_MIRRORS, download.ENV_TIMEOUT, download.ENV_DEADLINE):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def test_options_defaults_env_and_arguments(clean_env):
    assert download_options() == (None, download.DEFAULT_TIMEOUT, download.DEFAULT_DEADLINE)
    clean_env.setenv(download.ENV_MIRRORS, " http://a/x/, file:///m/  https://b/ ")
    clean_env.setenv(download.ENV_TIMEOUT, "2.5")
    clean_env.setenv(download.ENV_DEADLINE, "60")
    assert download_options() == (("http://a/x/", "file:///m/", "https://b/"), 2.5, 60.0)
    assert download_options(["http://c/"], 1, 2) == (("http://c/",), 1.0, 2.0)  # arguments win


@pytest.mark.parametrize(
    "var, value, message",
    [
        ("TIMEOUT", "soon", r"\$LIGHTNING_MNIST_TIMEOUT must be a number of seconds, got 'soon'"),
        ("TIMEOUT", "0", r"\$LIGHTNING_MNIST_TIMEOUT must be a positive number"),
        ("DEADLINE", "-1", r"\$LIGHTNING_MNIST_DEADLINE must be a positive number"),
        ("DEADLINE", "nan", r"\$LIGHTNING_MNIST_DEADLINE must be a positive number"),
        ("MIRRORS", "ftp://x/", r"\$LIGHTNING_MNIST_MIRRORS: 'ftp://x/' is not an http://"),
    ],
)
def test_bad_environment_is_a_data_error(clean_env, var, value, message):
    clean_env.setenv(f"LIGHTNING_MNIST_{var}", value)
    with pytest.raises(DataError, match=message):
        download_options()
    with pytest.raises(DataError, match=message):
        MNISTDataModule(data_dir="/nonexistent")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"timeout": 0}, "timeout must be a positive number of seconds"),
        ({"timeout": "5"}, "timeout must be a positive number of seconds"),
        ({"deadline": float("inf")}, "deadline must be a positive number of seconds"),
        ({"mirrors": []}, "mirrors is empty"),
        ({"mirrors": ["example.com/mnist"]}, "is not an http://"),
        ({"mirrors": 5}, "mirrors must be a list of URLs"),
    ],
)
def test_bad_download_arguments(clean_env, kwargs, message):
    with pytest.raises(DataError, match=message):
        MNISTDataModule(data_dir="/nonexistent", **kwargs)


def test_datamodule_mirrors_argument(tiny, served, clean_env):
    dm = MNISTDataModule(
        val_split="test", data_dir=str(tiny.data_dir), dataset="tiny", mirrors=[served.url("m")], timeout=5
    )
    dm.prepare_data()
    assert {m for m, _, _ in served.requests} == {"m"} and len(served.requests) == 4
    dm.setup("fit")
    assert len(dm.train_set) == 200


def test_datamodule_mirrors_and_timeout_from_environment(tiny, served, clean_env):
    clean_env.setenv(download.ENV_MIRRORS, f"{served.url('stuck')}, {served.url('good')}")
    clean_env.setenv(download.ENV_TIMEOUT, "0.3")
    served.modes["stuck"] = "stall"
    served.cut_at = 10
    dm = MNISTDataModule(val_split="test", data_dir=str(tiny.data_dir), dataset="tiny")
    t0 = time.monotonic()
    dm.prepare_data()
    assert time.monotonic() - t0 < 15
    assert [m for m, _, _ in served.requests].count("good") == 4
    assert sorted(os.listdir(tiny.data_dir)) == sorted(s + ".gz" for s in tiny.contents)
