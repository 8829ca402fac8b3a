"""MNIST and Fashion-MNIST: where the files live, what they must hash to, how to load them.

One ``DatasetSpec`` per dataset, in the spirit of torchvision's dataset classes: file
names, the md5 of each file's *uncompressed* content (so any gzip of the canonical bytes is
accepted), the mirrors to download from, and where a local copy may already lie.
"""

from __future__ import annotations

import errno
import functools
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lightning_mnist.data.download import download_options, fetch
from lightning_mnist.data.idx import check_labels, md5, parse_idx, read_idx_bytes
from lightning_mnist.errors import DataError

SPLITS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
IMAGE_SHAPE, LABEL_SHAPE = (-1, 28, 28), (-1,)
# Uncompressed bytes of each file, the same in MNIST and Fashion-MNIST (60000 and 10000 items):
# a download stops beyond what any copy of them can take.
CANONICAL_SIZES = {
    "train-images-idx3-ubyte": 16 + 60000 * 28 * 28,
    "train-labels-idx1-ubyte": 8 + 60000,
    "t10k-images-idx3-ubyte": 16 + 10000 * 28 * 28,
    "t10k-labels-idx1-ubyte": 8 + 10000,
}


def file_shape(stem: str) -> tuple[int, ...]:
    """The IDX shape a file must have: images ``(N, 28, 28)``, labels ``(N,)``."""
    return IMAGE_SHAPE if "images" in stem else LABEL_SHAPE


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    md5s: dict[str, str]  # uncompressed content
    mirrors: tuple[str, ...]
    system_dirs: tuple[Path, ...] = ()  # read-only copies installed by the OS, if any
    # Pixel mean and std of the training images (scaled to [0, 1]): normalize=True.
    mean: float = 0.1307
    std: float = 0.3081
    sizes: dict[str, int] | None = None  # uncompressed bytes per file, where known: bounds downloads


MNIST = DatasetSpec(
    name="mnist",
    md5s={
        "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
        "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
        "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
    },
    # The mirrors torchvision uses, in its order.
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    sizes=CANONICAL_SIZES,
)

FASHION_MNIST = DatasetSpec(
    name="fashion-mnist",
    # Uncompressed content of Debian's dataset-fashion-mnist (upstream git 2020-05-23).
    md5s={
        "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
        "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
        "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
    },
    mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    system_dirs=(Path("/usr/share/datasets/fashion-mnist"),),
    mean=0.2860,
    std=0.3530,
    sizes=CANONICAL_SIZES,
)

DATASETS = {spec.name: spec for spec in (MNIST, FASHION_MNIST)}


def get_spec(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(DATASETS)}") from None


# A source checkout's data folder: lightning_mnist/data/datasets.py -> <repo>/data
CHECKOUT_DATA = Path(__file__).resolve().parents[2] / "data"


def default_data_dir(spec: DatasetSpec) -> Path:
    """Where to look for (and download) ``spec``'s files when the user names no directory.

    A source checkout ships MNIST in ``data/mnist``; an OS package may hold a read-only copy;
    otherwise a per-user cache directory (``$XDG_CACHE_HOME/lightning_mnist/<name>``).
    """
    checkout = CHECKOUT_DATA / spec.name
    for candidate in (checkout, *spec.system_dirs):
        if candidate.is_dir() and find_file(candidate, next(iter(spec.md5s))):
            return candidate
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")  # empty = unset
    return cache / "lightning_mnist" / spec.name


