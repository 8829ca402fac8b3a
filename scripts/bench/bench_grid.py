"""Regularisation grid (cells 7-9): 400 models as one batched program vs one fit at a time.

On the real MNIST data, in one process:

1. the batched grid, ``grid.fit_grid`` + test accuracy for all 20 x 20 (l1, l2) cells, timed;
2. the sequential reference, ``grid.sequential_fit`` (the library's single-model step), on a
   sample of cells (default 20: the four corners plus random cells; ``--all-sequential`` runs
   all 400), timed; the time for 400 is extrapolated from the sample's mean and the output says so.
   Half of the sample runs before the batched grid and half after (the machine is shared, so
   load drifts), and both wall-clock and process CPU time are reported. A second, diagnostic
   sequential variant adds the batched program's exp floor (no subnormal floats): the library
   step slows down several-fold on strongly penalised models because of them, so the ratio
   against it mixes batching with that effect; the ratio against the floored variant is
   batching alone;
3. agreement: per sampled cell, test predictions that differ between batched and sequential,
   and the accuracy difference;
4. float32 vs float64: the notebook's own cell-7 code (numpy, float64 as its ``np.hstack`` with
   a float64 ones column makes it) on ``--f64-cells`` of the sampled cells, compared with the
   batched float32 models prediction by prediction;
5. the 20 x 20 table (rows l1, columns l2, test accuracy in %), whether any cell beats
   l1 = l2 = 0, and the contour figure written to ``--out``.

    .venv/bin/python scripts/bench/bench_grid.py [--out /tmp/grid.png] [--sample 20]
        [--all-sequential] [--f64-cells 10] [--chunk ROWS] [--no-diagnostic]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from lightning_mnist import MNISTDataModule
from lightning_mnist.models.softmax import penalty_gradient
from lightning_mnist.study import grid
from lightning_mnist.study.figures import plot_grid


def sequential_fit_floored(x, y, l1, l2, lr=1.0, iterations=10):
    """``grid.sequential_fit`` with the exp floor of the batched program (``grid.EXP_FLOOR``).

    Diagnostic only: the library step (``softmax.gradient_sums``) lets strongly penalised
    models put subnormal floats into ``P - Y``, which slows its GEMMs several-fold on x86; this
    copy of its arithmetic plus the floor shows how much of the batched speed-up is batching.
    """
    n = len(x)
    weight = torch.zeros(10, x.shape[1])
    bias = torch.zeros(10)
    rows = torch.arange(n)
    for _ in range(iterations):
        logits = torch.addmm(bias, x, weight.T.contiguous())
        shifted = (logits - logits.amax(dim=1, keepdim=True)).clamp_(min=grid.EXP_FLOOR)
        residual = (shifted - shifted.exp().sum(dim=1, keepdim=True).log()).exp_()
        residual[rows, y] -= 1
        grad_w, grad_b = residual.T @ x / n, residual.sum(dim=0) / n
        grad_w += penalty_gradient(weight, l1, l2)
        grad_b += penalty_gradient(bias, l1, l2)
        weight -= lr * grad_w
        bias -= lr * grad_b
    return weight, bias


def notebook_fit_f64(X_train_single, Y_train, l1coeff, l2coeff, iter_num, learn_rate=1.0):
    """Cell 7 verbatim (``sm_single_layer_train_gd_reg``) from ``w_start = zeros`` (cell 8)."""
    w = np.zeros((X_train_single.shape[1], 10))
    X, Y = X_train_single, Y_train
    for _ in range(iter_num):
        prod = X @ w
        prod -= np.amax(prod, axis=1, keepdims=True)
        sm = np.exp(prod) / np.sum(np.exp(prod), axis=1, keepdims=True)
        g = (X.T @ (sm - Y)) / X.shape[0] + l1coeff * np.sign(w) + l2coeff * 2 * w
        w -= learn_rate * g
    return w


def notebook_predict(w, X):
    """Cell 4."""
    prod = X @ w
    prod -= np.amax(prod, axis=1, keepdims=True)
    sm = np.exp(prod) / np.sum(np.exp(prod), axis=1, keepdims=True)
    return np.argmax(sm, axis=1)


def sample_cells(n1: int, n2: int, k: int, seed: int) -> list[tuple[int, int]]:
    corners = [(0, 0), (0, n2 - 1), (n1 - 1, 0), (n1 - 1, n2 - 1)]
    rest = [(i, j) for i in range(n1) for j in range(n2) if (i, j) not in corners]
    rng = np.random.default_rng(seed)
    picked = [rest[t] for t in rng.permutation(len(rest))[: max(0, k - len(corners))]]
    return (corners + sorted(picked))[:k]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="/tmp/grid.png", help="contour figure path")
    parser.add_argument("--sample", type=int, default=20, help="sequential fits to time (extrapolated to all)")
    parser.add_argument("--all-sequential", action="store_true", help="run all cells sequentially (slow)")
    parser.add_argument("--f64-cells", type=int, default=10, help="sampled cells also fitted in float64 numpy")
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--lr", type=float, default=1.0)
    parser.add_argument("--chunk", type=int, default=None, help="rows per block in the batched program")
    parser.add_argument("--seed", type=int, default=0, help="seed of the cell sample")
    parser.add_argument("--no-diagnostic", action="store_true", help="skip the subnormal-free sequential variant")
    args = parser.parse_args()

    dm = MNISTDataModule(batch_size=None, eval_batch_size=None)
    dm.setup()
    x_train, y_train = dm.train_set.x.flatten(1), dm.train_set.y
    x_test, y_test = dm.test_set.x.flatten(1), dm.test_set.y
    reg = grid.reg_coeffs()
    n1 = n2 = len(reg)
    models = n1 * n2
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; train {tuple(x_train.shape)} "
        f"{x_train.dtype}, test {tuple(x_test.shape)}; {models} models, lr {args.lr}, "
        f"{args.iterations} GD iterations from W = 0, bias penalised (as in cell 7)"
    )

    cells = (
        [(i, j) for i in range(n1) for j in range(n2)]
        if args.all_sequential
        else sample_cells(n1, n2, args.sample, args.seed)
    )
    variants = {"reference": grid.sequential_fit}
    if not args.no_diagnostic:
        variants["floored"] = sequential_fit_floored
    times = {v: {} for v in variants}
    cpus = {v: {} for v in variants}
    preds = {v: {} for v in variants}

    def run_sequential(part):
        for i, j in part:
            for name, fit in variants.items():
                start, cpu = time.perf_counter(), time.process_time()
                w, b = fit(x_train, y_train, float(reg[i]), float(reg[j]), args.lr, args.iterations)
                preds[name][i, j] = grid.predict(w, b, x_test)[:, 0]
                times[name][i, j] = time.perf_counter() - start
                cpus[name][i, j] = time.process_time() - cpu

    # The machine is shared: half of the sequential sample runs before the batched grid and
    # half after, so a change of load during the run hits both sides.
    first, second = cells[::2], cells[1::2]
    run_sequential(first)

    # 1. Batched.
    start, cpu = time.perf_counter(), time.process_time()
    weights, biases = grid.fit_grid(x_train, y_train, reg, reg, args.lr, args.iterations, chunk=args.chunk)
    t_fit = time.perf_counter() - start
    pred_batched = grid.predict(weights, biases, x_test)  # [10000, 400]
    acc = (pred_batched == y_test.unsqueeze(1)).double().mean(dim=0).numpy().reshape(n1, n2)
    t_batched, cpu_batched = time.perf_counter() - start, time.process_time() - cpu

    # 2. Sequential (second half).
    run_sequential(second)

    print(
        f"\nbatched: {t_batched:.1f} s wall ({cpu_batched:.1f} s CPU) for all {models} models "
        f"({t_fit:.1f} s fit + {t_batched - t_fit:.1f} s test predictions)"
    )
    how = (
        "measured over all cells"
        if len(cells) == models
        else f"EXTRAPOLATED: mean of {len(cells)} timed fits x {models}"
    )
    labels = {
        "reference": "sequential, grid.sequential_fit (the library step, softmax.gradient_sums)",
        "floored": "sequential, same step + the batched program's exp floor (no subnormals; diagnostic)",
    }
    for name in variants:
        t, c = times[name], cpus[name]
        per_fit, per_cpu = float(np.mean(list(t.values()))), float(np.mean(list(c.values())))
        halves = [float(np.mean([t[cell] for cell in part])) for part in (first, second) if part]
        zero = [t[cell] for cell in cells if cell[0] == 0]
        pen = [t[cell] for cell in cells if cell[0] > 0]
        print(
            f"{labels[name]}:\n  {per_fit:.2f} s wall per model (min {min(t.values()):.2f}, max "
            f"{max(t.values()):.2f}; l1 = 0: {np.mean(zero) if zero else float('nan'):.2f}, l1 > 0: "
            f"{np.mean(pen) if pen else float('nan'):.2f}; before / after the batched run "
            f"{' / '.join(f'{h:.2f}' for h in halves)}), {per_cpu:.2f} s CPU; "
            f"{per_fit * models:.0f} s wall for {models} models ({how})"
        )
        print(
            f"  RATIO sequential / batched: {per_fit * models / t_batched:.1f}x wall-clock, "
            f"{per_cpu * models / cpu_batched:.1f}x CPU time"
        )

    # 3. Agreement.
    seq_pred = preds["reference"]
    diffs = []
    for i, j in cells:
        m = i * n2 + j
        n_diff = int((pred_batched[:, m] != seq_pred[i, j]).sum())
        acc_seq = float((seq_pred[i, j] == y_test).double().mean())
        diffs.append((n_diff, abs(acc_seq - acc[i, j]), i, j))
    max_acc_diff = max(d[1] for d in diffs)
    print(
        f"agreement batched vs sequential reference over {len(cells)} cells: max |acc diff| = "
        f"{max_acc_diff:.6f} ({'OK' if max_acc_diff <= 1e-4 else 'ABOVE'} the 1e-4 bound); cells with any "
        f"differing test prediction: {sum(d[0] > 0 for d in diffs)}; most differing predictions in one "
        f"cell: {max(d[0] for d in diffs)} of {len(y_test)}"
    )
    if "floored" in preds:
        n_floor = sum(int((preds["floored"][c] != seq_pred[c]).sum()) for c in cells)
        print(f"  (floored vs reference sequential: {n_floor} differing test predictions in all)")

    # 4. float32 (batched) vs the notebook's float64.
    if args.f64_cells > 0:
        X_train_single = np.hstack([np.ones((len(x_train), 1)), x_train.numpy()])
        X_test_single = np.hstack([np.ones((len(x_test), 1)), x_test.numpy()])
        Y_train = np.eye(10)[y_train.numpy()]
        y_np = y_test.numpy()
        rows = []
        start = time.perf_counter()
        for i, j in cells[: args.f64_cells]:
            w64 = notebook_fit_f64(X_train_single, Y_train, reg[i], reg[j], args.iterations, args.lr)
            p64 = notebook_predict(w64, X_test_single)
            n_diff = int((p64 != pred_batched[:, i * n2 + j].numpy()).sum())
            acc64 = 1 - np.sum(p64 != y_np) / y_np.shape[0]  # cell 5
            rows.append((i, j, n_diff, acc64, acc[i, j]))
        t64 = time.perf_counter() - start
        print(f"\nfloat32 batched vs notebook float64 (cell 7 code, numpy), {len(rows)} cells, {t64:.0f} s:")
        for i, j, n_diff, acc64, acc32 in rows:
            print(
                f"  l1={reg[i]:.2f} l2={reg[j]:.2f}: f64 acc {acc64:.4f}, f32 acc {acc32:.4f}, "
                f"differing predictions {n_diff}/{len(y_np)} = {n_diff / len(y_np):.4f}"
            )
        worst = max(r[2] for r in rows)
        print(
            f"  cells with any differing prediction: {sum(r[2] > 0 for r in rows)} of {len(rows)}; "
            f"worst {worst / len(y_np):.4f} ({'within' if worst / len(y_np) <= 1e-4 else 'ABOVE'} 1e-4)"
        )

    # 5. Table, best cell, figure.
    print(f"\ntest accuracy (%), rows l1, columns l2:\n{grid.format_table(acc, reg, reg)}")
    best = np.unravel_index(np.argmax(acc), acc.shape)
    better = int((acc > acc[0, 0]).sum())
    print(
        f"\nl1=l2=0: {acc[0, 0]:.4f}; best: {acc[best]:.4f} at l1={reg[best[0]]:.2f}, l2={reg[best[1]]:.2f}; "
        f"cells strictly above l1=l2=0: {better}; worst: {acc.min():.4f}"
    )
    path = plot_grid(acc, reg, reg, args.out, title=f"Test accuracy, {args.iterations} GD steps, lr {args.lr:g}")
    print(f"figure: {path}")


if __name__ == "__main__":
    main()
