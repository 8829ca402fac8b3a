"""MNISTDataModule as users of Lightning Bolts' and torchvision's MNIST expect it: standard
datasets, the usual constructor arguments, a held-out validation set by default, and the
notebook's configs keeping theirs on the test set (the data of the committed results)."""

from __future__ import annotations

import contextlib
import io

import pytest
import torch
import yaml
from torch.utils.data import DataLoader

from lightning_mnist import MNISTDataModule
from lightning_mnist.data import datasets
from lightning_mnist.errors import DataError
from lightning_mnist.trainer_cli import CONFIG_DIR, build_cli

N_TRAIN, N_TEST = 200, 97


@pytest.fixture(autouse=True)
def _fresh_cache():
    datasets._load_cached.cache_clear()


def _dm(tiny, **kwargs) -> MNISTDataModule:
    dm = MNISTDataModule(data_dir=str(tiny.data_dir), dataset="tiny", download=False, **kwargs)
    dm.setup("fit")
    return dm


@pytest.mark.parametrize("num_workers", [0, 2])
def test_datasets_work_with_a_plain_dataloader(tiny, num_workers):
    dm = _dm(tiny)
    for dataset in (dm.train_set, dm.val_set, dm.test_set):
        loader = DataLoader(dataset, batch_size=32, shuffle=True, num_workers=num_workers)
        x, y = next(iter(loader))
        assert x.shape == (32, 784) and y.shape == (32,) and y.dtype == torch.int64
    x, y = dm.train_set[3]
    assert x.shape == (784,) and y.shape == ()


def test_default_validation_is_held_out_of_training(tiny):
    dm = _dm(tiny)
    assert dm.val_set is not dm.test_set
    assert (len(dm.train_set), len(dm.val_set)) == (160, 40)  # Bolts' default: 20 %
    rows = {tuple(r.tolist()) for r in dm.train_set.x}
    assert not rows & {tuple(r.tolist()) for r in dm.val_set.x}
    assert len(rows | {tuple(r.tolist()) for r in dm.val_set.x}) == len({tuple(r) for r in tiny.arrays[
        "train-images-idx3-ubyte"].reshape(N_TRAIN, -1).tolist()})  # fmt: skip


@pytest.mark.parametrize(("val_split", "sizes"), [(50, (150, 50)), (0.1, (180, 20)), ("test", (N_TRAIN, N_TEST))])
def test_val_split_int_fraction_or_test(tiny, val_split, sizes):
    dm = _dm(tiny, val_split=val_split)
    assert (len(dm.train_set), len(dm.val_set)) == sizes
    assert (dm.val_set is dm.test_set) == (val_split == "test")


@pytest.mark.parametrize("value", [0, 0.0, 1.0, -3, True, "holdout", None])
def test_bad_val_split(value):
    with pytest.raises(DataError, match="val_split must be 'test'"):
        MNISTDataModule(data_dir="/nonexistent", val_split=value)


@pytest.mark.parametrize("value", [N_TRAIN, 0.999])
def test_val_split_that_leaves_nothing(tiny, value):
    with pytest.raises(DataError, match=f"val_split={value!r} leaves no training data"):
        _dm(tiny, val_split=value)


def test_shuffle_and_drop_last(tiny):
    dm = _dm(tiny, val_split="test", batch_size=32, shuffle=False, drop_last=True)
    batches = list(dm.train_dataloader())
    assert [len(y) for _, y in batches] == [32] * 6  # 200 = 6 * 32 + 8: the 8 dropped
    assert torch.equal(torch.cat([x for x, _ in batches]), dm.train_set.x[:192])  # file order


def test_drop_last_keeps_the_same_minibatches_in_groups(tiny):
    """Grouped steps cut the same minibatches; drop_last drops the last one, not the last group."""
    import weakref

    from lightning_mnist.models.grouping import Decision

    class OneProcess:
        world_size, global_rank = 1, 0

    single = _dm(tiny, val_split="test", batch_size=32, drop_last=True)
    grouped = _dm(tiny, val_split="test", batch_size=32, drop_last=True, steps_per_execution=4)
    single.trainer = grouped.trainer = OneProcess()
    grouped.take_grouping(Decision(4, trainer=weakref.ref(grouped.trainer)))
    flat = [pair for group in grouped.train_dataloader() for pair in group]
    plain = list(single.train_dataloader())
    assert len(flat) == len(plain) == 6
    for (xa, ya), (xb, yb) in zip(plain, flat, strict=True):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)


