"""The one LightningDataModule: MNIST or Fashion-MNIST as in-memory tensors.

Both splits are small (220 MB as float32), so they live in memory. ``train_set``, ``val_set``
and ``test_set`` are ordinary map-style datasets (a plain DataLoader with the default collate
works); this module's own loaders read them through ``WholeBatches``, where every batch is one
tensor-indexing operation instead of 128 per-sample ``__getitem__`` calls plus a collate, and
a run of consecutive indices is a zero-copy slice. The loaders are ordinary
``DataLoader(dataset, batch_size, sampler)``s, so Lightning can rebuild them
(``overfit_batches``, the batch-size tuner). Every sampler is a ``DistributedSampler``, so
Lightning leaves it alone under DDP:

- training minibatches: ``TrainSampler``, seeded by ``seed`` and reshuffled per epoch
  through ``set_epoch``, so a resumed run sees the same order as an uninterrupted one;
- evaluation and full-batch training: ``ShardSampler``, contiguous and unpadded, so each of
  the 10000 test images is counted exactly once whatever the number of processes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from lightning_mnist.backend import LightningDataModule
from lightning_mnist.data.datasets import check_data_dir, default_data_dir, ensure_files, get_spec, load_split
from lightning_mnist.data.download import download_options
from lightning_mnist.data.resume import ResumableLoader, rng_state
from lightning_mnist.errors import DataError


class InMemoryDataset(Dataset):
    """A split held as two tensors: an ordinary map-style dataset. ``dataset[i]`` is one
    ``(x, y)`` sample, so a plain ``DataLoader(dataset, batch_size=64, shuffle=True)`` with the
    default collate works, workers included; a slice gives views. ``transform`` (if any) is
    applied to the inputs of what ``__getitem__`` returns."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, transform: Callable | None = None) -> None:
        self.x, self.y, self.transform = x, y, transform

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int | slice) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.x[i]
        return (x if self.transform is None else self.transform(x)), self.y[i]

    def gather(self, indices) -> tuple[torch.Tensor, torch.Tensor]:
        """A whole batch in one tensor index (views for a run of consecutive indices), untransformed."""
        # np.fromiter: a tenth of the cost of torch.as_tensor on a list of ints.
        idx = np.fromiter(indices, dtype=np.int64, count=len(indices))
        first, n = int(idx[0]), len(idx)
        if idx[-1] - first == n - 1 and (n < 3 or bool((np.diff(idx) == 1).all())):
            return self.x[first : first + n], self.y[first : first + n]  # views, no copy
        idx = torch.from_numpy(idx)
        return self.x[idx], self.y[idx]


class WholeBatches(Dataset):
    """What this DataModule's own loaders read: ``dataset``, a whole batch per ``__getitems__``
    (one tensor index instead of batch_size ``__getitem__`` calls and a collate). Lightning can
    rebuild the loaders (``overfit_batches``, the batch-size tuner): they stay DataLoaders."""

    def __init__(self, dataset: InMemoryDataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i):
        return self.dataset[i]

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        return self.dataset.gather(indices)


def _as_is(batch):
    """collate_fn: ``WholeBatches.__getitems__`` already returns a collated batch."""
    return batch


class _Collate:
    """collate_fn: the gathered batch, ``transform`` applied to its inputs; for grouped steps cut
    into a list of ``size``-item minibatches first (transformed one by one, as without groups)."""

    def __init__(self, transform: Callable | None, size: int | None = None) -> None:
        self.transform, self.size = transform, size

    def __call__(self, batch: tuple[torch.Tensor, torch.Tensor]):
        x, y = batch
        if self.size is None:
            return (x if self.transform is None else self.transform(x)), y
        pairs = zip(x.split(self.size), y.split(self.size), strict=True)
        return [(xs if self.transform is None else self.transform(xs), ys) for xs, ys in pairs]


