"""A classic MNIST study notebook as PyTorch Lightning modules.

One ``MNISTDataModule`` owns the data; each notebook experiment is a LightningModule plus a
YAML config in ``lightning_mnist/configs``; the Trainer owns devices, loops and logging.
"""

from lightning_mnist.data.datamodule import InMemoryDataset, MNISTDataModule, ShardSampler
from lightning_mnist.data.reconstructed import ReconstructedDataModule, reconstruct
from lightning_mnist.errors import DataError, DivergenceError, ResumeError
from lightning_mnist.models.autoencoder import (
    Autoencoder,
    AutoencoderCheckpointError,
    AutoencoderCheckpointNotFoundError,
    load_autoencoder,
)
from lightning_mnist.models.classifier import Classifier
from lightning_mnist.models.encoder_classifier import EncoderClassifier
from lightning_mnist.models.mlp import Layer, MLPClassifier
from lightning_mnist.models.softmax import SoftmaxRegression
from lightning_mnist.models.stacked import StackedMLP

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
    "ResumeError",
    "ShardSampler",
    "SoftmaxRegression",
    "StackedMLP",
    "load_autoencoder",
    "reconstruct",
]
