"""Autoencoders (cells 19-22, 33-34): the module, checkpoints, reconstructions, frozen encoder, figure, CLI."""

from __future__ import annotations

import math
from dataclasses import asdict
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import lightning_mnist.data.reconstructed as reconstructions
from lightning_mnist import (
    Autoencoder,
    AutoencoderCheckpointError,
    AutoencoderCheckpointNotFoundError,
    DataError,
    EncoderClassifier,
    Layer,
    MLPClassifier,
    MNISTDataModule,
    ReconstructedDataModule,
    load_autoencoder,
    reconstruct,
)
from lightning_mnist.backend import Callback, pl
from lightning_mnist.models.presets import CELL18_LAYERS, seed_dropout
from lightning_mnist.study.figures import main as figures_main
from lightning_mnist.study.figures import reconstruction_grid

N_TRAIN, N_TEST = 256, 100


def tiny_dm(data_dir, cls=MNISTDataModule, **kwargs):
    kwargs.setdefault("batch_size", 64)
    kwargs.setdefault("eval_batch_size", 30)  # 100 test images: batches of 30, 30, 30, 10
    if "val_size" not in kwargs:
        kwargs.setdefault("val_split", "test")  # the whole training split, as the notebook
    return cls(data_dir=str(data_dir), verify_checksums=False, **kwargs)


def trainer(root, max_epochs: int = 1, **kwargs) -> pl.Trainer:
    kwargs.setdefault("logger", False)
    kwargs.setdefault("enable_checkpointing", False)
    return pl.Trainer(
        max_epochs=max_epochs,
        accelerator="cpu",
        devices=1,
        deterministic=True,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=root,
        **kwargs,
    )


