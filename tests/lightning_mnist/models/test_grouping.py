"""Grouped steps can never break a user's hook: every overridable hook of LightningModule,
LightningDataModule and Callback, enumerated from the installed Lightning (either
distribution, whichever ``lightning_mnist.backend`` chose), either trains grouped with results
identical to the textbook run, or declines with a warning that names it.

Each override is a pass-through (it calls the parent's method), so the weights must come out
the same as the textbook run's either way; what the test checks is that no hook sees a group
where it expects a minibatch without grouping being declined first.
"""

from __future__ import annotations

import warnings

import pytest
import torch

from lightning_mnist import Layer, MLPClassifier, MNISTDataModule
from lightning_mnist.backend import Callback, Trainer, callbacks, loggers, pl
from lightning_mnist.models.grouping import (
    SAME_EITHER_WAY,
    SAME_EITHER_WAY_MODULE,
    GroupedSteps,
    callback_hooks,
    datamodule_hooks,
    module_hooks,
)

GROUP = 3


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, helpers):
    path = tmp_path_factory.mktemp("grouping") / "data"
    helpers.write_tiny(path, n_train=12, n_test=4)
    return path


def passthrough(parent: type, name: str) -> type:
    """A subclass of ``parent`` that overrides ``name`` with a call of the parent's."""

    def method(self, *args, **kwargs):
        return getattr(super(cls, self), name)(*args, **kwargs)

    cls = type(f"Overrides_{name}", (parent,), {name: method})
    return cls


def fit(data_dir, module_cls=MLPClassifier, dm_cls=MNISTDataModule, callbacks_=(), group=GROUP, **trainer_kwargs):
    pl.seed_everything(3, verbose=False)
    model = module_cls([Layer(8)], optimizer="sgd", lr=0.1)
    dm = dm_cls(
        data_dir=str(data_dir),
        verify_checksums=False,
        val_split="test",
        batch_size=2,
        eval_batch_size=4,
        steps_per_execution=group,
    )
    trainer_kwargs.setdefault("logger", False)
    trainer = Trainer(
        accelerator="cpu",
        devices=1,
        max_epochs=1,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=list(callbacks_),
        **trainer_kwargs,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer.fit(model, datamodule=dm)
    trainer.messages = [str(w.message) for w in caught]  # every warning of the fit
    notes = [m for m in trainer.messages if "steps_per_execution" in m]
    return model, trainer, notes


def weights(model) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.parameters()])


@pytest.fixture(scope="module")
def textbook(data_dir):
    model, trainer, notes = fit(data_dir, group=1)
    assert trainer.global_step == 6 and notes == []
    return weights(model)


def check(result, hook: str, textbook: torch.Tensor) -> None:
    model, trainer, notes = result
    assert trainer.global_step == 6, hook
    torch.testing.assert_close(weights(model), textbook, rtol=0, atol=0)
    if notes:
        assert len(notes) == 1 and f"overrides {hook}" in notes[0], notes
        assert model.grouped_steps == 1
    else:
        assert model.grouped_steps == GROUP, hook
        assert hook in SAME_EITHER_WAY_MODULE, hook


def test_grouped_plain_fit_is_the_textbook_run(data_dir, textbook):
    model, _, notes = fit(data_dir)
    assert notes == [] and model.grouped_steps == GROUP
    torch.testing.assert_close(weights(model), textbook, rtol=0, atol=0)


@pytest.mark.parametrize("hook", sorted(module_hooks()))
def test_every_module_hook(hook, data_dir, textbook):
    check(fit(data_dir, module_cls=passthrough(MLPClassifier, hook)), hook, textbook)


@pytest.mark.parametrize("hook", sorted(datamodule_hooks()))
def test_every_datamodule_hook(hook, data_dir, textbook):
    check(fit(data_dir, dm_cls=passthrough(MNISTDataModule, hook)), hook, textbook)


@pytest.mark.parametrize("hook", sorted(callback_hooks()))
def test_every_callback_hook(hook, data_dir, textbook):
    check(fit(data_dir, callbacks_=[passthrough(Callback, hook)()]), hook, textbook)


