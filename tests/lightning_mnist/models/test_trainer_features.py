"""Every standard Trainer feature, on each of the four modules, against a textbook control.

The control is the Lightning module a user would write: automatic optimization, a
``training_step`` that returns the loss, wrapped around a copy of our module's network and
optimizer. Each row runs the same Trainer on both and compares what the feature is about
(learning rates per optimizer step, gradient norms, step counts, validation points,
checkpoint files, weights). Each row runs our module twice: with ``MNISTDataModule``'s
defaults, and offered grouped steps (``steps_per_execution=3``), where it must either give
the same results or say which feature made it decline.
"""

from __future__ import annotations

import copy
import math
import warnings

import pytest
import torch
import torch.nn.functional as F

from lightning_mnist import Autoencoder, EncoderClassifier, Layer, MLPClassifier, MNISTDataModule, SoftmaxRegression
from lightning_mnist.backend import Callback, LightningModule, Trainer, callbacks, pl, tuner

KINDS = {
    "mlp": lambda: MLPClassifier([Layer(16)], optimizer="sgd", lr=0.1),
    "softmax": lambda: SoftmaxRegression(lr=0.5),
    "autoencoder": lambda: Autoencoder(code_size=8, optimizer="sgd", lr=0.5),
    "encoder": lambda: EncoderClassifier(None, code_size=8, layers=[Layer(16)], optimizer="sgd", lr=0.1),
}
GROUP = 3


class Control(LightningModule):
    """The textbook module: the same network, loss and optimizer, nothing of ours in the loop."""

    def __init__(self, net: LightningModule) -> None:
        super().__init__()
        self.net = copy.deepcopy(net)
        self.reconstructs = isinstance(net, Autoencoder)

    def forward(self, x):
        return self.net(x)

    def loss(self, batch):
        x, y = batch
        out = self.net(x)
        return F.mse_loss(out, x) if self.reconstructs else F.cross_entropy(out, y)

    def training_step(self, batch, batch_idx):
        loss = self.loss(batch)
        self.log("train/mse" if self.reconstructs else "train/loss", loss, on_step=False, on_epoch=True)
        return loss

    def validation_step(self, batch, batch_idx):
        self.log("val/mse" if self.reconstructs else "val/loss", self.loss(batch), on_epoch=True)

    def configure_optimizers(self):
        return type(self.net).configure_optimizers(self.net)


class Recorder(Callback):
    """Learning rate and applied gradient norm of every optimizer step; validation points.

    All modules here train with plain SGD, so the step's parameter change over its learning
    rate is the gradient that was applied: after clipping, summed over accumulated batches.
    (``on_before_optimizer_step`` runs in both optimization modes, before clipping.)
    """

    def __init__(self) -> None:
        self.lrs, self.grad_norms, self.val_steps = [], [], []
        self.before = None

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        self._close_step(optimizer)
        self.lrs.append(optimizer.param_groups[0]["lr"])
        self.before = [p.detach().clone() for group in optimizer.param_groups for p in group["params"]]

    def on_train_end(self, trainer, pl_module) -> None:
        self._close_step(trainer.optimizers[0])

    def _close_step(self, optimizer) -> None:
        if self.before is not None:
            now = [p.detach() for group in optimizer.param_groups for p in group["params"]]
            delta = torch.cat([(b - a).flatten() for a, b in zip(now, self.before, strict=True)])
            self.grad_norms.append(float(delta.norm()) / self.lrs[-1])
            self.before = None

    def on_validation_end(self, trainer, pl_module) -> None:
        if not trainer.sanity_checking:
            self.val_steps.append(trainer.global_step)


def datamodule(data_dir, **kwargs) -> MNISTDataModule:
    kwargs.setdefault("batch_size", 16)
    return MNISTDataModule(
        val_split="test", data_dir=str(data_dir), verify_checksums=False, eval_batch_size=40, **kwargs
    )


