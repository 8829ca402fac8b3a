"""The base of every LightningModule of the package: a textbook training step, grouped steps
when they change nothing, and per-epoch metrics.

By default a module is what a Lightning user expects: automatic optimization, one
``training_step`` per minibatch returning the loss, so schedulers, clipping, accumulation,
SWA, the tuner and every callback work as documented.

``MNISTDataModule(steps_per_execution=K)`` asks for grouped steps: K minibatches per
Lightning step, one optimizer step each (manual optimization), so Lightning's per-step
machinery is paid once per group. In ``on_fit_start`` ``grouping.GroupedSteps`` decides, once
for the fit, whether nothing in the run would see the difference, and tells this module and
the DataModule (``take_grouping``); otherwise it warns once, naming the hook or feature, and
both work the textbook way.

Metrics: validation and test update torchmetrics objects per batch. Training runs many more
batches, where a torchmetrics update per step would cost a noticeable share of a small MLP's
step on CPU: the training step only adds to running tensor sums, folded into torchmetrics
``MeanMetric``s once per epoch. Either way the epoch's ``compute`` syncs across processes, so
the logged values are the exact global means over every image, however the shards are sized.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn
from torchmetrics import Metric

from lightning_mnist.backend import LightningModule
from lightning_mnist.errors import DivergenceError, ResumeError
from lightning_mnist.models.grouping import TEXTBOOK, Decision, GroupedSteps, lift_group_count_filter, minibatches

__all__ = ["STAGES", "MNISTModule", "RunningSums"]

STAGES = ("train", "val", "test")


class RunningSums:
    """Per-epoch sums kept as tensors on the batches' device (no host sync per step), and
    the number of items they cover as a plain int."""

    def __init__(self, size: int) -> None:
        self.size, self.sums, self.count = size, None, 0

    def add(self, count: int, *values: torch.Tensor) -> None:
        if self.sums is None:
            dtype = torch.float32 if values[0].device.type == "mps" else torch.float64
            self.sums = [torch.zeros((), dtype=dtype, device=values[0].device) for _ in range(self.size)]
        elif self.sums[0].device != values[0].device:  # restored from a checkpoint, before the move to the device
            self.sums = [total.to(values[0].device) for total in self.sums]
        for total, value in zip(self.sums, values, strict=True):
            total += value
        self.count += count

    def state_dict(self) -> dict:
        """The sums so far in this epoch (tensors and an int: a ``weights_only`` checkpoint)."""
        return {"sums": None if self.sums is None else [total.clone() for total in self.sums], "count": self.count}

    def load_state_dict(self, state: dict) -> None:
        self.sums, self.count = state["sums"], int(state["count"])

    def pop(self) -> tuple[list[torch.Tensor], torch.Tensor] | None:
        """The sums and their count (as a tensor), or None when nothing was added; then resets."""
        if self.sums is None:
            return None
        sums, count = self.sums, torch.tensor(float(self.count), dtype=self.sums[0].dtype, device=self.sums[0].device)
        self.sums, self.count = None, 0
        return sums, count


class MNISTModule(LightningModule):
    """Subclasses call ``init_epoch_metrics`` and define ``training_loss(batch)``: the loss of
    one minibatch, which also adds to ``train_sums`` (one sum per metric, values times images).

    ``grouped_steps`` is 1 (the textbook path) unless the fit's ``GroupedSteps`` decision took
    the DataModule's offer of K minibatches per step; ``automatic_optimization`` follows it.
    """

    _grouping: Decision = TEXTBOOK
    _checkpoint_grouped: int = 1  # grouped_steps of the checkpoint last loaded

    def __setattr__(self, name: str, value) -> None:
        # Lightning sets _current_fx_name around every hook call, dozens of times a step;
        # nn.Module.__setattr__'s bookkeeping is wasted on what is a plain attribute.
        if name == "_current_fx_name":
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)

    @property
    def grouped_steps(self) -> int:
        """Minibatches per Lightning step in the current (or last) fit of this Trainer. The
        mode outlives the fit (test/validate after it keep it) because Lightning reads
        global_step from the optimizer loop of the current mode; a new Trainer starts textbook."""
        # _trainer: the public ``trainer`` raises when none is attached, and a detached module is textbook.
        return self._grouping.size if self._grouping.is_for(self._trainer) else 1

    def take_grouping(self, decision: Decision) -> None:
        """Called by ``GroupedSteps.decide`` once per fit."""
        self._grouping = decision

    @property
    def automatic_optimization(self) -> bool:
        # _automatic_optimization: where LightningModule keeps the user's setting (tested by name).
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
            if self._grouping.direct_backward:
                self.backward(loss)  # what manual_backward does here, minus its hook dispatch
            else:
                self.manual_backward(loss)
            optimizer.step()
        # Loggers take their x-axis from Lightning's count of stepped batches, one per
        # Lightning step: count the group's minibatches, as the textbook path would (private:
        # no public counter; test_grouping fails if it is renamed).
        self.trainer.fit_loop.epoch_loop._batches_that_stepped += len(group) - 1
        return None

    def on_fit_start(self) -> None:
        resumed = self._checkpoint_grouped if self.trainer.ckpt_path else None
        # A textbook checkpoint resumes the textbook way: Lightning counts steps in one loop for
        # automatic and in another for manual optimization.
        GroupedSteps.decide(self.trainer, offer=resumed != 1)
        if resumed not in (None, 1) and self.grouped_steps == 1:
            # ... and a run that switched would restart global_step at 0.
            raise ResumeError(
                f"{self.trainer.ckpt_path} was trained with grouped steps (steps_per_execution > 1); "
                "resume it with --data.steps_per_execution > 1 and without per-step features, "
                "or start a new run"
            )

    def to_onnx(self, file_path, input_sample=None, **kwargs):
        """As Lightning's, but with a dynamic batch axis unless the caller names dynamic axes or
        shapes: Lightning's fixes every axis at the example's (a batch of 1), and the exported
        model then refuses other batch sizes. torch.export would specialize a batch of 1 to a
        constant, so a one-row sample is traced as two rows (the weights are what is exported)."""
        if "dynamic_axes" not in kwargs and "dynamic_shapes" not in kwargs:
            sample = self.example_input_array if input_sample is None else input_sample
            if isinstance(sample, torch.Tensor):
                input_sample = sample.expand(2, *sample.shape[1:]).clone() if len(sample) == 1 else sample
                kwargs["dynamic_shapes"] = ({0: torch.export.Dim.DYNAMIC},)
                kwargs.setdefault("input_names", ["input"])
                kwargs.setdefault("output_names", ["output"])
        kwargs.setdefault("verbose", False)
        return super().to_onnx(file_path, input_sample, **kwargs)

    def on_train_start(self) -> None:
        lift_group_count_filter()

    def init_epoch_metrics(self, factories: dict[str, Callable[[str], Metric]], what: str = "training loss") -> None:
        """One metric per name and stage, logged as ``<stage>/<name>``; the first name is the
        loss that ``check_finite`` watches (``what`` names it in the error)."""
        self.metric_names, self._loss_label = tuple(factories), what
        # Keyed "<stage>_<name>": a bare "train" key would clash with nn.Module.train.
        self.metrics = nn.ModuleDict({f"{s}_{n}": make(s) for s in STAGES for n, make in factories.items()})
        self.train_sums = RunningSums(len(factories))

    def log_epoch_metrics(self, stage: str) -> dict[str, torch.Tensor] | None:
        """Log the stage's metrics for the epoch and reset them; None when no batch ran."""
        metrics = [self.metrics[f"{stage}_{name}"] for name in self.metric_names]
        if metrics[0].update_count == 0:
            return None
        # compute() already holds the global value on every rank; sync_dist only averages
        # identical numbers (and keeps Lightning from warning about unsynced epoch logs).
        values = {f"{stage}/{name}": m.compute() for name, m in zip(self.metric_names, metrics, strict=True)}
        self.log_dict(values, prog_bar=True, sync_dist=True)
        for metric in metrics:
            metric.reset()
        return values

    def on_train_epoch_end(self) -> None:
        sums = self.train_sums.pop()
        if sums is not None:
            totals, count = sums
            for name, total in zip(self.metric_names, totals, strict=True):
                self.metrics[f"train_{name}"].update(total / count, weight=count)
        values = self.log_epoch_metrics("train")
        if values is not None:
            self.check_finite(values[f"train/{self.metric_names[0]}"], self._loss_label)

    def on_validation_epoch_end(self) -> None:
        self.log_epoch_metrics("val")

    def on_test_epoch_end(self) -> None:
        self.log_epoch_metrics("test")

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
        # A checkpoint saved inside an epoch (SIGTERM) resumes there: the epoch's training metrics
        # must still cover its first batches.
        sums = getattr(self, "train_sums", None)
        if sums is not None:
            checkpoint["train_sums"] = sums.state_dict()

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        self._checkpoint_grouped = checkpoint.get("grouped_steps", 1)
        sums = getattr(self, "train_sums", None)
        if sums is not None and "train_sums" in checkpoint:
            sums.load_state_dict(checkpoint["train_sums"])
        if "torch_rng_state" in checkpoint:
            torch.set_rng_state(checkpoint["torch_rng_state"])
        if "cuda_rng_states" in checkpoint and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(checkpoint["cuda_rng_states"])
