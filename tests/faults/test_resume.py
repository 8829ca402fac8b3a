"""A fit stopped by SIGTERM and resumed from its ``interrupted.ckpt`` ends exactly where the
uninterrupted fit ends: same weights, global step, optimizer state and final-epoch metrics,
grouped and textbook, dropout and NumPy / Python random numbers included.

SIGTERM is sent by the process to itself from a hook, after a chosen optimizer step or during
validation, so each interruption point is exact; Lightning's own handler turns it into
SIGTERMException at the end of that Lightning step, and ``SaveOnSigterm`` writes the checkpoint.
"""

from __future__ import annotations

import gzip
import random
import signal
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from lightning_mnist import Layer, MLPClassifier, MNISTDataModule
from lightning_mnist.backend import Callback, SIGTERMException, Trainer, callbacks
from lightning_mnist.checkpoints import INTERRUPTED_NAME, SaveOnSigterm
from lightning_mnist.data.datasets import SPLITS

N_TRAIN, BATCH, GROUP, EPOCHS = 200, 16, 4, 2
STEPS = -(-N_TRAIN // BATCH)  # 13 optimizer steps an epoch: groups of 4, 4, 4 and 1


def idx_file(array: np.ndarray) -> bytes:
    dims = b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return bytes([0, 0, 8, array.ndim]) + dims + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """A tiny MNIST-layout data set: 200 training and 60 test images of learnable fake digits."""
    folder = tmp_path_factory.mktemp("tiny")
    rng = np.random.default_rng(0)
    for split, n in (("train", N_TRAIN), ("test", 60)):
        labels = rng.integers(0, 10, size=n).astype(np.uint8)
        images = rng.integers(0, 60, size=(n, 28, 28)).astype(np.uint8)
        images[np.arange(n), 2 + 2 * labels.astype(np.int64)] = 220
        images_stem, labels_stem = SPLITS[split]
        (folder / f"{images_stem}.gz").write_bytes(gzip.compress(idx_file(images), mtime=0))
        (folder / labels_stem).write_bytes(idx_file(labels))
    return folder


class NoisyMLP(MLPClassifier):
    """Dropout draws from torch's generator; the loss is also scaled by NumPy and Python draws,
    so the weights depend on all three streams."""

    def training_loss(self, batch):
        return super().training_loss(batch) * (1 + 1e-3 * (np.random.rand() + random.random()))


def model() -> NoisyMLP:
    return NoisyMLP([Layer(32, "relu", 0.2), Layer(32, "tanh", 0.1)], optimizer="adadelta")


class SigtermAt(Callback):
    """Sends SIGTERM to this process after optimizer step ``step`` (1-based, counted over the
    fit), or during validation of epoch ``val_epoch``. ``on_before_optimizer_step`` and
    ``on_validation_epoch_end`` keep grouped steps (both see the same either way)."""

    def __init__(self, step: int | None = None, val_epoch: int | None = None) -> None:
        self.step, self.val_epoch, self.steps = step, val_epoch, 0

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        self.steps += 1
        if self.steps == self.step:
            signal.raise_signal(signal.SIGTERM)

    def on_validation_epoch_end(self, trainer, pl_module) -> None:
        if not trainer.sanity_checking and trainer.current_epoch == self.val_epoch:
            signal.raise_signal(signal.SIGTERM)


def noise(x: torch.Tensor) -> torch.Tensor:
    """A random transform (augmentation): drawn while Lightning fetches a batch ahead."""
    return x + 0.05 * torch.randn_like(x)


def fit(data_dir: Path, root: Path, group: int, ckpt_path=None, stop: SigtermAt | None = None, **data) -> Trainer:
    """One fit as the CLI sets it up (SaveOnSigterm, a ModelCheckpoint keeping last.ckpt), seeded
    as the CLI seeds it; a resumed fit starts from other random states, as a new process would."""
    seed = 1337 if ckpt_path is None else 99
    torch.manual_seed(seed), np.random.seed(seed), random.seed(seed)
    trainer = Trainer(
        max_epochs=EPOCHS,
        accelerator="cpu",
        devices=1,
        deterministic=True,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=root,
        callbacks=[
            SaveOnSigterm(),
            callbacks.ModelCheckpoint(dirpath=root / "checkpoints", save_last="link"),
            *([stop] if stop else []),
        ],
    )
    datamodule = MNISTDataModule(
        data_dir=str(data_dir), batch_size=BATCH, eval_batch_size=60, val_split="test",
        verify_checksums=False, steps_per_execution=group, **data,
    )  # fmt: skip
    trainer.fit(model(), datamodule=datamodule, ckpt_path=ckpt_path)
    return trainer


def interrupted_then_resumed(data_dir: Path, root: Path, group: int, stop: SigtermAt) -> Trainer:
    with pytest.raises(SIGTERMException):
        fit(data_dir, root / "interrupted", group, stop=stop)
    ckpt = root / "interrupted" / "checkpoints" / INTERRUPTED_NAME
    assert ckpt.is_file()
    with warnings.catch_warnings():
        # Lightning's "your dataloader is not resumable", or ours for a checkpoint without position
        warnings.filterwarnings("error", message="(You.re resuming|resuming after training batch)")
        return fit(data_dir, root / "resumed", group, ckpt_path=ckpt)


def flat(value, prefix: str = "") -> dict:
    """A nested state (dicts, lists, tensors, numbers) as {path: leaf}."""
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in flat(item, f"{prefix}/{key}").items()}
    if isinstance(value, (list, tuple)):
        return {k: v for i, item in enumerate(value) for k, v in flat(item, f"{prefix}/{i}").items()}
    return {prefix: value}