def fit(model, data_dir, root, callbacks_=(), dm_kwargs=None, **trainer_kwargs):
    """Fit ``model`` seeded, return (trainer, recorder, warnings raised)."""
    recorder = Recorder()
    trainer_kwargs.setdefault("max_epochs", 2)
    trainer_kwargs.setdefault("logger", False)
    trainer_kwargs.setdefault("enable_checkpointing", False)
    trainer = Trainer(
        accelerator="cpu",
        devices=1,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=root,
        callbacks=[recorder, *callbacks_],
        **trainer_kwargs,
    )
    pl.seed_everything(7, verbose=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer.fit(model, datamodule=datamodule(data_dir, **(dm_kwargs or {})))
    return trainer, recorder, [str(w.message) for w in caught]


@pytest.fixture
def data_dir(make_tiny):
    return make_tiny(n_train=96, n_test=40).data_dir


def weights(module) -> torch.Tensor:
    net = module.net if isinstance(module, Control) else module
    return torch.cat([p.detach().flatten() for p in net.parameters()])


def run_row(kind, data_dir, tmp_path, make_callbacks=lambda: [], module_cls=None, **trainer_kwargs):
    """The control and our module, ungrouped and offered groups; returns the three results."""
    torch.manual_seed(0)
    ours = KINDS[kind]() if module_cls is None else module_cls(kind)
    control = Control(ours)
    grouped = copy.deepcopy(ours)
    results = {}
    for name, model, dm_kwargs in (
        ("control", control, {}),
        ("ours", ours, {}),
        ("grouped", grouped, {"steps_per_execution": GROUP}),
    ):
        trainer, rec, caught = fit(model, data_dir, tmp_path / name, make_callbacks(), dm_kwargs, **trainer_kwargs)
        results[name] = dict(trainer=trainer, rec=rec, warnings=caught, weights=weights(model), model=model)
    return results


def assert_like_control(results, declined_because: str | None = None, atol=1e-5):
    control = results["control"]
    for name in ("ours", "grouped"):
        got = results[name]
        assert got["trainer"].global_step == control["trainer"].global_step, name
        assert got["rec"].lrs == pytest.approx(control["rec"].lrs, rel=1e-6), name
        assert got["rec"].grad_norms == pytest.approx(control["rec"].grad_norms, rel=1e-4, abs=1e-6), name
        assert got["rec"].val_steps == control["rec"].val_steps, name
        torch.testing.assert_close(got["weights"], control["weights"], atol=atol, rtol=1e-4)
    notes = [w for w in results["grouped"]["warnings"] if "steps_per_execution" in w]
    if declined_because is None:
        assert notes == [], notes
    else:
        assert len(notes) == 1 and declined_because in notes[0], notes


@pytest.mark.parametrize("kind", KINDS)
def test_plain_fit_and_grouped_steps_match_the_control(kind, data_dir, tmp_path):
    results = run_row(kind, data_dir, tmp_path, max_epochs=2)
    assert_like_control(results)
    assert results["control"]["trainer"].global_step == 2 * 6  # 96 images, batches of 16
    assert results["grouped"]["model"].grouped_steps == GROUP and results["ours"]["model"].grouped_steps == 1


@pytest.mark.parametrize("kind", KINDS)
def test_gradient_clipping_bounds_the_norm(kind, data_dir, tmp_path):
    results = run_row(kind, data_dir, tmp_path, gradient_clip_val=0.05)
    assert max(results["ours"]["rec"].grad_norms) <= 0.05 + 1e-6
    assert_like_control(results, "gradient_clip_val")


@pytest.mark.parametrize("kind", KINDS)
def test_gradient_accumulation(kind, data_dir, tmp_path):
    results = run_row(kind, data_dir, tmp_path, accumulate_grad_batches=2)
    assert results["ours"]["trainer"].global_step == 2 * 3
    assert_like_control(results, "accumulate_grad_batches")


@pytest.mark.parametrize("kind", KINDS)
def test_gradient_accumulation_scheduler(kind, data_dir, tmp_path):
    results = run_row(kind, data_dir, tmp_path, lambda: [callbacks.GradientAccumulationScheduler({1: 3})])
    assert results["ours"]["trainer"].global_step == 6 + 2
    assert_like_control(results, "GradientAccumulationScheduler")


def with_scheduler(make_scheduler, interval="epoch", monitor=None):
    """A subclass of one of our modules whose configure_optimizers adds a scheduler, and the
    same override for the control (installed through ``Control.configure_optimizers``)."""

    def configure(net):
        base = next(c for c in type(net).__mro__ if not c.__name__.startswith("Scheduled"))
        optimizer = base.configure_optimizers(net)
        config = {"scheduler": make_scheduler(optimizer), "interval": interval}
        if monitor:
            config["monitor"] = monitor
        return {"optimizer": optimizer, "lr_scheduler": config}

    def build(kind):
        base = type(KINDS[kind]())
        cls = type(f"Scheduled{base.__name__}", (base,), {"configure_optimizers": configure})
        model = KINDS[kind]()
        model.__class__ = cls
        return model

    return build, configure


SCHEDULERS = {
    "step_lr_epoch": (lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5), "epoch", None),
    "one_cycle_step": (lambda opt: torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.2, total_steps=18), "step", None),
    # threshold 10: every epoch counts as "no improvement", so the LR halves each epoch
    "plateau": (
        lambda opt: torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5, threshold=10),
        "epoch",
        "train/loss",
    ),
}