class TrainSampler(DistributedSampler):
    """The training order: ``DistributedSampler`` (so Lightning leaves it alone under DDP),
    seeded, reshuffled per epoch through ``set_epoch``, so a resumed run sees the same order as
    an uninterrupted one. Two additions: ``drop_last`` drops the last incomplete *minibatch*
    (the same minibatches whether they come one or K per step), and a loader used outside a
    Trainer, where nobody calls ``set_epoch``, reshuffles on every pass."""

    def __init__(self, dataset: Dataset, num_replicas: int, rank: int, shuffle: bool, seed: int, batch_size: int,
                 drop_last: bool = False) -> None:  # fmt: skip
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=shuffle, seed=seed)
        self.kept = self.num_samples - (self.num_samples % batch_size if drop_last else 0)
        self._epoch_told = False
        self._skip = 0

    def skip(self, count: int) -> None:
        """Leave the first ``count`` indices of the next pass out (a resume inside an epoch)."""
        self._skip = count

    def set_epoch(self, epoch: int) -> None:
        super().set_epoch(epoch)
        self._epoch_told = True

    def __iter__(self):
        indices = list(super().__iter__())[self._skip : self.kept]
        self._skip = 0
        if not self._epoch_told:
            self.epoch += 1  # the next pass outside a Trainer: another order
        self._epoch_told = False
        return iter(indices)

    def __len__(self) -> int:
        return self.kept


class ShardSampler(DistributedSampler):
    """Rank r of W reads items [r*N//W, (r+1)*N//W), in order.

    Contiguous, unpadded, never repeated: the union over ranks is every item exactly once,
    and each batch of the shard is a slice (see ``InMemoryDataset``). Lightning's
    ``UnrepeatedDistributedSampler`` strides (r, r+W, ...) instead, which forces a gather.
    """

    def __init__(self, dataset: Dataset, num_replicas: int = 1, rank: int = 0) -> None:
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=False)
        n = len(dataset)
        self.start, self.stop = rank * n // num_replicas, (rank + 1) * n // num_replicas
        self.num_samples = self.total_size = self.stop - self.start
        self._skip = 0

    def skip(self, count: int) -> None:
        """Leave the first ``count`` indices of the next pass out (a resume inside an epoch)."""
        self._skip = count

    def __iter__(self):
        start, self._skip = min(self.start + self._skip, self.stop), 0
        return iter(range(start, self.stop))

    def __len__(self) -> int:
        return self.num_samples


