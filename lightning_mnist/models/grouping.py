"""Grouped steps, decided in one place: whether a fit hands this package's modules K minibatches
per Lightning step (``MNISTDataModule(steps_per_execution=K)``), and who is told.

The decision is an allow-list. Grouping is taken only when every hook that the
LightningModule, the DataModule and each callback override is on ``SAME_EITHER_WAY``: hooks
Lightning calls per fit, per epoch, per evaluation batch or per optimizer step, which see the
same thing whether minibatches come one or K per Lightning step. The candidate hooks are read
at run time from Lightning's own hook classes (``ModelHooks``, ``DataHooks``,
``CheckpointHooks``, ``Callback``) and ``LightningModule`` itself, so an override of anything
else, a hook a future Lightning adds included, declines, and the warning names it. Trainer
flags that count minibatches decline the same way.

``GroupedSteps.decide`` runs once per fit (from ``MNISTModule.on_fit_start``) and tells the
module and the DataModule the same ``Decision``; neither asks the other.
"""

from __future__ import annotations

import inspect
import warnings
import weakref
from dataclasses import dataclass

import torch

from lightning_mnist.backend import ROOT, Callback, LightningDataModule, LightningModule, callbacks, hooks, precision
from lightning_mnist.backend import strategies as lightning_strategies
from lightning_mnist.data.datamodule import MNISTDataModule

__all__ = [
    "SAME_EITHER_WAY",
    "Decision",
    "GroupedSteps",
    "callback_hooks",
    "datamodule_hooks",
    "minibatches",
    "module_hooks",
    "overridden_hooks",
]

# Called per fit, per epoch, per evaluation batch (evaluation is never grouped), or per
# optimizer step (which grouped steps keep: one per minibatch, through Lightning's optimizer
# wrapper): the same calls with the same arguments either way.
EVAL_STAGES = ("validation", "test", "predict")
SAME_EITHER_WAY = frozenset(
    {
        "prepare_data",
        "setup",
        "teardown",
        "configure_model",
        "configure_sharded_model",
        "val_dataloader",
        "test_dataloader",
        "predict_dataloader",
        "on_fit_start",
        "on_fit_end",
        "on_train_start",
        "on_train_end",
        "on_train_epoch_start",
        "on_train_epoch_end",
        "on_sanity_check_start",
        "on_sanity_check_end",
        "on_before_optimizer_step",
        "on_before_backward",  # per minibatch either way: grouped steps call manual_backward
        "on_after_backward",
        "on_save_checkpoint",
        "on_load_checkpoint",
        "state_dict",
        "load_state_dict",
        "on_exception",
    }
    # evaluation runs whole, one batch per step, either way
    | {f"on_{stage}_{when}" for stage in EVAL_STAGES for when in ("start", "end")}
    | {f"on_{stage}_{unit}_{when}" for stage in EVAL_STAGES for unit in ("epoch", "batch") for when in ("start", "end")}
    | {"on_validation_model_eval", "on_validation_model_train", "on_validation_model_zero_grad"}
    | {"on_test_model_eval", "on_test_model_train", "on_predict_model_eval"}
)
# LightningModule methods outside the training step: evaluation, export, set-up.
SAME_EITHER_WAY_MODULE = SAME_EITHER_WAY | {
    "forward",
    "validation_step",
    "test_step",
    "predict_step",
    "configure_optimizers",
    "configure_callbacks",
    "to_onnx",
    "to_torchscript",
    "to_tensorrt",
    "freeze",
    "unfreeze",
    "print",
}
# Lightning callbacks that override a hook outside the allow-list but act there only in a
# configuration that is checked here (None: never).
LIGHTNING_CALLBACKS_THAT_ACT_PER_STEP_ONLY_IF = {
    # The bar counts groups, which changes no result.
    callbacks.ProgressBar: lambda c: None,
    callbacks.LearningRateMonitor: lambda c: None if c.logging_interval == "epoch" else "logs the LR per step",
    # Private: ModelCheckpoint has no public view of its step or time trigger
    # (tests/lightning_mnist/models/test_grouping.py fails if they are renamed).
    callbacks.ModelCheckpoint: lambda c: (
        "saves every n training steps or after a time interval"
        if c._every_n_train_steps or c._train_time_interval
        else None
    ),
}
# Lightning callbacks that override only allowed hooks but change what each minibatch does.
LIGHTNING_CALLBACKS_PER_STEP = (
    callbacks.StochasticWeightAveraging,
    callbacks.GradientAccumulationScheduler,
    callbacks.LearningRateFinder,
    callbacks.BatchSizeFinder,
)