def find_file(data_dir: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        if (data_dir / name).is_file():
            return data_dir / name
    return None


def check_data_dir(data_dir: Path) -> None:
    """Refuse a ``data_dir`` that is not, and cannot become, a readable folder (DataError).

    A missing folder is fine (downloads create it) as long as its nearest existing ancestor
    is a folder.
    """
    fix = "pass data_dir=... naming a folder (it is created when missing)"
    try:
        mode = os.stat(data_dir).st_mode
    except FileNotFoundError:
        if os.path.lexists(data_dir):
            raise DataError(f"data_dir {data_dir} is a broken symbolic link; fix the link or {fix}.") from None
        parent = data_dir.parent
        if parent != data_dir:
            check_data_dir(parent)
        return
    except OSError as err:
        what = {
            errno.ELOOP: "is a symbolic link loop",
            errno.ENOTDIR: "lies below a regular file, not a folder",
            errno.EACCES: "cannot be reached (permission denied)",
        }.get(err.errno, f"cannot be accessed ({err.strerror or err})")
        raise DataError(f"data_dir {data_dir} {what}; {fix}.") from None
    if not stat.S_ISDIR(mode):
        kind = "a regular file" if stat.S_ISREG(mode) else "not a folder"
        raise DataError(f"data_dir {data_dir} is {kind}; {fix}.")
    try:
        with os.scandir(data_dir) as entries:
            next(entries, None)
    except OSError as err:
        raise DataError(
            f"data_dir {data_dir} cannot be read ({err.strerror or err}); fix its permissions or {fix}."
        ) from None


def ensure_files(
    spec: DatasetSpec,
    data_dir: Path,
    download: bool = True,
    mirrors: tuple[str, ...] | list[str] | None = None,
    timeout: float | None = None,
    deadline: float | None = None,
) -> None:
    """Make sure all four files are in ``data_dir``, downloading the missing ones.

    ``mirrors`` (default: the data set's own), ``timeout`` and ``deadline``: see
    ``download.download_options`` (they fall back to the environment, then the defaults).
    """
    check_data_dir(data_dir)
    missing = [stem for stem in spec.md5s if find_file(data_dir, stem) is None]
    if not missing:
        return
    if not download:
        raise DataError(_missing_message(spec, data_dir, missing, "downloads are disabled"))
    mirrors, timeout, deadline = download_options(mirrors, timeout, deadline)
    errors = []
    for stem in missing:
        try:
            fetch(
                mirrors or spec.mirrors,
                stem + ".gz",
                data_dir,
                spec.md5s[stem],
                timeout=timeout,
                deadline=deadline,
                shape=file_shape(stem),
                size=(spec.sizes or {}).get(stem),
            )
        except DataError as err:
            errors.append(str(err))
    if errors:
        raise DataError(_missing_message(spec, data_dir, missing, "\n  ".join(errors)))


def _missing_message(spec: DatasetSpec, data_dir: Path, missing: list[str], why: str) -> str:
    names = ", ".join(f"{s}[.gz]" for s in missing)
    return (
        f"{spec.name}: missing {names} in {data_dir} and could not fetch them:\n  {why}\n"
        f"Put the four IDX files (gz or raw) into {data_dir}, or pass data_dir=... "
        "pointing at a folder that has them."
    )


def load_split(
    spec: DatasetSpec, data_dir: Path, split: str, verify_checksums: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Verified ``(images uint8 [N,28,28], labels uint8 [N])`` of one split.

    ``verify_checksums=False`` keeps every structural check but accepts content other than
    the canonical files: for MNIST-format data of your own, or small synthetic sets.
    """
    images_stem, labels_stem = SPLITS[split]
    images = _load(spec, data_dir, images_stem, IMAGE_SHAPE, verify_checksums)
    labels = _load(spec, data_dir, labels_stem, LABEL_SHAPE, verify_checksums)
    labels_path = str(find_file(data_dir, labels_stem))
    check_labels(labels, labels_path)
    if len(images) != len(labels):
        raise DataError(
            f"{labels_path}: {len(labels)} labels for {len(images)} images in "
            f"{find_file(data_dir, images_stem)}; the files do not belong together."
        )
    return images, labels


def _load(spec: DatasetSpec, data_dir: Path, stem: str, shape: tuple[int, ...], verify_checksum: bool) -> np.ndarray:
    path = find_file(data_dir, stem)
    if path is None:
        raise DataError(_missing_message(spec, data_dir, [stem], "not downloaded"))
    stat = path.stat()
    want_md5 = spec.md5s[stem] if verify_checksum else None
    return _load_cached(path, (stat.st_ino, stat.st_mtime_ns, stat.st_size), want_md5, shape)


@functools.lru_cache(maxsize=8)
def _load_cached(path: Path, _stat: tuple, want_md5: str | None, shape) -> np.ndarray:
    # Cached per (path, inode, mtime, size): a sweep of many runs in one process reads each
    # file once, and a replaced file is read again.
    content = read_idx_bytes(path, shape)  # bounded by the header: no gzip bomb
    array = parse_idx(content, str(path), shape)  # structure first: clearer errors
    if want_md5 is None:
        return array
    got = md5(content)
    if got != want_md5:
        raise DataError(
            f"{path}: content md5 {got} does not match the canonical {want_md5}; "
            "the file is corrupt or a different data set. Delete it and run again to "
            "fetch a fresh copy."
        )
    return array