def assert_same_run(got: Trainer, want: Trainer) -> None:
    assert got.global_step == want.global_step
    assert got.current_epoch == want.current_epoch == EPOCHS
    for name, states in (
        ("weights", (got.lightning_module.state_dict(), want.lightning_module.state_dict())),
        ("optimizer", (got.optimizers[0].state_dict(), want.optimizers[0].state_dict())),
        ("metrics", (dict(got.callback_metrics), dict(want.callback_metrics))),
    ):
        a, b = (flat(s) for s in states)
        assert a.keys() == b.keys(), name
        for key in a:
            same = torch.equal(a[key], b[key]) if isinstance(a[key], torch.Tensor) else a[key] == b[key]
            assert same, f"{name} {key} differs"


@pytest.fixture(scope="module")
def uninterrupted(data_dir, tmp_path_factory) -> dict[int, Trainer]:
    """The reference fits, textbook (1) and grouped (GROUP); two are bit-identical."""
    runs = {group: fit(data_dir, tmp_path_factory.mktemp(f"straight{group}"), group) for group in (1, GROUP)}
    assert runs[1].global_step == runs[GROUP].global_step == EPOCHS * STEPS
    assert runs[GROUP].lightning_module.grouped_steps == GROUP and runs[1].lightning_module.grouped_steps == 1
    return runs


POINTS = {
    "first step": {"step": 1},
    "mid-epoch": {"step": 6},
    "before the last step of an epoch": {"step": STEPS - 1},
    "at the last step of an epoch": {"step": STEPS},
    "during validation (epoch boundary)": {"val_epoch": 0},
    "mid-epoch of the last epoch": {"step": STEPS + 9},
}


@pytest.mark.parametrize("group", [1, GROUP], ids=["textbook", "grouped"])
@pytest.mark.parametrize("point", POINTS)
def test_a_fit_resumed_from_interrupted_ckpt_ends_bit_identical(point, group, uninterrupted, data_dir, tmp_path):
    resumed = interrupted_then_resumed(data_dir, tmp_path, group, SigtermAt(**POINTS[point]))
    assert resumed.lightning_module.grouped_steps == group
    assert_same_run(resumed, uninterrupted[group])


def test_the_interruption_points_are_inside_and_between_epochs(data_dir, tmp_path):
    """Where each point stops, in Lightning steps (groups of GROUP minibatches or single ones)."""
    where = {}
    for point, at in POINTS.items():
        with pytest.raises(SIGTERMException):
            fit(data_dir, tmp_path / point, 1, stop=SigtermAt(**at))
        state = torch.load(tmp_path / point / "checkpoints" / INTERRUPTED_NAME, weights_only=True)
        where[point] = (state["epoch"], state["global_step"])
    assert where == {
        "first step": (0, 1),
        "mid-epoch": (0, 6),
        "before the last step of an epoch": (0, STEPS - 1),
        "at the last step of an epoch": (1, STEPS),
        "during validation (epoch boundary)": (1, STEPS),
        "mid-epoch of the last epoch": (1, STEPS + 9),
    }


def test_a_resume_twice_in_one_epoch_is_still_exact(uninterrupted, data_dir, tmp_path):
    """A resumed fit interrupted again inside the same epoch saves a position that counts the
    batches before the first interruption too."""
    with pytest.raises(SIGTERMException):
        fit(data_dir, tmp_path / "a", GROUP, stop=SigtermAt(step=2))
    with pytest.raises(SIGTERMException):
        fit(data_dir, tmp_path / "b", GROUP, tmp_path / "a" / "checkpoints" / INTERRUPTED_NAME, SigtermAt(step=5))
    resumed = fit(data_dir, tmp_path / "c", GROUP, tmp_path / "b" / "checkpoints" / INTERRUPTED_NAME)
    assert_same_run(resumed, uninterrupted[GROUP])


