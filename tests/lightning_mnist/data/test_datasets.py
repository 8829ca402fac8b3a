"""Dataset specs, verified loading of the four IDX files, where the files are looked for."""

from __future__ import annotations

import gzip
import re

import numpy as np
import pytest

from lightning_mnist import DataError, MNISTDataModule
from lightning_mnist.data import datasets
from lightning_mnist.data.datasets import (
    FASHION_MNIST,
    MNIST,
    DatasetSpec,
    default_data_dir,
    ensure_files,
    get_spec,
    load_split,
)

TRAIN_IMAGES, TRAIN_LABELS = "train-images-idx3-ubyte", "train-labels-idx1-ubyte"
TEST_IMAGES, TEST_LABELS = "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Loaded arrays are cached per (path, mtime, size); rewritten files must be re-read.
    datasets._load_cached.cache_clear()
    yield
    datasets._load_cached.cache_clear()


def _raises(path, *fragments):
    """pytest.raises(DataError) whose message names ``path`` and every fragment."""
    return pytest.raises(DataError, match=re.escape(str(path)) + ".*" + ".*".join(fragments))


# --- loading ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "gz_stems",
    [(), (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS), (TRAIN_IMAGES, TEST_LABELS)],
    ids=["raw", "gz", "mixed"],
)
def test_load_split_gz_or_raw(make_tiny, gz_stems):
    tiny = make_tiny(gz_stems=gz_stems)
    assert sorted(p.name.endswith(".gz") for p in tiny.paths.values()).count(True) == len(gz_stems)
    for split, (img, lab) in datasets.SPLITS.items():
        images, labels = load_split(tiny.spec, tiny.data_dir, split)
        assert images.dtype == np.uint8 and labels.dtype == np.uint8
        np.testing.assert_array_equal(images, tiny.arrays[img])
        np.testing.assert_array_equal(labels, tiny.arrays[lab])
    assert len(load_split(tiny.spec, tiny.data_dir, "train")[0]) == 200
    assert len(load_split(tiny.spec, tiny.data_dir, "test")[0]) == 97


def test_raw_file_preferred_over_gz_when_both_present(tiny):
    # Both present: the raw one is read (a stale wrong .gz beside it does not matter).
    (tiny.data_dir / (TRAIN_LABELS + ".gz")).write_bytes(b"garbage")
    load_split(tiny.spec, tiny.data_dir, "train")


def test_md5_mismatch(tiny, helpers):
    labels = tiny.arrays[TRAIN_LABELS].copy()
    labels[0] = (labels[0] + 1) % 10  # structurally perfect, one label changed
    path = tiny.write(TRAIN_LABELS, helpers.idx_bytes(labels))
    with _raises(
        path,
        f"content md5 {helpers.md5(helpers.idx_bytes(labels))} does not match "
        f"the canonical {tiny.spec.md5s[TRAIN_LABELS]}",
        "Delete it",
    ):
        load_split(tiny.spec, tiny.data_dir, "train")


def test_md5_is_of_uncompressed_content(tiny):
    # A differently compressed gzip of the same bytes is accepted.
    path = tiny.paths[TRAIN_IMAGES]
    path.write_bytes(gzip.compress(tiny.contents[TRAIN_IMAGES], compresslevel=1, mtime=12345))
    load_split(tiny.spec, tiny.data_dir, "train")


@pytest.mark.parametrize("gz", [False, True])
def test_wrong_magic(tiny, helpers, gz):
    path = tiny.write(TEST_IMAGES, helpers.idx_bytes(tiny.arrays[TEST_IMAGES], magic=b"\0\0\x0d\x03"), gz=gz)
    with _raises(path, "wrong IDX magic number 0x00000d03"):
        load_split(tiny.spec, tiny.data_dir, "test")


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_file(tiny, gz):
    path = tiny.write(TEST_IMAGES, tiny.contents[TEST_IMAGES][:-100], gz=gz)
    with _raises(path, "header promises", "truncated"):
        load_split(tiny.spec, tiny.data_dir, "test")


def test_truncated_gzip_stream(tiny):
    path = tiny.paths[TRAIN_IMAGES]
    assert path.suffix == ".gz"
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) * 2 // 3])
    with _raises(path, "cannot be read", "damaged or truncated"):
        load_split(tiny.spec, tiny.data_dir, "train")


def test_non_gzip_file_named_gz(tiny):
    path = tiny.paths[TRAIN_IMAGES]
    path.write_bytes(tiny.contents[TRAIN_IMAGES])  # raw bytes under the .gz name
    with _raises(path, r"cannot be read \(Not a gzipped file"):
        load_split(tiny.spec, tiny.data_dir, "train")


