"""Pieces of a manual-optimization training step shared by every module of the package.

The modules take their optimizer steps themselves (Lightning's manual optimization), so
that one ``training_step`` can take several: ``MNISTDataModule(steps_per_execution=K)``
hands over K minibatches at a time, and Lightning's per-step machinery (data fetching,
batch hooks, progress bar, logging: about 0.4 ms a step on CPU, a third of a cell-11 MLP
step) is paid once per group instead of once per minibatch.
"""

from __future__ import annotations

import math
import weakref

import torch
from pytorch_lightning import Callback, LightningModule
from pytorch_lightning.plugins.precision import Precision
from pytorch_lightning.strategies import SingleDeviceStrategy
from pytorch_lightning.utilities.model_helpers import is_overridden

BACKWARD_HOOKS = ("on_before_backward", "on_after_backward")


class DivergenceError(RuntimeError):
    """The training loss became NaN or infinite."""


def minibatches(batch) -> list:
    """A training batch as a list of minibatches: one ``(x, y)`` pair (tuple or list, as
    any DataLoader gives; ``(x,)`` or a bare ``x`` for unlabeled data), or a sequence of
    such pairs, which ``MNISTDataModule`` hands over when ``steps_per_execution`` > 1.

    >>> x, y = torch.zeros(4, 784), torch.zeros(4, dtype=torch.long)
    >>> len(minibatches((x, y))), len(minibatches([x, y])), len(minibatches([(x, y), (x, y)]))
    (1, 1, 2)
    >>> [len(m) for m in minibatches(x)]  # a bare tensor is one minibatch of inputs
    [1]
    """
    if isinstance(batch, torch.Tensor):  # a loader over one tensor: inputs only
        return [(batch,)]
    return [batch] if isinstance(batch[0], torch.Tensor) else list(batch)


def training_minibatches(module: LightningModule, batch) -> list:
    """``minibatches(batch)``, cut short where ``Trainer(max_steps=...)`` would stop.

    Lightning checks ``max_steps`` between its steps (so a group never starts at the
    limit), and one of ours takes a step per minibatch of the group; without the cut a
    group would run past the limit.
    """
    group = minibatches(batch)
    max_steps = module.trainer.max_steps
    if max_steps is not None and max_steps >= 0:
        group = group[: max(0, max_steps - module.global_step)]
    return group


def check_finite(module: LightningModule, loss: torch.Tensor, what: str = "training loss") -> None:
    """Stop at the first NaN/inf loss instead of training on garbage for many epochs."""
    value = float(loss.detach())
    if not math.isfinite(value):
        raise DivergenceError(
            f"{what} is {value} at epoch {module.current_epoch}, step {module.global_step}: "
            "the run diverged. Lower the learning rate, or check the inputs for NaN."
        )


def backward(module: LightningModule, loss: torch.Tensor) -> None:
    """``module.manual_backward(loss)``, without the hook dispatch when nothing listens.

    On one device in 32-bit precision, ``manual_backward`` is ``module.backward(loss)``
    between the ``on_before_backward``/``on_after_backward`` hooks of every callback and of
    the module; dispatching those costs about 0.1 ms per call on CPU (7 % of a cell-11 MLP
    step) even when all of them are Lightning's empty defaults. When none is overridden
    this calls ``module.backward`` directly, which is the same computation. Anything else
    (DDP's gradient all-reduce, mixed-precision loss scaling, a callback that watches
    gradients) goes through ``manual_backward``.
    """
    trainer = module.trainer
    decided = _plain_backward.get(trainer)  # decided once per Trainer and module
    if decided is None or decided[0]() is not module:
        decided = (weakref.ref(module), nobody_listens_to_backward(trainer, module))
        _plain_backward[trainer] = decided
    if decided[1]:
        module.backward(loss)
    else:
        module.manual_backward(loss)


# Kept beside the module, not on it: a module that held its Trainer would drag it (and
# its data) into every pickle or deepcopy of the trained model.
_plain_backward: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def nobody_listens_to_backward(trainer, module: LightningModule) -> bool:
    """Whether ``manual_backward`` would add nothing to ``module.backward`` (see ``backward``)."""
    return (
        type(trainer.strategy) is SingleDeviceStrategy
        and type(trainer.precision_plugin) is Precision
        and not any(is_overridden(hook, module) for hook in BACKWARD_HOOKS)
        and not any(
            is_overridden(hook, callback, parent=Callback)
            for callback in trainer.callbacks
            for hook in BACKWARD_HOOKS
        )
    )
