"""S seeds of one dense classifier trained as one program: ``StackedMLP``.

A sweep point is run with several seeds; each run of a small MLP on CPU pays Lightning's and
PyTorch's per-step overhead (hooks, optimizer loops over parameters, small matmuls) for
little work. ``StackedMLP`` holds S copies of ``MLPClassifier(layers, optimizer)`` as batched
weights (``[S, in, out]``, one ``torch.baddbmm`` per layer for all copies) and trains them
together:

- copy i is initialised exactly as ``MLPClassifier`` is after ``torch.manual_seed(seeds[i])``
  (Keras 1 glorot-uniform weights, zero biases, the same draws in the same order);
- the loss is the sum over copies of each copy's mean cross-entropy, so the gradient of copy
  i's weights is exactly the gradient its own run would compute (copies share no weights);
- SGD, RMSprop and Adadelta (and Adam, NAdam) act elementwise, so one optimizer over the
  stacked parameters takes, for each copy, the update its own optimizer would take;
- dropout draws an independent mask per copy (one mask over the ``[S, batch, width]``
  activations);
- a batch ``(x [B, ...], y [B])`` feeds every copy the same minibatch, which is what S
  separate runs see (``MNISTDataModule`` shuffles with its own ``seed``, not the run's);
  ``(x [S, B, ...], y [S, B])`` feeds copy i its own minibatch ``x[i]``.

Logged metrics (``<stage>/loss``, ``<stage>/acc``) are means over the copies; the test stage
also logs each copy's ``test/loss_<i>`` and ``test/acc_<i>`` (``copy_metrics`` reads them
back). Automatic optimization and an ordinary Trainer; grouped steps
(``steps_per_execution``) work as for every module of the package.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from lightning_mnist.errors import ConfigError
from lightning_mnist.models.classifier import Classifier
from lightning_mnist.models.mlp import ACTIVATIONS, Layer, as_layers, dense_stack, keras_dense
from lightning_mnist.models.optimizers import make_optimizer

__all__ = ["StackedMLP", "copy_metrics"]


class StackedMLP(Classifier):
    """``len(seeds)`` copies of ``MLPClassifier(layers, optimizer, lr)``, one per seed.

    Args:
        layers, optimizer, lr, compile_optimizer, num_features, num_classes: as ``MLPClassifier``.
        seeds: one seed per copy; copy i starts from ``MLPClassifier``'s weights under
            ``torch.manual_seed(seeds[i])``.
    """

    def __init__(
        self,
        layers: list[Layer] | None = None,
        optimizer: Literal["sgd", "rmsprop", "adadelta", "adam", "nadam"] = "sgd",
        lr: float | None = None,
        compile_optimizer: bool = False,
        seeds: list[int] | None = None,
        num_features: int = 784,
        num_classes: int = 10,
    ) -> None:
        super().__init__(num_classes, num_features)
        hidden = as_layers([Layer(512)] if layers is None else layers)
        seeds = [1337] if seeds is None else [int(s) for s in seeds]
        if not seeds:
            raise ConfigError("StackedMLP needs at least one seed")
        layers = [asdict(layer) for layer in hidden]
        self.save_hyperparameters()
        copies = [_mlp_linears(num_features, num_classes, hidden, seed) for seed in seeds]
        # weights[k]: [S, in, out] (nn.Linear's weight transposed); biases[k]: [S, 1, out]
        self.weights = nn.ParameterList(
            [
                nn.Parameter(torch.stack([c[k].weight.detach().t() for c in copies]).contiguous())
                for k in range(len(copies[0]))
            ]
        )
        self.biases = nn.ParameterList(
            [nn.Parameter(torch.stack([c[k].bias.detach()[None] for c in copies])) for k in range(len(copies[0]))]
        )
        self.activations = nn.ModuleList([ACTIVATIONS[layer.activation]() for layer in hidden])
        self.dropouts = [layer.dropout for layer in hidden]
        self.copies = len(seeds)
        self._copy_sums: list[torch.Tensor] | None = None  # per-copy test loss and hit sums

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``[S, B, classes]`` of ``x`` (``[B, ...]``: the same for all copies, or
        ``[S, B, ...]``: one minibatch per copy)."""
        per_copy = x.dim() == 3 and x.shape[0] == self.copies and x.shape[-1] == self.hparams.num_features
        h = x if per_copy else x.flatten(1)
        if h.dim() == 2:  # one minibatch for all copies: [B, in] @ [S, in, out]
            h = torch.matmul(h, self.weights[0]) + self.biases[0]
        else:
            h = torch.baddbmm(self.biases[0], h, self.weights[0])
        for k, (activation, p) in enumerate(zip(self.activations, self.dropouts, strict=True)):
            h = activation(h)
            if p:
                h = F.dropout(h, p, self.training)
            h = torch.baddbmm(self.biases[k + 1], h, self.weights[k + 1])
        return h

    def _per_copy(self, batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Logits [S, B, C], labels [S, B] and cross-entropies [S, B] of a batch."""
        x, y = batch
        logits = self(x)
        s, b, c = logits.shape
        y = y.expand(s, b) if y.dim() == 1 else y
        ce = F.cross_entropy(logits.reshape(s * b, c), y.reshape(-1), reduction="none").view(s, b)
        return logits, y, ce

    def training_loss(self, batch) -> torch.Tensor:
        """Sum over copies of each copy's mean cross-entropy (so each copy's gradient is its own)."""
        logits, y, ce = self._per_copy(batch)
        per_copy = ce.mean(dim=1)
        b = y.shape[1]
        hits = (logits.detach().argmax(dim=-1) == y).sum() / self.copies
        self.train_sums.add(b, per_copy.detach().mean() * b, hits)
        return per_copy.sum()

    def evaluate(self, stage: str, batch) -> None:
        logits, y, ce = self._per_copy(batch)
        s, b, c = logits.shape
        self.metrics[f"{stage}_acc"].update(logits.reshape(s * b, c), y.reshape(-1))
        self.metrics[f"{stage}_loss"].update(ce.mean(), weight=s * b)
        if stage == "test":
            sums = [ce.detach().sum(dim=1).double(), (logits.argmax(dim=-1) == y).sum(dim=1).double(), b]
            if self._copy_sums is None:
                self._copy_sums = sums
            else:
                self._copy_sums = [old + new for old, new in zip(self._copy_sums, sums, strict=True)]

    def on_test_epoch_start(self) -> None:
        self._copy_sums = None

    def on_test_epoch_end(self) -> None:
        super().on_test_epoch_end()
        if self._copy_sums is None:
            return
        loss, hits, count = self._copy_sums
        values = {}
        for i in range(self.copies):
            values[f"test/loss_{i}"] = loss[i] / count
            values[f"test/acc_{i}"] = hits[i] / count
        self.log_dict({k: v.float() for k, v in values.items()})
        self._copy_sums = None

    def predict_step(self, batch, batch_idx: int) -> torch.Tensor:
        """Each copy's predicted classes, ``[S, B]``."""
        x = batch if isinstance(batch, torch.Tensor) else batch[0]
        return self(x).argmax(dim=-1)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return make_optimizer(
            self.hparams.optimizer, self.parameters(), self.hparams.lr, compiled=self.hparams.compile_optimizer
        )

    def copy_state(self, i: int) -> dict[str, torch.Tensor]:
        """Copy i's weights as an ``MLPClassifier`` state dict (its ``hidden``/``output`` keys)."""
        linear_names = [*_mlp_state_names(self.hparams.layers), "output"]
        state = {}
        for name, w, b in zip(linear_names, self.weights, self.biases, strict=True):
            state[f"{name}.weight"] = w[i].detach().t().clone()
            state[f"{name}.bias"] = b[i, 0].detach().clone()
        return state


def _mlp_linears(num_features: int, num_classes: int, hidden: list[Layer], seed: int) -> list[nn.Linear]:
    """The Linear layers of ``MLPClassifier(hidden)`` built after ``torch.manual_seed(seed)``
    (the global RNG is left as it was)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        stack, width = dense_stack(num_features, hidden)
        output = keras_dense(width, num_classes)
    return [m for m in stack if isinstance(m, nn.Linear)] + [output]


def _mlp_state_names(layers: list[dict]) -> list[str]:
    """``MLPClassifier``'s state-dict prefixes of its hidden Linears (``hidden.<index>``)."""
    names, index = [], 0
    for layer in as_layers(layers):
        names.append(f"hidden.{index}")
        index += 3 if layer.dropout else 2
    return names


def copy_metrics(test: dict, copies: int) -> list[dict[str, float]]:
    """Each copy's ``{"test/loss": .., "test/acc": ..}`` from ``trainer.test``'s dict."""
    return [
        {"test/loss": float(test[f"test/loss_{i}"]), "test/acc": float(test[f"test/acc_{i}"])} for i in range(copies)
    ]
