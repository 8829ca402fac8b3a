"""The ``lightning-mnist`` CLI, run as a subprocess so Lightning's DDP launcher works."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from lightning_mnist.trainer_cli import CONFIG_DIR, resolve_config_names

SHIPPED = sorted(p.stem for p in CONFIG_DIR.glob("*.yaml") if p.stem != "defaults")

RANK_WEIGHTS = """
import torch
from lightning_mnist.backend import Callback

class SaveRankWeights(Callback):
    def on_fit_end(self, trainer, pl_module):
        torch.save({"steps": trainer.global_step, "weights": pl_module.state_dict()},
                   f"rank{trainer.global_rank}.pt")
"""


def cli(*args: str, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONWARNINGS="ignore", OMP_NUM_THREADS="1")
    return subprocess.run(
        [sys.executable, "-m", "lightning_mnist.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def tiny_args(data_dir: Path, runs: Path, name: str) -> list[str]:
    return [
        "--data.data_dir",
        str(data_dir),
        "--data.verify_checksums",
        "false",
        "--data.batch_size",
        "32",
        "--data.eval_batch_size",
        "50",
        "--trainer.logger.init_args.save_dir",
        str(runs),
        "--trainer.logger.init_args.name",
        name,
        "--trainer.enable_progress_bar",
        "false",
        "--trainer.accelerator",
        "cpu",
    ]


@pytest.fixture(scope="module")
def tiny_dir(helpers, tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("tiny")
    helpers.write_tiny(data, n_train=400, n_test=301, label_noise=0.3)  # 301: shards of 150 and 151
    return data


def test_config_names_resolve_to_shipped_files(tmp_path):
    assert {"softmax_gd", "seed_mlp", "seed_dropout", "width", "depth_sgd", "depth_rmsprop"} <= set(SHIPPED)
    (resolved,) = resolve_config_names(["--config", "seed_mlp"])[1:]
    assert resolved == str(CONFIG_DIR / "seed_mlp.yaml")
    local = tmp_path / "seed_mlp"
    local.write_text("")
    assert resolve_config_names(["--config", str(local)]) == ["--config", str(local)]


@pytest.mark.parametrize("config", SHIPPED)
def test_every_shipped_config_parses(config, tmp_path):
    result = cli("fit", "--config", config, "--print_config", cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "class_path: lightning_mnist" in result.stdout


def _leaves(tree, prefix=()):
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _leaves(value, (*prefix, key))
    else:
        yield prefix, tree


@pytest.mark.parametrize("config", SHIPPED)
def test_shipped_configs_hold_only_what_differs_from_the_defaults(config):
    defaults = dict(_leaves(yaml.safe_load((CONFIG_DIR / "defaults.yaml").read_text())))
    own = dict(_leaves(yaml.safe_load((CONFIG_DIR / f"{config}.yaml").read_text())))
    repeated = {".".join(key): value for key, value in own.items() if defaults.get(key, object()) == value}
    assert not repeated, f"{config}.yaml repeats defaults.yaml: {repeated}"


def test_print_config_shows_the_defaults_merged_in(tmp_path):
    result = cli("fit", "--config", "seed_dropout", "--print_config", cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    merged = yaml.safe_load(result.stdout)
    assert merged["seed_everything"] == 1337 and merged["trainer"]["max_epochs"] == 50
    assert merged["trainer"]["logger"]["init_args"]["name"] == "seed_dropout"
    assert merged["data"]["init_args"]["batch_size"] == 128
    assert merged["model"]["class_path"] == "lightning_mnist.models.presets.seed_dropout"


@pytest.mark.slow
def test_ddp_two_processes_match_one_process_on_the_same_weights(helpers, tiny_dir, tmp_path):
    """Fit + test on 2 CPU processes (DDP, gloo), then test the saved weights on 1 process.

    seed_mlp groups minibatches (steps_per_execution): several backward passes per training
    step must each all-reduce, which leaves both ranks with the same weights, bit for bit.
    """
    runs = tmp_path / "runs"
    (tmp_path / "rank_weights.py").write_text(RANK_WEIGHTS)
    fit = cli(
        "fit",
        "--config",
        "seed_mlp",
        *tiny_args(tiny_dir, runs, "ddp"),
        "--trainer.devices",
        "2",
        "--trainer.strategy",
        "ddp",
        "--trainer.max_epochs",
        "2",
        "--data.steps_per_execution",
        "3",
        "--trainer.callbacks+=rank_weights.SaveRankWeights",
        cwd=tmp_path,
    )
    assert fit.returncode == 0, fit.stderr[-3000:]
    rank0, rank1 = (torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1))
    assert rank0["steps"] == rank1["steps"] == 2 * 7  # 200 images a rank, batches of 32
    for name, weight in rank0["weights"].items():
        assert torch.equal(weight, rank1["weights"][name]), name
    assert fit.stdout.count("test accuracy:") == 1  # printed by rank 0 only
    run_dir = runs / "ddp" / "version_0"
    assert (run_dir / "config.yaml").is_file()
    (ckpt,) = [p for p in (run_dir / "checkpoints").glob("*.ckpt") if not p.is_symlink()]  # last.ckpt links to it
    ddp_acc = helpers.last_metrics(run_dir)["test/acc"]

    single = cli(
        "test",
        "--config",
        "seed_mlp",
        *tiny_args(tiny_dir, runs, "single"),
        "--trainer.devices",
        "1",
        "--ckpt_path",
        str(ckpt),
        cwd=tmp_path,
    )
    assert single.returncode == 0, single.stderr[-3000:]
    assert helpers.last_metrics(runs / "single" / "version_0")["test/acc"] == ddp_acc
    assert f"test accuracy: {ddp_acc:.4f}" in single.stdout


def test_missing_data_is_a_clear_error_not_a_traceback(tmp_path):
    result = cli(
        "fit",
        "--config",
        "seed_mlp",
        "--data.data_dir",
        str(tmp_path / "nowhere"),
        "--data.download",
        "false",
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 2
    assert "lightning-mnist: error:" in result.stderr
    assert "Put the four IDX files" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_autoencoder_checkpoint_is_one_line_not_a_traceback(tmp_path):
    result = cli(
        "fit",
        "--config",
        "encoder_classifier",
        "--model.init_args.autoencoder_ckpt",
        str(tmp_path / "none.ckpt"),
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 2
    assert "lightning-mnist: error:" in result.stderr and "none.ckpt" in result.stderr
    assert "Traceback" not in result.stderr


# --- users' own modules, resuming, first contact ---------------------------------------------

USER_MODULE = """
import torch
import torch.nn.functional as F
from torch import nn
from lightning_mnist.backend import LightningModule

