"""The L1/L2 regularisation grid of notebook cells 7-9 as one batched tensor program.

Cell 8 fits 20 x 20 softmax regressions, ``l1, l2 in np.arange(0, 1, 0.05)``, each by 10
full-batch gradient-descent steps of learning rate 1 from ``W = 0`` with the gradient of
cell 7, ``X^T (P - Y) / N + l1 * sign(W) + 2 * l2 * W`` (the bias is row 0 of ``W`` there,
so it is penalised too), and stores the test accuracy in ``zgrid[i][j]`` for ``l1 = reg[i]``
(rows) and ``l2 = reg[j]`` (columns). :func:`grid_accuracy` returns that table.

All models share ``X``, so instead of 400 fits whose ``[N, 785] @ [785, 10]`` products are
too thin to keep a CPU's vector units busy, :func:`fit_grid` stacks the weights into one
``[785, 10 * M]`` matrix, bias as row 0 against a ones column of ``X`` as in the notebook,
class-major (column ``k * M + m`` is class ``k`` of model ``m``), and each step is

    logits = X1 @ W              [N, 10*M], viewed as [N, 10, M]
    P      = softmax over the class axis (max-shifted, like cell 3)
    R      = P - Y               (Y broadcast over the M models)
    grad   = X1^T @ R / N + l1 * sign(W) + 2 * l2 * W     (l1, l2 per column)

with ``X1`` taken in blocks of rows (``chunk``) so no ``[N, 10*M]`` intermediate exists: the
gradient is accumulated block by block. Peak memory for the MNIST grid: ``X`` and ``X1``
(2 x 180 MB), one 32 MB logits block, two 11 MB weight-sized matrices.

Savings on top of the batching, exact in real arithmetic (in floating point they only
change rounding, like another GEMM blocking would):

- While every model has the same weights, one model's data gradient serves all. From
  ``W = 0`` the first step's penalty is ``l1 * sign(0) + 2 * l2 * 0 = 0``, so after step 1
  all models still share ``W1``, and step 2's data gradient is shared too: of 10 steps only
  8 need the batched products.
- After step 2, model ``m``'s weights are ``A + l1[m] * B + l2[m] * C`` for three shared
  matrices, so step 3's logits come from one ``[N, 30]`` product: 15 big GEMMs, not 16.
- Pixels that are 0 in every training image get a zero data gradient and, from ``W = 0``, a
  zero penalty, so their weights stay exactly 0: they are left out of the products (67 of
  784 for MNIST) and reported as 0.
- Pixels lit in few training images (:data:`SPARSE_BELOW`: 374 of MNIST's 717 others, with
  4.7 % of the nonzeros) go through sparse products instead of the dense GEMMs, which then
  run 352 columns wide instead of 720: half the dense FLOPs, for 420,000 nonzeros.
- Probabilities are floored at ``exp(-60)`` relative to the row maximum (:data:`EXP_FLOOR`),
  which keeps subnormal floats, and the x86 slow path they trigger, out of the GEMMs.

:func:`sequential_fit` is the per-model reference: the library's single-model step
(:func:`lightning_mnist.models.softmax.gradient_sums` and :func:`~lightning_mnist.models.softmax.penalty_gradient`,
the same arithmetic as ``SoftmaxRegression.training_step``), one model at a time.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from lightning_mnist.models.softmax import gradient_sums, penalty_gradient

NUM_CLASSES = 10
#: Target size in bytes of one ``[chunk, M * classes]`` block when ``chunk`` is None.
BLOCK_BYTES = 32 * 2**20
#: Pixels nonzero in fewer than this fraction of training images enter the products as a
#: sparse matrix. A dense column costs the GEMMs all N rows; a sparse one, its nonzeros at
#: about a tenth of the dense rate per element, so 10 % is near break-even (see
#: scripts/bench/bench_grid.py).
SPARSE_BELOW = 0.1


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


#: Shifted logits are clamped here before ``exp``. Strongly penalised models have logits
#: hundreds apart, so without it ``P - Y`` fills with subnormal floats (below 1.2e-38), and
#: x86 runs every GEMM multiply-add that touches one on microcode assists, far slower than
#: normal floats. ``exp(-60) = 8.8e-27``, divided by at
#: most 10 classes and times a pixel >= 1/255 it stays near 3e-30, far above the subnormal
#: range even in partial sums. The change to ``P`` is below 1e-26 absolute, under float32
#: (and float64) resolution of every sum it enters.
EXP_FLOOR = -60.0


def _softmax_residual_(logits: torch.Tensor, classes: int, neg_onehot: torch.Tensor) -> torch.Tensor:
    """In place: class-major ``[rows, classes*M]`` logits -> ``P - Y`` for every model.

    ``P`` is max-shifted as in cell 3. The class-major layout makes every reduction over the
    10 classes an elementwise pass over ``M``-wide contiguous slabs, about twice as fast on
    CPU as reducing a trailing dimension of 10; ``addcdiv`` does ``-Y + e / sum(e)`` in one pass.
    """
    p = logits.view(len(logits), classes, -1)
    p.sub_(p.amax(dim=1, keepdim=True)).clamp_(min=EXP_FLOOR)
    p.exp_()
    torch.addcdiv(neg_onehot.unsqueeze(2), p, p.sum(dim=1, keepdim=True), out=p)
    return logits


class _SparseColumns:
    """The rarely nonzero columns of ``x``, cut into row blocks as CSR matrices (and their
    transposes, for ``X^T R``). Blocks are built once per block height."""

    def __init__(self, x: torch.Tensor) -> None:
        self.x, self.width = x, x.shape[1]
        self._blocks: dict[int, list] = {}

    def blocks(self, rows: int) -> list:
        if rows not in self._blocks:
            with warnings.catch_warnings():  # "sparse CSR support is in beta": addmm_ is all we use
                warnings.simplefilter("ignore", UserWarning)
                self._blocks[rows] = [(b.to_sparse_csr(), b.T.contiguous().to_sparse_csr()) for b in self.x.split(rows)]
        return self._blocks[rows]


def _gradient_sums_stacked(
    x1: torch.Tensor,
    sparse: _SparseColumns,
    neg_onehot: torch.Tensor,
    weight: torch.Tensor,
    classes: int,
    rows: int,
    affine=None,
) -> torch.Tensor:
    """Summed data gradient ``[X1 | S]^T (P - Y)`` of every stacked model (row 0: the bias).

    ``weight`` rows are ``X1``'s dense columns, then ``sparse``'s columns ``S``: each product
    is a dense GEMM plus a sparse one.

    ``affine = (basis [D, 3 * classes], l1 [1, 1, M], l2 [1, 1, M])`` says that model ``m``'s
    weights are ``basis_0 + l1[m] * basis_1 + l2[m] * basis_2`` (true of the step after the
    models part): its logits then come from one ``[rows, 30]`` product and two broadcast
    multiply-adds instead of the ``[rows, classes * M]`` GEMM. Equal in real arithmetic; in
    floating point it only rounds differently, like another GEMM blocking would.

    One ``[rows, columns]`` buffer serves every block: a fresh tensor per block would be a
    fresh ``mmap`` (blocks are tens of MB) and page-fault its way through every step.
    """
    dense = x1.shape[1]
    grad = torch.zeros_like(weight)
    buffer = torch.empty(min(rows, len(x1)), weight.shape[1], dtype=weight.dtype)
    blocks = sparse.blocks(rows) if sparse.width else None
    for index, start in enumerate(range(0, len(x1), rows)):
        xb = x1[start : start + rows]
        logits = buffer[: len(xb)]
        matrix = weight if affine is None else affine[0]
        product = torch.mm(xb, matrix[:dense], out=logits if affine is None else None)
        if blocks:
            product.addmm_(blocks[index][0], matrix[dense:])
        if affine is not None:
            _, l1, l2 = affine
            base, by_l1, by_l2 = product.view(len(xb), 3, classes, 1).unbind(1)
            view = logits.view(len(xb), classes, -1)
            torch.mul(by_l1, l1, out=view)
            view.addcmul_(by_l2, l2).add_(base)
        residual = _softmax_residual_(logits, classes, neg_onehot[start : start + rows])
        grad[:dense].addmm_(xb.T, residual)
        if blocks:
            grad[dense:].addmm_(blocks[index][1], residual)
    return grad


def _design(x: torch.Tensor) -> tuple[torch.Tensor, _SparseColumns, torch.Tensor, torch.Tensor]:
    """The inputs as the products take them: ``(dense part, sparse part, dense_cols, sparse_cols)``.

    The notebook's ones column: row 0 of the stacked weights is the bias, so one GEMM gives
    the bias gradient too. Always-zero pixels are left out (their weights stay 0), rare ones
    go to the sparse products, and zero columns pad the dense width to a multiple of 16,
    which MKL runs faster (a zero feature gets zero gradient and zero penalty, so its weights
    stay 0 too). Weight rows: bias, dense pixels, padding, sparse pixels.
    """
    n, dtype = len(x), x.dtype
    lit = (x != 0).sum(dim=0)
    # torch's sparse CSR products take float32/float64 only: other dtypes stay dense.
    sparse_below = SPARSE_BELOW if dtype in (torch.float32, torch.float64) else 0.0
    dense_cols = (lit >= max(1.0, sparse_below * n)).nonzero().flatten()
    sparse_cols = ((lit > 0) & (lit < sparse_below * n)).nonzero().flatten()
    width = 1 + len(dense_cols)
    x1 = torch.zeros(n, -(-width // 16) * 16, dtype=dtype)
    x1[:, 0] = 1
    x1[:, 1:width] = x[:, dense_cols]
    return x1, _SparseColumns(x[:, sparse_cols]), dense_cols, sparse_cols


def _fit_stacked(
    x: torch.Tensor,
    y: torch.Tensor,
    l1s,
    l2s,
    lr: float,
    iterations: int,
    penalize_bias: bool,
    chunk: int | None,
    classes: int,
):
    """Fit every grid model; returns the class-major stack ``(W [D, classes*M], b [classes*M])``.

    Column ``k * M + m`` holds class ``k`` of model ``m``.
    """
    n, d = x.shape
    dtype = x.dtype
    l1m, l2m = grid_coefficients(l1s, l2s)
    _check_fit(len(l1m), iterations, n)
    # Per stacked column k * M + m: model m's coefficients.
    l1c = torch.as_tensor(np.tile(l1m, classes), dtype=dtype)
    l2c2 = torch.as_tensor(np.tile(2 * l2m, classes), dtype=dtype)  # 2 * l2: exact in binary
    x1, sparse, dense_cols, sparse_cols = _design(x)
    rows_total = x1.shape[1] + len(sparse_cols)
    fit = _Fit(x1, sparse, -torch.nn.functional.one_hot(y, classes).to(dtype), classes, lr, n)
    # Penalty mask for row 0 (the bias): 1 when it is penalised, else 0.
    fit.row_mask = torch.ones(rows_total, 1, dtype=dtype)
    if not penalize_bias:
        fit.row_mask[0] = 0
    fit.penalize_bias = penalize_bias
    weight, affine, step = _shared_phase(fit, (l1m, l2m, l1c, l2c2), iterations, chunk, x.element_size())
    # Phase 2: the batched steps.
    rows = _block_rows(chunk, n, len(l1m) * classes, x.element_size())
    for _ in range(step, iterations):
        grad = _gradient_sums_stacked(x1, sparse, fit.neg_onehot, weight, classes, rows, affine)
        affine = None
        grad /= n
        grad += fit.penalty(weight, l1c, l2c2)
        weight -= lr * grad
    bias = weight[0].clone()
    full = torch.zeros(d, weight.shape[1], dtype=dtype)
    full[dense_cols] = weight[1 : 1 + len(dense_cols)]
    full[sparse_cols] = weight[x1.shape[1] :]
    return full, bias


def _check_fit(models: int, iterations: int, n: int) -> None:
    if models == 0:
        raise ValueError("l1s and l2s must each hold at least one coefficient")
    if iterations < 0:
        raise ValueError(f"iterations must be >= 0, got {iterations}")
    if n == 0 and iterations:
        raise ValueError("cannot fit on an empty training set")


@dataclass
class _Fit:
    """What every step of a grid fit reads: the design, the targets, the step size."""

    x1: torch.Tensor
    sparse: object
    neg_onehot: torch.Tensor
    classes: int
    lr: float
    n: int
    row_mask: torch.Tensor | None = None
    penalize_bias: bool = True

    def penalty(self, weight: torch.Tensor, l1: torch.Tensor, l2x2: torch.Tensor) -> torch.Tensor:
        pen = l1 * weight.sign() + l2x2 * weight
        return pen if self.penalize_bias else pen * self.row_mask


def _shared_phase(fit: _Fit, coeffs: tuple, iterations: int, chunk: int | None, itemsize: int):
    """Phase 1: all models share one weight matrix (W = 0 and after a step from W = 0), until
    the penalties part them. Returns (stacked weights, the affine form of their first parted
    step or None, steps taken)."""
    l1m, l2m, l1c, l2c2 = coeffs
    models, lr, row_mask, dtype = len(l1m), fit.lr, fit.row_mask, fit.neg_onehot.dtype
    shared = torch.zeros(row_mask.shape[0], fit.classes, dtype=dtype)
    weight = affine = None
    step = 0
    single = _block_rows(chunk, fit.n, fit.classes, itemsize)
    while step < iterations and weight is None:
        grad = _gradient_sums_stacked(fit.x1, fit.sparse, fit.neg_onehot, shared, fit.classes, single)
        grad /= fit.n
        if not bool((shared * row_mask).any()):
            # Penalty gradient of all-zero (penalised) weights is exactly 0 for every (l1, l2).
            shared = shared - lr * grad
        else:
            # The models part here: shared data gradient, per-model penalty, so model m is
            # shared - lr * grad - lr * l1[m] * sign(shared) - lr * 2 * l2[m] * shared.
            stacked = shared.repeat_interleave(models, dim=1)
            weight = stacked - lr * (grad.repeat_interleave(models, dim=1) + fit.penalty(stacked, l1c, l2c2))
            basis = torch.cat([shared - lr * grad, -lr * shared.sign() * row_mask, -2 * lr * shared * row_mask], dim=1)
            as_row = dict(dtype=dtype)
            affine = (
                basis,
                torch.as_tensor(l1m, **as_row).view(1, 1, -1),
                torch.as_tensor(l2m, **as_row).view(1, 1, -1),
            )
        step += 1
    if weight is None:  # never parted
        weight = shared.repeat_interleave(models, dim=1)
    return weight, affine, step


def fit_grid(
    x,
    y,
    l1s: Sequence[float],
    l2s: Sequence[float],
    lr: float = 1.0,
    iterations: int = 10,
    penalize_bias: bool = True,
    chunk: int | None = None,
    num_classes: int = NUM_CLASSES,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fit all ``len(l1s) * len(l2s)`` penalised softmax regressions at once.

    Args:
        x: ``[N, features]`` training inputs (float32 or float64; the computation keeps that dtype).
        y: ``[N]`` integer labels.
        l1s, l2s: coefficients; model ``m = i * len(l2s) + j`` uses ``(l1s[i], l2s[j])``.
        lr, iterations: gradient descent from zero weights, ``W -= lr * grad`` per step.
        penalize_bias: penalise the bias as the notebook does (its bias is a row of ``W``).
        chunk: rows of ``x`` per block (None: blocks of about 32 MB). Only speed and memory
            depend on it.

    Returns:
        ``(weights [M, classes, features], biases [M, classes])``, the layout of
        :class:`~lightning_mnist.models.softmax.SoftmaxRegression`.
    """
    x, y = _check_xy(x, y, num_classes)
    weight, bias = _fit_stacked(x, y, l1s, l2s, lr, iterations, penalize_bias, chunk, num_classes)
    models = weight.shape[1] // num_classes
    weights = weight.view(-1, num_classes, models).permute(2, 1, 0).contiguous()
    return weights, bias.view(num_classes, models).T.contiguous()