class MNISTDataModule(LightningDataModule):
    """MNIST / Fashion-MNIST, verified against canonical checksums, served from memory.

    Args:
        data_dir: folder with the four IDX files (gz or raw). Default: the checkout's
            ``data/<dataset>``, an OS copy, or a user cache directory (downloaded into).
        dataset: ``"mnist"`` or ``"fashion-mnist"``.
        batch_size: training batch size; ``None`` means full batch (one step per epoch,
            as gradient descent in the notebook's cells 3-9).
        eval_batch_size: validation/test batch size (default: ``batch_size``).
        flatten: 784-vectors (True) or 1x28x28 images (False).
        val_split: the validation set: N images (an int) or a fraction (a float in (0, 1))
            held out of the training set, chosen with ``seed`` (Lightning Bolts' name and
            default, 0.2); or ``"test"``: validate on the test set, as the notebook did (its
            configs say so explicitly), training on the whole training set.
        val_size: the older name: 0 is ``val_split="test"``, N > 0 is ``val_split=N``.
        seed: seed of the hold-out split and of the per-epoch shuffling.
        shuffle: shuffle the training set (per epoch, seeded); False keeps the file order.
        drop_last: drop the last incomplete training minibatch of each epoch.
        normalize: standardize inputs with the data set's mean and std (MNIST: 0.1307,
            0.3081), as torchvision's ``Normalize`` in the usual MNIST recipes.
        transform: a callable applied to each batch of inputs ``x`` this DataModule's loaders
            yield (every split), and to the ``x`` of ``dataset[i]``. A transform may draw random
            numbers, so it turns grouped steps down (they would draw them in another order).
        num_workers, pin_memory: as ``DataLoader``'s (workers persist across epochs).
        steps_per_execution: training minibatches handed to the module per Lightning step
            (Keras's name for the same idea): an offer that this package's modules take when
            nothing in the run counts or watches single minibatches (see
            ``lightning_mnist.models.module``). They still take one optimizer step per minibatch,
            in the same order, so training is update for update the same as with 1, and
            Lightning's per-step machinery is paid once per group. Other modules, and ours
            when they decline, get ordinary ``(x, y)`` batches.
        download: fetch missing files from the public mirrors.
        verify_checksums: check each file's content md5 against the canonical one. Turn
            off only for MNIST-format data of your own; structure is always checked.
        mirrors: URLs (``http://``, ``https://``, ``file://``) of folders holding the
            ``.gz`` files, tried in order. Default: ``$LIGHTNING_MNIST_MIRRORS`` (URLs
            separated by commas or spaces) if set, else the data set's public mirrors.
        timeout: seconds a download may wait to connect or for more bytes before it moves
            on to the next mirror (what arrived is kept for a resume). Default:
            ``$LIGHTNING_MNIST_TIMEOUT``, else 30.
        deadline: seconds one file may take from one mirror (a mirror that trickles).
            Default: ``$LIGHTNING_MNIST_DEADLINE``, else 900.

    Concurrent downloads into one ``data_dir`` (several jobs or DDP ranks) are safe: each
    file is fetched by one process under a lock, the others then find it verified.
    Invalid arguments raise ``DataError`` (a ``ValueError``) in the constructor; ``setup``
    refuses a split with no images and a ``val_split`` that leaves no training or validation data.
    """

    num_classes = 10

    def __init__(
        self,
        data_dir: str | None = None,
        dataset: Literal["mnist", "fashion-mnist"] = "mnist",
        batch_size: int | None = 128,
        eval_batch_size: int | None = None,
        flatten: bool = True,
        val_split: int | float | Literal["test"] = 0.2,
        seed: int = 1337,
        steps_per_execution: int = 1,
        shuffle: bool = True,
        drop_last: bool = False,
        normalize: bool = False,
        transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
        num_workers: int = 0,
        pin_memory: bool = False,
        val_size: int | None = None,
        download: bool = True,
        verify_checksums: bool = True,
        mirrors: list[str] | None = None,
        timeout: float | None = None,
        deadline: float | None = None,
    ) -> None:
        super().__init__()
        self.spec = get_spec(dataset)
        for name, value in (("batch_size", batch_size), ("eval_batch_size", eval_batch_size)):
            if value is not None and not _positive_int(value):
                raise DataError(f"{name} must be a positive integer or None (full batch), got {value!r}")
        if not _positive_int(steps_per_execution):
            raise DataError(f"steps_per_execution must be a positive integer, got {steps_per_execution!r}")
        if steps_per_execution > 1 and batch_size is None:
            raise DataError(
                "steps_per_execution > 1 groups minibatches, but batch_size is None (full batch, one "
                "step per epoch): set a batch_size, or leave steps_per_execution at 1"
            )
        self.val_split, self._val_name = _check_val_split(val_split, val_size)
        if not (isinstance(num_workers, int) and not isinstance(num_workers, bool) and num_workers >= 0):
            raise DataError(f"num_workers must be an integer >= 0, got {num_workers!r}")
        if transform is not None and not callable(transform):
            raise DataError(f"transform must be a callable on a batch of inputs, got {transform!r}")
        if data_dir is not None and not isinstance(data_dir, (str, Path)):
            raise DataError(f"data_dir must be a path, got {data_dir!r}")
        self.mirrors, self.timeout, self.deadline = download_options(mirrors, timeout, deadline)
        self.save_hyperparameters(ignore=["transform"])  # a callable may not pickle into a checkpoint
        self.data_dir = Path(data_dir) if data_dir else default_data_dir(self.spec)
        check_data_dir(self.data_dir)
        self.batch_size, self.eval_batch_size = batch_size, eval_batch_size or batch_size
        self.flatten, self.seed, self.download = flatten, seed, download
        self.verify_checksums, self.steps_per_execution = verify_checksums, steps_per_execution
        self.shuffle, self.drop_last, self.normalize, self.transform = shuffle, drop_last, normalize, transform
        self.num_workers, self.pin_memory = num_workers, pin_memory
        self.train_set = self.val_set = self.test_set = None
        self._grouping = None  # this fit's grouping.Decision, once made
        self._resume_rng = None  # the random state of the checkpoint a fit resumes from

    @property
    def dims(self) -> tuple[int, ...]:
        return (784,) if self.flatten else (1, 28, 28)

    def prepare_data(self) -> None:
        self._ensure_files()

    def _ensure_files(self) -> None:
        ensure_files(self.spec, self.data_dir, self.download, self.mirrors, self.timeout, self.deadline)

    def setup(self, stage: str | None = None) -> None:
        self._resume_rng = None  # a run's checkpoint (if any) is loaded after setup
        if self.test_set is not None:
            return
        self._ensure_files()  # no-op when prepare_data ran
        train = self._tensors("train")
        n = len(train[1])
        held_out = _holdout_size(self.val_split, n)
        if held_out is not None and not 0 < held_out < n:
            raise DataError(
                f"{self._val_name}={self.val_split!r} leaves no {'training' if held_out else 'validation'} data "
                f"(the training split in {self.data_dir} has {n} images); choose between 1 and {n - 1} "
                "images (or a fraction that gives as many), or 'test' to validate on the test set"
            )
        self.test_set = InMemoryDataset(*self._tensors("test"), self.transform)
        if held_out is None:
            self.train_set, self.val_set = InMemoryDataset(*train, self.transform), self.test_set
            return
        order = torch.randperm(n, generator=torch.Generator().manual_seed(self.seed))
        val_idx, train_idx = order[:held_out].sort().values, order[held_out:].sort().values
        self.train_set = InMemoryDataset(train[0][train_idx], train[1][train_idx], self.transform)
        self.val_set = InMemoryDataset(train[0][val_idx], train[1][val_idx], self.transform)

    def _tensors(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        images, labels = load_split(self.spec, self.data_dir, split, self.verify_checksums)
        if len(labels) == 0:
            raise DataError(
                f"{self.spec.name}: the {split} split in {self.data_dir} has no images; "
                "there is nothing to train or evaluate on. Put non-empty IDX files there."
            )
        x = torch.from_numpy(images.astype(np.float32)) / 255  # the notebook's X /= 255
        if self.normalize:
            x = (x - self.spec.mean) / self.spec.std
        return x.reshape(len(x), *self.dims), torch.from_numpy(labels.astype(np.int64))

    def _replicas(self) -> tuple[int, int]:
        trainer = self.trainer
        return (trainer.world_size, trainer.global_rank) if trainer is not None else (1, 0)

    def train_dataloader(self) -> DataLoader:
        """A ``ResumableLoader``: a fit resumed from a checkpoint goes on at the batch, in the order
        and with the random state of the uninterrupted run (``lightning_mnist.data.resume``)."""
        train_set = self._ready(self.train_set)
        world, rank = self._replicas()
        if self.batch_size is None:
            sampler = ShardSampler(train_set, world, rank)
            collate = _as_is if self.transform is None else _Collate(self.transform)
            return self._loader(train_set, max(len(sampler), 1), self._at_fit_epoch(sampler), collate, resumable=True)
        sampler = TrainSampler(train_set, world, rank, self.shuffle, self.seed, self.batch_size, self.drop_last)
        group = self._granted_group()
        # With groups: one gather of group * batch_size consecutive indices of the same stream,
        # cut into views: exactly the minibatches that batch_size alone gives.
        size = None if group == 1 else self.batch_size
        collate = _as_is if size is None and self.transform is None else _Collate(self.transform, size)
        return self._loader(train_set, self.batch_size * group, self._at_fit_epoch(sampler), collate, resumable=True)

    def _at_fit_epoch(self, sampler: DistributedSampler) -> DistributedSampler:
        """``sampler`` at the fit loop's epoch: a resumed fit loads the loader's state before
        Lightning calls ``set_epoch``, and ``ResumableLoader.load_state_dict`` takes a position
        only for the epoch the sampler is at (not one of a finished epoch)."""
        loop = self._fit_loop()
        if loop is not None:
            sampler.set_epoch(loop.epoch_progress.current.processed)
        return sampler

    def _fit_loop(self):
        """The attached Trainer's fit loop (None without one)."""
        return getattr(self.trainer, "fit_loop", None)

    def _loader(self, dataset: InMemoryDataset, batch_size: int, sampler, collate, resumable=False) -> DataLoader:
        workers = self.num_workers
        options = dict(batch_size=batch_size, sampler=sampler, collate_fn=collate, num_workers=workers,
                       pin_memory=self.pin_memory, persistent_workers=workers > 0)  # fmt: skip
        if resumable:
            return ResumableLoader(WholeBatches(dataset), stream=self, **options)
        if workers:
            # Persistent workers make an evaluation iterator once, in the sanity check (which
            # isolates the random state); a resumed fit skips that check, and would draw the
            # iterator's worker seed from the training stream instead.
            options["generator"] = torch.Generator().manual_seed(self.seed)
        return DataLoader(WholeBatches(dataset), **options)

    # The DataModule's side of a resumed fit (``ResumableLoader``'s ``TrainingStream``): the
    # random state goes into every checkpoint; the loader's position into Lightning's loop state.

    def state_dict(self) -> dict:
        """What a checkpoint keeps of the data side: the random state at the save."""
        return {"rng": rng_state()}

    def load_state_dict(self, state_dict: dict) -> None:
        """Keep the checkpoint's random state for the first training pass of the fit it resumes."""
        self._resume_rng = state_dict.get("rng")

    def pop_resume_rng(self) -> dict | None:
        rng, self._resume_rng = self._resume_rng, None
        if rng is None:
            return None
        trainer = self.trainer
        fitting = trainer is not None and getattr(trainer.state.fn, "value", trainer.state.fn) == "fit"
        return rng if fitting and trainer.ckpt_path is not None else None

    def batches_taken(self) -> int | None:
        loop = self._fit_loop()
        return None if loop is None else loop.epoch_loop.batch_progress.current.ready

    def restarting_mid_epoch(self) -> bool:
        loop = self._fit_loop()
        return loop is not None and loop.restarting

    def take_grouping(self, decision) -> None:
        """Called by ``lightning_mnist.models.grouping.GroupedSteps.decide`` once per fit."""
        self._grouping = decision

    def _granted_group(self) -> int:
        """Minibatches per training step: >1 only if this fit's decision took ``steps_per_execution``."""
        decision = self._grouping
        return decision.size if decision is not None and decision.is_for(self.trainer) else 1

    def val_dataloader(self) -> DataLoader:
        return self._shard_loader(self.val_set, self.eval_batch_size)

    def test_dataloader(self) -> DataLoader:
        return self._shard_loader(self.test_set, self.eval_batch_size)

    def predict_dataloader(self) -> DataLoader:
        """The test split, as ``(x, y)`` batches (modules predict from ``x``)."""
        return self._shard_loader(self.test_set, self.eval_batch_size)

    def _shard_loader(self, dataset: InMemoryDataset, batch_size: int | None) -> DataLoader:
        """An evaluation loader: every item of the shard once, in order."""
        sampler = ShardSampler(self._ready(dataset), *self._replicas())
        collate = _as_is if self.transform is None else _Collate(self.transform)
        return self._loader(dataset, batch_size or max(len(sampler), 1), sampler, collate)

    def _ready(self, dataset):
        if dataset is None:
            raise RuntimeError("MNISTDataModule.setup() must run before asking for a dataloader")
        return dataset


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _check_val_split(val_split, val_size) -> tuple[int | float | str, str]:
    """``(val_split, the name the user gave)``; ``val_size`` (the older name) wins when given."""
    if val_size is not None:
        if not isinstance(val_size, int) or isinstance(val_size, bool) or val_size < 0:
            raise DataError(
                f"val_size must be >= 0 (0 validates on the test set, N > 0 holds out N training "
                f"images), got {val_size!r}"
            )
        return (val_size or "test"), "val_size"
    fraction = isinstance(val_split, float) and 0 < val_split < 1
    if not (val_split == "test" or _positive_int(val_split) or fraction):
        raise DataError(
            f"val_split must be 'test' (validate on the test set), a number of images >= 1 or a "
            f"fraction in (0, 1) to hold out of the training set, got {val_split!r}"
        )
    return val_split, "val_split"


def _holdout_size(val_split, n: int) -> int | None:
    """Training images held out for validation; None: validate on the test set."""
    if val_split == "test":
        return None
    return round(val_split * n) if isinstance(val_split, float) else val_split
