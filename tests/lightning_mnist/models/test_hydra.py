"""Every module and the DataModule build with ``hydra.utils.instantiate`` from a plain YAML
config: OmegaConf containers for lists and mappings, nested ``_target_`` layers included."""

from __future__ import annotations

import pytest

hydra_utils = pytest.importorskip("hydra.utils")
omegaconf = pytest.importorskip("omegaconf")

from lightning_mnist import (  # noqa: E402
    Autoencoder,
    EncoderClassifier,
    Layer,
    MLPClassifier,
    MNISTDataModule,
    ReconstructedDataModule,
    SoftmaxRegression,
    StackedMLP,
)
from lightning_mnist.backend import Trainer  # noqa: E402

CONFIG = """
mlp:
  _target_: lightning_mnist.MLPClassifier
  layers:
    - {_target_: lightning_mnist.Layer, width: 8, dropout: 0.1}
    - {width: 4, activation: tanh}
  optimizer: sgd
  lr: 0.1
stacked:
  _target_: lightning_mnist.StackedMLP
  layers: [{width: 8}]
  seeds: [1, 2]
softmax: {_target_: lightning_mnist.SoftmaxRegression, lr: 0.5}
autoencoder: {_target_: lightning_mnist.Autoencoder, code_size: 8, optimizer: sgd}
encoder:
  _target_: lightning_mnist.EncoderClassifier
  code_size: 8
  layers: [{width: 8, activation: relu}]
data:
  _target_: lightning_mnist.MNISTDataModule
  data_dir: ${data_dir}
  verify_checksums: false
  batch_size: 4
  val_split: 0.25
  mirrors: ["file:///nonexistent/mirror/"]
reconstructed:
  _target_: lightning_mnist.ReconstructedDataModule
  autoencoder_ckpt: ae.ckpt
  data_dir: ${data_dir}
  batch_size: 4
"""

EXPECTED = {
    "mlp": MLPClassifier,
    "stacked": StackedMLP,
    "softmax": SoftmaxRegression,
    "autoencoder": Autoencoder,
    "encoder": EncoderClassifier,
    "data": MNISTDataModule,
    "reconstructed": ReconstructedDataModule,
}


@pytest.fixture
def config(helpers, tmp_path):
    helpers.write_tiny(tmp_path / "data", n_train=16, n_test=8)
    cfg = omegaconf.OmegaConf.create(CONFIG)
    cfg.data_dir = str(tmp_path / "data")
    return cfg


@pytest.mark.parametrize("name", EXPECTED)
def test_instantiate_each(config, name):
    built = hydra_utils.instantiate(config[name])
    assert type(built) is EXPECTED[name]


def test_nested_layers_and_a_fit_step(config, tmp_path):
    model = hydra_utils.instantiate(config.mlp)
    assert model.hparams.layers == [
        {"width": 8, "activation": "relu", "dropout": 0.1},
        {"width": 4, "activation": "tanh", "dropout": 0.0},
    ]
    assert [m.out_features for m in model.modules() if hasattr(m, "out_features")] == [8, 4, 10]
    dm = hydra_utils.instantiate(config.data)
    trainer = Trainer(
        accelerator="cpu", max_steps=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
        default_root_dir=tmp_path,
    )  # fmt: skip
    trainer.fit(model, datamodule=dm)
    assert trainer.global_step == 1 and len(dm.train_set) == 12


def test_layers_must_be_layers():
    from lightning_mnist.errors import ConfigError

    for bad in ("relu", 8, [8], {"width": 8}):
        with pytest.raises(ConfigError, match="layer"):
            MLPClassifier(bad)
    assert MLPClassifier([Layer(3)]).hparams.layers == [{"width": 3, "activation": "relu", "dropout": 0.0}]
