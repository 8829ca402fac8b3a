"""One LightningModule for every dense classifier of the notebook (cells 11-18).

A classifier is a list of ``Layer``s (width, activation, dropout after it) followed by a
10-way output. Defaults follow Keras 1, which the notebook ran: glorot-uniform weights, zero
biases, optimizers with Keras 1 hyperparameters (``lightning_mnist.models.optimizers``). The loss is
cross-entropy on logits (log-softmax inside the loss), where Keras 1 computes softmax and
then a clipped log: the same function, without the clipping at 1e-7.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Literal

import torch
from torch import nn

from lightning_mnist.errors import ConfigError
from lightning_mnist.models.classifier import Classifier
from lightning_mnist.models.optimizers import make_optimizer

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "linear": nn.Identity}


@dataclass(frozen=True)
class Layer:
    """A hidden Dense layer: ``width`` units, then ``activation``, then dropout ``dropout``."""

    width: int
    activation: Literal["relu", "tanh", "sigmoid", "linear"] = "relu"
    dropout: float = 0.0


def as_layers(layers: Iterable) -> list[Layer]:
    """``Layer``s from ``Layer``s or their mappings: dicts (as configs and checkpoints hold
    them) or OmegaConf ``DictConfig``s (Hydra), in a list or a ``ListConfig``."""
    if isinstance(layers, (str, Mapping)) or not isinstance(layers, Iterable):
        raise ConfigError(f"layers must be a list of layers (width, activation, dropout), got {layers!r}")
    out = []
    for layer in layers:
        if isinstance(layer, Mapping):
            layer = Layer(**{str(k): v for k, v in layer.items()})
        if not isinstance(layer, Layer):
            raise ConfigError(f"a layer must be a Layer or a mapping (width, activation, dropout), got {layer!r}")
        out.append(layer)
    return out


def dense_stack(num_features: int, layers: list[Layer]) -> tuple[nn.Sequential, int]:
    """Dense -> activation -> [dropout] per layer (Keras 1 init); returns it and its output width."""
    modules: list[nn.Module] = []
    width = num_features
    for layer in layers:
        if layer.width < 1 or not 0 <= layer.dropout < 1 or layer.activation not in ACTIVATIONS:
            raise ConfigError(
                f"bad layer {layer}: width must be >= 1, dropout in [0, 1), activation one of {sorted(ACTIVATIONS)}"
            )
        modules += [keras_dense(width, layer.width), ACTIVATIONS[layer.activation]()]
        if layer.dropout:
            modules.append(nn.Dropout(layer.dropout))
        width = layer.width
    return nn.Sequential(*modules), width


def keras_dense(fan_in: int, fan_out: int) -> nn.Linear:
    """``nn.Linear`` initialised as a Keras 1 ``Dense``: glorot-uniform weights, zero bias."""
    linear = nn.Linear(fan_in, fan_out)
    nn.init.xavier_uniform_(linear.weight)
    nn.init.zeros_(linear.bias)
    return linear


class MLPClassifier(Classifier):
    """Dense classifier: hidden ``layers``, then a ``num_classes``-way (soft)max output.

    Args:
        layers: hidden layers, e.g. ``[Layer(512)]`` for the notebook's cell 11.
        optimizer: ``sgd``, ``rmsprop``, ``adadelta``, ``adam`` or ``nadam`` (Keras 1 defaults).
        lr: learning rate; ``None`` takes the optimizer's Keras 1 default.
        compile_optimizer: compile the optimizer's update with ``torch.compile``
            (``lightning_mnist.models.optimizers.compile_step``): the same update, fewer
            memory passes; its first step compiles.
        num_features, num_classes: input and output sizes.
    """

    def __init__(
        self,
        layers: list[Layer] | None = None,
        optimizer: Literal["sgd", "rmsprop", "adadelta", "adam", "nadam"] = "sgd",
        lr: float | None = None,
        compile_optimizer: bool = False,
        num_features: int = 784,
        num_classes: int = 10,
    ) -> None:
        super().__init__(num_classes, num_features)
        hidden = as_layers([Layer(512)] if layers is None else layers)
        layers = [asdict(layer) for layer in hidden]  # plain data for checkpoints and loggers
        self.save_hyperparameters()
        self.hidden, width = dense_stack(num_features, hidden)
        self.output = keras_dense(width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output(self.hidden(x.flatten(1)))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return make_optimizer(
            self.hparams.optimizer, self.parameters(), self.hparams.lr, compiled=self.hparams.compile_optimizer
        )