def _public_functions(*classes: type) -> frozenset[str]:
    names = (name for cls in classes for name, value in vars(cls).items() if inspect.isfunction(value))
    return frozenset(name for name in names if not name.startswith("_"))


def module_hooks() -> frozenset[str]:
    """Every overridable method of a LightningModule, from Lightning's own classes."""
    return _public_functions(hooks.ModelHooks, hooks.DataHooks, hooks.CheckpointHooks, LightningModule)


def datamodule_hooks() -> frozenset[str]:
    """Every overridable method of a LightningDataModule, from Lightning's own classes."""
    return _public_functions(hooks.DataHooks, hooks.CheckpointHooks, LightningDataModule)


def callback_hooks() -> frozenset[str]:
    """Every overridable method of a Callback, from Lightning's own class."""
    return _public_functions(Callback)


def ours_or_lightnings(cls: type) -> bool:
    """Whether ``cls`` is this package's or Lightning's (their hooks are vetted here)."""
    return cls is object or cls.__module__.split(".")[0] in ("lightning_mnist", ROOT.split(".")[0])


def overridden_hooks(obj, candidates: frozenset[str], trusted=ours_or_lightnings) -> list[str]:
    """The candidate hooks ``obj`` overrides: set on the instance, or defined by the first
    class of its MRO that has them when that class is not ``trusted``."""
    found = []
    for name in sorted(candidates):
        owner = next((c for c in type(obj).__mro__ if name in vars(c)), object)
        if callable(vars(obj).get(name)) or not trusted(owner):
            found.append(name)
    return found


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


@dataclass(frozen=True)
class Decision:
    """What one fit does: ``size`` minibatches per Lightning step (1: the textbook path);
    ``direct_backward``: nothing listens to ``manual_backward``'s hooks, so it may be skipped."""

    size: int = 1
    direct_backward: bool = False
    reason: str | None = None
    trainer: weakref.ref | None = None

    def __reduce__(self):
        # A weak reference does not pickle; an unpickled module has no Trainer anyway.
        return Decision, (self.size, self.direct_backward, self.reason, None)

    def is_for(self, trainer) -> bool:
        """Whether this decision was made for ``trainer``'s fit (a new Trainer starts textbook)."""
        return self.trainer is not None and trainer is not None and self.trainer() is trainer


TEXTBOOK = Decision()


GROUP_COUNT_WARNING = r"The number of training batches \(\d+\) is smaller than the logging interval"


def lift_group_count_filter() -> None:
    """Drop the filter ``GroupedSteps.decide`` set, once Lightning has set up the epoch."""
    warnings.filters[:] = [f for f in warnings.filters if getattr(f[1], "pattern", None) != GROUP_COUNT_WARNING]