@pytest.mark.parametrize("scheduler", SCHEDULERS)
@pytest.mark.parametrize("kind", KINDS)
def test_lr_schedulers_from_configure_optimizers(kind, scheduler, data_dir, tmp_path, monkeypatch):
    make, interval, monitor = SCHEDULERS[scheduler]
    if monitor and kind == "autoencoder":
        monitor = "train/mse"
    build, configure = with_scheduler(make, interval, monitor)
    monkeypatch.setattr(Control, "configure_optimizers", lambda self: configure(self.net))
    results = run_row(kind, data_dir, tmp_path, module_cls=build, max_epochs=3)
    assert len(set(results["ours"]["rec"].lrs)) > 1, "the learning rate never changed"
    assert_like_control(results, "LR scheduler")


@pytest.mark.parametrize("kind", KINDS)
def test_swa_reaches_swa_lrs(kind, data_dir, tmp_path):
    make = lambda: [callbacks.StochasticWeightAveraging(swa_lrs=0.05, swa_epoch_start=1, annealing_epochs=1)]
    results = run_row(kind, data_dir, tmp_path, make, max_epochs=3)
    assert results["ours"]["rec"].lrs[-1] == pytest.approx(0.05)
    assert_like_control(results, "StochasticWeightAveraging")


def tuned(kind, tmp_path, max_epochs, tune):
    """``tune(Tuner, model)`` on the control and on ours, each with a fresh bare Trainer."""
    torch.manual_seed(0)
    ours = KINDS[kind]()
    out = {}
    for name, model in (("control", Control(ours)), ("ours", ours)):
        trainer = Trainer(
            accelerator="cpu",
            max_epochs=max_epochs,
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            default_root_dir=tmp_path / name,
        )
        pl.seed_everything(7, verbose=False)
        out[name] = tune(tuner.Tuner(trainer), model)
    return out


@pytest.mark.parametrize("kind", KINDS)
def test_lr_find_suggests_like_the_control(kind, data_dir, tmp_path):
    suggestions = tuned(
        kind,
        tmp_path,
        10,
        lambda t, model: t.lr_find(
            model,
            datamodule=datamodule(data_dir, steps_per_execution=GROUP),
            num_training=20,
            min_lr=1e-4,
            max_lr=1.0,
            update_attr=False,
        ).suggestion(),
    )
    assert suggestions["ours"] is not None and math.isfinite(suggestions["ours"])
    assert suggestions["ours"] == pytest.approx(suggestions["control"], rel=0.5)


