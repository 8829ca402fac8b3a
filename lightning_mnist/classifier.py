"""What every MNIST classifier shares: metrics, evaluation steps, a divergence guard.

Loss and accuracy are torchmetrics objects, so Lightning syncs them across processes at
epoch end: a loss averaged over shards of unequal size stays the exact global mean, and
every test image counts once.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from pytorch_lightning import LightningModule
from torch import nn
from torchmetrics import MeanMetric
from torchmetrics.classification import MulticlassAccuracy

STAGES = ("train", "val", "test")


class DivergenceError(RuntimeError):
    """The training loss became NaN or infinite."""


class Classifier(LightningModule):
    """Base of the MNIST classifiers; subclasses define ``forward`` (logits) and training."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        # Keyed "<stage>_acc": a bare "train" key would clash with nn.Module.train.
        self.metrics = nn.ModuleDict()
        for stage in STAGES:
            self.metrics[f"{stage}_acc"] = MulticlassAccuracy(num_classes=num_classes, average="micro")
            self.metrics[f"{stage}_loss"] = MeanMetric()

    def log_metrics(self, stage: str, logits: torch.Tensor, y: torch.Tensor, loss: torch.Tensor) -> None:
        """Accumulate ``stage``'s accuracy and mean loss (``loss`` is the batch mean)."""
        acc, mean_loss = self.metrics[f"{stage}_acc"], self.metrics[f"{stage}_loss"]
        acc.update(logits.detach(), y)
        mean_loss.update(loss.detach(), weight=len(y))
        self.log(f"{stage}/loss", mean_loss, on_step=False, on_epoch=True, prog_bar=True)
        self.log(f"{stage}/acc", acc, on_step=False, on_epoch=True, prog_bar=stage != "train")

    def check_finite(self, loss: torch.Tensor) -> None:
        """Stop at the first NaN/inf loss instead of training on garbage for many epochs."""
        value = float(loss.detach())
        if not math.isfinite(value):
            raise DivergenceError(
                f"training loss is {value} at epoch {self.current_epoch}, step {self.global_step}: "
                "the run diverged. Lower the learning rate, or check the inputs for NaN."
            )

    def evaluate(self, stage: str, batch) -> None:
        x, y = batch
        logits = self(x)
        self.log_metrics(stage, logits, y, F.cross_entropy(logits, y))

    def validation_step(self, batch, batch_idx: int) -> None:
        self.evaluate("val", batch)

    def test_step(self, batch, batch_idx: int) -> None:
        self.evaluate("test", batch)

    def predict_step(self, batch, batch_idx: int) -> torch.Tensor:
        return self(batch[0]).argmax(dim=1)