class GroupedSteps:
    """The one owner of the grouping decision of a fit."""

    @staticmethod
    def decide(trainer, offer: bool = True) -> Decision:
        """Decide for ``trainer``'s fit whether to take ``MNISTDataModule(steps_per_execution)``
        (unless ``offer`` is False), warn once if it is declined, and tell the module and the
        DataModule."""
        datamodule = trainer.datamodule
        requested = datamodule.steps_per_execution if offer and isinstance(datamodule, MNISTDataModule) else 1
        reason = blocker(trainer) if requested > 1 else None
        if requested > 1 and reason is None:
            decision = Decision(requested, _nobody_listens_to_backward(trainer), None, weakref.ref(trainer))
            # Lightning counts groups when it compares the batches of an epoch with
            # log_every_n_steps; our modules log per epoch. Lifted in MNISTModule.on_train_start.
            warnings.filterwarnings("ignore", message=GROUP_COUNT_WARNING)
        else:
            decision = Decision(1, False, reason, weakref.ref(trainer))
            if reason is not None and trainer.is_global_zero:
                warnings.warn(
                    f"steps_per_execution={requested} not used ({reason}): training one minibatch "
                    "per Lightning step, as with --data.steps_per_execution 1",
                    stacklevel=2,
                )
        for party in (trainer.lightning_module, trainer.datamodule):
            take = getattr(type(party), "take_grouping", None)  # our module and DataModule
            if take is not None:
                take(party, decision)
        return decision


def _is_whole(limit) -> bool:
    return isinstance(limit, float) and limit == 1.0


def blocker(trainer) -> str | None:
    """What in this fit would change if minibatches came in groups, or None if nothing would."""
    module, datamodule = trainer.lightning_module, trainer.datamodule
    for hook in overridden_hooks(module, module_hooks()):
        if hook not in SAME_EITHER_WAY_MODULE:
            return f"{type(module).__name__} overrides {hook}"
    if datamodule is not None:
        for hook in overridden_hooks(datamodule, datamodule_hooks()):
            if hook not in SAME_EITHER_WAY:
                return f"{type(datamodule).__name__} overrides {hook}"
    if isinstance(datamodule, MNISTDataModule) and datamodule.transform is not None:
        return "the DataModule's transform may draw random numbers per minibatch"
    if not module._automatic_optimization:  # the module's own setting, before grouping
        return "the module uses manual optimization itself"
    reason = _trainer_blocker(trainer)
    if reason:
        return reason
    for callback in trainer.callbacks:
        reason = _callback_blocker(callback)
        if reason:
            return f"callback {type(callback).__name__}: {reason}"
    return None


def _trainer_blocker(trainer) -> str | None:
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
    if type(strategy) not in (lightning_strategies.SingleDeviceStrategy, lightning_strategies.DDPStrategy):
        return f"strategy {type(strategy).__name__} is not known to work with grouped steps"
    return None


def _callback_blocker(callback) -> str | None:
    if isinstance(callback, LIGHTNING_CALLBACKS_PER_STEP):
        return "works per training batch"
    vetted = next((c for c in LIGHTNING_CALLBACKS_THAT_ACT_PER_STEP_ONLY_IF if isinstance(callback, c)), None)
    if vetted is not None:
        reason = LIGHTNING_CALLBACKS_THAT_ACT_PER_STEP_ONLY_IF[vetted](callback)
        if reason:
            return reason
    # A vetted class's own overrides are covered above (a user's subclass of it is checked like
    # any callback); any other callback's, Lightning's included, must be on the allow-list.
    trusted = ours_or_lightnings if vetted else (lambda owner: owner in (Callback, object))
    for hook in overridden_hooks(callback, callback_hooks(), trusted):
        if hook not in SAME_EITHER_WAY:
            return f"overrides {hook}"
    return None


BACKWARD_HOOKS = ("on_before_backward", "on_after_backward")


def _nobody_listens_to_backward(trainer) -> bool:
    """Whether ``manual_backward`` would add nothing to ``module.backward``: one device, plain
    precision, no backward hook overridden by the module or a callback."""
    module = trainer.lightning_module
    return (
        type(trainer.strategy) is lightning_strategies.SingleDeviceStrategy
        and type(trainer.precision_plugin) is precision.Precision
        and not set(BACKWARD_HOOKS) & set(overridden_hooks(module, frozenset(BACKWARD_HOOKS)))
        and not any(getattr(type(c), h) is not getattr(Callback, h) for c in trainer.callbacks for h in BACKWARD_HOOKS)
    )