def test_last_ckpt_resumes_exactly_too(uninterrupted, data_dir, tmp_path):
    """The end-of-epoch last.ckpt (saved after validation, inside the epoch's last step)."""
    with pytest.raises(SIGTERMException):
        fit(data_dir, tmp_path / "a", 1, stop=SigtermAt(step=STEPS + 3))
    resumed = fit(data_dir, tmp_path / "b", 1, tmp_path / "a" / "checkpoints" / "last.ckpt")
    assert_same_run(resumed, uninterrupted[1])


@pytest.mark.parametrize("step", [6, STEPS])
def test_a_random_transform_resumes_exactly_too(step, data_dir, tmp_path):
    """The batch fetched ahead of the checkpoint was transformed before it: it is transformed
    again from the random state recorded before that fetch (textbook: a transform declines groups)."""
    straight = fit(data_dir, tmp_path / "straight", 1, transform=noise)
    with pytest.raises(SIGTERMException):
        fit(data_dir, tmp_path / "a", 1, stop=SigtermAt(step=step), transform=noise)
    resumed = fit(data_dir, tmp_path / "b", 1, tmp_path / "a" / "checkpoints" / INTERRUPTED_NAME, transform=noise)
    assert_same_run(resumed, straight)


@pytest.mark.parametrize("step", [6, STEPS])
def test_a_fit_with_a_worker_process_resumes_exactly_too(step, data_dir, tmp_path):
    """With workers (persistent, so no new iterator and no seed drawn per epoch)."""
    straight = fit(data_dir, tmp_path / "straight", GROUP, num_workers=1)
    with pytest.raises(SIGTERMException):
        fit(data_dir, tmp_path / "a", GROUP, stop=SigtermAt(step=step), num_workers=1)
    resumed = fit(data_dir, tmp_path / "b", GROUP, tmp_path / "a" / "checkpoints" / INTERRUPTED_NAME, num_workers=1)
    assert_same_run(resumed, straight)


def test_a_mid_epoch_resume_with_another_group_size_is_refused(data_dir, tmp_path):
    from lightning_mnist.errors import ResumeError

    with pytest.raises(SIGTERMException):
        fit(data_dir, tmp_path / "a", GROUP, stop=SigtermAt(step=6))
    with pytest.raises(ResumeError, match="same batch_size and steps_per_execution"):
        fit(data_dir, tmp_path / "b", GROUP + 1, tmp_path / "a" / "checkpoints" / INTERRUPTED_NAME)


def test_a_mid_epoch_checkpoint_without_the_position_resumes_with_a_warning(data_dir, tmp_path):
    """A checkpoint saved inside an epoch before the position was recorded (as older releases
    wrote ``interrupted.ckpt``) cannot resume exactly: the user is told, not silently misled."""
    with pytest.raises(SIGTERMException):
        fit(data_dir, tmp_path / "a", 1, stop=SigtermAt(step=6))
    ckpt = tmp_path / "a" / "checkpoints" / INTERRUPTED_NAME
    state = torch.load(ckpt, weights_only=True)
    del state["loops"]["fit_loop"]["state_dict"]["combined_loader"], state["MNISTDataModule"]
    torch.save(state, tmp_path / "old.ckpt")
    with pytest.warns(UserWarning, match="resuming after training batch 6 of 13 from a checkpoint without"):
        fit(data_dir, tmp_path / "b", 1, tmp_path / "old.ckpt")


def test_the_random_state_survives_a_weights_only_checkpoint(tmp_path):
    from lightning_mnist.data.resume import restore_rng, rng_state

    torch.manual_seed(1), np.random.seed(2), random.seed(3)
    np.random.randn()  # a cached Gaussian in NumPy's state too
    torch.save({"rng": rng_state()}, tmp_path / "rng.pt")
    want = torch.rand(3), np.random.rand(3), [random.random() for _ in range(3)], np.random.randn()
    restore_rng(torch.load(tmp_path / "rng.pt", weights_only=True)["rng"])
    got = torch.rand(3), np.random.rand(3), [random.random() for _ in range(3)], np.random.randn()
    assert torch.equal(got[0], want[0]) and np.array_equal(got[1], want[1]) and got[2:] == want[2:]


