"""Fixtures of the download tests: the tiny data set served by the local mirror."""

from __future__ import annotations

import gzip

import pytest

from lightning_mnist.data import datasets


@pytest.fixture
def served(tiny, mirror_server):
    """The tiny data set's files, gzipped, on the local mirror; ``tiny.data_dir`` emptied."""
    for stem in tiny.contents:
        mirror_server.files[stem + ".gz"] = tiny.gz(stem)
        # "wrong": a valid gzip of valid IDX with different content.
        content = tiny.contents[stem]
        mirror_server.wrong_files[stem + ".gz"] = gzip.compress(content[:-1] + bytes([content[-1] ^ 1]))
    for path in tiny.paths.values():
        path.unlink()
    datasets._load_cached.cache_clear()
    return mirror_server


@pytest.fixture
def dest(tmp_path):
    return tmp_path / "download"
