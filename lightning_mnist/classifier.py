"""What every MNIST classifier shares: the loss, metrics, evaluation and prediction steps.

Validation and test metrics are torchmetrics objects updated per batch. Training runs many
more batches, where a torchmetrics update (~0.2 ms of Python, an eighth of a cell-11 MLP
step on CPU) would show: the training step only adds to three running sums (hits, loss,
images), folded into torchmetrics ``MeanMetric``s once per epoch. Either way the epoch's
``compute`` syncs across processes, so the logged loss and accuracy are the exact global
means over every image, however the shards are sized.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics import MeanMetric
from torchmetrics.classification import MulticlassAccuracy

from lightning_mnist.module import DivergenceError, MNISTModule

__all__ = ["STAGES", "Classifier", "DivergenceError", "RunningSums"]

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
        for total, value in zip(self.sums, values, strict=True):
            total += value
        self.count += count

    def pop(self) -> tuple[list[torch.Tensor], torch.Tensor] | None:
        """The sums and their count (as a tensor), or None when nothing was added; then resets."""
        if self.sums is None:
            return None
        sums, count = self.sums, torch.tensor(float(self.count), dtype=self.sums[0].dtype, device=self.sums[0].device)
        self.sums, self.count = None, 0
        return sums, count


class Classifier(MNISTModule):
    """Base of the MNIST classifiers; subclasses define ``forward`` (logits) and the optimizer."""

    def __init__(self, num_classes: int = 10, num_features: int = 784) -> None:
        super().__init__()
        self.example_input_array = torch.zeros(1, num_features)
        # Keyed "<stage>_acc": a bare "train" key would clash with nn.Module.train.
        self.metrics = nn.ModuleDict()
        for stage in STAGES:
            self.metrics[f"{stage}_loss"] = MeanMetric()
            self.metrics[f"{stage}_acc"] = (
                MeanMetric() if stage == "train"
                else MulticlassAccuracy(num_classes=num_classes, average="micro", validate_args=False)
            )
        self.train_sums = RunningSums(2)  # hits, loss * images

    def training_loss(self, batch) -> torch.Tensor:
        """Cross-entropy of the logits (log-softmax inside the loss)."""
        x, y = batch
        logits = self(x)
        loss = F.cross_entropy(logits, y)
        self.train_sums.add(len(y), (logits.detach().argmax(dim=1) == y).sum(), loss.detach() * len(y))
        return loss

    def on_train_epoch_end(self) -> None:
        sums = self.train_sums.pop()
        if sums is not None:
            (hits, loss_sum), count = sums
            self.metrics["train_acc"].update(hits / count, weight=count)
            self.metrics["train_loss"].update(loss_sum / count, weight=count)
        loss = self.log_epoch_metrics("train")
        if loss is not None:
            self.check_finite(loss)

    def log_epoch_metrics(self, stage: str) -> torch.Tensor | None:
        """Log ``<stage>/loss`` and ``<stage>/acc`` for the epoch; returns the loss (None: no batches)."""
        acc, loss = self.metrics[f"{stage}_acc"], self.metrics[f"{stage}_loss"]
        if loss.update_count == 0:
            return None
        # compute() already holds the global value on every rank; sync_dist only averages
        # identical numbers (and keeps Lightning from warning about unsynced epoch logs).
        values = {f"{stage}/loss": loss.compute(), f"{stage}/acc": acc.compute()}
        self.log_dict(values, prog_bar=True, sync_dist=True)
        acc.reset()
        loss.reset()
        return values[f"{stage}/loss"]

    def on_validation_epoch_end(self) -> None:
        self.log_epoch_metrics("val")

    def on_test_epoch_end(self) -> None:
        self.log_epoch_metrics("test")

    def evaluate(self, stage: str, batch) -> None:
        x, y = batch
        logits = self(x)
        self.metrics[f"{stage}_acc"].update(logits, y)
        self.metrics[f"{stage}_loss"].update(F.cross_entropy(logits, y), weight=len(y))

    def validation_step(self, batch, batch_idx: int) -> None:
        self.evaluate("val", batch)

    def test_step(self, batch, batch_idx: int) -> None:
        self.evaluate("test", batch)

    def predict_step(self, batch, batch_idx: int) -> torch.Tensor:
        """The predicted class of each image (batches are ``(x, y)``, ``(x,)`` or ``x``)."""
        x = batch if isinstance(batch, torch.Tensor) else batch[0]
        return self(x).argmax(dim=1)