STOP_CALLBACK = """
import signal
from lightning_mnist.backend import Callback

class Stop(Callback):
    steps = 0

    def on_before_optimizer_step(self, trainer, pl_module, optimizer):
        self.steps += 1
        if self.steps == 6:
            signal.raise_signal(signal.SIGTERM)
"""


# seed_mlp with dropout: a config that names the model's class.
SEED_MLP = ("seed_mlp", "--model.init_args.layers", "[{width: 64, activation: relu, dropout: 0.2}]")


def cli_fit(data_dir: Path, runs: Path, *extra: str, monkeypatch, config: tuple[str, ...] = SEED_MLP) -> int:
    """``lightning-mnist fit --config CONFIG`` (default seed_mlp, dropout), grouped, on the tiny set, here."""
    from lightning_mnist import cli

    monkeypatch.setattr(sys, "argv", ["lightning-mnist"])
    args = ["fit", "--config", *config, "--data.data_dir", str(data_dir), "--data.verify_checksums", "false",
            "--data.batch_size", str(BATCH), "--data.steps_per_execution", str(GROUP), "--data.eval_batch_size", "60",
            "--trainer.max_epochs", str(EPOCHS), "--trainer.logger.init_args.save_dir", str(runs),
            "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false",
            "--trainer.accelerator", "cpu", "--test_after_fit", "false", *extra]  # fmt: skip
    try:
        cli.main(args)
    except SystemExit as exit:
        return exit.code
    return 0


def test_the_cli_resumes_a_sigtermed_grouped_fit_exactly(data_dir, tmp_path, monkeypatch, capsys):
    """The reported case: a shipped config, grouped steps, SIGTERM inside the first epoch,
    ``fit --ckpt_path .../interrupted.ckpt``: the same final checkpoint and metrics."""
    cli_interrupted_and_resumed_ends_as_straight(data_dir, tmp_path, SEED_MLP, monkeypatch, capsys)


@pytest.mark.parametrize(
    "config",
    [("seed_dropout",), ("width", "--model.init_args.width", "32"), ("depth_rmsprop", "--model.init_args.depth", "2")],
    ids=["seed_dropout", "width", "depth_rmsprop"],
)
def test_the_cli_resumes_a_sigtermed_fit_of_a_preset_config_exactly(config, data_dir, tmp_path, monkeypatch, capsys):
    """Configs whose model a preset function builds (``models.presets``): the checkpoint's
    hyperparameters are the built MLPClassifier's, not the function's, and still resume it."""
    cli_interrupted_and_resumed_ends_as_straight(data_dir, tmp_path, config, monkeypatch, capsys)


def cli_interrupted_and_resumed_ends_as_straight(data_dir, tmp_path, config, monkeypatch, capsys) -> None:
    """Fit ``config`` straight; fit it again, SIGTERM'd after 6 optimizer steps, and resume that
    from ``interrupted.ckpt``: the same global step, weights, optimizer state and final metrics."""
    name = config[0]
    (tmp_path / "stop_cb.py").write_text(STOP_CALLBACK)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert cli_fit(data_dir, tmp_path / "straight", monkeypatch=monkeypatch, config=config) == 0
    stop = "--trainer.callbacks+=stop_cb.Stop"
    assert cli_fit(data_dir, tmp_path / "runs", stop, monkeypatch=monkeypatch, config=config) == 143
    ckpt = tmp_path / "runs" / name / "version_0" / "checkpoints" / INTERRUPTED_NAME
    assert f"resume with --ckpt_path {ckpt}" in capsys.readouterr().err
    code = cli_fit(data_dir, tmp_path / "runs", "--ckpt_path", str(ckpt), monkeypatch=monkeypatch, config=config)
    assert code == 0, capsys.readouterr().err[-2000:]
    want, got = (
        torch.load(next((tmp_path / root).rglob("last.ckpt")), weights_only=True)
        for root in ("straight", f"runs/{name}/version_1")
    )
    assert got["global_step"] == want["global_step"] == EPOCHS * STEPS
    for key in ("state_dict", "optimizer_states"):
        a, b = flat(got[key]), flat(want[key])
        assert a.keys() == b.keys() and all(
            torch.equal(a[k], b[k]) if isinstance(a[k], torch.Tensor) else a[k] == b[k] for k in a
        ), key
    rows = [
        (tmp_path / root / "metrics.csv").read_text().splitlines()
        for root in (f"straight/{name}/version_0", f"runs/{name}/version_1")
    ]
    assert rows[0][0] == rows[1][0] and rows[0][-1] == rows[1][-1]  # the header and the final epoch's row


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
