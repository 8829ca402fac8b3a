"""Softmax regression: the hand-derived gradient against autograd, stability, divergence, MNIST."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from lightning_mnist import DivergenceError, MNISTDataModule, SoftmaxRegression
from lightning_mnist.backend import pl
from lightning_mnist.models.softmax import gradient_sums, penalty_gradient

pytestmark = pytest.mark.filterwarnings("ignore:You defined a `validation_step` but have no `val_dataloader`")


def _trainer(**kwargs) -> pl.Trainer:
    return pl.Trainer(
        accelerator="cpu",
        devices=1,
        num_sanity_val_steps=0,
        limit_val_batches=0,
        logger=False,
        enable_progress_bar=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        **kwargs,
    )


def _problem(n=37, features=13, classes=5, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, features, generator=g, dtype=dtype)
    y = torch.randint(0, classes, (n,), generator=g)
    weight = torch.randn(classes, features, generator=g, dtype=dtype)
    bias = torch.randn(classes, generator=g, dtype=dtype)
    assert (weight != 0).all() and (bias != 0).all()
    return x, y, weight, bias


def _autograd(x, y, weight, bias, l1, l2, penalize_bias):
    w, b = weight.clone().requires_grad_(), bias.clone().requires_grad_()
    loss = F.cross_entropy(x @ w.T + b, y) + l1 * w.abs().sum() + l2 * (w**2).sum()
    if penalize_bias:
        loss = loss + l1 * b.abs().sum() + l2 * (b**2).sum()
    loss.backward()
    return w.grad, b.grad


@pytest.mark.parametrize("l1, l2", [(0.0, 0.0), (0.01, 0.0), (0.0, 0.05), (0.003, 0.02)])
@pytest.mark.parametrize("penalize_bias", [True, False])
@pytest.mark.parametrize("seed", [0, 1])
def test_gradient_matches_autograd(l1, l2, penalize_bias, seed):
    x, y, weight, bias = _problem(seed=seed)
    grad_w, grad_b, loss_sum, logits = gradient_sums(x, y, weight, bias)
    n = len(y)
    grad_w = grad_w / n + penalty_gradient(weight, l1, l2)
    grad_b = grad_b / n + (penalty_gradient(bias, l1, l2) if penalize_bias else 0)
    want_w, want_b = _autograd(x, y, weight, bias, l1, l2, penalize_bias)
    assert grad_w.dtype == torch.float64 and grad_w.shape == weight.shape
    torch.testing.assert_close(grad_w, want_w, rtol=0, atol=1e-6)
    torch.testing.assert_close(grad_b, want_b, rtol=0, atol=1e-6)
    torch.testing.assert_close(loss_sum, F.cross_entropy(x @ weight.T + bias, y, reduction="sum"), rtol=0, atol=1e-6)
    torch.testing.assert_close(logits, x @ weight.T + bias, rtol=0, atol=1e-9)


def test_penalty_gradient():
    w = torch.tensor([-2.0, -0.5, 0.0, 0.25, 3.0], dtype=torch.float64)
    expected = 0.1 * torch.tensor([-1.0, -1, 0, 1, 1], dtype=torch.float64) + 2 * 0.3 * w
    torch.testing.assert_close(penalty_gradient(w, 0.1, 0.3), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_stable_with_huge_logits(dtype):
    x, y, weight, bias = _problem(n=64, features=20, classes=10, seed=3, dtype=dtype)
    weight, bias = weight * 3e3, bias * 1e4  # logits of order 1e4
    logits = x @ weight.T + bias
    assert logits.abs().max() > 1e4
    grad_w, grad_b, loss_sum, _ = gradient_sums(x, y, weight, bias)
    for t in (grad_w, grad_b, loss_sum):
        assert torch.isfinite(t).all()
    # Against float64 autograd of the same problem (no penalty): P - Y is still exact.
    want_w, want_b = _autograd(x.double(), y, weight.double(), bias.double(), 0.0, 0.0, False)
    tol = 1e-6 if dtype == torch.float64 else 1e-4
    torch.testing.assert_close(grad_w.double() / len(y), want_w, rtol=tol, atol=tol)
    torch.testing.assert_close(grad_b.double() / len(y), want_b, rtol=tol, atol=tol)
    want_loss = F.cross_entropy(logits.double(), y, reduction="sum")
    assert want_loss > 1e4  # confidently wrong somewhere: a naive exp/log would give inf
    torch.testing.assert_close(loss_sum.double(), want_loss, rtol=1e-6, atol=0)


@pytest.mark.parametrize("penalize_bias", [True, False])
def test_training_steps_are_gradient_descent(penalize_bias):
    # Three full-batch steps of the LightningModule = three steps of GD on autograd gradients.
    x, y, _, _ = _problem(n=120, features=16, classes=4, seed=5, dtype=torch.float32)
    lr, l1, l2 = 0.7, 0.01, 0.05
    model = SoftmaxRegression(lr=lr, l1=l1, l2=l2, penalize_bias=penalize_bias, num_features=16, num_classes=4)
    _trainer(max_steps=3).fit(model, train_dataloaders=DataLoader(TensorDataset(x, y), batch_size=120))
    w, b = torch.zeros(4, 16, dtype=torch.float64), torch.zeros(4, dtype=torch.float64)
    for _ in range(3):
        gw, gb = _autograd(x.double(), y, w, b, l1, l2, penalize_bias)
        w, b = w - lr * gw, b - lr * gb
    assert (b != 0).all()
    torch.testing.assert_close(model.weight.detach().double(), w, rtol=0, atol=1e-6)
    torch.testing.assert_close(model.bias.detach().double(), b, rtol=0, atol=1e-6)


def test_nan_input_stops_training():
    x, y, _, _ = _problem(n=50, features=784, classes=10, seed=2, dtype=torch.float32)
    x[7, 100] = float("nan")
    model = SoftmaxRegression()
    with pytest.raises(DivergenceError, match="training loss is nan in epoch 0"):
        _trainer(max_epochs=3).fit(model, train_dataloaders=DataLoader(TensorDataset(x, y), batch_size=50))
    assert model.global_step == 1  # checked at the end of the first epoch, not after 3


@pytest.mark.slow
@pytest.mark.data
def test_notebook_accuracy_on_mnist(mnist_dir):
    # Notebook cells 3-6: 100 full-batch GD steps with lr=1 from zero weights.
    dm = MNISTDataModule(
        val_split="test", data_dir=str(mnist_dir), batch_size=None, eval_batch_size=None, download=False
    )
    model = SoftmaxRegression(lr=1.0)
    trainer = _trainer(max_epochs=100)
    trainer.fit(model, datamodule=dm)
    assert trainer.global_step == 100
    result = trainer.test(model, datamodule=dm, verbose=False)[0]
    assert round(result["test/acc"], 4) == 0.9096
