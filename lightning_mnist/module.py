"""The base of every LightningModule of the package: a textbook training step, and grouped steps.

By default a module is what a Lightning user expects: automatic optimization, one
``training_step`` per minibatch returning the loss, so schedulers, clipping, accumulation,
SWA, the tuner and every callback work as documented.

``MNISTDataModule(steps_per_execution=K)`` asks for grouped steps: K minibatches per
Lightning step, one optimizer step each (manual optimization), so Lightning's per-step
machinery is paid once per group. The module takes that offer in ``on_fit_start`` only if
nothing in the run would see the difference (``grouped_steps_blocker``); otherwise it warns
once, naming the feature, and trains the textbook way.
"""

from __future__ import annotations

import math
import warnings

import torch

from lightning_mnist.backend import Callback, LightningModule, callbacks, precision, strategies

__all__ = ["DivergenceError", "MNISTModule", "ResumeError", "grouped_steps_blocker", "minibatches"]

# Hooks a subclass may override only if it also gives up grouped steps: each runs (or means
# something) per minibatch, and with groups Lightning would call it once per group.
PER_BATCH_MODULE_HOOKS = (
    "training_step", "on_train_batch_start", "on_train_batch_end", "optimizer_step",
    "optimizer_zero_grad", "configure_gradient_clipping", "lr_scheduler_step", "backward",
    "on_before_backward", "on_after_backward", "on_before_optimizer_step", "on_before_zero_grad",
)
# on_before_zero_grad: Lightning calls it in automatic optimization only.
PER_BATCH_CALLBACK_HOOKS = ("on_train_batch_start", "on_train_batch_end", "on_before_zero_grad")
BACKWARD_HOOKS = ("on_before_backward", "on_after_backward")


class DivergenceError(RuntimeError):
    """The training loss became NaN or infinite."""


class ResumeError(ValueError):
    """A checkpoint cannot be resumed the way this run would train."""


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
        callbacks.StochasticWeightAveraging, callbacks.GradientAccumulationScheduler,
        callbacks.LearningRateFinder, callbacks.BatchSizeFinder, callbacks.Timer,
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


def _nobody_listens_to_backward(module: LightningModule, trainer) -> bool:
    """Whether ``manual_backward`` would add nothing to ``module.backward``: one device,
    plain precision, no backward hook overridden by a callback (the module's own are
    ruled out by ``grouped_steps_blocker``)."""
    return (
        type(trainer.strategy) is strategies.SingleDeviceStrategy
        and type(trainer.precision_plugin) is precision.Precision
        and not any(
            getattr(type(c), hook) is not getattr(Callback, hook)
            for c in trainer.callbacks for hook in BACKWARD_HOOKS
        )
    )


class MNISTModule(LightningModule):
    """Subclasses define ``training_loss(batch)``: the loss of one minibatch (and metric updates).

    ``grouped_steps`` is 1 (the textbook path) unless ``on_fit_start`` took the DataModule's
    offer of K minibatches per step; ``automatic_optimization`` follows it.
    """

    grouped_steps: int = 1
    _direct_backward: bool = False
    _checkpoint_grouped: int = 1  # grouped_steps of the checkpoint last loaded

    def __setattr__(self, name: str, value) -> None:
        # Lightning sets _current_fx_name around every hook call, about 40 times a step;
        # nn.Module.__setattr__ costs ~2 us each for what is a plain attribute.
        if name == "_current_fx_name":
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)

    @property
    def automatic_optimization(self) -> bool:
        return self._automatic_optimization and self.grouped_steps == 1

    @automatic_optimization.setter
    def automatic_optimization(self, value: bool) -> None:
        self._automatic_optimization = value

    def training_loss(self, batch) -> torch.Tensor:
        raise NotImplementedError

    def training_step(self, batch, batch_idx: int):
        if self.grouped_steps == 1:
            return self.training_loss(batch)
        optimizer = self.optimizers()
        group = minibatches(batch)
        max_steps = self.trainer.max_steps  # Lightning checks it between groups only
        if max_steps is not None and max_steps >= 0:
            group = group[: max(0, max_steps - self.global_step)]
        for minibatch in group:
            loss = self.training_loss(minibatch)
            optimizer.zero_grad()
            if self._direct_backward:
                self.backward(loss)  # what manual_backward does here, minus ~0.1 ms of hook dispatch
            else:
                self.manual_backward(loss)
            optimizer.step()
        # Loggers take their x-axis from Lightning's count of stepped batches, one per
        # Lightning step: count the group's minibatches, as the textbook path would.
        self.trainer.fit_loop.epoch_loop._batches_that_stepped += len(group) - 1
        return None

    def on_fit_start(self) -> None:
        requested = getattr(self.trainer.datamodule, "steps_per_execution", 1)
        resumed = self._checkpoint_grouped if self.trainer.ckpt_path else None
        self.grouped_steps = 1
        if requested > 1 and resumed != 1:
            reason = grouped_steps_blocker(self, self.trainer)
            if reason is None:
                self.grouped_steps = requested
                self._direct_backward = _nobody_listens_to_backward(self, self.trainer)
            elif self.trainer.is_global_zero:
                warnings.warn(
                    f"steps_per_execution={requested} not used ({reason}): training one minibatch "
                    "per Lightning step, as with --data.steps_per_execution 1", stacklevel=1,
                )
        if resumed not in (None, 1) and self.grouped_steps == 1:
            # Lightning counts steps in one loop for automatic and in another for manual
            # optimization: a run that switched would restart global_step at 0.
            raise ResumeError(
                f"{self.trainer.ckpt_path} was trained with grouped steps (steps_per_execution > 1); "
                "resume it with --data.steps_per_execution > 1 and without per-step features, "
                "or start a new run"
            )

    def configure_callbacks(self):
        # The first hook of a fit, before Lightning checks the configuration: a new fit starts
        # the textbook way until on_fit_start decides. The mode outlives a fit (it stays on
        # for test/validate after it) because Lightning reads global_step from the optimizer
        # loop of the current mode.
        if self._trainer is not None and self.trainer.state.fn == "fit":
            self.grouped_steps = 1
        return []

    def check_finite(self, loss: torch.Tensor, what: str = "training loss") -> None:
        """Stop a run whose epoch loss is NaN/inf instead of training on garbage for many epochs."""
        value = float(loss)
        if not math.isfinite(value):
            raise DivergenceError(
                f"{what} is {value} in epoch {self.current_epoch} (step {self.global_step}): "
                "the run diverged. Lower the learning rate, or check the inputs for NaN."
            )

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        # Lightning saves model, optimizer and loop state but not the RNG; without it a
        # resumed run draws other dropout masks than the uninterrupted one. Tensors keep the
        # checkpoint weights_only-safe.
        checkpoint["torch_rng_state"] = torch.get_rng_state()
        if torch.cuda.is_available():
            checkpoint["cuda_rng_states"] = torch.cuda.get_rng_state_all()
        checkpoint["grouped_steps"] = self.grouped_steps

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        self._checkpoint_grouped = checkpoint.get("grouped_steps", 1)
        if "torch_rng_state" in checkpoint:
            torch.set_rng_state(checkpoint["torch_rng_state"])
        if "cuda_rng_states" in checkpoint and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(checkpoint["cuda_rng_states"])
