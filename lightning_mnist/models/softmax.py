"""Softmax regression trained by full-batch gradient descent (notebook cells 3-9).

The notebook derives the gradient of the mean cross-entropy by hand, ``X^T (P - Y) / l``,
and adds ``l1 * sign(W) + 2 * l2 * W`` for the penalties. We keep that analytic gradient
(it is the subject of the cells) as the backward of an autograd Function, so the module
trains through Lightning's ordinary loop (schedulers, clipping, accumulation, mixed
precision all apply), and make it exact under DDP: each rank's loss is its shard's *sum*
over the global count (times the world size, which DDP's gradient averaging divides out),
so 1, 2 or 3 processes take the same step even with shards of unequal size.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from lightning_mnist.models.classifier import Classifier


def gradient_sums(x: torch.Tensor, y: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor):
    """Summed (not averaged) cross-entropy gradient and loss over a batch.

    Returns ``(grad_weight, grad_bias, loss_sum, logits)`` with ``grad_weight = (P - Y)^T X``
    in the ``[classes, features]`` layout of ``weight``. One log-softmax serves both the loss
    and ``P``, so the step reads X exactly twice and makes no other pass over it.
    """
    # x @ W^T through a contiguous [features, classes] copy of W: the faster GEMM layout on CPU.
    logits = torch.addmm(bias, x, weight.T.contiguous())
    log_p = log_softmax_rows(logits)
    rows = torch.arange(len(y), device=y.device)
    loss_sum = -log_p[rows, y].sum()
    residual = log_p.exp_()
    residual[rows, y] -= 1  # P - Y without building a one-hot Y
    return residual.T @ x, residual.sum(dim=0), loss_sum, logits


def log_softmax_rows(logits: torch.Tensor) -> torch.Tensor:
    """Row-wise log-softmax, max-shifted so logits of 1e4 give no overflow.

    Written out because ``Tensor.log_softmax(dim=1)`` over rows of only 10 classes is
    several times slower on CPU than these four vectorised passes.
    """
    shifted = logits - logits.amax(dim=1, keepdim=True)
    return shifted - shifted.exp().sum(dim=1, keepdim=True).log()


def penalty_gradient(param: torch.Tensor, l1: float, l2: float) -> torch.Tensor:
    """Gradient of ``l1 * |W|_1 + l2 * |W|_2^2``: ``l1 * sign(W) + 2 * l2 * W``."""
    return l1 * param.sign() + (2 * l2) * param


class AnalyticCrossEntropy(torch.autograd.Function):
    """Summed cross-entropy of ``x W^T + b`` whose backward is the notebook's ``(P - Y)^T X``."""

    @staticmethod
    def forward(ctx, x, weight, bias, y):
        grad_w, grad_b, loss_sum, logits = gradient_sums(x, y, weight, bias)
        ctx.save_for_backward(grad_w, grad_b)
        return loss_sum, logits

    @staticmethod
    def backward(ctx, grad_loss, grad_logits):
        grad_w, grad_b = ctx.saved_tensors
        return None, grad_loss * grad_w, grad_loss * grad_b, None


class SoftmaxRegression(Classifier):
    """``p = softmax(x W^T + b)``, zero-initialised, one GD iteration per training batch.

    Pair it with ``MNISTDataModule(batch_size=None)`` (full batch) for the notebook's
    gradient descent; with minibatches the same step is minibatch SGD.

    Args:
        lr: learning rate (the notebook uses 1).
        l1, l2: penalty coefficients (cells 7-9).
        penalize_bias: the notebook's bias is row 0 of ``W`` and is penalised with it.
        num_features, num_classes: input and output sizes.
    """

    def __init__(
        self,
        lr: float = 1.0,
        l1: float = 0.0,
        l2: float = 0.0,
        penalize_bias: bool = True,
        num_features: int = 784,
        num_classes: int = 10,
    ) -> None:
        super().__init__(num_classes, num_features)
        self.save_hyperparameters()
        self.weight = nn.Parameter(torch.zeros(num_classes, num_features))
        self.bias = nn.Parameter(torch.zeros(num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x.flatten(1), self.weight, self.bias)

    def training_loss(self, batch) -> torch.Tensor:
        """Mean cross-entropy over every process's share of the batch, plus the penalties."""
        x, y = batch
        hp = self.hparams
        # The analytic gradient is float32 math; under autocast it stays so.
        with torch.autocast(x.device.type, enabled=False):
            loss_sum, logits = AnalyticCrossEntropy.apply(x.flatten(1).to(self.weight.dtype), self.weight, self.bias, y)
        count = torch.tensor(float(len(y)), device=loss_sum.device)
        world = self.trainer.world_size if self._trainer is not None else 1
        if world > 1:  # DDP averages gradients over ranks: scale so the result is sum / global count
            count = self.trainer.strategy.reduce(count, reduce_op="sum") / world
        loss = loss_sum / count
        self.train_sums.add(len(y), loss_sum.detach(), (logits.detach().argmax(dim=1) == y).sum())
        for param in (self.weight, self.bias) if hp.penalize_bias else (self.weight,):
            if hp.l1:
                loss = loss + hp.l1 * param.abs().sum()
            if hp.l2:
                loss = loss + hp.l2 * param.square().sum()
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        # Plain SGD with no momentum is exactly W -= lr * g.
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)
