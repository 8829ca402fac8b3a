"""Which Lightning distribution the package builds on, and that its Trainer takes our objects.

Runs in whatever environment pytest runs in: with only ``pytorch-lightning``, with only
``lightning``, or with both (CI runs all three). Each check starts a fresh interpreter,
since the choice is made once, at import.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

INSTALLED = {name for name in ("lightning", "pytorch_lightning") if importlib.util.find_spec(name)}


def backend_in_fresh_python(code: str = "", env_value: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "LIGHTNING_MNIST_BACKEND"}
    if env_value is not None:
        env["LIGHTNING_MNIST_BACKEND"] = env_value
    program = f"{code}\nimport lightning_mnist.backend as b\nprint(b.BACKEND)"
    return subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=120)


def test_default_rule():
    expected = "pytorch_lightning" if "pytorch_lightning" in INSTALLED else "lightning"
    assert backend_in_fresh_python().stdout.strip() == expected


@pytest.mark.parametrize("name", ["lightning", "pytorch_lightning"])
def test_an_imported_distribution_is_followed(name):
    if name not in INSTALLED:
        pytest.skip(f"{name} is not installed")
    assert backend_in_fresh_python(f"import {name}").stdout.strip() == name


@pytest.mark.parametrize("name", ["lightning", "pytorch_lightning"])
def test_the_environment_variable_switches(name):
    if name not in INSTALLED:
        pytest.skip(f"{name} is not installed")
    # it wins over an already imported other distribution
    other = ({"lightning", "pytorch_lightning"} - {name}) & INSTALLED
    code = f"import {other.pop()}" if other else ""
    assert backend_in_fresh_python(code, env_value=name).stdout.strip() == name


def test_a_bad_environment_value_says_what_to_set():
    result = backend_in_fresh_python(env_value="keras")
    assert result.returncode != 0
    assert "LIGHTNING_MNIST_BACKEND='keras': choose one of ['lightning', 'pytorch_lightning']" in result.stderr


def test_the_chosen_trainer_takes_our_module_and_datamodule(make_tiny, tmp_path):
    """What `lightning.pytorch.Trainer` used to refuse ("model must be a LightningModule")."""
    from lightning_mnist import Layer, MLPClassifier, MNISTDataModule
    from lightning_mnist.backend import ROOT, Trainer

    assert Trainer.__module__.startswith(ROOT)
    data = make_tiny(n_train=64, n_test=20)
    trainer = Trainer(
        accelerator="cpu",
        max_epochs=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )
    model = MLPClassifier([Layer(8)])
    trainer.fit(
        model,
        datamodule=MNISTDataModule(
            val_split="test", data_dir=str(data.data_dir), verify_checksums=False, batch_size=16
        ),
    )
    assert trainer.global_step == 4