@pytest.fixture(scope="module")
def tiny_dir(helpers, tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("tiny")
    helpers.write_tiny(data, n_train=N_TRAIN, n_test=N_TEST)
    return data


def fit_and_save(model, data_dir, path: Path, epochs: int = 2) -> Path:
    t = trainer(path.parent, epochs)
    t.fit(model, datamodule=tiny_dm(data_dir))
    t.save_checkpoint(path)
    return path


@pytest.fixture(scope="module")
def ckpts(tiny_dir, tmp_path_factory) -> SimpleNamespace:
    """Trained checkpoints: sigmoid and linear autoencoders, a 16-d one and an MLPClassifier."""
    root = tmp_path_factory.mktemp("ckpts")
    pl.seed_everything(0)
    return SimpleNamespace(
        sigmoid=fit_and_save(Autoencoder(optimizer="adam"), tiny_dir, root / "sigmoid.ckpt"),
        linear=fit_and_save(Autoencoder(decoder="linear", optimizer="adam"), tiny_dir, root / "linear.ckpt"),
        code16=fit_and_save(Autoencoder(code_size=16), tiny_dir, root / "code16.ckpt", epochs=1),
        mlp=fit_and_save(MLPClassifier([Layer(8)]), tiny_dir, root / "mlp.ckpt", epochs=1),
    )


def originals(data_dir) -> MNISTDataModule:
    dm = tiny_dm(data_dir)
    dm.setup("fit")
    return dm


# ---------------------------------------------------------------------------------------
# Autoencoder
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("decoder, activation", [("sigmoid", nn.Sigmoid), ("linear", nn.Identity)])
def test_autoencoder_has_the_notebooks_layers_and_keras1_defaults(decoder, activation):
    torch.manual_seed(0)
    model = Autoencoder(decoder=decoder)
    assert [type(m) for m in model.encoder] == [nn.Linear, nn.ReLU]
    assert [type(m) for m in model.decoder] == [nn.Linear, activation]
    assert model.encoder[0].weight.shape == (32, 784) and model.decoder[0].weight.shape == (784, 32)
    for linear in (model.encoder[0], model.decoder[0]):
        limit = math.sqrt(6 / sum(linear.weight.shape))  # glorot uniform
        assert 0.95 * limit < linear.weight.abs().max() <= limit
        assert torch.count_nonzero(linear.bias) == 0
    opt = model.configure_optimizers()
    assert type(opt) is torch.optim.Adadelta
    assert (opt.defaults["lr"], opt.defaults["rho"], opt.defaults["eps"]) == (1.0, 0.95, 1e-8)


def test_encode_decode_and_forward_shapes():
    model = Autoencoder(code_size=8)
    flat, images = torch.rand(5, 784), torch.rand(5, 1, 28, 28)
    assert model.encode(flat).shape == (5, 8) and model.encode(images).shape == (5, 8)
    assert model.decode(model.encode(flat)).shape == (5, 784)
    assert model(images).shape == images.shape
    assert torch.equal(model(images).flatten(1), model(images.flatten(1)))
    out = model(flat)
    assert (out > 0).all() and (out < 1).all()  # sigmoid
    assert (model.encode(flat) >= 0).all()  # relu code


def test_loss_is_keras_mean_squared_error():
    """Keras' mean_squared_error: mean over pixels, then over the batch."""
    model = Autoencoder()
    x = torch.rand(7, 784)
    loss = model._loss(x)
    reference = ((model(x).detach().numpy() - x.numpy()) ** 2).mean(axis=1).mean()
    assert loss.item() == pytest.approx(reference, rel=1e-6)


def test_training_lowers_the_mse_and_logs_it_per_stage(tiny_dir, tmp_path):
    pl.seed_everything(0)
    model = Autoencoder(optimizer="adam")
    t = trainer(tmp_path, 1)
    (before,) = t.test(model, datamodule=tiny_dm(tiny_dir), verbose=False)
    t = trainer(tmp_path, 4)
    t.fit(model, datamodule=tiny_dm(tiny_dir))
    assert {"train/mse", "val/mse"} <= set(t.callback_metrics)
    (after,) = t.test(model, datamodule=tiny_dm(tiny_dir), verbose=False)
    assert after["test/mse"] < 0.7 * before["test/mse"]


@pytest.mark.parametrize("wrap", [lambda x: TensorDataset(x), lambda x: x])  # (x,) batches; bare x
def test_autoencoder_trains_on_unlabeled_images(tmp_path, wrap):
    x = torch.rand(96, 784, generator=torch.Generator().manual_seed(0))
    pl.seed_everything(0)
    model = Autoencoder(optimizer="adam")
    before = float(model._loss(x))
    trainer(tmp_path, 3).fit(model, train_dataloaders=DataLoader(wrap(x), batch_size=32))
    assert float(model._loss(x)) < before
    (predicted,) = trainer(tmp_path).predict(model, DataLoader(wrap(x), batch_size=96))
    assert predicted.shape == x.shape


def test_test_mse_is_the_exact_mean_over_every_pixel(tiny_dir, tmp_path, ckpts):
    model = load_autoencoder(ckpts.sigmoid)
    (result,) = trainer(tmp_path).test(model, datamodule=tiny_dm(tiny_dir), verbose=False)
    x = originals(tiny_dir).test_set.x
    with torch.no_grad():
        expected = torch.nn.functional.mse_loss(model(x), x).item()  # uneven batches weigh by size
    assert result["test/mse"] == pytest.approx(expected, rel=1e-5)


def test_divergence_stops_the_autoencoder(tiny_dir, tmp_path):
    from lightning_mnist import DivergenceError

    with pytest.raises(DivergenceError, match="diverged"):
        trainer(tmp_path, 3).fit(Autoencoder(decoder="linear", optimizer="sgd", lr=1e30), datamodule=tiny_dm(tiny_dir))


# ---------------------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------------------


def test_load_autoencoder_restores_weights_and_decoder(ckpts):
    linear = load_autoencoder(ckpts.linear)
    assert linear.hparams.decoder == "linear" and isinstance(linear.decoder[1], nn.Identity)
    assert not linear.training
    state = torch.load(ckpts.linear, weights_only=True)["state_dict"]
    for name, value in linear.state_dict().items():
        assert torch.equal(value, state[name]), name
    assert load_autoencoder(ckpts.code16).code_size == 16


def test_missing_checkpoint_is_a_clear_file_not_found_error(tmp_path):
    path = tmp_path / "nowhere" / "ae.ckpt"
    with pytest.raises(AutoencoderCheckpointNotFoundError) as info:
        load_autoencoder(path)
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, ValueError)
    assert isinstance(info.value, DataError)
    assert str(path) in str(info.value) and "lightning-mnist fit --config autoencoder" in str(info.value)


