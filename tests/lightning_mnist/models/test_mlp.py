"""MLPClassifier: architecture, Keras 1 defaults, reproducibility, resume, divergence."""

from __future__ import annotations

import copy
import math
import pickle

import numpy as np
import pytest
import torch
from torch import nn

from lightning_mnist import DivergenceError, Layer, MLPClassifier, MNISTDataModule
from lightning_mnist.backend import pl
from lightning_mnist.models.optimizers import make_optimizer
from lightning_mnist.models.presets import depth_member, seed_dropout, width_member


@pytest.fixture
def tiny_dir(helpers, tmp_path):
    helpers.write_tiny(tmp_path / "data", n_train=640, n_test=200, label_noise=0.1)
    return tmp_path / "data"


def tiny_dm(data_dir, **kwargs) -> MNISTDataModule:
    kwargs.setdefault("batch_size", 64)
    return MNISTDataModule(val_split="test", data_dir=str(data_dir), verify_checksums=False, **kwargs)


def trainer(tmp_path, max_epochs: int, **kwargs) -> pl.Trainer:
    kwargs.setdefault("logger", False)
    kwargs.setdefault("enable_checkpointing", False)
    return pl.Trainer(
        max_epochs=max_epochs,
        accelerator="cpu",
        devices=1,
        deterministic=True,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
        **kwargs,
    )


def test_seed_dropout_has_the_notebooks_layers_in_order():
    model = seed_dropout()
    kinds = [(type(m).__name__, getattr(m, "out_features", getattr(m, "p", None))) for m in model.hidden]
    assert kinds == [
        ("Linear", 512),
        ("ReLU", None),
        ("Dropout", 0.2),
        ("Linear", 512),
        ("ReLU", None),
        ("Linear", 512),
        ("Tanh", None),
        ("Dropout", 0.1),
    ]
    assert (model.output.in_features, model.output.out_features) == (512, 10)
    assert model.hparams.optimizer == "adadelta"


@pytest.mark.parametrize("depth", [1, 3, 10])
def test_depth_member_stacks_512_relu_layers(depth):
    model = depth_member(depth, "rmsprop")
    linears = [m for m in model.hidden if isinstance(m, nn.Linear)]
    assert [m.out_features for m in linears] == [512] * depth
    assert sum(isinstance(m, nn.ReLU) for m in model.hidden) == depth
    assert model.hparams.optimizer == "rmsprop"


def test_width_member_is_one_relu_layer_of_that_width():
    model = width_member(8)
    assert model.hidden[0].out_features == 8 and model.hparams.optimizer == "sgd"


def test_weights_are_glorot_uniform_and_biases_zero():
    torch.manual_seed(0)
    model = MLPClassifier([Layer(512)])
    for linear in (model.hidden[0], model.output):
        fan_out, fan_in = linear.weight.shape
        limit = math.sqrt(6 / (fan_in + fan_out))
        w = linear.weight.detach()
        assert w.abs().max() <= limit
        assert w.abs().max() > 0.95 * limit  # uniform over the whole range, not a narrower init
        assert abs(w.std().item() - limit / math.sqrt(3)) < 0.03 * limit
        assert torch.count_nonzero(linear.bias) == 0


@pytest.mark.parametrize("bad", [Layer(0), Layer(8, "softplus"), Layer(8, "relu", 1.0)])
def test_bad_layers_are_rejected_with_a_clear_error(bad):
    with pytest.raises(ValueError, match="bad layer"):
        MLPClassifier([bad])


def test_unknown_optimizer_is_a_clear_error():
    with pytest.raises(ValueError, match=r"unknown optimizer 'adamw'.*choose one of"):
        make_optimizer("adamw", [nn.Parameter(torch.zeros(1))])


