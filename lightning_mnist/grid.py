"""The L1/L2 regularisation grid of notebook cells 7-9 as one batched tensor program.

Cell 8 fits 20 x 20 softmax regressions, ``l1, l2 in np.arange(0, 1, 0.05)``, each by 10
full-batch gradient-descent steps of learning rate 1 from ``W = 0`` with the gradient of
cell 7, ``X^T (P - Y) / N + l1 * sign(W) + 2 * l2 * W`` (the bias is row 0 of ``W`` there,
so it is penalised too), and stores the test accuracy in ``zgrid[i][j]`` for ``l1 = reg[i]``
(rows) and ``l2 = reg[j]`` (columns). :func:`grid_accuracy` returns that table.

All models share ``X``, so instead of 400 fits whose ``[N, 784] @ [784, 10]`` products are
too thin to keep a CPU busy, :func:`fit_grid` stacks the weights into one
``[784, M * 10]`` matrix (column ``m * 10 + k`` is class ``k`` of model ``m``) and each step is

    logits = X @ W + b          [N, M*10], viewed as [N, M, 10]
    P      = softmax over the last dim (max-shifted, like cell 3)
    R      = P - Y              (Y broadcast over the M models)
    grad   = X^T @ R / N + l1 * sign(W) + 2 * l2 * W     (l1, l2 per column)

with ``X`` taken in blocks of rows (``chunk``) so no ``[N, M*10]`` intermediate exists: the
gradient is accumulated block by block (peak memory: a few ``[chunk, M*10]`` blocks).

Three exact savings on top of the batching (exact in real arithmetic; in floating point they
only change summation order, like any other GEMM blocking):

- While every model has the same weights, one model's data gradient serves all. From
  ``W = 0`` the first step's penalty is ``l1 * sign(0) + 2 * l2 * 0 = 0``, so after step 1
  all models still share ``W1``, and step 2's data gradient is shared too: of 10 steps only
  8 need the batched product.
- Pixels that are 0 in every training image get a zero data gradient and, from ``W = 0``, a
  zero penalty, so their weights stay exactly 0: they are left out of the products (67 of
  784 for MNIST) and reported as 0.
- No logits are computed after the last step except on the test set.

:func:`sequential_fit` is the per-model reference: the library's single-model step
(:func:`lightning_mnist.softmax.gradient_sums` and :func:`~lightning_mnist.softmax.penalty_gradient`,
the same arithmetic as ``SoftmaxRegression.training_step``), one model at a time.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from lightning_mnist.softmax import gradient_sums, penalty_gradient

NUM_CLASSES = 10
#: Target size in bytes of one ``[chunk, M * classes]`` block when ``chunk`` is None.
BLOCK_BYTES = 16 * 2**20


def reg_coeffs() -> np.ndarray:
    """The notebook's coefficients, ``np.arange(0, 1, 5e-2)``: 20 values, 0 to 0.95."""
    return np.arange(0, 1, 5e-2)


