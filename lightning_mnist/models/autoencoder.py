"""The notebook's autoencoder (cells 19 and 34) and the one way to load a trained one.

Cell 19 is ``784 -> 32 (relu) -> 784 (sigmoid)``, cell 34 the same with a linear decoder;
both are trained with Keras' ``mean_squared_error`` (mean over pixels, then over the batch:
``F.mse_loss``) and Adadelta with Keras 1 defaults. ``encoder`` and ``decoder`` are separate
modules because the notebook uses them separately: the decoder alone draws reconstructions
(cell 20), the encoder alone feeds a classifier (cell 34, ``EncoderClassifier``).

Trained autoencoders are consumed by other modules (``ReconstructedDataModule``,
``EncoderClassifier``, the figure); they all go through ``load_autoencoder``, so a missing
file, a checkpoint of another module or a code size that does not fit fails in one place,
with one kind of error that says which file and what to do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics import MeanMetric

from lightning_mnist import budgets
from lightning_mnist.errors import ConfigError, DataError
from lightning_mnist.models.grouping import minibatches
from lightning_mnist.models.mlp import ACTIVATIONS, keras_dense
from lightning_mnist.models.module import MNISTModule
from lightning_mnist.models.optimizers import make_optimizer

# Parameter names (and their roles) that make a state dict an Autoencoder's.
AUTOENCODER_KEYS = ("encoder.0.weight", "encoder.0.bias", "decoder.0.weight", "decoder.0.bias")


class Autoencoder(MNISTModule):
    """Dense autoencoder ``num_features -> code_size (relu) -> num_features (decoder)``.

    Batches are ``(x, y)`` as ``MNISTDataModule`` serves them; ``y`` is ignored and ``x`` is
    reconstructed (flattened; 1x28x28 images work too). The per-epoch mean squared error of
    every stage is logged as ``<stage>/mse``.

    Args:
        code_size: width of the code (the notebook's ``encoding_dim = 32``).
        decoder: output activation, ``"sigmoid"`` (cell 19) or ``"linear"`` (cell 34).
        optimizer, lr: as ``MLPClassifier`` (Keras 1 defaults; the notebook uses Adadelta).
        num_features: input size (784 = 28 x 28).
    """

    def __init__(
        self,
        code_size: int = 32,
        decoder: Literal["sigmoid", "linear"] = "sigmoid",
        optimizer: Literal["sgd", "rmsprop", "adadelta", "adam", "nadam"] = "adadelta",
        lr: float | None = None,
        num_features: int = 784,
    ) -> None:
        super().__init__()
        if code_size < 1 or num_features < 1:
            raise ConfigError(f"code_size and num_features must be >= 1, got {code_size}, {num_features}")
        if decoder not in ("sigmoid", "linear"):
            raise ConfigError(f"decoder must be 'sigmoid' or 'linear', got {decoder!r}")
        self.save_hyperparameters()
        self.example_input_array = torch.zeros(1, num_features)
        self.encoder = nn.Sequential(keras_dense(num_features, code_size), nn.ReLU())
        self.decoder = nn.Sequential(keras_dense(code_size, num_features), ACTIVATIONS[decoder]())
        # MeanMetric of batch-mean losses weighted by batch size: the exact mean squared error
        # over all pixels of the epoch (every image has the same number of pixels).
        self.init_epoch_metrics({"mse": lambda stage: MeanMetric()}, what="reconstruction loss")

    @property
    def code_size(self) -> int:
        return self.hparams.code_size

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Images (any shape ``(N, ...)`` with ``num_features`` values each) -> ``(N, code_size)``."""
        return self.encoder(x.flatten(1))

    def decode(self, code: torch.Tensor) -> torch.Tensor:
        """Codes ``(N, code_size)`` -> flat reconstructions ``(N, num_features)``."""
        return self.decoder(code)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstructions, shaped like ``x``."""
        return self.decode(self.encode(x)).view_as(x)

    def _loss(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1)
        return F.mse_loss(self.decode(self.encode(x)), x)

    def _step(self, stage: str, batch) -> None:
        ((x, *_),) = minibatches(batch)  # (x, y), (x,) or x alone: labels are not used
        self.metrics[f"{stage}_mse"].update(self._loss(x).detach(), weight=len(x))

    def training_loss(self, batch) -> torch.Tensor:
        ((x, *_),) = minibatches(batch)
        loss = self._loss(x)
        self.train_sums.add(len(x), loss.detach() * len(x))
        return loss

    def validation_step(self, batch, batch_idx: int) -> None:
        self._step("val", batch)

    def test_step(self, batch, batch_idx: int) -> None:
        self._step("test", batch)

    def predict_step(self, batch, batch_idx: int) -> torch.Tensor:
        ((x, *_),) = minibatches(batch)
        return self(x)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return make_optimizer(self.hparams.optimizer, self.parameters(), self.hparams.lr)


class AutoencoderCheckpointError(DataError):
    """A checkpoint given as a trained autoencoder is unreadable, of another module or misfits.

    A ``DataError`` (so a ``ValueError``): like a bad data file, it is the user's input to
    fix, and the CLI reports it as a message instead of a traceback.
    """


class AutoencoderCheckpointNotFoundError(AutoencoderCheckpointError, FileNotFoundError):
    """The autoencoder checkpoint does not exist."""


TRAIN_HINT = (
    "train one first, e.g. `lightning-mnist fit --config autoencoder` (sigmoid decoder, cell 19) "
    "or `--config autoencoder_linear` (linear decoder, cell 34), and pass the .ckpt it writes"
)


def load_autoencoder(
    path: str | Path,
    code_size: int | None = None,
    num_features: int | None = None,
    map_location: str | torch.device = "cpu",
) -> Autoencoder:
    """The ``Autoencoder`` saved in the Lightning checkpoint ``path``, in eval mode.

    ``code_size`` / ``num_features``, when given, must match the checkpoint's. Raises
    ``AutoencoderCheckpointNotFoundError`` for a missing file and
    ``AutoencoderCheckpointError`` for an unreadable file, a checkpoint of another module or
    mismatching sizes; each message names the file and says what to do.
    """
    path = Path(path)
    if not path.is_file():
        raise AutoencoderCheckpointNotFoundError(f"autoencoder checkpoint {str(path)!r} not found: {TRAIN_HINT}")
    problem = budgets.checkpoint_size_problem(path)  # before inflating anything
    if problem is not None:
        raise AutoencoderCheckpointError(f"autoencoder checkpoint {str(path)!r}: {problem}")
    try:
        # weights_only: a checkpoint is a file from elsewhere; ours hold only plain data.
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # pickle, zip and format errors all mean "not a checkpoint we can read"
        raise AutoencoderCheckpointError(
            f"{str(path)!r} cannot be read as a Lightning checkpoint ({type(err).__name__}: "
            f"{str(err).splitlines()[0] if str(err) else ''}); {TRAIN_HINT}"
        ) from None
    problem = budgets.structure_problem(checkpoint)
    if problem is not None:
        raise AutoencoderCheckpointError(f"autoencoder checkpoint {str(path)!r} is refused: {problem}")
    state = checkpoint.get("state_dict") if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict) or not all(k in state for k in AUTOENCODER_KEYS):
        raise AutoencoderCheckpointError(
            f"{str(path)!r} is not an Autoencoder checkpoint ({_describe(checkpoint)}); {TRAIN_HINT}"
        )
    hparams = checkpoint.get("hyper_parameters") or {}
    if not isinstance(hparams, dict):
        raise AutoencoderCheckpointError(
            f"autoencoder checkpoint {str(path)!r} is refused: its hyperparameters are not a dict"
        )
    # The weights are the truth about sizes; hyper-parameters only add the decoder and optimizer.
    found_code, found_features = state["encoder.0.weight"].shape
    for name, wanted, found in (("code_size", code_size, found_code), ("num_features", num_features, found_features)):
        if wanted is not None and wanted != found:
            raise AutoencoderCheckpointError(
                f"autoencoder checkpoint {str(path)!r} has {name}={found}, but {wanted} is needed here: "
                f"set {name}={found}, or use an autoencoder trained with {name}={wanted}"
            )
    model = Autoencoder(  # the decoder's activation has no weights: only hparams know it
        code_size=found_code,
        decoder=hparams.get("decoder", "sigmoid"),
        optimizer=hparams.get("optimizer", "adadelta"),
        lr=hparams.get("lr"),
        num_features=found_features,
    )
    model.load_state_dict(state)
    return model.eval()


def _describe(checkpoint) -> str:
    """What a checkpoint that is not an Autoencoder's seems to be, for error messages."""
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("state_dict"), dict):
        return "no Lightning state_dict in it"
    hparams = checkpoint.get("hyper_parameters") or {}
    if "_class_path" in hparams:
        return f"it holds a {hparams['_class_path']}"
    keys = list(checkpoint["state_dict"])
    return f"its weights are {', '.join(keys[:3])}{', ...' if len(keys) > 3 else ''}"