@pytest.mark.parametrize(
    "name, cls, expected",
    [
        ("sgd", torch.optim.SGD, {"lr": 0.01, "momentum": 0}),
        ("rmsprop", torch.optim.RMSprop, {"lr": 0.001, "alpha": 0.9, "eps": 1e-8}),
        ("adadelta", torch.optim.Adadelta, {"lr": 1.0, "rho": 0.95, "eps": 1e-8}),
        ("adam", torch.optim.Adam, {"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-8}),
        ("nadam", torch.optim.NAdam, {"lr": 0.002, "eps": 1e-8, "momentum_decay": 0.004}),
    ],
)
def test_optimizers_have_keras1_defaults(name, cls, expected):
    opt = make_optimizer(name, [nn.Parameter(torch.zeros(3))])
    assert type(opt) is cls
    for key, value in expected.items():
        assert opt.defaults[key] == value
    assert make_optimizer(name, [nn.Parameter(torch.zeros(3))], lr=0.5).defaults["lr"] == 0.5


def keras1_rmsprop(p, grads, lr=0.001, rho=0.9, eps=1e-8):
    a = np.zeros_like(p)
    for g in grads:
        a = rho * a + (1 - rho) * g**2
        p = p - lr * g / (np.sqrt(a) + eps)
    return p


def keras1_adadelta(p, grads, lr=1.0, rho=0.95, eps=1e-8):
    a, d = np.zeros_like(p), np.zeros_like(p)
    for g in grads:
        a = rho * a + (1 - rho) * g**2
        update = g * np.sqrt(d + eps) / np.sqrt(a + eps)
        p = p - lr * update
        d = rho * d + (1 - rho) * update**2
    return p


@pytest.mark.parametrize("name, reference", [("rmsprop", keras1_rmsprop), ("adadelta", keras1_adadelta)])
def test_rmsprop_and_adadelta_match_keras1_update_rules(name, reference):
    rng = np.random.default_rng(0)
    p0 = rng.normal(size=5)
    grads = [rng.normal(size=5) * 10.0 ** rng.integers(-6, 2) for _ in range(20)]
    param = nn.Parameter(torch.tensor(p0))
    opt = make_optimizer(name, [param])
    for g in grads:
        param.grad = torch.tensor(g)
        opt.step()
    np.testing.assert_allclose(param.detach().numpy(), reference(p0, grads), rtol=1e-12, atol=1e-14)


def test_training_learns_the_tiny_set(tiny_dir, tmp_path):
    pl.seed_everything(0)
    model = MLPClassifier([Layer(64)], optimizer="adam")
    t = trainer(tmp_path, 3)
    t.fit(model, datamodule=tiny_dm(tiny_dir))
    assert {"train/loss", "train/acc", "val/loss", "val/acc"} <= set(t.callback_metrics)
    (result,) = t.test(model, datamodule=tiny_dm(tiny_dir), verbose=False)
    assert result["test/acc"] > 0.6


def fit_metrics(tiny_dir, tmp_path, seed: int) -> dict:
    pl.seed_everything(seed)
    t = trainer(tmp_path, 2)
    t.fit(seed_dropout(), datamodule=tiny_dm(tiny_dir))
    return {k: float(v) for k, v in t.callback_metrics.items()}


def test_same_seed_gives_identical_metrics(tiny_dir, tmp_path):
    first = fit_metrics(tiny_dir, tmp_path, 7)
    assert first == fit_metrics(tiny_dir, tmp_path, 7)
    assert first != fit_metrics(tiny_dir, tmp_path, 8)


def test_resume_from_checkpoint_matches_uninterrupted_run(tiny_dir, tmp_path):
    """Stop after epoch 1, resume from the checkpoint: same final weights as 3 straight epochs.

    seed_dropout has dropout, so this also checks that the RNG state travels in the checkpoint.
    """
    pl.seed_everything(3)
    straight = seed_dropout()
    trainer(tmp_path / "a", 3).fit(straight, datamodule=tiny_dm(tiny_dir))

    pl.seed_everything(3)
    first = seed_dropout()
    t = trainer(tmp_path / "b", 1, enable_checkpointing=True)
    t.fit(first, datamodule=tiny_dm(tiny_dir))
    ckpt = tmp_path / "stopped.ckpt"
    t.save_checkpoint(ckpt)

    torch.manual_seed(12345)  # a fresh process would start from some other RNG state
    resumed = seed_dropout()
    trainer(tmp_path / "c", 3).fit(resumed, datamodule=tiny_dm(tiny_dir), ckpt_path=ckpt)
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_divergence_stops_the_run_with_a_clear_message(tiny_dir, tmp_path):
    model = MLPClassifier([Layer(32)], optimizer="sgd", lr=1e30)
    t = trainer(tmp_path, 5)
    with pytest.raises(DivergenceError, match="diverged"):
        t.fit(model, datamodule=tiny_dm(tiny_dir))
    assert t.current_epoch == 0  # stopped inside the first epoch, not after five


class CountBackward(pl.Callback):
    """Listens to the backward hooks, so training must dispatch them per minibatch."""

    def __init__(self) -> None:
        self.before = self.after = 0

    def on_before_backward(self, trainer, pl_module, loss) -> None:
        self.before += 1

    def on_after_backward(self, trainer, pl_module) -> None:
        self.after += 1


def grouped_fit(tiny_dir, tmp_path, group: int, callbacks=()) -> tuple[MLPClassifier, pl.Trainer]:
    pl.seed_everything(5)
    model = seed_dropout()  # dropout: the RNG must be drawn in the same order too
    t = trainer(tmp_path, 2, callbacks=list(callbacks))
    t.fit(model, datamodule=tiny_dm(tiny_dir, steps_per_execution=group))
    return model, t


def test_grouped_steps_train_exactly_like_one_step_per_batch(tiny_dir, tmp_path):
    """steps_per_execution only changes how minibatches reach the module: 640 images in
    batches of 64 are 10 optimizer steps an epoch, in groups of 3, 3, 3 and 1."""
    single, t1 = grouped_fit(tiny_dir, tmp_path, 1)
    grouped, t3 = grouped_fit(tiny_dir, tmp_path, 3)
    assert t1.global_step == t3.global_step == 20
    for (name, a), b in zip(single.state_dict().items(), grouped.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    m1, m3 = t1.callback_metrics, t3.callback_metrics
    assert float(m1["train/acc"]) == float(m3["train/acc"])
    assert float(m1["train/loss"]) == pytest.approx(float(m3["train/loss"]), rel=1e-6)


def test_backward_hooks_reach_callbacks_that_listen(tiny_dir, tmp_path):
    """The direct backward (no hook dispatch) is taken only when nobody listens; a listening
    callback sees every minibatch, and the weights are the same either way."""
    counter = CountBackward()
    listened, _ = grouped_fit(tiny_dir, tmp_path, 3, [counter])
    assert counter.before == counter.after == 20
    quiet, _ = grouped_fit(tiny_dir, tmp_path, 3)
    for a, b in zip(listened.state_dict().values(), quiet.state_dict().values(), strict=True):
        assert torch.equal(a, b)


class Watching(MLPClassifier):  # a module that listens to backward itself
    def on_after_backward(self) -> None:
        self.after = getattr(self, "after", 0) + 1


def test_backward_dispatch_is_skipped_only_when_nothing_can_listen(tiny_dir, tmp_path):
    quiet, _ = grouped_fit(tiny_dir, tmp_path, 3)
    listened, _ = grouped_fit(tiny_dir, tmp_path, 3, [CountBackward()])
    assert quiet._grouping.direct_backward and not listened._grouping.direct_backward
    pl.seed_everything(5)
    watching = Watching([Layer(8)])
    trainer(tmp_path, 1).fit(watching, datamodule=tiny_dm(tiny_dir, steps_per_execution=3))
    assert watching.grouped_steps == 3 and not watching._grouping.direct_backward and watching.after == 10


@pytest.mark.parametrize("max_steps", [5, 10, 12])  # inside a group, at its end, in epoch 2
def test_max_steps_stops_inside_a_group(tiny_dir, tmp_path, max_steps):
    """Trainer(max_steps=N) counts optimizer steps, so a group of 3 is cut short at N."""
    runs = []
    for group in (1, 3):
        pl.seed_everything(5)
        model = seed_dropout()
        t = trainer(tmp_path, 5, max_steps=max_steps)
        t.fit(model, datamodule=tiny_dm(tiny_dir, steps_per_execution=group))
        assert t.global_step == max_steps
        runs.append(model)
    for a, b in zip(runs[0].state_dict().values(), runs[1].state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_direct_backward_is_taken_only_when_nobody_listens(tiny_dir, tmp_path, monkeypatch):
    calls = []
    original = pl.LightningModule.manual_backward
    monkeypatch.setattr(
        pl.LightningModule,
        "manual_backward",
        lambda self, *args, **kwargs: calls.append(1) or original(self, *args, **kwargs),
    )
    grouped_fit(tiny_dir, tmp_path, 3)
    assert calls == []
    grouped_fit(tiny_dir, tmp_path, 3, [CountBackward()])
    assert len(calls) == 20


def test_trained_model_pickles_without_its_trainer(tiny_dir, tmp_path):
    """Nothing training leaves on the module holds the Trainer (or, through it, the data)."""
    model, _ = grouped_fit(tiny_dir, tmp_path, 3)
    fresh = seed_dropout()
    assert len(pickle.dumps(model)) < 1.2 * len(pickle.dumps(fresh))
    # what training leaves on the module: the grouped-steps decision, which holds no Trainer
    assert set(vars(model)) - set(vars(fresh)) <= {"_grouping"}
    assert model.grouped_steps == 3 and model._grouping.direct_backward is True
    assert pickle.loads(pickle.dumps(model))._grouping.size == 3
    copy.deepcopy(model)