def grid_coefficients(l1s: Sequence[float], l2s: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Per-model ``(l1, l2)`` in grid order: model ``m = i * len(l2s) + j`` has ``(l1s[i], l2s[j])``."""
    l1s, l2s = np.asarray(l1s, dtype=np.float64).ravel(), np.asarray(l2s, dtype=np.float64).ravel()
    return np.repeat(l1s, len(l2s)), np.tile(l2s, len(l1s))


def _check_xy(x, y, num_classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.as_tensor(x)
    y = torch.as_tensor(y)
    if x.ndim != 2:
        x = x.flatten(1)
    if not x.is_floating_point():
        raise TypeError(f"x must be a floating-point tensor, got {x.dtype}")
    if y.shape != (len(x),):
        raise ValueError(f"y must have shape ({len(x)},), got {tuple(y.shape)}")
    y = y.long()
    if len(y) and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes})")
    return x, y


def _block_rows(chunk: int | None, n: int, columns: int, itemsize: int) -> int:
    if chunk is not None:
        if chunk < 1:
            raise ValueError(f"chunk must be a positive number of rows, got {chunk}")
        return chunk
    return max(64, min(n, BLOCK_BYTES // max(1, columns * itemsize)))


def _softmax_residual_(logits: torch.Tensor, classes: int, onehot: torch.Tensor) -> torch.Tensor:
    """In place: ``[rows, M*classes]`` logits -> ``P - Y`` per model (P max-shifted as in cell 3)."""
    p = logits.view(len(logits), -1, classes)
    p.sub_(p.amax(dim=2, keepdim=True))
    p.exp_()
    p.div_(p.sum(dim=2, keepdim=True))
    p.sub_(onehot.unsqueeze(1))
    return logits


def _gradient_sums_stacked(x: torch.Tensor, onehot: torch.Tensor, weight: torch.Tensor,
                           bias: torch.Tensor, classes: int, rows: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed data gradient of every stacked model: ``(X^T (P - Y), sum_rows(P - Y))``."""
    grad_w = torch.zeros_like(weight)
    grad_b = torch.zeros_like(bias)
    for start in range(0, len(x), rows):
        xb = x[start : start + rows]
        residual = _softmax_residual_(torch.addmm(bias, xb, weight), classes, onehot[start : start + rows])
        grad_w.addmm_(xb.T, residual)
        grad_b += residual.sum(dim=0)
    return grad_w, grad_b


def _fit_stacked(x: torch.Tensor, y: torch.Tensor, l1s, l2s, lr: float, iterations: int,
                 penalize_bias: bool, chunk: int | None, classes: int):
    """Fit every grid model; returns ``(W [D, M*classes], b [M*classes])`` (stacked layout)."""
    n, d = x.shape
    dtype = x.dtype
    l1m, l2m = grid_coefficients(l1s, l2s)
    models = len(l1m)
    if models == 0:
        raise ValueError("l1s and l2s must each hold at least one coefficient")
    if iterations < 0:
        raise ValueError(f"iterations must be >= 0, got {iterations}")
    if n == 0 and iterations:
        raise ValueError("cannot fit on an empty training set")
    # Per stacked column: column m * classes + k belongs to model m.
    l1c = torch.as_tensor(np.repeat(l1m, classes), dtype=dtype)
    l2c2 = torch.as_tensor(np.repeat(2 * l2m, classes), dtype=dtype)  # 2 * l2, exact in binary

    active = (x != 0).any(dim=0)
    xa = x[:, active].contiguous() if not bool(active.all()) else x.contiguous()
    onehot = torch.nn.functional.one_hot(y, classes).to(dtype)

    # Phase 1: all models share one weight matrix (W = 0 and after a step from W = 0).
    w_shared = torch.zeros(xa.shape[1], classes, dtype=dtype)
    b_shared = torch.zeros(classes, dtype=dtype)
    weight = bias = None
    step = 0
    single = _block_rows(chunk, n, classes, x.element_size())
    while step < iterations and weight is None:
        gw, gb = _gradient_sums_stacked(xa, onehot, w_shared, b_shared, classes, single)
        gw /= n
        gb /= n
        if not (bool(w_shared.any()) or (penalize_bias and bool(b_shared.any()))):
            # Penalty gradient of all-zero weights is exactly 0 for every (l1, l2).
            w_shared = w_shared - lr * gw
            b_shared = b_shared - lr * gb
        else:
            # The models part here: shared data gradient, per-model penalty.
            ws = w_shared.repeat(1, models)
            bs = b_shared.repeat(models)
            gw = gw.repeat(1, models) + (l1c * ws.sign() + l2c2 * ws)
            gb = gb.repeat(models)
            if penalize_bias:
                gb = gb + (l1c * bs.sign() + l2c2 * bs)
            weight, bias = ws - lr * gw, bs - lr * gb
        step += 1
    if weight is None:  # never parted (iterations <= 1, or all steps shared)
        weight, bias = w_shared.repeat(1, models), b_shared.repeat(models)

    # Phase 2: the batched steps.
    rows = _block_rows(chunk, n, models * classes, x.element_size())
    for _ in range(step, iterations):
        gw, gb = _gradient_sums_stacked(xa, onehot, weight, bias, classes, rows)
        gw /= n
        gb /= n
        gw += l1c * weight.sign() + l2c2 * weight
        if penalize_bias:
            gb += l1c * bias.sign() + l2c2 * bias
        weight -= lr * gw
        bias -= lr * gb

    if xa.shape[1] != d:
        full = torch.zeros(d, weight.shape[1], dtype=dtype)
        full[active] = weight
        weight = full
    return weight, bias


def fit_grid(x, y, l1s: Sequence[float], l2s: Sequence[float], lr: float = 1.0, iterations: int = 10,
             penalize_bias: bool = True, chunk: int | None = None,
             num_classes: int = NUM_CLASSES) -> tuple[torch.Tensor, torch.Tensor]:
    """Fit all ``len(l1s) * len(l2s)`` penalised softmax regressions at once.

    Args:
        x: ``[N, features]`` training inputs (float32 or float64; the computation keeps that dtype).
        y: ``[N]`` integer labels.
        l1s, l2s: coefficients; model ``m = i * len(l2s) + j`` uses ``(l1s[i], l2s[j])``.
        lr, iterations: gradient descent from zero weights, ``W -= lr * grad`` per step.
        penalize_bias: penalise the bias as the notebook does (its bias is a row of ``W``).
        chunk: rows of ``x`` per block (None: blocks of about 16 MB). Only speed and memory
            depend on it.

    Returns:
        ``(weights [M, classes, features], biases [M, classes])``, the layout of
        :class:`~lightning_mnist.softmax.SoftmaxRegression`.
    """
    x, y = _check_xy(x, y, num_classes)
    weight, bias = _fit_stacked(x, y, l1s, l2s, lr, iterations, penalize_bias, chunk, num_classes)
    models = weight.shape[1] // num_classes
    weights = weight.view(-1, models, num_classes).permute(1, 2, 0).contiguous()
    return weights, bias.view(models, num_classes)


def _stack(weights: torch.Tensor, biases: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``[M, C, D]``, ``[M, C]`` -> stacked ``[D, M*C]``, ``[M*C]``."""
    weights = torch.as_tensor(weights)
    if weights.ndim == 2:
        weights, biases = weights.unsqueeze(0), torch.as_tensor(biases).unsqueeze(0)
    return weights.permute(2, 0, 1).reshape(weights.shape[2], -1), torch.as_tensor(biases).reshape(-1)


def _predict_stacked(weight: torch.Tensor, bias: torch.Tensor, x: torch.Tensor, classes: int,
                     chunk: int | None) -> torch.Tensor:
    models = weight.shape[1] // classes
    rows = _block_rows(chunk, len(x), weight.shape[1], x.element_size())
    out = torch.empty(len(x), models, dtype=torch.long)
    for start in range(0, len(x), rows):
        logits = torch.addmm(bias, x[start : start + rows], weight)
        out[start : start + rows] = logits.view(len(logits), models, classes).argmax(dim=2)
    return out


def predict(weights, biases, x, chunk: int | None = None) -> torch.Tensor:
    """Predicted classes ``[N, M]`` (argmax of the logits) of ``M`` models ``[M, C, D]`` (or one ``[C, D]``)."""
    weights = torch.as_tensor(weights)
    classes = weights.shape[-2]
    x = torch.as_tensor(x).flatten(1).to(weights.dtype)
    weight, bias = _stack(weights, biases)
    return _predict_stacked(weight, bias.to(weights.dtype), x, classes, chunk)


def accuracy(weights, biases, x, y, chunk: int | None = None) -> np.ndarray:
    """Test accuracy of each of ``M`` models ``[M, C, D]``: a float64 array ``[M]``."""
    pred = predict(weights, biases, x, chunk)
    y = torch.as_tensor(y).long()
    return (pred == y.unsqueeze(1)).sum(dim=0).double().numpy() / max(1, len(y))


def grid_accuracy(x_train, y_train, x_test, y_test, l1s: Sequence[float] | None = None,
                  l2s: Sequence[float] | None = None, lr: float = 1.0, iterations: int = 10,
                  penalize_bias: bool = True, chunk: int | None = None,
                  num_classes: int = NUM_CLASSES) -> np.ndarray:
    """Cell 8: test accuracy ``acc[i, j]`` of the model fitted with ``(l1s[i], l2s[j])``.

    ``l1s`` and ``l2s`` default to :func:`reg_coeffs`. Returns a float64 ``[len(l1s), len(l2s)]``
    array, the notebook's ``zgrid``.
    """
    l1s = reg_coeffs() if l1s is None else np.asarray(l1s, dtype=np.float64).ravel()
    l2s = reg_coeffs() if l2s is None else np.asarray(l2s, dtype=np.float64).ravel()
    weights, biases = fit_grid(x_train, y_train, l1s, l2s, lr, iterations, penalize_bias, chunk, num_classes)
    return accuracy(weights, biases, x_test, y_test, chunk).reshape(len(l1s), len(l2s))


def sequential_fit(x, y, l1: float, l2: float, lr: float = 1.0, iterations: int = 10,
                   penalize_bias: bool = True,
                   num_classes: int = NUM_CLASSES) -> tuple[torch.Tensor, torch.Tensor]:
    """One model, the reference for :func:`fit_grid`: ``(weight [C, D], bias [C])``.

    Each step is ``SoftmaxRegression.training_step`` on one process: summed gradients from
    :func:`~lightning_mnist.softmax.gradient_sums`, divided by ``N``, plus
    :func:`~lightning_mnist.softmax.penalty_gradient`, then ``W -= lr * grad``.
    """
    x, y = _check_xy(x, y, num_classes)
    n = len(x)
    weight = torch.zeros(num_classes, x.shape[1], dtype=x.dtype)
    bias = torch.zeros(num_classes, dtype=x.dtype)
    for _ in range(iterations):
        grad_w, grad_b, _, _ = gradient_sums(x, y, weight, bias)
        grad_w = grad_w / n
        grad_b = grad_b / n
        grad_w += penalty_gradient(weight, l1, l2)
        if penalize_bias:
            grad_b += penalty_gradient(bias, l1, l2)
        weight -= lr * grad_w
        bias -= lr * grad_b
    return weight, bias


def sequential_grid_accuracy(x_train, y_train, x_test, y_test, l1s: Sequence[float],
                             l2s: Sequence[float], lr: float = 1.0, iterations: int = 10,
                             penalize_bias: bool = True, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """:func:`grid_accuracy` by one :func:`sequential_fit` per cell (the slow reference)."""
    acc = np.empty((len(l1s), len(l2s)))
    for i, l1 in enumerate(l1s):
        for j, l2 in enumerate(l2s):
            w, b = sequential_fit(x_train, y_train, float(l1), float(l2), lr, iterations, penalize_bias, num_classes)
            acc[i, j] = accuracy(w, b, x_test, y_test)[0]
    return acc


def format_table(acc: np.ndarray, l1s: Sequence[float], l2s: Sequence[float], percent: bool = True) -> str:
    """The grid as text: one row per ``l1`` (``acc[i]``), one column per ``l2``."""
    acc = np.asarray(acc)
    scale, fmt = (100.0, "{:6.2f}") if percent else (1.0, "{:6.4f}")
    width = len(fmt.format(0.0))
    head = "l1 \\ l2".ljust(8) + " ".join(f"{l2:>{width}.2f}" for l2 in l2s)
    lines = [head]
    for l1, row in zip(l1s, acc):
        lines.append(f"{l1:<8.2f}" + " ".join(fmt.format(v * scale) for v in row))
    return "\n".join(lines)