@pytest.mark.parametrize("kind", KINDS)
def test_scale_batch_size(kind, data_dir, tmp_path):
    def tune(t, model):
        dm = datamodule(data_dir, batch_size=2, steps_per_execution=GROUP)
        found = t.scale_batch_size(model, datamodule=dm, mode="power", max_trials=3, steps_per_trial=2)
        assert dm.batch_size == found
        return found

    found = tuned(kind, tmp_path, 1, tune)
    assert found["ours"] == found["control"] == 8  # 2, 4, 8: three trials


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "flags, steps, feature",
    [
        ({"overfit_batches": 2}, 2 * 2, "overfit_batches"),
        ({"limit_train_batches": 4, "limit_val_batches": 1}, 2 * 4, "limit_train_batches"),
        ({"limit_train_batches": 0.5}, 2 * 3, "limit_train_batches"),
        ({"val_check_interval": 2}, 2 * 6, "val_check_interval"),
        ({"fast_dev_run": True}, 1, "fast_dev_run"),
        ({"max_steps": 7}, 7, None),
    ],
)
def test_flags_that_count_batches(kind, flags, steps, feature, data_dir, tmp_path):
    results = run_row(kind, data_dir, tmp_path, **flags)
    assert results["ours"]["trainer"].global_step == steps
    assert_like_control(results, feature)
    if "val_check_interval" in flags:
        assert results["ours"]["rec"].val_steps == [2, 4, 6, 8, 10, 12]


@pytest.mark.parametrize("kind", KINDS)
def test_max_time_stops_the_run(kind, data_dir, tmp_path):
    torch.manual_seed(0)
    trainer, _, caught = fit(
        KINDS[kind](),
        data_dir,
        tmp_path,
        max_epochs=100_000,
        max_time={"seconds": 1},
        dm_kwargs={"steps_per_execution": GROUP},
    )
    assert 0 < trainer.current_epoch < 100_000
    assert any("Timer" in w for w in caught)


@pytest.mark.parametrize("kind", KINDS)
def test_early_stopping_and_checkpoints(kind, data_dir, tmp_path):
    monitor = "val/mse" if kind == "autoencoder" else "val/loss"

    def make():
        return [
            callbacks.EarlyStopping(monitor=monitor, patience=0, min_delta=10.0),  # stops after epoch 2
            callbacks.ModelCheckpoint(monitor=monitor, save_top_k=2, save_last=True, filename="{epoch}-{step}"),
        ]

    torch.manual_seed(0)
    model = KINDS[kind]()
    files = {}
    for name, m, dm_kwargs in (("ours", model, {}), ("grouped", copy.deepcopy(model), {"steps_per_execution": GROUP})):
        trainer, _, caught = fit(
            m, data_dir, tmp_path / name, make(), dm_kwargs, max_epochs=10, enable_checkpointing=True
        )
        assert trainer.current_epoch == 2 and not any("steps_per_execution" in w for w in caught)
        files[name] = sorted(p.name for p in (tmp_path / name).rglob("*.ckpt"))
    assert files["ours"] == files["grouped"] == ["epoch=0-step=6.ckpt", "epoch=1-step=12.ckpt", "last.ckpt"]


@pytest.mark.parametrize("kind", KINDS)
def test_checkpoint_every_n_train_steps(kind, data_dir, tmp_path):
    make = lambda: [callbacks.ModelCheckpoint(every_n_train_steps=4, save_top_k=-1, filename="{step}")]
    results = run_row(kind, data_dir, tmp_path, make, enable_checkpointing=True)
    assert_like_control(results, "ModelCheckpoint")
    for name in ("ours", "grouped"):
        assert sorted(p.name for p in (tmp_path / name).rglob("*.ckpt")) == [
            "step=12.ckpt",
            "step=4.ckpt",
            "step=8.ckpt",
        ]


