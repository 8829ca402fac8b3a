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

``compiled=True`` runs the optimizer's own update through ``torch.compile``, the recipe of
PyTorch's "Compiling the optimizer" tutorial: one generated kernel per parameter instead of
one pass per elementwise operation. torch ships fused kernels only for SGD, Adam(W) and
Adagrad, not for RMSprop or Adadelta, whose updates are several memory-bound passes. SGD,
RMSprop and Adadelta compile to their eager update up to float rounding; compiled Adam and
NAdam compute their bias correction in float32 from the step tensor, so in float64 they
drift from the eager update by more than rounding.
"""

from __future__ import annotations

import types
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


def make_optimizer(
    name: str, params: Iterable, lr: float | None = None, compiled: bool = False
) -> torch.optim.Optimizer:
    """``name``'s optimizer with Keras 1 defaults; ``lr`` overrides the learning rate;
    ``compiled`` compiles its step (``compile_step``)."""
    try:
        cls, defaults = KERAS1_DEFAULTS[name.lower()]
    except KeyError:
        raise ConfigError(f"unknown optimizer {name!r}; choose one of {sorted(KERAS1_DEFAULTS)}") from None
    kwargs = dict(defaults)
    if lr is not None:
        kwargs["lr"] = lr
    if not compiled:
        return cls(params, **kwargs)
    # A tensor lr: schedulers (and lr_find) fill it in place instead of forcing a recompile.
    kwargs["lr"] = torch.tensor(float(kwargs["lr"]), dtype=torch.float64)
    return compile_step(cls(params, **kwargs))


def compile_step(optimizer: torch.optim.Optimizer) -> torch.optim.Optimizer:
    """``optimizer`` with its ``step`` compiled by ``torch.compile``; returns the same object.

    It stays an instance of its class with the same state dict, so checkpoints load either
    way and Lightning's loop, schedulers, clipping and accumulation see the optimizer they
    know. The closure (forward and backward) runs eagerly, as in ``torch.optim``; only the
    update is compiled (the first step compiles, once per parameter layout)."""
    update = torch.compile(optimizer.step)

    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        try:
            update()
        except torch._dynamo.exc.BackendCompilerFailed as err:  # no C++ compiler, no triton
            cause = err.inner_exception or err
            lines = str(cause).strip().splitlines() or ["no message"]
            raise ConfigError(
                f"compiling the {type(optimizer).__name__} step failed ({type(cause).__name__}: {lines[0]}); "
                "torch.compile needs a C++ compiler on CPU and triton on GPU. "
                "Set compile_optimizer: false to train without it"
            ) from err
        return loss

    optimizer.step = types.MethodType(step, optimizer)  # bound, as LR schedulers expect
    return optimizer
