"""Downloads: mirrors in order, checksummed, atomic (.part then rename), resumable.

All against a local HTTP server (``mirror_server`` in conftest) or file:// URLs.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest

from lightning_mnist import DataError, MNISTDataModule
from lightning_mnist.data import datasets, download
from lightning_mnist.data.datasets import ensure_files
from lightning_mnist.data.download import fetch

STEM = "train-images-idx3-ubyte"
NAME = STEM + ".gz"


def _want(tiny):
    return tiny.spec.md5s[STEM]


def _blob(tiny):
    return tiny.gz(STEM)


def _assert_done(dest, tiny):
    assert (dest / NAME).read_bytes() == _blob(tiny)
    assert not (dest / (NAME + ".part")).exists()


def test_plain_download(tiny, served, dest):
    path = fetch((served.url("a"),), NAME, dest, _want(tiny))
    assert path == dest / NAME
    _assert_done(dest, tiny)
    assert served.requests == [("a", NAME, None)]
    assert sorted(p.name for p in dest.iterdir()) == [NAME]


def test_written_atomically(tiny, served, dest, monkeypatch):
    # The final name appears only through one os.replace of the complete, verified .part.
    calls = []
    real_replace = os.replace

    def spy(src, dst):
        calls.append((os.fspath(src), os.fspath(dst), (dest / NAME).exists(), Path(src).read_bytes()))
        return real_replace(src, dst)

    monkeypatch.setattr(download.os, "replace", spy)
    monkeypatch.setattr(download, "CHUNK", 64)  # many writes, all into the .part
    fetch((served.url("a"),), NAME, dest, _want(tiny))
    assert calls == [(str(dest / (NAME + ".part")), str(dest / NAME), False, _blob(tiny))]


def test_resume_from_partial_part(tiny, served, dest):
    k = 1000
    dest.mkdir()
    (dest / (NAME + ".part")).write_bytes(_blob(tiny)[:k])
    fetch((served.url("a"),), NAME, dest, _want(tiny))
    assert served.ranges("a") == [f"bytes={k}-"]
    _assert_done(dest, tiny)


def test_resume_when_part_is_already_complete(tiny, served, dest):
    # Server answers 416 (nothing left): the complete part is verified and renamed.
    dest.mkdir()
    (dest / (NAME + ".part")).write_bytes(_blob(tiny))
    fetch((served.url("a"),), NAME, dest, _want(tiny))
    assert served.ranges("a") == [f"bytes={len(_blob(tiny))}-"]
    _assert_done(dest, tiny)


def test_server_ignoring_range_still_correct(tiny, served, dest):
    served.modes["a"] = "norange"
    dest.mkdir()
    (dest / (NAME + ".part")).write_bytes(_blob(tiny)[:1000])
    fetch((served.url("a"),), NAME, dest, _want(tiny))
    assert served.ranges("a") == ["bytes=1000-"]  # asked, got 200 with the whole file
    _assert_done(dest, tiny)


def test_interrupted_download_resumes_on_next_call(tiny, served, dest):
    served.modes["a"] = "cut"
    served.cut_at = 700
    cut = rf"{NAME}: no mirror gave a valid copy .*connection closed after 700 of"
    with pytest.raises(DataError, match=cut):
        fetch((served.url("a"),), NAME, dest, _want(tiny))
    assert not (dest / NAME).exists()  # never a corrupt file under the final name
    assert (dest / (NAME + ".part")).read_bytes() == _blob(tiny)[:700]  # kept for a resume
    served.modes["a"] = "ok"
    fetch((served.url("a"),), NAME, dest, _want(tiny))
    assert served.ranges("a") == [None, "bytes=700-"]
    _assert_done(dest, tiny)


def test_interrupted_mirror_resumed_from_next_mirror(tiny, served, dest):
    served.modes["a"] = "cut"
    served.cut_at = 500
    fetch((served.url("a"), served.url("b")), NAME, dest, _want(tiny))
    assert served.ranges("a") == [None] and served.ranges("b") == ["bytes=500-"]
    _assert_done(dest, tiny)


@pytest.mark.parametrize("mode", ["corrupt", "wrong"])
def test_corrupt_mirror_then_good_mirror(tiny, served, dest, mode, monkeypatch):
    served.modes["a"] = mode
    replaced = []
    real_replace = os.replace
    monkeypatch.setattr(
        download.os, "replace", lambda s, d: (replaced.append(Path(s).read_bytes()), real_replace(s, d))
    )
    fetch((served.url("a"), served.url("b")), NAME, dest, _want(tiny))
    assert [m for m, _, _ in served.requests] == ["a", "b"]
    assert served.ranges("b") == [None]  # the corrupt part was dropped, not resumed
    assert replaced == [_blob(tiny)]  # only the good copy ever reached the final name
    _assert_done(dest, tiny)


@pytest.mark.parametrize("mode", ["corrupt", "wrong"])
def test_corrupt_only_mirror_leaves_nothing(tiny, served, dest, mode):
    served.modes["a"] = mode
    with pytest.raises(DataError) as err:
        fetch((served.url("a"),), NAME, dest, _want(tiny))
    msg = str(err.value)
    assert msg.startswith(f"{NAME}: no mirror gave a valid copy")
    assert served.url("a") + NAME in msg and f"expected {_want(tiny)}" in msg
    assert ("unreadable" in msg) == (mode == "corrupt")
    assert list(dest.iterdir()) == []  # no final file, no .part


def test_corrupt_partial_part_is_not_kept(tiny, served, dest):
    # A .part from an earlier run that cannot be the file's beginning (not gzip) is dropped
    # before anything is asked: the mirror sends the whole file, once.
    dest.mkdir()
    (dest / (NAME + ".part")).write_bytes(b"\xff" * 1000)
    fetch((served.url("a"), served.url("b")), NAME, dest, _want(tiny))
    assert served.ranges("a") == [None] and served.ranges("b") == []
    _assert_done(dest, tiny)


def test_404_then_good_mirror(tiny, served, dest):
    served.modes["a"] = "404"
    fetch((served.url("a"), served.url("b")), NAME, dest, _want(tiny))
    assert [m for m, _, _ in served.requests] == ["a", "b"]
    _assert_done(dest, tiny)


def test_all_mirrors_fail(tiny, served, dest, dead_url):
    served.modes["a"] = "404"
    served.modes["b"] = "corrupt"
    with pytest.raises(DataError) as err:
        fetch((served.url("a"), dead_url, served.url("b")), NAME, dest, _want(tiny))
    msg = str(err.value)
    assert f"{served.url('a')}{NAME}: Not Found" in msg
    assert f"{dead_url}{NAME}: " in msg and "refused" in msg.lower()
    assert f"{served.url('b')}{NAME}: content md5 unreadable" in msg
    assert list(dest.iterdir()) == []


# --- file:// mirrors -------------------------------------------------------------------


def test_file_url_mirror(tiny, tmp_path, dest):
    src = tmp_path / "local-mirror"
    src.mkdir()
    (src / NAME).write_bytes(_blob(tiny))
    dest.mkdir()
    (dest / (NAME + ".part")).write_bytes(b"junk" * 10)  # file:// ignores Range: rewritten
    fetch(("file:///nonexistent/dir/", src.as_uri() + "/"), NAME, dest, _want(tiny))
    _assert_done(dest, tiny)


def test_file_url_missing(tiny, tmp_path, dest):
    url = f"file:///nonexistent/{NAME}"
    with pytest.raises(DataError, match=rf"{NAME}: no mirror gave a valid copy \({url}: "):
        fetch(("file:///nonexistent/",), NAME, dest, _want(tiny))
    assert not (dest / NAME).exists()


# --- ensure_files and the DataModule ---------------------------------------------------


def test_ensure_files_downloads_missing(tiny, served, monkeypatch):
    spec = datasets.DatasetSpec("tiny", tiny.spec.md5s, (served.url("a"),))
    monkeypatch.setitem(datasets.DATASETS, "tiny", spec)
    (tiny.data_dir / "t10k-labels-idx1-ubyte").write_bytes(tiny.contents["t10k-labels-idx1-ubyte"])
    dm = MNISTDataModule(val_split="test", data_dir=str(tiny.data_dir), dataset="tiny", batch_size=None)
    dm.prepare_data()
    assert sorted(name for _, name, _ in served.requests) == sorted(
        s + ".gz" for s in tiny.contents if s != "t10k-labels-idx1-ubyte"
    )
    dm.setup("fit")
    np.testing.assert_array_equal(dm.train_set.y.numpy(), tiny.arrays["train-labels-idx1-ubyte"])
    assert sorted(p.name for p in tiny.data_dir.iterdir()) == sorted(
        [
            "t10k-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte.gz",
            "train-images-idx3-ubyte.gz",
            "train-labels-idx1-ubyte.gz",
        ]
    )
    n = len(served.requests)
    dm.prepare_data()  # all there now: no further requests
    assert len(served.requests) == n


def test_setup_downloads_without_prepare_data(tiny, served, monkeypatch):
    spec = datasets.DatasetSpec("tiny", tiny.spec.md5s, (served.url("a"),))
    monkeypatch.setitem(datasets.DATASETS, "tiny", spec)
    dm = MNISTDataModule(val_split="test", data_dir=str(tiny.data_dir / "sub" / "dir"), dataset="tiny")
    dm.setup("test")
    np.testing.assert_array_equal(dm.test_set.y.numpy(), tiny.arrays["t10k-labels-idx1-ubyte"])


def test_ensure_files_all_mirrors_fail_says_where(tiny, served, dead_url):
    served.modes["a"] = "404"
    spec = datasets.DatasetSpec("tiny", tiny.spec.md5s, (served.url("a"), dead_url))
    with pytest.raises(DataError) as err:
        ensure_files(spec, tiny.data_dir, download=True)
    msg = str(err.value)
    assert msg.startswith("tiny: missing train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz]")
    assert f"Put the four IDX files (gz or raw) into {tiny.data_dir}" in msg
    for stem in tiny.contents:  # every file's failure is reported
        assert f"{stem}.gz: no mirror gave a valid copy" in msg
    assert not [p for p in tiny.data_dir.iterdir() if not p.name.endswith(".part")]


def test_unreachable_says_where(tiny, served, dead_url):
    spec = datasets.DatasetSpec("tiny", tiny.spec.md5s, (dead_url,))
    where = re.escape(f"Put the four IDX files (gz or raw) into {tiny.data_dir}")
    with pytest.raises(DataError, match=where):
        ensure_files(spec, tiny.data_dir, download=True)