class Module(LightningModule):
    '''A user's module: no test_step.'''

    def __init__(self, width: int = 8):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, width), nn.ReLU(), nn.Linear(width, 10))

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self.net(x), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)
"""


def test_a_users_module_without_test_step(tiny_dir, tmp_path):
    (tmp_path / "usermod.py").write_text(USER_MODULE)
    args = tiny_args(tiny_dir, tmp_path / "runs", "user")
    env = dict(os.environ, PYTHONWARNINGS="ignore", OMP_NUM_THREADS="1", PYTHONPATH=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-m", "lightning_mnist.cli", "fit", "--config", "seed_mlp", "--model", "usermod.Module",
         "--trainer.max_epochs", "1", *args],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Module has no test_step: skipping the test after fit" in result.stdout
    assert "Traceback" not in result.stderr and "test accuracy" not in result.stdout


def test_ckpt_path_last_resumes_across_versions(tiny_dir, tmp_path):
    args = ["--config", "seed_mlp", *tiny_args(tiny_dir, tmp_path / "runs", "resume")]
    first = cli("fit", *args, "--trainer.max_epochs", "1", cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    last = tmp_path / "runs" / "resume" / "version_0" / "checkpoints" / "last.ckpt"
    assert last.exists()
    second = cli("fit", *args, "--trainer.max_epochs", "2", "--ckpt_path", "last", cwd=tmp_path)
    assert second.returncode == 0, second.stderr[-2000:]
    assert (
        f"--ckpt_path last: resuming from {last.relative_to(tmp_path)}" in second.stdout or str(last) in second.stdout
    )
    resumed = torch.load(tmp_path / "runs" / "resume" / "version_1" / "checkpoints" / "last.ckpt", weights_only=True)
    assert resumed["epoch"] == 1 and resumed["global_step"] == 2 * 13  # 400 images in 32s: 13 steps an epoch


def test_fast_dev_run_claims_no_accuracy(tiny_dir, tmp_path):
    args = tiny_args(tiny_dir, tmp_path / "runs", "smoke")
    result = cli("fit", "--config", "seed_mlp", *args, "--trainer.fast_dev_run", "true", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "accuracy:" not in result.stdout and "no accuracy to report" in result.stdout


def test_help_lists_every_subcommand_and_the_configs(tmp_path):
    result = cli("--help", cwd=tmp_path, timeout=120)
    assert result.returncode == 0
    for name in ("fit", "validate", "test", "predict", "reproduce", "sweep", "collect", *SHIPPED):
        assert f"\n  {name}" in result.stdout, name


@pytest.mark.parametrize("arg", [["--config", "nosuch"], ["--config=nosuch.yaml"]])
def test_an_unknown_config_is_one_line_with_the_names(arg, tmp_path):
    result = cli("fit", *arg, cwd=tmp_path, timeout=120)
    assert result.returncode == 2 and result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("lightning-mnist: error: --config nosuch") and all(name in line for name in SHIPPED)


def test_a_normal_fit_prints_no_deprecation_warning(tiny_dir, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    result = subprocess.run(
        [sys.executable, "-m", "lightning_mnist.cli", "fit", "--config", "seed_mlp", "--trainer.max_epochs", "1",
         *tiny_args(tiny_dir, tmp_path / "runs", "quiet")],
        cwd=tmp_path, env=dict(env, OMP_NUM_THREADS="1"), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    output = result.stdout + result.stderr
    assert "deprecat" not in output.lower() and "logging interval" not in output, output[-3000:]
    assert "test accuracy" in result.stdout
