"""IDX parsing and reading: every malformed input is a DataError naming the file and the fault."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from lightning_mnist import DataError
from lightning_mnist.data.idx import check_labels, md5, parse_idx, read_bytes


def idx_bytes(array: np.ndarray, magic: bytes | None = None) -> bytes:
    array = np.ascontiguousarray(array, dtype=np.uint8)
    head = magic if magic is not None else bytes([0, 0, 8, array.ndim])
    return head + b"".join(int(d).to_bytes(4, "big") for d in array.shape) + array.tobytes()


IMAGES = (-1, 28, 28)


def test_parse_images_and_labels_roundtrip():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    labels = np.array([0, 9, 3, 3, 7], dtype=np.uint8)
    got = parse_idx(idx_bytes(images), "imgs", IMAGES)
    assert got.dtype == np.uint8 and got.shape == (5, 28, 28)
    np.testing.assert_array_equal(got, images)
    np.testing.assert_array_equal(parse_idx(idx_bytes(labels), "labs", (-1,)), labels)


def test_parse_empty_item_count():
    assert parse_idx(idx_bytes(np.zeros((0, 28, 28), np.uint8)), "imgs", IMAGES).shape == (0, 28, 28)


@pytest.mark.parametrize("magic", [b"\x00\x00\x09\x03", b"\x01\x00\x08\x03", b"\x1f\x8b\x08\x00", b"PK\x03\x04"])
def test_wrong_magic_number(magic):
    content = idx_bytes(np.zeros((2, 28, 28), np.uint8), magic=magic)
    with pytest.raises(DataError, match=r"some/file-idx3: wrong IDX magic number 0x" + magic.hex()):
        parse_idx(content, "some/file-idx3", IMAGES)


def test_wrong_number_of_dimensions():
    labels_as_images = idx_bytes(np.zeros(7, np.uint8))
    with pytest.raises(DataError, match=r"^f-idx3: has 1 dimensions, expected 3"):
        parse_idx(labels_as_images, "f-idx3", IMAGES)
    with pytest.raises(DataError, match=r"^f-idx1: has 3 dimensions, expected 1"):
        parse_idx(idx_bytes(np.zeros((1, 28, 28), np.uint8)), "f-idx1", (-1,))


@pytest.mark.parametrize("shape", [(3, 28, 27), (3, 27, 28), (3, 32, 32)])
def test_wrong_image_dimensions(shape):
    with pytest.raises(
        DataError,
        match=rf"^imgs: dimensions \({shape[0]}, {shape[1]}, {shape[2]}\), "
        r"expected \(N, 28, 28\)",
    ):
        parse_idx(idx_bytes(np.zeros(shape, np.uint8)), "imgs", IMAGES)


@pytest.mark.parametrize("n", [0, 1, 3])
def test_too_short_for_magic(n):
    with pytest.raises(DataError, match=rf"^x: only {n} bytes, too short"):
        parse_idx(b"\0\0\x08"[:n], "x", (-1,))


def test_truncated_inside_header():
    content = idx_bytes(np.zeros((2, 28, 28), np.uint8))[:10]
    with pytest.raises(DataError, match=r"^imgs: truncated inside its header \(10 bytes\)"):
        parse_idx(content, "imgs", IMAGES)


@pytest.mark.parametrize("delta", [-1, -784, +1])
def test_truncated_or_padded_data(delta):
    content = idx_bytes(np.zeros((2, 28, 28), np.uint8))
    content = content[:delta] if delta < 0 else content + b"\0" * delta
    with pytest.raises(
        DataError,
        match=rf"^imgs: header promises 1568 bytes .* has {1568 + delta}; "
        "it is truncated or padded",
    ):
        parse_idx(content, "imgs", IMAGES)


def test_check_labels():
    check_labels(np.arange(10, dtype=np.uint8), "labs")  # all fine
    labels = np.array([1, 2, 10, 3, 255], dtype=np.uint8)
    with pytest.raises(DataError, match=r"^labs: label 10 at index 2 is outside 0\.\.9 \(2 such labels\)"):
        check_labels(labels, "labs")
    with pytest.raises(DataError, match=r"outside 0\.\.2"):
        check_labels(np.array([0, 3], np.uint8), "labs", num_classes=3)


def test_read_bytes_gz_and_raw(tmp_path):
    content = idx_bytes(np.arange(50, dtype=np.uint8))
    (tmp_path / "a").write_bytes(content)
    (tmp_path / "a.gz").write_bytes(gzip.compress(content))
    (tmp_path / "b").write_bytes(gzip.compress(content))  # gzip without the suffix
    assert read_bytes(tmp_path / "a") == content
    assert read_bytes(tmp_path / "a.gz") == content
    assert read_bytes(tmp_path / "b") == gzip.compress(content)
    assert read_bytes(tmp_path / "b", gz=True) == content
    assert read_bytes(tmp_path / "a.gz", gz=False) == gzip.compress(content)


def test_read_bytes_truncated_gzip(tmp_path):
    blob = gzip.compress(np.random.default_rng(0).integers(0, 256, 20000, dtype=np.uint8).tobytes())
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DataError, match=rf"^{path}: cannot be read .*damaged or truncated"):
        read_bytes(path)


def test_read_bytes_gzip_missing_trailer(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(b"\0" * 1000)[:-4])  # stream complete, size trailer cut
    with pytest.raises(DataError, match=rf"^{path}: cannot be read"):
        read_bytes(path)


def test_read_bytes_not_gzip(tmp_path):
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(idx_bytes(np.zeros(5, np.uint8)))  # raw IDX under a .gz name
    with pytest.raises(DataError, match=rf"^{path}: cannot be read \(Not a gzipped file"):
        read_bytes(path)


def test_read_bytes_missing_file(tmp_path):
    with pytest.raises(DataError, match="nothere: cannot be read"):
        read_bytes(tmp_path / "nothere")


def test_md5():
    assert md5(b"") == "d41d8cd98f00b204e9800998ecf8427e"
