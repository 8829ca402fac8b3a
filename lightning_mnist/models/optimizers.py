"""Optimizers by name, with the notebook's Keras 1 defaults.

| name     | Keras 1 default                               | torch equivalent                       |
|----------|-----------------------------------------------|----------------------------------------|
| sgd      | lr 0.01, no momentum                          | SGD(lr=0.01)                           |
| rmsprop  | lr 0.001, rho 0.9, eps 1e-8                   | RMSprop(lr=0.001, alpha=0.9, eps=1e-8) |
| adadelta | lr 1.0, rho 0.95, eps 1e-8                    | Adadelta(lr=1.0, rho=0.95, eps=1e-8)   |
| adam     | lr 0.001, betas (0.9, 0.999), eps 1e-8        | Adam(lr=0.001, eps=1e-8)               |
| nadam    | lr 0.002, betas (0.9, 0.999), eps 1e-8,       | NAdam(lr=0.002, eps=1e-8,              |
|          | schedule_decay 0.004                          |       momentum_decay=0.004)            |

Where eps enters: Keras 1 RMSprop divides by ``sqrt(a) + eps`` and Adadelta by
``sqrt(a + eps)`` with ``sqrt(d + eps)`` on top; torch's RMSprop and Adadelta do exactly the
same, so those two updates are identical, not approximations. torch's defaults differ
(Adadelta rho 0.9, eps 1e-6; RMSprop alpha 0.99), hence the explicit values. For Adam,
Keras 1 adds eps to ``sqrt(v)`` *after* folding the bias correction into the step size,
torch before: the two differ by a factor ``sqrt(1 - beta2^t)`` on eps only, which is
negligible after the first few steps.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from lightning_mnist.errors import ConfigError

KERAS1_DEFAULTS: dict[str, tuple[type[torch.optim.Optimizer], dict]] = {
    "sgd": (torch.optim.SGD, {"lr": 0.01}),
    "rmsprop": (torch.optim.RMSprop, {"lr": 0.001, "alpha": 0.9, "eps": 1e-8}),
    "adadelta": (torch.optim.Adadelta, {"lr": 1.0, "rho": 0.95, "eps": 1e-8}),
    "adam": (torch.optim.Adam, {"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-8}),
    "nadam": (torch.optim.NAdam, {"lr": 0.002, "betas": (0.9, 0.999), "eps": 1e-8, "momentum_decay": 0.004}),
}


def make_optimizer(name: str, params: Iterable, lr: float | None = None) -> torch.optim.Optimizer:
    """``name``'s optimizer with Keras 1 defaults; ``lr`` overrides the learning rate."""
    try:
        cls, defaults = KERAS1_DEFAULTS[name.lower()]
    except KeyError:
        raise ConfigError(f"unknown optimizer {name!r}; choose one of {sorted(KERAS1_DEFAULTS)}") from None
    kwargs = dict(defaults)
    if lr is not None:
        kwargs["lr"] = lr
    return cls(params, **kwargs)