def _stack(weights: torch.Tensor, biases: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``[M, C, D]``, ``[M, C]`` -> the class-major stack ``[D, C*M]``, ``[C*M]``."""
    weights, biases = torch.as_tensor(weights), torch.as_tensor(biases)
    if weights.ndim == 2:
        weights, biases = weights.unsqueeze(0), biases.unsqueeze(0)
    return weights.permute(2, 1, 0).reshape(weights.shape[2], -1), biases.T.reshape(-1)


def _argmax_classes(logits: torch.Tensor, classes: int) -> torch.Tensor:
    """``argmax`` over the class axis of class-major ``[rows, classes * M]`` logits: ``[rows, M]``.

    A running maximum over the 10 contiguous class slabs: 4x faster on CPU than
    ``argmax(dim=1)`` over the strided class axis. Ties go to the lowest class, as with
    ``torch.argmax`` and ``np.argmax``.
    """
    view = logits.view(len(logits), classes, -1)
    best = view[:, 0].clone()
    index = torch.zeros(best.shape, dtype=torch.long)
    for k in range(1, classes):
        better = view[:, k] > best
        torch.where(better, view[:, k], best, out=best)
        index.masked_fill_(better, k)
    return index


def _predict_stacked(
    weight: torch.Tensor, bias: torch.Tensor, x: torch.Tensor, classes: int, chunk: int | None
) -> torch.Tensor:
    models = weight.shape[1] // classes
    rows = _block_rows(chunk, len(x), weight.shape[1], x.element_size())
    out = torch.empty(len(x), models, dtype=torch.long)
    for start in range(0, len(x), rows):
        logits = torch.addmm(bias, x[start : start + rows], weight)
        out[start : start + rows] = _argmax_classes(logits, classes)
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


def grid_accuracy(
    x_train,
    y_train,
    x_test,
    y_test,
    l1s: Sequence[float] | None = None,
    l2s: Sequence[float] | None = None,
    lr: float = 1.0,
    iterations: int = 10,
    penalize_bias: bool = True,
    chunk: int | None = None,
    num_classes: int = NUM_CLASSES,
) -> np.ndarray:
    """Cell 8: test accuracy ``acc[i, j]`` of the model fitted with ``(l1s[i], l2s[j])``.

    ``l1s`` and ``l2s`` default to :func:`reg_coeffs`. Returns a float64 ``[len(l1s), len(l2s)]``
    array, the notebook's ``zgrid``.
    """
    l1s = reg_coeffs() if l1s is None else np.asarray(l1s, dtype=np.float64).ravel()
    l2s = reg_coeffs() if l2s is None else np.asarray(l2s, dtype=np.float64).ravel()
    weights, biases = fit_grid(x_train, y_train, l1s, l2s, lr, iterations, penalize_bias, chunk, num_classes)
    return accuracy(weights, biases, x_test, y_test, chunk).reshape(len(l1s), len(l2s))


def sequential_fit(
    x,
    y,
    l1: float,
    l2: float,
    lr: float = 1.0,
    iterations: int = 10,
    penalize_bias: bool = True,
    num_classes: int = NUM_CLASSES,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One model, the reference for :func:`fit_grid`: ``(weight [C, D], bias [C])``.

    Each step is ``SoftmaxRegression.training_step`` on one process: summed gradients from
    :func:`~lightning_mnist.models.softmax.gradient_sums`, divided by ``N``, plus
    :func:`~lightning_mnist.models.softmax.penalty_gradient`, then ``W -= lr * grad``.
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


def format_table(acc: np.ndarray, l1s: Sequence[float], l2s: Sequence[float], percent: bool = True) -> str:
    """The grid as text: one row per ``l1`` (``acc[i]``), one column per ``l2``."""
    acc = np.asarray(acc)
    scale, fmt = (100.0, "{:6.2f}") if percent else (1.0, "{:6.4f}")
    width = len(fmt.format(0.0))
    head = "l1 \\ l2".ljust(8) + " ".join(f"{l2:>{width}.2f}" for l2 in l2s)
    lines = [head]
    for l1, row in zip(l1s, acc, strict=True):
        lines.append(f"{l1:<8.2f}" + " ".join(fmt.format(v * scale) for v in row))
    return "\n".join(lines)