def test_the_candidates_come_from_lightning():
    """Nothing typed by hand: the batch hooks of the issue are among the candidates, and every
    entry of the allow-list is a hook Lightning has."""
    for hook in ("on_before_batch_transfer", "on_after_batch_transfer", "transfer_batch_to_device"):
        assert hook in module_hooks() and hook in datamodule_hooks() and hook not in SAME_EITHER_WAY
    assert "on_train_batch_end" in callback_hooks() and "on_train_batch_end" not in SAME_EITHER_WAY
    assert module_hooks() | callback_hooks() | datamodule_hooks() >= SAME_EITHER_WAY


class Augmenting(MNISTDataModule):
    """The usual place for augmentation: it expects one (x, y) minibatch."""

    def on_before_batch_transfer(self, batch, dataloader_idx):
        x, y = batch
        return x.flip(-1), y


class Normalizing(MLPClassifier):
    def on_after_batch_transfer(self, batch, dataloader_idx):
        x, y = batch
        return (x - 0.5) / 0.5, y


@pytest.mark.parametrize(
    ("module_cls", "dm_cls", "hook"),
    [
        (MLPClassifier, Augmenting, "on_before_batch_transfer"),
        (Normalizing, MNISTDataModule, "on_after_batch_transfer"),
    ],
)
def test_batch_hooks_that_unpack_a_minibatch_decline(module_cls, dm_cls, hook, data_dir):
    """The shipped configs offer groups of 64; a batch hook that unpacks (x, y) used to crash."""
    reference, _, _ = fit(data_dir, module_cls, dm_cls, group=1)
    model, trainer, notes = fit(data_dir, module_cls, dm_cls)
    assert len(notes) == 1 and f"overrides {hook}" in notes[0] and trainer.global_step == 6
    torch.testing.assert_close(weights(model), weights(reference), rtol=0, atol=0)


def test_one_decision_per_fit_tells_the_module_and_the_datamodule(data_dir, monkeypatch):
    decisions = []
    decide = GroupedSteps.decide
    monkeypatch.setattr(
        GroupedSteps, "decide", staticmethod(lambda *a, **k: decisions.append(decide(*a, **k)) or decisions[-1])
    )
    model, trainer, _ = fit(data_dir)
    assert len(decisions) == 1 and decisions[0].size == GROUP
    assert model._grouping is decisions[0] and trainer.datamodule._grouping is decisions[0]
    # a new Trainer starts the textbook way until its own fit decides
    model.trainer = None
    assert model.grouped_steps == 1 and model.automatic_optimization


def test_private_lightning_names_still_exist():
    """The private names grouped steps rely on: a rename fails here, not silently in a run."""
    checkpoint = callbacks.ModelCheckpoint()
    assert checkpoint._every_n_train_steps == 0 and checkpoint._train_time_interval is None
    trainer = Trainer(accelerator="cpu", logger=False)
    assert isinstance(trainer.fit_loop.epoch_loop._batches_that_stepped, int)
    model = MLPClassifier([Layer(8)])
    assert model._trainer is None and model._automatic_optimization is True
    bar = callbacks.TQDMProgressBar(refresh_rate=7)
    assert bar._refresh_rate == 7 == bar.refresh_rate


def test_no_message_counts_groups_as_batches(data_dir, tmp_path):
    """Lightning compares the batches of an epoch with log_every_n_steps (default 50): under
    grouping it would count groups. The textbook run after it still gets Lightning's warning."""
    model, trainer, _ = fit(data_dir, logger=loggers.CSVLogger(tmp_path), log_every_n_steps=50)
    assert model.grouped_steps == GROUP and not [m for m in trainer.messages if "logging interval" in m]
    _, trainer, _ = fit(data_dir, group=1, logger=loggers.CSVLogger(tmp_path), log_every_n_steps=50)
    assert [m for m in trainer.messages if "The number of training batches (6)" in m]


def test_a_transform_declines_grouping(data_dir):
    class Transformed(MNISTDataModule):
        def __init__(self, **kwargs):
            super().__init__(transform=torch.nn.Identity(), **kwargs)

    _, _, notes = fit(data_dir, dm_cls=Transformed)
    assert len(notes) == 1 and "transform" in notes[0]
