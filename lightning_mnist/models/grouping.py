"""When grouped steps change nothing: the checks behind ``MNISTModule``'s offer of K
minibatches per Lightning step (``MNISTDataModule(steps_per_execution=K)``).

An allow-list in spirit: anything that counts, times, schedules or watches individual
training batches blocks grouping; epoch-level features are the same either way.
"""

from __future__ import annotations

import torch

from lightning_mnist.backend import Callback, LightningModule, callbacks, precision, strategies

__all__ = ["grouped_steps_blocker", "minibatches", "nobody_listens_to_backward"]

# Hooks a subclass may override only if it also gives up grouped steps: each runs (or means
# something) per minibatch, and with groups Lightning would call it once per group.
PER_BATCH_MODULE_HOOKS = (
    "training_step",
    "on_train_batch_start",
    "on_train_batch_end",
    "optimizer_step",
    "optimizer_zero_grad",
    "configure_gradient_clipping",
    "lr_scheduler_step",
    "backward",
    "on_before_backward",
    "on_after_backward",
    "on_before_optimizer_step",
    "on_before_zero_grad",
)
# on_before_zero_grad: Lightning calls it in automatic optimization only.
PER_BATCH_CALLBACK_HOOKS = ("on_train_batch_start", "on_train_batch_end", "on_before_zero_grad")
BACKWARD_HOOKS = ("on_before_backward", "on_after_backward")


def minibatches(batch) -> list:
    """A training batch as a list of minibatches: one ``(x, y)`` pair (tuple or list, as
    any DataLoader gives; ``(x,)`` or a bare ``x`` for unlabeled data), or a list of such
    pairs, which ``MNISTDataModule`` hands over for grouped steps.

    >>> x, y = torch.zeros(4, 784), torch.zeros(4, dtype=torch.long)
    >>> len(minibatches((x, y))), len(minibatches([x, y])), len(minibatches([(x, y), (x, y)]))
    (1, 1, 2)
    >>> [len(m) for m in minibatches(x)]  # a bare tensor is one minibatch of inputs
    [1]
    """
    if isinstance(batch, torch.Tensor):
        return [(batch,)]
    return [batch] if isinstance(batch[0], torch.Tensor) else list(batch)


def _is_whole(limit) -> bool:
    return isinstance(limit, float) and limit == 1.0


def grouped_steps_blocker(module: LightningModule, trainer) -> str | None:
    """What in this run would change if minibatches came in groups, or None if nothing would.

    An allow-list in spirit: anything that counts, times, schedules or watches individual
    training batches blocks grouping. Epoch-level features (validation each epoch,
    checkpoints on a monitored metric, EarlyStopping, epoch LR logging) are the same either way.
    """
    ours = next(c for c in type(module).__mro__ if c.__module__.startswith("lightning_mnist."))
    for hook in PER_BATCH_MODULE_HOOKS:
        if getattr(type(module), hook) is not getattr(ours, hook) or hook in vars(module):
            return f"{type(module).__name__} overrides {hook}"
    if not module._automatic_optimization:
        return "the module uses manual optimization itself"
    flags = {  # the first two also set limit_train_batches: name them first
        "fast_dev_run": bool(trainer.fast_dev_run),
        "overfit_batches": trainer.overfit_batches > 0,
        "gradient_clip_val": trainer.gradient_clip_val not in (None, 0, 0.0),
        "accumulate_grad_batches": trainer.accumulate_grad_batches != 1,
        "limit_train_batches": not _is_whole(trainer.limit_train_batches),
        "val_check_interval": not _is_whole(trainer.val_check_interval) or trainer.check_val_every_n_epoch is None,
    }
    for flag, set_ in flags.items():
        if set_:
            return f"Trainer({flag}=...) counts minibatches"
    if trainer.lr_scheduler_configs:
        return "an LR scheduler steps per minibatch or epoch"
    if len(trainer.optimizers) != 1:
        return "grouped steps drive exactly one optimizer"
    strategy = trainer.strategy
    if type(strategy) not in (strategies.SingleDeviceStrategy, strategies.DDPStrategy):
        return f"strategy {type(strategy).__name__} is not known to work with grouped steps"
    for callback in trainer.callbacks:
        reason = _callback_blocker(callback)
        if reason:
            return f"callback {type(callback).__name__}: {reason}"
    return None


def _callback_blocker(callback) -> str | None:
    per_minibatch = (
        callbacks.StochasticWeightAveraging,
        callbacks.GradientAccumulationScheduler,
        callbacks.LearningRateFinder,
        callbacks.BatchSizeFinder,
        callbacks.Timer,
    )
    if isinstance(callback, per_minibatch):
        return "works per training batch"
    if isinstance(callback, callbacks.ModelCheckpoint):
        if callback._every_n_train_steps or callback._train_time_interval:
            return "saves every n training steps or after a time interval"
        return None
    if isinstance(callback, callbacks.LearningRateMonitor):
        return None if callback.logging_interval == "epoch" else "logs the LR per step"
    if isinstance(callback, callbacks.ProgressBar):
        return None  # counts groups, which changes no result
    for hook in PER_BATCH_CALLBACK_HOOKS:
        if getattr(type(callback), hook) is not getattr(Callback, hook):
            return f"overrides {hook}"
    return None


def nobody_listens_to_backward(module: LightningModule, trainer) -> bool:
    """Whether ``manual_backward`` would add nothing to ``module.backward``: one device,
    plain precision, no backward hook overridden by a callback (the module's own are
    ruled out by ``grouped_steps_blocker``)."""
    return (
        type(trainer.strategy) is strategies.SingleDeviceStrategy
        and type(trainer.precision_plugin) is precision.Precision
        and not any(
            getattr(type(c), hook) is not getattr(Callback, hook) for c in trainer.callbacks for hook in BACKWARD_HOOKS
        )
    )
