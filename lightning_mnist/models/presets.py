"""The notebook's MLPs by name (cells 11-18), as functions of their sweep variable.

Each returns an ordinary ``MLPClassifier``; configs name them as ``class_path`` so a sweep
member is one flag: ``--model.init_args.depth 3``. ``compile_optimizer`` is passed through
(``MLPClassifier``). ``CELL18_LAYERS`` is the one statement of
cell 18's hidden layers, which cells 22 and 34 reuse.
"""

from __future__ import annotations

from typing import Literal

from lightning_mnist.errors import ConfigError
from lightning_mnist.models.mlp import Layer, MLPClassifier

CELL18_LAYERS = (Layer(512, "relu", 0.2), Layer(512, "relu"), Layer(512, "tanh", 0.1))


def width_member(width: int = 512, compile_optimizer: bool = False) -> MLPClassifier:
    """Cells 12-13: one hidden relu layer of ``width`` units (2^1 ... 2^11), SGD."""
    return MLPClassifier([Layer(width, "relu")], optimizer="sgd", compile_optimizer=compile_optimizer)


def depth_member(
    depth: int = 1, optimizer: Literal["sgd", "rmsprop"] = "sgd", compile_optimizer: bool = False
) -> MLPClassifier:
    """Cells 14-17: ``depth`` hidden relu layers of 512 (1 ... 10), SGD or RMSprop."""
    if depth < 1:
        raise ConfigError(f"depth must be >= 1, got {depth}")
    layers = [Layer(512, "relu") for _ in range(depth)]
    return MLPClassifier(layers, optimizer=optimizer, compile_optimizer=compile_optimizer)


def seed_dropout(compile_optimizer: bool = False) -> MLPClassifier:
    """Cell 18: 512 relu, dropout .2, 512 relu, 512 tanh, dropout .1; Adadelta."""
    return MLPClassifier(list(CELL18_LAYERS), optimizer="adadelta", compile_optimizer=compile_optimizer)