def test_checkpoint_of_another_module_is_rejected(ckpts):
    with pytest.raises(AutoencoderCheckpointError, match=r"mlp\.ckpt.*not an Autoencoder checkpoint.*hidden\.0"):
        load_autoencoder(ckpts.mlp)


def test_unreadable_file_is_rejected(tmp_path):
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(AutoencoderCheckpointError, match=r"junk\.ckpt.*cannot be read"):
        load_autoencoder(junk)
    plain = tmp_path / "plain.ckpt"
    torch.save({"weights": torch.zeros(3)}, plain)
    with pytest.raises(AutoencoderCheckpointError, match="no Lightning state_dict"):
        load_autoencoder(plain)


def test_code_size_mismatch_is_rejected(ckpts):
    with pytest.raises(AutoencoderCheckpointError, match=r"code16\.ckpt.*code_size=16, but 32 is needed"):
        load_autoencoder(ckpts.code16, code_size=32)


# ---------------------------------------------------------------------------------------
# Reconstructions (cell 22)
# ---------------------------------------------------------------------------------------


def test_reconstruct_batches_like_one_pass_and_restores_the_module(ckpts):
    model = load_autoencoder(ckpts.sigmoid).train()
    x = torch.rand(23, 1, 28, 28)
    out = reconstruct(model, x, batch_size=5)
    assert out.shape == x.shape and out.device == x.device and not out.requires_grad
    with torch.no_grad():
        torch.testing.assert_close(out, model(x))
    assert model.training  # left in the mode it came in


def test_reconstructed_datamodule_swaps_only_the_training_images(tiny_dir, ckpts, monkeypatch):
    seen = []
    real = reconstructions.reconstruct

    def spy(autoencoder, x, batch_size, device):
        seen.append((device, batch_size))
        return real(autoencoder, x, batch_size, "cpu")

    monkeypatch.setattr(reconstructions, "reconstruct", spy)
    orig = originals(tiny_dir)
    dm = tiny_dm(tiny_dir, ReconstructedDataModule, autoencoder_ckpt=str(ckpts.sigmoid), reconstruction_batch_size=100)
    device = torch.device("cpu", 0)  # a device of the Trainer's choosing, told apart from the default
    dm.trainer = SimpleNamespace(strategy=SimpleNamespace(root_device=device), world_size=1, global_rank=0)
    dm.setup("fit")
    dm.setup("fit")  # computed once
    assert seen == [(device, 100)] and dm.reconstruction_device == device
    expected = reconstruct(load_autoencoder(ckpts.sigmoid), orig.train_set.x)
    torch.testing.assert_close(dm.train_set.x, expected)
    assert torch.equal(dm.train_set.y, orig.train_set.y)
    assert not torch.allclose(dm.train_set.x, orig.train_set.x, atol=1e-2)
    assert torch.equal(dm.val_set.x, orig.test_set.x) and torch.equal(dm.test_set.x, orig.test_set.x)


def test_reconstructed_datamodule_keeps_held_out_and_test_images_original(tiny_dir, ckpts):
    dm = tiny_dm(tiny_dir, ReconstructedDataModule, autoencoder_ckpt=str(ckpts.sigmoid), val_size=50, flatten=False)
    ref = tiny_dm(tiny_dir, val_size=50, flatten=False)
    ref.setup("fit")
    dm.setup("test")
    assert not dm.reconstructed  # testing needs no reconstructions
    dm.setup("fit")
    assert dm.train_set.x.shape == (N_TRAIN - 50, 1, 28, 28)
    assert torch.equal(dm.val_set.x, ref.val_set.x) and torch.equal(dm.test_set.x, ref.test_set.x)
    assert not torch.equal(dm.train_set.x, ref.train_set.x)


def test_seed_dropout_trains_on_reconstructions_and_tests_on_originals(tiny_dir, ckpts, tmp_path):
    pl.seed_everything(0)
    dm = tiny_dm(tiny_dir, ReconstructedDataModule, autoencoder_ckpt=str(ckpts.sigmoid))
    model = seed_dropout()
    t = trainer(tmp_path, 1)
    t.fit(model, datamodule=dm)
    (result,) = t.test(model, datamodule=dm, verbose=False)
    assert 0 <= result["test/acc"] <= 1 and dm.reconstructed
    with torch.no_grad():
        expected = (model.eval()(originals(tiny_dir).test_set.x).argmax(1) == dm.test_set.y).float().mean()
    assert result["test/acc"] == pytest.approx(expected.item())