@pytest.mark.parametrize("kind", KINDS)
def test_learning_rate_monitor(kind, data_dir, tmp_path):
    from lightning_mnist.backend import loggers

    build, _ = with_scheduler(lambda opt: torch.optim.lr_scheduler.StepLR(opt, 1, 0.5))
    logged = {}
    for interval in ("step", "epoch"):
        torch.manual_seed(0)
        _, _, _ = fit(
            build(kind),
            data_dir,
            tmp_path / interval,
            [callbacks.LearningRateMonitor(logging_interval=interval)],
            {"steps_per_execution": GROUP},
            logger=loggers.CSVLogger(tmp_path / interval),
            log_every_n_steps=1,
        )
        rows = (tmp_path / interval / "lightning_logs" / "version_0" / "metrics.csv").read_text().splitlines()
        logged[interval] = [r for r in rows[1:] if r.split(",")[rows[0].split(",").index("lr-SGD")]]
    assert len(logged["step"]) == 12 and len(logged["epoch"]) == 2


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("precision", ["32-true", "bf16-mixed"])
def test_precision(kind, precision, data_dir, tmp_path):
    results = run_row(kind, data_dir, tmp_path, precision=precision)
    if precision == "32-true":
        assert_like_control(results)
    else:  # bf16 products: close to the control, and grouping changes nothing
        torch.testing.assert_close(results["ours"]["weights"], results["control"]["weights"], atol=0.05, rtol=0.05)
        torch.testing.assert_close(results["grouped"]["weights"], results["ours"]["weights"])


@pytest.mark.parametrize("kind", KINDS)
def test_deterministic_runs_repeat(kind, data_dir, tmp_path):
    out = []
    for i in range(2):
        torch.manual_seed(0)
        model = KINDS[kind]()
        fit(model, data_dir, tmp_path / str(i), deterministic=True, dm_kwargs={"steps_per_execution": GROUP})
        out.append(weights(model))
    assert torch.equal(out[0], out[1])


@pytest.mark.parametrize("kind", KINDS)
def test_predict_load_from_checkpoint_onnx(kind, data_dir, tmp_path):
    torch.manual_seed(0)
    model = KINDS[kind]()
    trainer, _, _ = fit(model, data_dir, tmp_path, enable_checkpointing=True, max_epochs=1)
    dm = datamodule(data_dir)
    predictions = torch.cat(trainer.predict(model, datamodule=dm))
    dm.setup("predict")
    with torch.no_grad():
        expected = model(dm.test_set.x)
    expected = expected if kind == "autoencoder" else expected.argmax(dim=1)
    torch.testing.assert_close(predictions, expected)

    (path,) = (tmp_path).rglob("*.ckpt")
    loaded = type(model).load_from_checkpoint(path)
    assert torch.equal(weights(loaded), weights(model))
    assert dict(loaded.hparams) == dict(model.hparams)
    if "layers" in model.hparams:
        assert model.hparams_initial["layers"] == [{"width": 16, "activation": "relu", "dropout": 0.0}]

    pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    model.to_onnx(tmp_path / "model.onnx")
    assert (tmp_path / "model.onnx").stat().st_size > 0