def test_wrong_dimensions(tiny, helpers):
    images = np.zeros((97, 28, 27), np.uint8)
    path = tiny.write(TEST_IMAGES, helpers.idx_bytes(images))
    with _raises(path, r"dimensions \(97, 28, 27\), expected \(N, 28, 28\)"):
        load_split(tiny.spec, tiny.data_dir, "test")


def test_swapped_files(tiny):
    # Labels where images belong: the number of dimensions gives it away.
    path = tiny.write(TEST_IMAGES, tiny.contents[TEST_LABELS])
    with _raises(path, "has 1 dimensions, expected 3"):
        load_split(tiny.spec, tiny.data_dir, "test")


def test_label_outside_0_to_9(make_tiny, helpers):
    tiny = make_tiny()
    labels = tiny.arrays[TRAIN_LABELS].copy()
    labels[5] = 10
    content = helpers.idx_bytes(labels)
    # Canonical md5 of the bad file, so the label check itself must catch it.
    spec = DatasetSpec("tiny", {**tiny.spec.md5s, TRAIN_LABELS: helpers.md5(content)}, ())
    path = tiny.write(TRAIN_LABELS, content)
    with _raises(path, "label 10 at index 5 is outside 0..9"):
        load_split(spec, tiny.data_dir, "train")


def test_images_labels_count_mismatch(make_tiny, helpers):
    tiny = make_tiny()
    labels = tiny.arrays[TRAIN_LABELS][:-1]
    content = helpers.idx_bytes(labels)
    spec = DatasetSpec("tiny", {**tiny.spec.md5s, TRAIN_LABELS: helpers.md5(content)}, ())
    path = tiny.write(TRAIN_LABELS, content)
    with _raises(path, "199 labels for 200 images in", str(tiny.paths[TRAIN_IMAGES]), "do not belong together"):
        load_split(spec, tiny.data_dir, "train")


def test_verify_checksums_off_accepts_other_content_but_not_bad_structure(tiny, helpers):
    labels = tiny.arrays[TRAIN_LABELS].copy()
    labels[:3] = (labels[:3] + 1) % 10
    tiny.write(TRAIN_LABELS, helpers.idx_bytes(labels))
    _, got = load_split(tiny.spec, tiny.data_dir, "train", verify_checksums=False)
    np.testing.assert_array_equal(got, labels)
    with pytest.raises(DataError, match="content md5"):  # not served from the unverified cache
        load_split(tiny.spec, tiny.data_dir, "train")
    dm = MNISTDataModule(
        val_split="test", data_dir=str(tiny.data_dir), dataset="tiny", download=False, verify_checksums=False
    )
    dm.setup("fit")
    np.testing.assert_array_equal(dm.train_set.y.numpy(), labels)
    labels[7] = 10
    path = tiny.write(TRAIN_LABELS, helpers.idx_bytes(labels))
    with _raises(path, "label 10 at index 7"):
        load_split(tiny.spec, tiny.data_dir, "train", verify_checksums=False)
    path = tiny.write(TRAIN_IMAGES, tiny.contents[TRAIN_IMAGES][:-1])
    with _raises(path, "truncated"):
        load_split(tiny.spec, tiny.data_dir, "train", verify_checksums=False)


def test_rewritten_file_is_verified_again(tiny, helpers):
    load_split(tiny.spec, tiny.data_dir, "test")
    labels = tiny.arrays[TEST_LABELS].copy()
    labels[:] = 9 - labels
    tiny.write(TEST_LABELS, helpers.idx_bytes(labels))
    with pytest.raises(DataError, match="content md5"):
        load_split(tiny.spec, tiny.data_dir, "test")


# --- missing files ---------------------------------------------------------------------


def test_missing_files_download_disabled(tiny):
    tiny.paths[TRAIN_LABELS].unlink()
    tiny.paths[TEST_IMAGES].unlink()
    with pytest.raises(DataError) as err:
        ensure_files(tiny.spec, tiny.data_dir, download=False)
    msg = str(err.value)
    assert f"missing {TRAIN_LABELS}[.gz], {TEST_IMAGES}[.gz] in {tiny.data_dir}" in msg
    assert "downloads are disabled" in msg
    assert f"Put the four IDX files (gz or raw) into {tiny.data_dir}" in msg
    assert not list(tiny.data_dir.glob("*.part"))


def test_all_present_needs_no_download(tiny):
    ensure_files(tiny.spec, tiny.data_dir, download=False)  # no error, no network