@pytest.mark.parametrize("bad", ["missing", "mlp"])
def test_reconstructed_datamodule_reports_a_bad_checkpoint_at_setup(tiny_dir, ckpts, tmp_path, bad):
    path = tmp_path / "missing.ckpt" if bad == "missing" else ckpts.mlp
    dm = tiny_dm(tiny_dir, ReconstructedDataModule, autoencoder_ckpt=str(path))
    with pytest.raises(AutoencoderCheckpointError, match=str(path.name)):
        dm.setup("fit")


# ---------------------------------------------------------------------------------------
# EncoderClassifier (cell 34)
# ---------------------------------------------------------------------------------------


def test_encoder_classifier_copies_the_encoder_under_the_cell18_head(ckpts):
    model = EncoderClassifier(str(ckpts.linear))
    ae = load_autoencoder(ckpts.linear)
    for (name, a), b in zip(model.encoder.state_dict().items(), ae.encoder.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    assert model.hparams.layers == seed_dropout().hparams.layers
    assert [asdict(layer) for layer in CELL18_LAYERS] == seed_dropout().hparams.layers
    assert model.hidden[0].in_features == 32 and model.output.out_features == 10
    assert not any(p.requires_grad for p in model.encoder.parameters())


class ModeProbe(Callback):
    """Records the encoder's and the head's training flags at every training batch."""

    def __init__(self) -> None:
        self.modes: set[tuple[bool, bool]] = set()

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.modes.add((pl_module.encoder.training, pl_module.hidden.training))


def test_frozen_encoder_stays_bit_identical_and_has_no_optimizer_state(tiny_dir, ckpts, tmp_path):
    pl.seed_everything(0)
    model = EncoderClassifier(str(ckpts.linear))
    encoder_before = {k: v.clone() for k, v in model.encoder.state_dict().items()}
    head_before = model.output.weight.detach().clone()
    probe = ModeProbe()
    t = trainer(tmp_path, 2, callbacks=[probe])
    t.fit(model, datamodule=tiny_dm(tiny_dir))
    for name, value in model.encoder.state_dict().items():
        assert torch.equal(value, encoder_before[name]), name
    assert not torch.equal(model.output.weight, head_before)  # the head did train
    (opt,) = t.optimizers
    encoder_ids = {id(p) for p in model.encoder.parameters()}
    grouped = {id(p) for group in opt.param_groups for p in group["params"]}
    assert not encoder_ids & grouped
    assert not encoder_ids & {id(p) for p in opt.state}
    assert len(opt.state) == len(grouped) > 0  # the head's parameters do have state
    assert all(p.grad is None for p in model.encoder.parameters())
    assert probe.modes == {(False, True)}  # encoder in eval mode, head in train mode


def test_unfrozen_encoder_is_fine_tuned(tiny_dir, ckpts, tmp_path):
    pl.seed_everything(0)
    model = EncoderClassifier(str(ckpts.linear), freeze_encoder=False)
    before = model.encoder[0].weight.detach().clone()
    t = trainer(tmp_path, 1)
    t.fit(model, datamodule=tiny_dm(tiny_dir))
    assert not torch.equal(model.encoder[0].weight, before)
    (opt,) = t.optimizers
    assert {id(p) for p in model.parameters()} == {id(p) for g in opt.param_groups for p in g["params"]}


def test_encoder_classifier_checkpoint_loads_without_the_autoencoder_file(tiny_dir, ckpts, tmp_path):
    pl.seed_everything(0)
    model = EncoderClassifier(str(ckpts.linear))
    t = trainer(tmp_path, 1)
    t.fit(model, datamodule=tiny_dm(tiny_dir))
    t.save_checkpoint(tmp_path / "ec.ckpt")
    loaded = EncoderClassifier.load_from_checkpoint(tmp_path / "ec.ckpt", autoencoder_ckpt=None)
    x = originals(tiny_dir).test_set.x
    with torch.no_grad():
        assert torch.equal(loaded.eval()(x), model.eval()(x))
    assert not any(p.requires_grad for p in loaded.encoder.parameters())


def test_encoder_classifier_rejects_bad_checkpoints(ckpts, tmp_path):
    with pytest.raises(AutoencoderCheckpointNotFoundError, match=r"missing\.ckpt"):
        EncoderClassifier(str(tmp_path / "missing.ckpt"))
    with pytest.raises(AutoencoderCheckpointError, match="not an Autoencoder"):
        EncoderClassifier(str(ckpts.mlp))
    with pytest.raises(AutoencoderCheckpointError, match="code_size=16, but 32"):
        EncoderClassifier(str(ckpts.code16))
    assert EncoderClassifier(str(ckpts.code16), code_size=16).hidden[0].in_features == 16


# ---------------------------------------------------------------------------------------
# Figure (cells 21, 33)
# ---------------------------------------------------------------------------------------


def test_reconstruction_grid_writes_a_gray_png_atomically(tmp_path):
    from matplotlib.image import imread

    x = torch.rand(12, 784)
    path = reconstruction_grid(x, x.flip(0), tmp_path / "out" / "grid.png", dpi=20)
    image = imread(path)
    assert image.shape[:2] == (4 * 20, 2 * 10 * 20)  # figsize (20, 4), as the notebook's
    rgb = image[..., :3]
    assert np.allclose(rgb, rgb[..., :1])  # gray colormap; no colored axes
    assert [p.name for p in path.parent.iterdir()] == ["grid.png"]  # no temporary left over
    with pytest.raises(ValueError, match="12 originals but 3 reconstructions"):
        reconstruction_grid(x, x[:3], tmp_path / "bad.png")


def test_figures_entry_point_draws_a_checkpoints_reconstructions(tiny_dir, ckpts, tmp_path, capsys):
    out = tmp_path / "grid.png"
    figures_main(
        [
            "--ckpt",
            str(ckpts.sigmoid),
            "--out",
            str(out),
            "--data_dir",
            str(tiny_dir),
            "--no_verify_checksums",
            "--dpi",
            "20",
        ]
    )
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and str(out) in capsys.readouterr().out
    with pytest.raises(SystemExit) as info:
        figures_main(["--ckpt", str(tmp_path / "none.ckpt"), "--out", str(out)])
    assert info.value.code == 2 and "not found" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------
# The shipped configs through the CLI (in-process: a subprocess costs seconds of imports)
# ---------------------------------------------------------------------------------------


def cli_args(config: str, data_dir: Path, runs: Path) -> list[str]:
    return [
        "fit",
        "--config",
        config,
        "--data.data_dir",
        str(data_dir),
        "--data.verify_checksums",
        "false",
        "--data.batch_size",
        "64",
        "--data.eval_batch_size",
        "50",
        "--trainer.max_epochs",
        "1",
        "--trainer.logger.init_args.save_dir",
        str(runs),
        "--trainer.enable_progress_bar",
        "false",
        "--trainer.enable_model_summary",
        "false",
        "--trainer.accelerator",
        "cpu",
    ]


def test_configs_chain_through_the_cli(helpers, tiny_dir, tmp_path, monkeypatch, capsys):
    """autoencoder -> reconstructed_dropout and autoencoder_linear -> encoder_classifier."""
    from lightning_mnist.cli import main

    monkeypatch.chdir(tmp_path)  # the configs' checkpoints go to ./runs/<name>/<name>.ckpt
    runs = tmp_path / "logs"
    for config in ("autoencoder", "autoencoder_linear"):
        main(cli_args(config, tiny_dir, runs))
        assert (tmp_path / "runs" / config / f"{config}.ckpt").is_file()
        assert {"train/mse", "val/mse", "test/mse"} <= set(helpers.last_metrics(runs / config / "version_0"))
    assert load_autoencoder(tmp_path / "runs/autoencoder_linear/autoencoder_linear.ckpt").hparams.decoder == "linear"
    capsys.readouterr()
    for config in ("reconstructed_dropout", "encoder_classifier"):
        main(cli_args(config, tiny_dir, runs))
        assert "test accuracy:" in capsys.readouterr().out
        assert "test/acc" in helpers.last_metrics(runs / config / "version_0")


def test_cli_reports_a_missing_autoencoder_as_a_message(tiny_dir, tmp_path, monkeypatch, capsys):
    from lightning_mnist.cli import main

    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:
        main(cli_args("reconstructed_dropout", tiny_dir, tmp_path / "logs"))
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "runs/autoencoder/autoencoder.ckpt' not found" in err and "--config autoencoder" in err
    assert "Traceback" not in err