@pytest.mark.parametrize("kind", KINDS)
def test_torch_compile(kind, data_dir, tmp_path):
    torch.manual_seed(0)
    model = KINDS[kind]()
    control = Control(model)
    fit(control, data_dir, tmp_path / "control")
    fit(torch.compile(model, backend="eager"), data_dir, tmp_path / "ours")
    torch.testing.assert_close(weights(model), weights(control), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("kind", ["mlp", "autoencoder"])
def test_foreign_modules_get_plain_batches(kind, data_dir, tmp_path):
    """Offered groups, a module that is not ours trains on ordinary (x, y) batches."""
    torch.manual_seed(0)
    control = Control(KINDS[kind]())
    offered = copy.deepcopy(control)
    fit(control, data_dir, tmp_path / "plain")
    trainer, _, caught = fit(offered, data_dir, tmp_path / "offered", dm_kwargs={"steps_per_execution": GROUP})
    assert trainer.global_step == 12 and not any("steps_per_execution" in w for w in caught)
    torch.testing.assert_close(weights(offered), weights(control), rtol=0, atol=0)


# --- through the CLI ------------------------------------------------------------------------


def cli_args(data_dir, tmp_path, *extra):
    return [
        "--config",
        "seed_mlp",
        "--data.data_dir",
        str(data_dir),
        "--data.verify_checksums",
        "false",
        "--data.batch_size",
        "16",
        "--data.eval_batch_size",
        "40",
        "--model.init_args.layers",
        "[{width: 16}]",
        "--trainer.logger.init_args.save_dir",
        str(tmp_path),
        "--trainer.enable_progress_bar",
        "false",
        "--trainer.max_epochs",
        "3",
        *extra,
    ]


@pytest.mark.parametrize("optimizer", [[], ["--optimizer", "SGD", "--optimizer.lr", "0.01"]])
def test_cli_lr_scheduler(optimizer, data_dir, tmp_path):
    """--lr_scheduler steps the LR by epoch: with --optimizer (Lightning's own) and without
    (the module's optimizer, which Lightning alone would leave unscheduled)."""
    from lightning_mnist.trainer_cli import build_cli

    cli = build_cli(
        cli_args(
            data_dir,
            tmp_path,
            *optimizer,
            "--lr_scheduler",
            "StepLR",
            "--lr_scheduler.step_size",
            "1",
            "--lr_scheduler.gamma",
            "0.5",
        ),
        run=False,
    )
    recorder = Recorder()
    cli.trainer.callbacks.append(recorder)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    assert recorder.lrs == pytest.approx([0.01] * 6 + [0.005] * 6 + [0.0025] * 6)
    assert any("steps_per_execution=64 not used (an LR scheduler" in str(w.message) for w in caught)


def test_cli_predict_writes_the_predictions(data_dir, tmp_path, monkeypatch, capsys):
    from lightning_mnist.trainer_cli import build_cli

    cli = build_cli(cli_args(data_dir, tmp_path, "--trainer.max_epochs", "1"), run=False)
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    (ckpt,) = [p for p in tmp_path.rglob("*.ckpt") if not p.is_symlink()]  # last.ckpt links to it
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    build_cli(["predict", *cli_args(data_dir, tmp_path / "predict"), "--ckpt_path", str(ckpt)])
    (path,) = (tmp_path / "predict").rglob("predictions.pt")
    predicted = torch.load(path)
    dm = datamodule(data_dir)
    dm.setup("predict")
    model = MLPClassifier.load_from_checkpoint(ckpt).eval()
    with torch.no_grad():
        assert torch.equal(predicted, model(dm.test_set.x).argmax(dim=1))
    assert "40 predictions written to" in capsys.readouterr().out


# --- 2 CPU processes under DDP -----------------------------------------------------------------

DDP_SCRIPT = """
import sys, copy
sys.path.insert(0, sys.argv[3])
import torch
from lightning_mnist.backend import Trainer, pl
from tests.lightning_mnist.models.test_trainer_features import KINDS, GROUP, Control, datamodule, weights

data_dir, out = sys.argv[1], sys.argv[2]
for kind in KINDS:
    torch.manual_seed(0)
    ours = KINDS[kind]()
    runs = {"control": (Control(ours), {}), "ours": (ours, {}),
            "grouped": (copy.deepcopy(ours), {"steps_per_execution": GROUP})}
    for name, (model, dm_kwargs) in runs.items():
        trainer = Trainer(accelerator="cpu", devices=2, strategy="ddp", max_epochs=2, logger=False,
                          enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                          default_root_dir=out)
        pl.seed_everything(7, verbose=False)
        trainer.fit(model, datamodule=datamodule(data_dir, **dm_kwargs))
        torch.save({"weights": weights(model), "steps": trainer.global_step,
                    "grouped": getattr(model, "grouped_steps", 1)},
                   f"{out}/{kind}-{name}-rank{trainer.global_rank}.pt")
"""


def test_two_process_ddp_matches_the_control(data_dir, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = tmp_path / "ddp_matrix.py"
    script.write_text(DDP_SCRIPT)
    env = {k: v for k, v in os.environ.items() if k not in ("LOCAL_RANK", "RANK", "WORLD_SIZE", "MASTER_PORT")}
    env["OMP_NUM_THREADS"] = "1"
    repo = str(Path(__file__).resolve().parents[3])
    proc = subprocess.run(
        [sys.executable, str(script), str(data_dir), str(tmp_path), repo],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for kind in KINDS:
        runs = {
            (name, rank): torch.load(tmp_path / f"{kind}-{name}-rank{rank}.pt")
            for name in ("control", "ours", "grouped")
            for rank in (0, 1)
        }
        assert runs[("grouped", 0)]["grouped"] == GROUP  # grouped steps are taken under DDP
        control = runs[("control", 0)]
        assert control["steps"] == 2 * 3  # 96 images over 2 ranks, batches of 16
        for (name, rank), run in runs.items():
            assert run["steps"] == control["steps"], (kind, name, rank)
            torch.testing.assert_close(
                run["weights"], control["weights"], atol=1e-5, rtol=1e-4, msg=f"{kind} {name} rank {rank}"
            )


@pytest.mark.parametrize(
    "first, then, raises",
    [
        ({}, {"steps_per_execution": GROUP}, False),  # a textbook checkpoint resumes the textbook way
        ({"steps_per_execution": GROUP}, {"steps_per_execution": GROUP}, False),
        ({"steps_per_execution": GROUP}, {}, True),  # Lightning would restart global_step at 0
    ],
)
def test_resume_keeps_the_step_count(first, then, raises, data_dir, tmp_path):
    from lightning_mnist.errors import ResumeError

    torch.manual_seed(0)
    fit(KINDS["mlp"](), data_dir, tmp_path / "a", dm_kwargs=first, max_epochs=1, enable_checkpointing=True)
    (ckpt,) = (tmp_path / "a").rglob("*.ckpt")
    trainer = Trainer(
        accelerator="cpu",
        max_epochs=2,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path / "b",
    )
    model = KINDS["mlp"]()
    if raises:
        with pytest.raises(ResumeError, match="trained with grouped steps"):
            trainer.fit(model, datamodule=datamodule(data_dir, **then), ckpt_path=ckpt)
        return
    trainer.fit(model, datamodule=datamodule(data_dir, **then), ckpt_path=ckpt)
    assert trainer.global_step == 12


def test_a_second_fit_starts_the_textbook_way(data_dir, tmp_path):
    """The grouped mode of one fit does not leak into the next (Lightning would refuse clipping)."""
    model = KINDS["mlp"]()
    fit(model, data_dir, tmp_path / "a", dm_kwargs={"steps_per_execution": GROUP})
    assert model.grouped_steps == GROUP
    trainer, recorder, _ = fit(
        model, data_dir, tmp_path / "b", gradient_clip_val=0.01, dm_kwargs={"steps_per_execution": GROUP}
    )
    assert model.grouped_steps == 1 and trainer.global_step == 12
    assert max(recorder.grad_norms) <= 0.01 + 1e-6


@pytest.mark.parametrize("kind", KINDS)
def test_logger_steps_count_minibatches(kind, data_dir, tmp_path):
    """The loggers' x-axis: the same steps with grouped steps as without."""
    from lightning_mnist.backend import loggers

    rows = {}
    for name, dm_kwargs in (("ours", {}), ("grouped", {"steps_per_execution": GROUP})):
        torch.manual_seed(0)
        model = KINDS[kind]()
        fit(model, data_dir, tmp_path, dm_kwargs=dm_kwargs, logger=loggers.CSVLogger(tmp_path, name=name), max_epochs=3)
        assert model.grouped_steps == (GROUP if name == "grouped" else 1)
        lines = (tmp_path / name / "version_0" / "metrics.csv").read_text().splitlines()
        rows[name] = [line.split(",")[:2] for line in lines]  # epoch, step
    assert rows["grouped"] == rows["ours"]
    assert rows["ours"][-1] == ["2", "17"]
