"""A classifier on top of a pretrained autoencoder's code (the notebook's cell 34).

Cell 34 trains a linear-decoder autoencoder, marks its encoder layers ``trainable=False``
and stacks the cell-18 layers on the 32-d code. Frozen here means: the encoder's parameters
have ``requires_grad=False``, are left out of the optimizer (so it keeps no state for them,
and weight decay or momentum cannot move them), and the encoder stays in eval mode however
often Lightning switches the module between training and evaluation.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Literal

import torch
from torch import nn

from lightning_mnist.models.autoencoder import load_autoencoder
from lightning_mnist.models.classifier import Classifier
from lightning_mnist.models.mlp import Layer, as_layers, dense_stack, keras_dense
from lightning_mnist.models.optimizers import make_optimizer
from lightning_mnist.models.presets import CELL18_LAYERS


class EncoderClassifier(Classifier):
    """``layers`` + a softmax output trained on the code of a pretrained encoder.

    Args:
        autoencoder_ckpt: Lightning checkpoint of a trained ``Autoencoder`` (cell 34 uses the
            linear-decoder one); its encoder is copied in. ``None`` builds an untrained
            encoder of ``code_size``: the way to load an ``EncoderClassifier`` checkpoint,
            which holds the encoder's weights itself, without the autoencoder's file:
            ``EncoderClassifier.load_from_checkpoint(path, autoencoder_ckpt=None)``.
        code_size: width of the code the head reads; must match the checkpoint's.
        freeze_encoder: keep the encoder fixed (cell 34); ``False`` fine-tunes it with the head.
        layers: hidden layers of the head (default: cell 18's).
        optimizer, lr: as ``MLPClassifier`` (Keras 1 defaults; the notebook uses Adadelta).
        num_features, num_classes: input and output sizes.
    """

    def __init__(
        self,
        autoencoder_ckpt: str | None = None,
        code_size: int = 32,
        freeze_encoder: bool = True,
        layers: list[Layer] | None = None,
        optimizer: Literal["sgd", "rmsprop", "adadelta", "adam", "nadam"] = "adadelta",
        lr: float | None = None,
        num_features: int = 784,
        num_classes: int = 10,
    ) -> None:
        super().__init__(num_classes, num_features)
        hidden = as_layers(CELL18_LAYERS if layers is None else layers)
        layers = [asdict(layer) for layer in hidden]  # plain data for checkpoints and loggers
        self.save_hyperparameters()
        if autoencoder_ckpt is None:
            self.encoder = nn.Sequential(keras_dense(num_features, code_size), nn.ReLU())
        else:
            self.encoder = load_autoencoder(autoencoder_ckpt, code_size, num_features).encoder
        self.hidden, width = dense_stack(code_size, hidden)
        self.output = keras_dense(width, num_classes)
        if freeze_encoder:
            self.encoder.requires_grad_(False)
            self.encoder.eval()

    @property
    def frozen(self) -> bool:
        return self.hparams.freeze_encoder

    def train(self, mode: bool = True) -> EncoderClassifier:
        """Switch modes as usual, except that a frozen encoder always stays in eval mode."""
        super().train(mode)
        if self.frozen:
            self.encoder.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.frozen):
            code = self.encoder(x.flatten(1))
        return self.output(self.hidden(code))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        params = [p for p in self.parameters() if p.requires_grad]
        return make_optimizer(self.hparams.optimizer, params, self.hparams.lr)
