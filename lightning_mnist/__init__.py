"""A classic MNIST study notebook as PyTorch Lightning modules.

One ``MNISTDataModule`` owns the data; each notebook experiment is a LightningModule plus a
YAML config in ``lightning_mnist/configs``; the Trainer owns devices, loops and logging.
"""

from lightning_mnist.autoencoder import (
    Autoencoder,
    AutoencoderCheckpointError,
    AutoencoderCheckpointNotFoundError,
    load_autoencoder,
)
from lightning_mnist.classifier import Classifier, DivergenceError
from lightning_mnist.datamodule import InMemoryDataset, MNISTDataModule, ShardSampler
from lightning_mnist.encoder_classifier import EncoderClassifier
from lightning_mnist.idx import DataError
from lightning_mnist.mlp import Layer, MLPClassifier
from lightning_mnist.reconstructions import ReconstructedDataModule, reconstruct
from lightning_mnist.softmax import SoftmaxRegression

__all__ = [
    "Autoencoder",
    "AutoencoderCheckpointError",
    "AutoencoderCheckpointNotFoundError",
    "Classifier",
    "DataError",
    "DivergenceError",
    "EncoderClassifier",
    "InMemoryDataset",
    "Layer",
    "MLPClassifier",
    "MNISTDataModule",
    "ReconstructedDataModule",
    "ShardSampler",
    "SoftmaxRegression",
    "load_autoencoder",
    "reconstruct",
]
