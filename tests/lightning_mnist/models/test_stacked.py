"""StackedMLP: each copy trains as its own MLPClassifier run would; copies are independent."""

from __future__ import annotations

import pytest
import torch

from lightning_mnist import Layer, MLPClassifier, MNISTDataModule
from lightning_mnist.backend import pl
from lightning_mnist.models.stacked import StackedMLP, copy_metrics
from lightning_mnist.study import stacked_runs
from lightning_mnist.study.runs import run_sweep
from lightning_mnist.study.sweeps import Profile, load_result, sweep_points

LAYERS = [Layer(16, "relu"), Layer(12, "tanh")]


@pytest.fixture
def tiny_dir(helpers, tmp_path):
    helpers.write_tiny(tmp_path / "data", n_train=256, n_test=100, label_noise=0.1)
    return tmp_path / "data"


def tiny_dm(data_dir, **kwargs) -> MNISTDataModule:
    kwargs.setdefault("batch_size", 32)
    return MNISTDataModule(val_split="test", data_dir=str(data_dir), verify_checksums=False, **kwargs)


def train_set(data_dir) -> tuple[torch.Tensor, torch.Tensor]:
    dm = tiny_dm(data_dir)
    dm.setup()
    return dm.train_set.x, dm.train_set.y


def steps(model, optimizer, batches) -> None:
    for batch in batches:
        optimizer.zero_grad()
        model.training_loss(batch).backward()
        optimizer.step()


@pytest.fixture
def float64():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


@pytest.mark.parametrize("optimizer", ["sgd", "rmsprop", "adadelta"])
def test_a_copy_trains_exactly_like_its_separate_run(tiny_dir, float64, optimizer):
    x, y = train_set(tiny_dir)
    x = x.double()
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    batches = [(x[i], y[i]) for i in order.split(32)][:6]
    stacked = StackedMLP(LAYERS, optimizer, seeds=[5, 6, 7])
    steps(stacked, stacked.configure_optimizers(), batches)
    for i, seed in enumerate([5, 6, 7]):
        torch.manual_seed(seed)
        alone = MLPClassifier(LAYERS, optimizer)
        steps(alone, alone.configure_optimizers(), batches)
        want = {k: v for k, v in alone.state_dict().items() if k.startswith(("hidden.", "output."))}
        got = stacked.copy_state(i)
        assert sorted(got) == sorted(want)
        for key in want:
            torch.testing.assert_close(got[key], want[key], rtol=0, atol=1e-12)


def test_initial_copies_are_mlpclassifiers_of_their_seeds():
    stacked = StackedMLP(LAYERS, seeds=[1, 2])
    for i, seed in enumerate([1, 2]):
        torch.manual_seed(seed)
        want = MLPClassifier(LAYERS).state_dict()
        for key, value in stacked.copy_state(i).items():
            assert torch.equal(value, want[key]), key
    assert not torch.equal(stacked.weights[0][0], stacked.weights[0][1])


def test_copies_are_independent_of_each_others_data(tiny_dir):
    x, y = train_set(tiny_dir)
    per_copy = [(x[:96].view(3, 32, -1), y[:96].view(3, 32)), (x[96:192].view(3, 32, -1), y[96:192].view(3, 32))]
    other = [(bx.clone(), by.clone()) for bx, by in per_copy]
    for bx, by in other:  # copy 0 gets other images and labels; copies 1 and 2 the same
        bx[0], by[0] = bx[0].flip(0), (by[0] + 1) % 10
    runs = []
    for batches in (per_copy, other):
        model = StackedMLP(LAYERS, "rmsprop", seeds=[1, 2, 3])
        steps(model, model.configure_optimizers(), batches)
        runs.append(model)
    a, b = runs
    for wa, wb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(wa[1:], wb[1:])
        assert not torch.equal(wa[0], wb[0])


def test_dropout_masks_are_independent_per_copy(tiny_dir):
    x, y = train_set(tiny_dir)
    batch = (x[:32], y[:32])
    for p, same in ((0.0, True), (0.5, False)):
        model = StackedMLP([Layer(16, "relu", p)], seeds=[4, 4])  # two copies, one seed
        assert torch.equal(model.weights[0][0], model.weights[0][1])
        steps(model, model.configure_optimizers(), [batch])
        assert torch.equal(model.weights[0][0], model.weights[0][1]) is same


def trainer(tmp_path, **kwargs) -> pl.Trainer:
    return pl.Trainer(
        max_epochs=2,
        accelerator="cpu",
        devices=1,
        deterministic=True,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
        **kwargs,
    )


@pytest.mark.parametrize("steps_per_execution", [1, 4])
def test_lightning_fit_and_test_match_separate_runs(tiny_dir, tmp_path, steps_per_execution):
    seeds = [11, 12]
    pl.seed_everything(0)
    stacked = StackedMLP(LAYERS, "sgd", lr=0.1, seeds=seeds)
    t = trainer(tmp_path)
    dm = tiny_dm(tiny_dir, steps_per_execution=steps_per_execution)
    t.fit(stacked, datamodule=dm)
    assert stacked.grouped_steps == steps_per_execution
    per_copy = copy_metrics(t.test(stacked, datamodule=dm, verbose=False)[0], len(seeds))
    for i, seed in enumerate(seeds):
        pl.seed_everything(seed)
        alone = MLPClassifier(LAYERS, "sgd", lr=0.1)
        t = trainer(tmp_path)
        t.fit(alone, datamodule=tiny_dm(tiny_dir, steps_per_execution=steps_per_execution))
        (test,) = t.test(alone, datamodule=tiny_dm(tiny_dir), verbose=False)
        for key, value in stacked.copy_state(i).items():
            torch.testing.assert_close(value, alone.state_dict()[key], rtol=1e-5, atol=1e-6)
        assert per_copy[i]["test/acc"] == pytest.approx(test["test/acc"], abs=1e-6)
        assert per_copy[i]["test/loss"] == pytest.approx(test["test/loss"], rel=1e-4)


def test_stacked_sweep_writes_the_usual_point_files(tiny_dir, tmp_path, monkeypatch):
    profile = Profile(
        "tiny",
        epochs=1,
        seeds=2,
        depths=(1, 2),
        limit_train_batches=3,
        data_dir=str(tiny_dir),
        verify_checksums=False,
        stack_seeds=True,
    )
    out = tmp_path / "out"
    calls = []
    real = stacked_runs.run_stacked
    monkeypatch.setattr(
        stacked_runs, "run_stacked", lambda points, *a, **k: calls.append(points) or real(points, *a, **k)
    )
    results = run_sweep("depth_sgd", profile, out)
    assert [len(c) for c in calls] == [2, 2]  # one stacked run per depth, two seeds each
    points = sweep_points("depth_sgd", profile)
    assert [r["key"] for r in results] == [p.key for p in points]
    for point, result in zip(points, results, strict=True):
        assert load_result(point, profile, out)["test"] == result["test"]  # the file is there and fresh
        assert result["stacked_seeds"] == [1337, 1338] and 0 <= result["test_acc"] <= 1
    calls.clear()
    again = run_sweep("depth_sgd", profile, out)
    assert [r["test"] for r in again] == [r["test"] for r in results] and calls == []  # resumed: nothing reruns
    # One point alone (a cluster array job, or the last seed of a resumed group) trains stacked too.
    points[1].result_path(out).unlink()
    (alone,) = run_sweep("depth_sgd", profile, out, index=1)
    assert [len(c) for c in calls] == [1] and alone["stacked_seeds"] == [points[1].seed]
    assert alone["test"] == pytest.approx(results[1]["test"], rel=1e-4)