def test_num_workers_and_pin_memory_reach_the_loaders(tiny):
    dm = _dm(tiny, val_split="test", batch_size=50, num_workers=2)
    for loader in (dm.train_dataloader(), dm.val_dataloader(), dm.test_dataloader()):
        assert loader.num_workers == 2 and loader.persistent_workers
    assert sum(len(y) for _, y in dm.train_dataloader()) == N_TRAIN
    assert _dm(tiny, pin_memory=True).train_dataloader().pin_memory


def test_normalize_uses_the_data_set_mean_and_std(tiny):
    plain, normalized = _dm(tiny, val_split="test"), _dm(tiny, val_split="test", normalize=True)
    want = (plain.train_set.x - 0.1307) / 0.3081
    torch.testing.assert_close(normalized.train_set.x, want)
    assert datasets.FASHION_MNIST.mean != datasets.MNIST.mean


def test_transform_applies_to_every_batch(tiny):
    def transform(x):
        return x * 2 - 1

    plain, dm = (
        _dm(tiny, val_split="test", batch_size=40),
        _dm(tiny, val_split="test", batch_size=40, transform=transform),
    )
    for loader, raw in ((dm.test_dataloader(), plain.test_dataloader()), (dm.val_dataloader(), plain.val_dataloader())):
        for (x, _), (x0, _) in zip(loader, raw, strict=True):
            torch.testing.assert_close(x, x0 * 2 - 1)
    for x, _ in dm.train_dataloader():
        assert float(x.min()) >= -1 and float(x.min()) < 0
    torch.testing.assert_close(dm.train_set[5][0], plain.train_set[5][0] * 2 - 1)
    with pytest.raises(DataError, match="transform must be a callable"):
        MNISTDataModule(data_dir="/nonexistent", transform="flip")


def test_a_loader_outside_a_trainer_reshuffles_every_pass(tiny):
    loader = _dm(tiny, batch_size=16).train_dataloader()
    first, second = [torch.cat([y for _, y in loader]) for _ in range(2)]
    assert sorted(first.tolist()) == sorted(second.tolist()) and not torch.equal(first, second)
    # A Trainer sets the epoch: then the order is the epoch's, however often it is read.
    loader.sampler.set_epoch(1)
    a = torch.cat([y for _, y in loader])
    loader.sampler.set_epoch(1)
    b = torch.cat([y for _, y in loader])
    assert torch.equal(a, b) and torch.equal(a, second)  # pass k outside a Trainer is epoch k


SHIPPED = sorted(p.stem for p in CONFIG_DIR.glob("*.yaml") if p.stem != "defaults")


@pytest.mark.parametrize("config", SHIPPED)
def test_shipped_configs_keep_the_notebook_data(config, tiny, monkeypatch):
    """Every notebook config validates on the test set and trains on the whole training split,
    in the file order shuffled by the same seed: the data of the committed results."""
    out = io.StringIO()
    monkeypatch.setattr("sys.argv", ["lightning-mnist"])
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        build_cli(["fit", "--config", config, "--print_config"])
    data = yaml.safe_load(out.getvalue())["data"]["init_args"]
    assert data["val_split"] == "test", config
    assert (data["shuffle"], data["drop_last"], data["normalize"], data["transform"]) == (True, False, False, None)
    assert data.get("val_size") is None and data["seed"] == 1337 and data["flatten"] is True
    known = set(MNISTDataModule.__init__.__code__.co_varnames)
    kwargs = {k: v for k, v in data.items() if k in known and k not in ("data_dir", "dataset", "download")}
    dm = _dm(tiny, **kwargs)
    assert dm.val_set is dm.test_set and len(dm.train_set) == N_TRAIN
    torch.testing.assert_close(dm.train_set.x.reshape(N_TRAIN, 28, 28) * 255, torch.from_numpy(
        tiny.arrays["train-images-idx3-ubyte"]).float())  # fmt: skip
