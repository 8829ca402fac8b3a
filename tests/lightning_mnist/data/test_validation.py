"""MNISTDataModule refuses bad arguments and unusable data with one DataError, no traceback."""

from __future__ import annotations

import os

import numpy as np
import pytest

from lightning_mnist import DataError, MNISTDataModule
from lightning_mnist.data import datasets


@pytest.fixture(autouse=True)
def _fresh_cache():
    datasets._load_cached.cache_clear()


@pytest.mark.parametrize("name", ["batch_size", "eval_batch_size"])
@pytest.mark.parametrize("value", [0, -1, 2.5, "128", True])
def test_bad_batch_sizes(name, value):
    with pytest.raises(DataError, match=f"{name} must be a positive integer or None"):
        MNISTDataModule(data_dir="/nonexistent", **{name: value})


@pytest.mark.parametrize("value", [-1, 1.5, "5", True])
def test_bad_val_size(value):
    with pytest.raises(DataError, match="val_size must be >= 0"):
        MNISTDataModule(data_dir="/nonexistent", val_size=value)


@pytest.mark.parametrize("val_size", [200, 201, 60000])
def test_val_size_at_least_the_training_set(tiny, val_size):
    dm = MNISTDataModule(data_dir=str(tiny.data_dir), dataset="tiny", download=False, val_size=val_size)
    with pytest.raises(DataError, match=f"val_size={val_size} leaves no training data .* has 200 images"):
        dm.setup("fit")


@pytest.mark.parametrize("empty", ["train", "test"])
def test_empty_split_refused(tiny, helpers, empty):
    images, labels = datasets.SPLITS[empty]
    tiny.write(images, helpers.idx_bytes(np.zeros((0, 28, 28), np.uint8)))
    tiny.write(labels, helpers.idx_bytes(np.zeros((0,), np.uint8)))
    dm = MNISTDataModule(data_dir=str(tiny.data_dir), dataset="tiny", download=False, verify_checksums=False)
    with pytest.raises(DataError, match=f"the {empty} split in .* has no images"):
        dm.setup("fit")


def test_data_dir_is_a_regular_file(tmp_path):
    path = tmp_path / "mnist.tar"
    path.write_bytes(b"x")
    with pytest.raises(DataError, match=f"data_dir {path} is a regular file"):
        MNISTDataModule(data_dir=str(path))
    with pytest.raises(DataError, match="lies below a regular file"):
        MNISTDataModule(data_dir=str(path / "sub"))


def test_data_dir_symlink_loop(tmp_path):
    os.symlink(tmp_path / "b", tmp_path / "a")
    os.symlink(tmp_path / "a", tmp_path / "b")
    with pytest.raises(DataError, match="is a symbolic link loop"):
        MNISTDataModule(data_dir=str(tmp_path / "a"))


def test_data_dir_broken_symlink(tmp_path):
    os.symlink(tmp_path / "gone", tmp_path / "link")
    with pytest.raises(DataError, match="is a broken symbolic link"):
        MNISTDataModule(data_dir=str(tmp_path / "link"))


def test_data_dir_unreadable(tmp_path, monkeypatch):
    def denied(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(datasets.os, "scandir", denied)
    with pytest.raises(DataError, match=f"data_dir {tmp_path} cannot be read \\(Permission denied\\)"):
        MNISTDataModule(data_dir=str(tmp_path))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any folder")
def test_data_dir_unreadable_for_real(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir(mode=0)
    try:
        with pytest.raises(DataError, match="cannot be read"):
            MNISTDataModule(data_dir=str(folder))
    finally:
        folder.chmod(0o755)


def test_data_dir_checked_again_in_setup(tiny, tmp_path):
    # Made a file after the DataModule was built: setup says so too.
    target = tmp_path / "later"
    dm = MNISTDataModule(data_dir=str(target), dataset="tiny", download=False)
    target.write_bytes(b"x")
    with pytest.raises(DataError, match="is a regular file"):
        dm.setup("fit")
