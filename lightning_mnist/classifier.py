"""What every MNIST classifier shares: metrics, evaluation steps, a divergence guard.

Loss and accuracy are torchmetrics objects: steps only ``update`` them, and each epoch end
``compute``s (which syncs across processes: a loss averaged over shards of unequal size
stays the exact global mean, and every test image counts once), logs and resets them.
Logging the Metric objects themselves from every step would cost Lightning about 1 ms per
``self.log`` call on CPU, more than a training step of the cell-11 MLP.

Training uses Lightning's manual optimization so that one ``training_step`` can take several
optimizer steps (``MNISTDataModule(steps_per_execution=K)``, see ``steps``). The backward
pass and the wrapped optimizer keep DDP's gradient all-reduce, mixed precision and the
callbacks' backward/optimizer hooks working per minibatch. Trainer-side gradient clipping
and accumulation do not apply to manual optimization (Lightning refuses those flags); the
notebook uses neither.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pytorch_lightning import LightningModule
from torch import nn
from torchmetrics import MeanMetric
from torchmetrics.classification import MulticlassAccuracy

from lightning_mnist.steps import DivergenceError, backward, check_finite, training_minibatches

__all__ = ["STAGES", "Classifier", "DivergenceError"]

STAGES = ("train", "val", "test")


class Classifier(LightningModule):
    """Base of the MNIST classifiers; subclasses define ``forward`` (logits) and the optimizer."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.automatic_optimization = False  # steps are taken in training_step, see above
        # Keyed "<stage>_acc": a bare "train" key would clash with nn.Module.train.
        self.metrics = nn.ModuleDict()
        for stage in STAGES:
            self.metrics[f"{stage}_acc"] = MulticlassAccuracy(
                num_classes=num_classes, average="micro", validate_args=False
            )
            self.metrics[f"{stage}_loss"] = MeanMetric()

    def update_metrics(self, stage: str, logits: torch.Tensor, y: torch.Tensor, loss: torch.Tensor,
                       counts: torch.Tensor | int | None = None) -> None:
        """Accumulate ``stage``'s accuracy and mean loss.

        ``loss`` is the batch mean, or one mean per minibatch with their sizes in ``counts``:
        a group of minibatches costs one update (each costs about 0.1 ms of Python).
        """
        self.metrics[f"{stage}_acc"].update(logits.detach(), y)
        self.metrics[f"{stage}_loss"].update(loss.detach(), weight=len(y) if counts is None else counts)

    def log_epoch_metrics(self, stage: str) -> None:
        acc, loss = self.metrics[f"{stage}_acc"], self.metrics[f"{stage}_loss"]
        if acc.update_count == 0:  # e.g. a stage with no batches
            return
        # compute() already holds the global value on every rank; sync_dist only averages
        # identical numbers (and keeps Lightning from warning about unsynced epoch logs).
        values = {f"{stage}/loss": loss.compute(), f"{stage}/acc": acc.compute()}
        self.log_dict(values, prog_bar=True, sync_dist=True)
        acc.reset()
        loss.reset()

    def on_train_epoch_end(self) -> None:
        self.log_epoch_metrics("train")

    def on_validation_epoch_end(self) -> None:
        self.log_epoch_metrics("val")

    def on_test_epoch_end(self) -> None:
        self.log_epoch_metrics("test")

    def check_finite(self, loss: torch.Tensor) -> None:
        check_finite(self, loss)

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        # Lightning saves model, optimizer and loop state but not the RNG; without it a
        # resumed run draws other dropout masks than the uninterrupted one. Only torch's
        # generators drive training here, and tensors keep the checkpoint weights_only-safe.
        checkpoint["torch_rng_state"] = torch.get_rng_state()
        if torch.cuda.is_available():
            checkpoint["cuda_rng_states"] = torch.cuda.get_rng_state_all()

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        if "torch_rng_state" in checkpoint:
            torch.set_rng_state(checkpoint["torch_rng_state"])
        if "cuda_rng_states" in checkpoint and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(checkpoint["cuda_rng_states"])

    def training_step(self, batch, batch_idx: int) -> None:
        """One optimizer step per minibatch on cross-entropy of the logits (log-softmax
        inside the loss); metrics are updated once for the whole group."""
        optimizer = self.optimizers()
        predictions, targets, losses = [], [], []
        for x, y in training_minibatches(self, batch):
            logits = self(x)
            loss = F.cross_entropy(logits, y)
            self.check_finite(loss)
            optimizer.zero_grad()
            backward(self, loss)
            optimizer.step()
            predictions.append(logits.detach().argmax(dim=1))
            targets.append(y)
            losses.append(loss.detach())
        counts = torch.tensor([len(y) for y in targets], dtype=losses[0].dtype, device=losses[0].device)
        self.update_metrics("train", torch.cat(predictions), torch.cat(targets), torch.stack(losses), counts)

    def evaluate(self, stage: str, batch) -> None:
        x, y = batch
        logits = self(x)
        self.update_metrics(stage, logits, y, F.cross_entropy(logits, y))

    def validation_step(self, batch, batch_idx: int) -> None:
        self.evaluate("val", batch)

    def test_step(self, batch, batch_idx: int) -> None:
        self.evaluate("test", batch)

    def predict_step(self, batch, batch_idx: int) -> torch.Tensor:
        return self(batch[0]).argmax(dim=1)
