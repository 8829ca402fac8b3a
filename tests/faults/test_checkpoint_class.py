"""The model a run trains or evaluates is the one its config names: a checkpoint of another model
is refused in one line (exit 2), whatever its hyperparameters call the class, and nothing is
trained or evaluated. A checkpoint of the configured model still loads, however it spells it."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
import torch
from faults_cli import run_main_out, write_tiny_mnist

from lightning_mnist import checkpoints
from lightning_mnist.trainer_cli import build_cli


def tiny_args(data: Path, runs: Path, config: str) -> list[str]:
    return [
        "--config", config, "--data.data_dir", str(data), "--data.verify_checksums", "false",
        "--data.batch_size", "16", "--data.steps_per_execution", "1", "--data.eval_batch_size", "32",
        "--trainer.logger.init_args.save_dir", str(runs), "--trainer.enable_progress_bar", "false",
        "--trainer.enable_model_summary", "false", "--trainer.accelerator", "cpu", "--trainer.max_epochs", "1",
        "--trainer.limit_train_batches", "1",
    ]  # fmt: skip


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_tiny_mnist(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def trained(data, tmp_path_factory) -> dict[str, dict]:
    """The checkpoint dicts of seed_mlp and of autoencoder after one training step each."""
    out = tmp_path_factory.mktemp("ckpts")
    found = {}
    for config in ("seed_mlp", "autoencoder"):
        with contextlib.chdir(out):  # autoencoder.yaml checkpoints into ./runs/autoencoder
            c = build_cli(tiny_args(data, out / "runs", config), run=False)
            c.trainer.fit(c.model, datamodule=c.datamodule)
            c.trainer.save_checkpoint(out / f"{config}.ckpt")
        found[config] = torch.load(out / f"{config}.ckpt", weights_only=True)
    return found


def respelled(ckpt: dict, spelling: str) -> dict:
    """``ckpt`` with its hyperparameters naming the class as ``spelling`` says."""
    hparams = {k: v for k, v in ckpt["hyper_parameters"].items() if k not in ("_class_path", "_instantiator")}
    class_path = ckpt["hyper_parameters"]["_class_path"]
    if spelling == "class_path":
        hparams = {"class_path": class_path, "init_args": hparams}
    elif spelling == "class_path+dict_kwargs":
        hparams = {"class_path": class_path, "dict_kwargs": hparams}
    elif spelling == "both":  # Lightning's key says the configured model, jsonargparse's another
        hparams = {"_class_path": "lightning_mnist.MLPClassifier", "class_path": class_path, "init_args": hparams}
    elif spelling == "none":  # no class recorded at all: only the weights tell
        pass
    return {**ckpt, "hyper_parameters": hparams}


def refused(code: int, out: str, err: str, path: Path, runs: Path) -> None:
    assert code == 2, err[-2000:]
    assert "Traceback" not in err, err[-2000:]
    lines = [line for line in err.splitlines() if line.startswith("lightning-mnist: error:")]
    assert len(lines) == 1 and str(path) in lines[0], err[-2000:]
    assert "test MSE" not in out and "test accuracy" not in out
    assert not list(runs.glob("**/*.ckpt")) and not list(runs.glob("**/metrics.csv"))  # nothing ran


@pytest.mark.parametrize("spelling", ["class_path", "class_path+dict_kwargs", "both", "none"])
@pytest.mark.parametrize("subcommand", ["fit", "test"])
def test_an_autoencoder_checkpoint_never_replaces_the_configured_mlp_whatever_its_hparams_say(
    subcommand, spelling, trained, data, tmp_path, capsys, monkeypatch
):
    path = tmp_path / f"autoencoder-{spelling}.ckpt"
    torch.save(respelled(trained["autoencoder"], spelling), path)
    runs = tmp_path / "runs"
    argv = [subcommand, *tiny_args(data, runs, "seed_mlp"), "--ckpt_path", str(path)]
    refused(*run_main_out(argv, capsys, monkeypatch), path, runs)


def test_the_class_check_holds_for_spellings_it_does_not_know(trained, data, tmp_path, capsys, monkeypatch):
    """With no key recognised up front, what LightningCLI made of the hyperparameters decides."""
    monkeypatch.setattr(checkpoints, "CLASS_KEYS", ())
    path = tmp_path / "autoencoder.ckpt"
    torch.save(respelled(trained["autoencoder"], "class_path"), path)
    runs = tmp_path / "runs"
    argv = ["test", *tiny_args(data, runs, "seed_mlp"), "--ckpt_path", str(path)]
    refused(*run_main_out(argv, capsys, monkeypatch), path, runs)


@pytest.mark.parametrize("config", ["seed_mlp", "seed_dropout"])
@pytest.mark.parametrize("spelling", ["class_path", "none"])
def test_a_checkpoint_of_the_class_the_config_builds_loads_however_it_spells_the_class(
    spelling, config, trained, data, tmp_path, capsys, monkeypatch
):
    """``seed_dropout`` names a preset function that builds an MLPClassifier: an MLPClassifier's
    hyperparameters configure that class (they are not the function's arguments)."""
    path = tmp_path / f"mlp-{spelling}.ckpt"
    torch.save(respelled(trained["seed_mlp"], spelling), path)
    argv = ["test", *tiny_args(data, tmp_path / "runs", config), "--ckpt_path", str(path)]
    code, out, err = run_main_out(argv, capsys, monkeypatch)
    assert code == 0, err[-3000:]
    assert "test accuracy" in out


@pytest.mark.parametrize("spelling", ["class_path", "class_path+dict_kwargs", "both", "none"])
def test_under_a_preset_config_an_autoencoder_checkpoint_is_refused(
    spelling, trained, data, tmp_path, capsys, monkeypatch
):
    path = tmp_path / f"autoencoder-{spelling}.ckpt"
    torch.save(respelled(trained["autoencoder"], spelling), path)
    runs = tmp_path / "runs"
    argv = ["test", *tiny_args(data, runs, "seed_dropout"), "--ckpt_path", str(path)]
    refused(*run_main_out(argv, capsys, monkeypatch), path, runs)


def test_the_class_a_config_builds_is_the_class_or_what_its_preset_function_returns():
    mlp = "lightning_mnist.models.mlp.MLPClassifier"
    assert checkpoints.built_class(mlp) == mlp
    for preset in ("seed_dropout", "width_member", "depth_member"):
        assert checkpoints.built_class(f"lightning_mnist.models.presets.{preset}") == mlp
    assert checkpoints.built_class("lightning_mnist.models.presets.CELL18_LAYERS") is None  # not a builder
    assert checkpoints.built_class("os.getcwd") is None  # returns no class
    assert checkpoints.built_class("no_such_module.Model") is None