def test_load_split_missing_file_says_where(tiny):
    tiny.paths[TEST_LABELS].unlink()
    where = re.escape(f"Put the four IDX files (gz or raw) into {tiny.data_dir}")
    with pytest.raises(DataError, match=where):
        load_split(tiny.spec, tiny.data_dir, "test")


def test_datamodule_offline_error_says_where(tmp_path, make_tiny):
    tiny = make_tiny(write=False)
    dm = MNISTDataModule(val_split="test", data_dir=str(tiny.data_dir), dataset="tiny", download=False)
    with pytest.raises(DataError, match=re.escape(f"into {tiny.data_dir}")):
        dm.prepare_data()
    with pytest.raises(DataError, match="downloads are disabled"):
        dm.setup("fit")


# --- names -----------------------------------------------------------------------------


def test_registry():
    assert get_spec("mnist") is MNIST and get_spec("fashion-mnist") is FASHION_MNIST
    assert MNIST.md5s[TRAIN_IMAGES] == "6bbc9ace898e44ae57da46a324031adb"
    stems = {TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS}
    assert set(MNIST.md5s) == set(FASHION_MNIST.md5s) == stems


@pytest.mark.parametrize("name", ["emnist", "MNIST", ""])
def test_unknown_dataset(name):
    with pytest.raises(
        ValueError,
        match=rf"unknown dataset {re.escape(repr(name))}; choose one of "
        r"\['fashion-mnist', 'mnist'\]",
    ):
        get_spec(name)
    with pytest.raises(ValueError, match="unknown dataset"):
        MNISTDataModule(dataset=name)


# --- default data_dir ------------------------------------------------------------------


@pytest.mark.data
def test_default_dir_is_checkout_copy():
    checkout = datasets.CHECKOUT_DATA / "mnist"
    if not any(checkout.glob(TRAIN_IMAGES + "*")):
        pytest.skip(f"no vendored MNIST in {checkout}")
    assert default_data_dir(MNIST) == checkout
    assert MNISTDataModule().data_dir == checkout


def test_default_dir_xdg_cache(monkeypatch, tmp_path):
    # Neither the checkout nor a system dir has the files: the per-user cache.
    monkeypatch.setattr(datasets, "CHECKOUT_DATA", tmp_path / "site" / "data")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_data_dir(MNIST) == tmp_path / "xdg" / "lightning_mnist" / "mnist"
    assert MNISTDataModule().data_dir == tmp_path / "xdg" / "lightning_mnist" / "mnist"


@pytest.mark.parametrize("xdg", [None, ""])
def test_default_dir_home_cache_when_xdg_unset_or_empty(monkeypatch, tmp_path, xdg):
    monkeypatch.setattr(datasets, "CHECKOUT_DATA", tmp_path / "site" / "data")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    if xdg is None:
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", xdg)
    assert default_data_dir(MNIST) == tmp_path / "home" / ".cache" / "lightning_mnist" / "mnist"


def test_default_dir_system_copy_then_cache(make_tiny, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    system = tmp_path / "usr-share" / "tiny"
    tiny = make_tiny(system_dirs=(tmp_path / "nowhere", system), write=False)
    # "tiny" is not in the checkout's data/ and the system dir is still empty: the cache.
    assert default_data_dir(tiny.spec) == tmp_path / "xdg" / "lightning_mnist" / "tiny"
    system.mkdir(parents=True)
    assert default_data_dir(tiny.spec) == tmp_path / "xdg" / "lightning_mnist" / "tiny"
    (system / (TRAIN_IMAGES + ".gz")).write_bytes(tiny.gz(TRAIN_IMAGES))
    assert default_data_dir(tiny.spec) == system


# --- the real files --------------------------------------------------------------------


@pytest.mark.data
def test_real_mnist_verifies(mnist_dir):
    dm = MNISTDataModule(val_split="test", data_dir=str(mnist_dir), download=False)
    dm.setup("fit")
    assert dm.train_set.x.shape == (60000, 784) and dm.test_set.x.shape == (10000, 784)
    assert dm.train_set.y.bincount().tolist()[:3] == [5923, 6742, 5958]
    assert dm.test_set.y.bincount().sum() == 10000
    assert not list(mnist_dir.glob("*.part"))


@pytest.mark.data
def test_real_fashion_mnist(fashion_dir):
    dm = MNISTDataModule(val_split="test", dataset="fashion-mnist", download=False)
    checkout = datasets.CHECKOUT_DATA / "fashion-mnist"
    assert dm.data_dir == (checkout if checkout.is_dir() else fashion_dir)
    dm.setup("test")
    assert dm.train_set.x.shape == (60000, 784) and dm.test_set.x.shape == (10000, 784)
    assert dm.test_set.y.bincount().tolist() == [1000] * 10  # balanced test set
