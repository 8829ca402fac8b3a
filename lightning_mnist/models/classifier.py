"""What every MNIST classifier shares: the loss, metrics, evaluation and prediction steps."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torchmetrics import MeanMetric
from torchmetrics.classification import MulticlassAccuracy

from lightning_mnist.models.module import MNISTModule

__all__ = ["Classifier"]


class Classifier(MNISTModule):
    """Base of the MNIST classifiers; subclasses define ``forward`` (logits) and the optimizer.

    Logs ``<stage>/loss`` (cross-entropy) and ``<stage>/acc`` per epoch.
    """

    def __init__(self, num_classes: int = 10, num_features: int = 784) -> None:
        super().__init__()
        self.example_input_array = torch.zeros(1, num_features)

        def accuracy(stage: str):  # training adds hits to a running sum (see MNISTModule)
            if stage == "train":
                return MeanMetric()
            return MulticlassAccuracy(num_classes=num_classes, average="micro", validate_args=False)

        self.init_epoch_metrics({"loss": lambda stage: MeanMetric(), "acc": accuracy})

    def training_loss(self, batch) -> torch.Tensor:
        """Cross-entropy of the logits (log-softmax inside the loss)."""
        x, y = batch
        logits = self(x)
        loss = F.cross_entropy(logits, y)
        self.train_sums.add(len(y), loss.detach() * len(y), (logits.detach().argmax(dim=1) == y).sum())
        return loss

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
