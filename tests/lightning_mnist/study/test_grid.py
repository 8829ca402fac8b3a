"""The batched L1/L2 grid (cells 7-9) against one-model-at-a-time fits and the notebook's code.

Everything here runs on small synthetic data; the real-data check (400 models, float32 vs the
notebook's float64) is in ``scripts/bench/bench_grid.py``.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence

import numpy as np
import pytest
import torch

from lightning_mnist.study import grid
from lightning_mnist.study.figures import contour_arrays, draw_grid, plot_grid

L1S = [0.0, 0.05, 0.3, 0.95]  # 0, small, and large enough that weights cross zero
L2S = [0.0, 0.1, 0.45]  # a different length, so a transposed grid cannot pass


def random_data(n=123, d=17, seed=0, dtype=torch.float64):
    """Random inputs in [0, 1) with two all-zero features and a learnable label.

    ``n`` is not a multiple of 10, so no class can hold exactly n / 10 rows: then the first
    step's bias gradient ``1/10 - n_k / n`` would be 0 in exact arithmetic, its computed sign
    rounding noise, and ``l1 * sign(b)`` a coin toss that no two implementations share.
    """
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, d, generator=g, dtype=dtype)
    x[:, 3] = 0
    x[:, -1] = 0
    y = (x[:, :10].argmax(dim=1) + torch.randint(0, 2, (n,), generator=g)) % 10
    return x, y


def separable(n, seed, d=24):
    """Each class lights up its own feature (2 * label) over small noise: linearly separable."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 10, (n,), generator=g)
    x = torch.rand(n, d, generator=g) * 0.2
    x[torch.arange(n), 2 * y] = 1.0
    return x, y


def notebook_fit(x, y, l1, l2, iterations=10, lr=1.0):
    """Cells 2, 7 and 8 in numpy float64: ones column, W (features + 1) x 10 from zeros.

    Returns the final W and the sign of W before every step (to see whether sign(W) changed).
    """
    X = np.hstack([np.ones((len(x), 1)), np.asarray(x, dtype=np.float64)])
    Y = np.eye(10)[np.asarray(y)]
    w = np.zeros((X.shape[1], 10))
    signs = []
    for _ in range(iterations):
        signs.append(np.sign(w))
        prod = X @ w
        prod -= np.amax(prod, axis=1, keepdims=True)
        sm = np.exp(prod) / np.sum(np.exp(prod), axis=1, keepdims=True)
        g = (X.T @ (sm - Y)) / X.shape[0] + l1 * np.sign(w) + l2 * 2 * w
        w -= lr * g
    return w, signs


# ---------------------------------------------------------------------------------------
# batched == sequential
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("penalize_bias", [True, False])
def test_fit_grid_equals_sequential_float64(penalize_bias):
    x, y = random_data()
    weights, biases = grid.fit_grid(x, y, L1S, L2S, iterations=10, penalize_bias=penalize_bias)
    assert weights.shape == (len(L1S) * len(L2S), 10, x.shape[1])
    assert biases.shape == (len(L1S) * len(L2S), 10)
    assert weights.dtype == biases.dtype == torch.float64
    for i, l1 in enumerate(L1S):
        for j, l2 in enumerate(L2S):
            m = i * len(L2S) + j
            w, b = grid.sequential_fit(x, y, l1, l2, 1.0, 10, penalize_bias)
            torch.testing.assert_close(weights[m], w, rtol=0, atol=1e-10)
            torch.testing.assert_close(biases[m], b, rtol=0, atol=1e-10)
    # Always-zero features keep exactly zero weights; the others do not.
    assert (weights[:, :, [3, -1]] == 0).all()
    assert (weights[:, :, 0] != 0).all()
    # The models really differ (a grid that ignored l1 or l2 would not).
    assert (weights[0] - weights[-1]).abs().max() > 0.1
    assert (weights[1] - weights[0]).abs().max() > 1e-3  # l2 only
    assert (weights[len(L2S)] - weights[0]).abs().max() > 1e-3  # l1 only


def sparse_data(n=211, d=30, seed=3):
    """``random_data`` with 15 columns lit in 1 % to 30 % of the rows, like MNIST's border pixels."""
    x, y = random_data(n, d, seed)
    g = torch.Generator().manual_seed(seed + 1)
    x[:, 10:25] *= torch.rand(n, 15, generator=g, dtype=x.dtype) < torch.linspace(0.01, 0.3, 15, dtype=x.dtype)
    return x, y


@pytest.mark.parametrize("sparse_below", [0.0, grid.SPARSE_BELOW, 1.01])  # none, some, all sparse
def test_sparse_columns_change_nothing(monkeypatch, sparse_below):
    x, y = sparse_data()
    lit = (x != 0).sum(dim=0)
    assert ((lit > 0) & (lit < grid.SPARSE_BELOW * len(x))).sum() >= 3  # the default splits
    monkeypatch.setattr(grid, "SPARSE_BELOW", sparse_below)
    widths, sparse_columns = [], grid._SparseColumns
    monkeypatch.setattr(grid, "_SparseColumns", lambda s: widths.append(s.shape[1]) or sparse_columns(s))
    weights, biases = grid.fit_grid(x, y, L1S, L2S, chunk=50)  # blocks of 50, 50, 50, 50, 11
    assert widths == [int(((lit > 0) & (lit < sparse_below * len(x))).sum())]
    for m, (l1, l2) in enumerate(zip(*grid.grid_coefficients(L1S, L2S), strict=True)):
        w, b = grid.sequential_fit(x, y, l1, l2)
        torch.testing.assert_close(weights[m], w, rtol=0, atol=1e-10)
        torch.testing.assert_close(biases[m], b, rtol=0, atol=1e-10)
    assert (weights[:, :, [3, -1]] == 0).all()


@pytest.mark.parametrize("dtype, atol", [(torch.bfloat16, 0.2), (torch.float16, 0.02)])  # 8, 11 bits
def test_half_precision_fits_without_sparse_products(dtype, atol):
    """torch has no half-precision sparse CSR product on CPU: such inputs stay dense."""
    x, y = sparse_data()
    weights, biases = grid.fit_grid(x.to(dtype), y, [0.0, 0.05], [0.0, 0.05])
    reference, _ = grid.fit_grid(x, y, [0.0, 0.05], [0.0, 0.05])
    assert weights.dtype == dtype and torch.isfinite(weights).all() and torch.isfinite(biases).all()
    torch.testing.assert_close(weights.double(), reference, rtol=0, atol=atol)


def test_penalize_bias_matters():
    x, y = random_data()
    _, with_pen = grid.fit_grid(x, y, [0.3], [0.1], penalize_bias=True)
    _, without = grid.fit_grid(x, y, [0.3], [0.1], penalize_bias=False)
    assert (with_pen - without).abs().max() > 1e-3


def test_fit_grid_equals_sequential_float32():
    x, y = random_data(n=301, d=40, seed=1, dtype=torch.float32)
    x_test, y_test = random_data(n=201, d=40, seed=2, dtype=torch.float32)
    weights, biases = grid.fit_grid(x, y, L1S, L2S)
    acc = grid.accuracy(weights, biases, x_test, y_test)
    for i, l1 in enumerate(L1S):
        for j, l2 in enumerate(L2S):
            m = i * len(L2S) + j
            w, b = grid.sequential_fit(x, y, l1, l2)
            torch.testing.assert_close(weights[m], w, rtol=1e-4, atol=1e-5)
            torch.testing.assert_close(biases[m], b, rtol=1e-4, atol=1e-5)
            assert acc[m] == grid.accuracy(w, b, x_test, y_test)[0]
    assert len(set(acc.round(6))) > 3  # the cells are distinguishable


@pytest.mark.parametrize("iterations", [0, 1, 2, 3])
def test_first_steps_equal_sequential(iterations):
    """Steps 1-2 share one data gradient across models: the hand-over must be exact."""
    x, y = random_data(seed=3)
    weights, biases = grid.fit_grid(x, y, L1S, L2S, iterations=iterations)
    for m, (l1, l2) in enumerate(zip(*grid.grid_coefficients(L1S, L2S), strict=True)):
        w, b = grid.sequential_fit(x, y, l1, l2, iterations=iterations)
        torch.testing.assert_close(weights[m], w, rtol=0, atol=1e-12)
        torch.testing.assert_close(biases[m], b, rtol=0, atol=1e-12)
    if iterations == 0:
        assert (weights == 0).all() and (biases == 0).all()
    elif iterations <= 1:
        assert (weights == weights[0]).all()  # one step from zero: no penalty yet
    else:
        assert (weights[0] != weights[-1]).any()


def test_grid_not_starting_at_zero():
    """Coefficients in any order, none of the first pair zero (model 0 is not special)."""
    x, y = random_data(seed=7)
    l1s, l2s = [0.3, 0.0, 0.05], [0.2, 0.7, 0.0]
    weights, biases = grid.fit_grid(x, y, l1s, l2s, iterations=6)
    for m, (l1, l2) in enumerate(zip(*grid.grid_coefficients(l1s, l2s), strict=True)):
        w, b = grid.sequential_fit(x, y, l1, l2, iterations=6)
        torch.testing.assert_close(weights[m], w, rtol=0, atol=1e-10)
        torch.testing.assert_close(biases[m], b, rtol=0, atol=1e-10)


def test_lr_other_than_one():
    x, y = random_data(seed=4)
    weights, biases = grid.fit_grid(x, y, [0.0, 0.2], [0.0, 0.3], lr=0.3, iterations=5)
    for m, (l1, l2) in enumerate(zip(*grid.grid_coefficients([0.0, 0.2], [0.0, 0.3]), strict=True)):
        w, b = grid.sequential_fit(x, y, l1, l2, lr=0.3, iterations=5)
        torch.testing.assert_close(weights[m], w, rtol=0, atol=1e-12)
        torch.testing.assert_close(biases[m], b, rtol=0, atol=1e-12)


@pytest.mark.parametrize("chunk", [1, 7, 64, 10_000])
def test_chunk_changes_nothing(chunk):
    x, y = random_data(n=101)
    ref = grid.fit_grid(x, y, L1S, L2S)
    got = grid.fit_grid(x, y, L1S, L2S, chunk=chunk)
    torch.testing.assert_close(got[0], ref[0], rtol=0, atol=1e-12)
    torch.testing.assert_close(got[1], ref[1], rtol=0, atol=1e-12)


# ---------------------------------------------------------------------------------------
# the notebook's own code
# ---------------------------------------------------------------------------------------


def test_equals_notebook_cell7_and_sign_matters():
    """Batched float64 == cell 7 in numpy, with l1 large enough that sign(W) flips mid-run."""
    x, y = random_data(seed=5)
    weights, biases = grid.fit_grid(x, y, L1S, L2S)
    flipped = 0
    for m, (l1, l2) in enumerate(zip(*grid.grid_coefficients(L1S, L2S), strict=True)):
        w_nb, signs = notebook_fit(x.numpy(), y.numpy(), l1, l2)
        np.testing.assert_allclose(biases[m].numpy(), w_nb[0], rtol=0, atol=1e-10)
        np.testing.assert_allclose(weights[m].numpy(), w_nb[1:].T, rtol=0, atol=1e-10)
        if l1 > 0:  # weights whose sign changed between steps 2..10 (after they left zero)
            flipped += int(sum(((a != b) & (a != 0)).sum() for a, b in itertools.pairwise(signs[2:])))
    assert flipped > 0


def test_notebook_sign_of_zero():
    """sign(0) = 0: a zero weight gets no L1 push, so models with l1 = 0.95 and l1 = 0 agree after 1 step."""
    x, y = random_data(seed=6)
    weights, _ = grid.fit_grid(x, y, [0.0, 0.95], [0.0], iterations=1)
    torch.testing.assert_close(weights[0], weights[1], rtol=0, atol=0)


# ---------------------------------------------------------------------------------------
# the grid table
# ---------------------------------------------------------------------------------------


def sequential_grid_accuracy(
    x_train,
    y_train,
    x_test,
    y_test,
    l1s: Sequence[float],
    l2s: Sequence[float],
    lr: float = 1.0,
    iterations: int = 10,
    penalize_bias: bool = True,
    num_classes: int = grid.NUM_CLASSES,
) -> np.ndarray:
    """``grid.grid_accuracy`` by one ``grid.sequential_fit`` per cell: the slow reference."""
    acc = np.empty((len(l1s), len(l2s)))
    for i, l1 in enumerate(l1s):
        for j, l2 in enumerate(l2s):
            w, b = grid.sequential_fit(
                x_train, y_train, float(l1), float(l2), lr, iterations, penalize_bias, num_classes
            )
            acc[i, j] = grid.accuracy(w, b, x_test, y_test)[0]
    return acc


def test_grid_accuracy_orientation():
    """acc[i, j] is the model for (l1s[i], l2s[j]) — rows l1, columns l2, as cell 8's zgrid."""
    x, y = separable(150, 0)
    x_test, y_test = separable(80, 1)
    l1s, l2s = [0.0, 0.1, 0.2], [0.0, 0.5]
    acc = grid.grid_accuracy(x, y, x_test, y_test, l1s, l2s)
    assert acc.shape == (3, 2) and acc.dtype == np.float64
    seq = sequential_grid_accuracy(x, y, x_test, y_test, l1s, l2s)
    np.testing.assert_array_equal(acc, seq)
    assert len(np.unique(acc)) >= 4  # cells distinguishable, so a mis-ordered grid fails


def test_tiny_separable_grid_best_at_zero():
    """On separable data the unpenalised model is (jointly) best and strong L1 ruins the fit.

    What is true here (203 train / 61 test rows, 10 steps, lr 1, the notebook's 20 x 20
    coefficients): l1 = l2 = 0 reaches 100 % test accuracy and no cell does better, but it is
    not alone: weak penalties tie, and so does l2 = 0.9, where the factor ``1 - 2 * l2 = -0.8``
    flips the weights' sign every step and 10 steps flip it back. Every l1 >= 0.5 stays below
    5 %: each step moves every weight by l1 towards and past zero, and after an even number
    of steps the true class tends to get the lowest logit. Checked against the notebook's
    float64 code, cell by cell.
    """
    x, y = separable(203, 0)
    x_test, y_test = separable(61, 1)
    reg = grid.reg_coeffs()
    assert len(reg) == 20 and reg[0] == 0 and reg[-1] == pytest.approx(0.95)
    acc = grid.grid_accuracy(x, y, x_test, y_test)
    assert acc.shape == (20, 20)
    assert acc[0, 0] == 1.0 == acc.max()
    best = {(int(i), int(j)) for i, j in np.argwhere(acc == 1.0)}
    assert (0, 0) in best and (0, 18) in best and len(best) < 10
    assert acc[reg >= 0.5].max() < 0.05
    x1 = np.hstack([np.ones((len(x_test), 1)), x_test.numpy()])
    for i, j in [(0, 0), (0, 18), (0, 19), (1, 3), (5, 5), (19, 0), (19, 19)]:
        w_nb, _ = notebook_fit(x.numpy(), y.numpy(), reg[i], reg[j])
        acc_nb = np.mean(np.argmax(x1 @ w_nb, axis=1) == y_test.numpy())
        assert acc[i, j] == pytest.approx(acc_nb, abs=1e-12), (i, j)


def test_predict_and_accuracy_single_model_shapes():
    x, y = random_data(n=51, dtype=torch.float32)
    w, b = grid.sequential_fit(x, y, 0.0, 0.0, iterations=3)
    pred = grid.predict(w, b, x)
    assert pred.shape == (51, 1)
    torch.testing.assert_close(pred[:, 0], (x @ w.T + b).argmax(dim=1))
    assert grid.accuracy(w, b, x, y).shape == (1,)


def test_argmax_over_class_major_logits_ties_to_lowest_class():
    g = torch.Generator().manual_seed(0)
    logits = torch.randint(0, 3, (50, 10 * 7), generator=g).float()  # many ties
    got = grid._argmax_classes(logits, 10)
    want = logits.view(50, 10, 7).argmax(dim=1)  # torch: first maximal index
    torch.testing.assert_close(got, want, rtol=0, atol=0)
    assert (got == 0).any() and (got > 0).any()


def test_softmax_residual_has_no_subnormals_and_is_p_minus_y():
    """Logits ~100 apart: P holds no subnormal floats (slow GEMMs), yet equals softmax - Y."""
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(64, 10 * 5, generator=g) * 60
    y = torch.randint(0, 10, (64,), generator=g)
    neg_onehot = -torch.nn.functional.one_hot(y, 10).float()
    want = torch.softmax(logits.view(64, 10, 5), dim=1) + neg_onehot.unsqueeze(2)
    got = grid._softmax_residual_(logits.clone(), 10, neg_onehot).view(64, 10, 5)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-25)
    tiny = got.abs()
    assert not ((tiny > 0) & (tiny < torch.finfo(torch.float32).tiny)).any()
    plain = want.abs()
    assert ((plain > 0) & (plain < torch.finfo(torch.float32).tiny)).any()  # unfloored softmax has them


def test_format_table():
    acc = np.array([[0.9, 0.5], [0.25, 0.125], [1.0, 0.0]])
    text = grid.format_table(acc, [0.0, 0.05, 0.1], [0.0, 0.5])
    lines = text.splitlines()
    assert len(lines) == 4
    assert lines[0].split()[-2:] == ["0.00", "0.50"]
    assert lines[1].split() == ["0.00", "90.00", "50.00"]
    assert lines[2].split() == ["0.05", "25.00", "12.50"]


def test_bad_inputs():
    x, y = random_data(n=21)
    with pytest.raises(ValueError, match="labels"):
        grid.fit_grid(x, y + 10, [0.0], [0.0])
    with pytest.raises(ValueError, match="chunk"):
        grid.fit_grid(x, y, [0.0], [0.0], chunk=0)
    with pytest.raises(ValueError, match="at least one"):
        grid.fit_grid(x, y, [], [0.0])
    with pytest.raises(TypeError):
        grid.fit_grid(x.long(), y, [0.0], [0.0])
    with pytest.raises(ValueError, match="shape"):
        grid.fit_grid(x, y[:-1], [0.0], [0.0])


# ---------------------------------------------------------------------------------------
# the figure
# ---------------------------------------------------------------------------------------


def test_contour_arrays_put_l1_on_x():
    acc = np.arange(6.0).reshape(3, 2)  # acc[i, j]: l1s[i], l2s[j]
    l1s, l2s = [0.0, 0.1, 0.2], [0.0, 0.5]
    xs, ys, zs = contour_arrays(acc, l1s, l2s)
    assert xs.shape == ys.shape == zs.shape == (2, 3)
    for i in range(3):
        for j in range(2):
            assert xs[j, i] == l1s[i] and ys[j, i] == l2s[j] and zs[j, i] == acc[i, j]
    with pytest.raises(ValueError):
        contour_arrays(acc.T, l1s, l2s)


def test_figure_orientation_and_labels():
    """Render: high accuracy only at large l1 / small l2 must appear bottom-right (jet red)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    reg = np.linspace(0, 1, 6)
    acc = np.outer(reg, 1 - reg)  # max at l1 = 1, l2 = 0
    fig = Figure(figsize=(4, 3), dpi=100)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    _, cbar = draw_grid(ax, acc, reg, reg, levels=20)
    assert ax.get_xlabel() == "L1 coeff" and ax.get_ylabel() == "L2 coeff"
    assert cbar.ax.get_ylabel() == "Accuracy"
    canvas.draw()
    img = np.asarray(canvas.buffer_rgba())[:, :, :3].astype(int)
    (x0, y0), (x1, y1) = ax.get_window_extent().get_points()
    height = img.shape[0]

    def pixel(fx, fy):  # fractions of the axes box, y up
        return img[int(height - (y0 + fy * (y1 - y0))), int(x0 + fx * (x1 - x0))]

    red, blue = pixel(0.97, 0.03), pixel(0.03, 0.97)  # (l1 = 1, l2 = 0) and (l1 = 0, l2 = 1)
    assert red[0] > 100 and red[2] < 60, red
    assert blue[2] > 100 and blue[0] < 60, blue


def test_plot_grid_writes_atomically(tmp_path, monkeypatch):
    reg = grid.reg_coeffs()[:5]
    acc = np.random.default_rng(0).random((5, 5))
    out = tmp_path / "sub" / "grid.png"
    assert plot_grid(acc, reg, reg, out, levels=10) == out
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert os.listdir(out.parent) == ["grid.png"]  # no temporary left behind
    before = out.read_bytes()
    # A write that fails half-way leaves the old file whole and no temporary.
    from matplotlib.figure import Figure

    def broken_savefig(self, fh, **kwargs):
        fh.write(b"half a PNG")
        raise OSError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(OSError, match="disk full"):
        plot_grid(acc, reg, reg, out, levels=10)
    monkeypatch.undo()
    assert out.read_bytes() == before
    assert os.listdir(out.parent) == ["grid.png"]
    with pytest.raises(ValueError):
        plot_grid(acc[:, :4], reg, reg, out)
    # A flat surface still draws.
    plot_grid(np.full((5, 5), 0.5), reg, reg, tmp_path / "flat.png", levels=10)
    assert (tmp_path / "flat.png").stat().st_size > 0


# ---------------------------------------------------------------------------------------
# real MNIST (a few cells; the whole 20 x 20 grid is in scripts/bench/bench_grid.py)
# ---------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.data
def test_real_mnist_cells_match_sequential_and_notebook_float64(mnist_dir):
    from lightning_mnist import MNISTDataModule

    dm = MNISTDataModule(
        val_split="test", data_dir=str(mnist_dir), batch_size=None, eval_batch_size=None, download=False
    )
    dm.setup()
    x, y = dm.train_set.x.flatten(1), dm.train_set.y
    x_test, y_test = dm.test_set.x.flatten(1), dm.test_set.y
    l1s, l2s = [0.0, 0.05, 0.95], [0.0, 0.3]
    weights, biases = grid.fit_grid(x, y, l1s, l2s)
    pred = grid.predict(weights, biases, x_test)
    # lr 1 with an L1 penalty is chaotic near W = 0: float32 and float64 runs of the same
    # sequential program differ by 0.1 in a weight there, so cells are compared by what they
    # predict, to a tolerance that rounding (which depends on the CPU's kernels) stays within.
    for m, (l1, l2) in enumerate(zip(*grid.grid_coefficients(l1s, l2s), strict=True)):
        w, b = grid.sequential_fit(x, y, l1, l2)
        seq_acc, grid_acc = grid.accuracy(w, b, x_test, y_test)[0], float((pred[:, m] == y_test).double().mean())
        assert abs(seq_acc - grid_acc) <= 0.005, (l1, l2, seq_acc, grid_acc)
        if l1 == 0:  # no L1: a smooth iteration, where only rounding separates the two
            assert int((grid.predict(w, b, x_test)[:, 0] != pred[:, m]).sum()) <= 20, (l1, l2)
    X = np.hstack([np.ones((len(x), 1)), x.numpy()])
    X_test = np.hstack([np.ones((len(x_test), 1)), x_test.numpy()])
    for m in (0, 3):  # (0, 0) and (0.05, 0.3), float64 as in the notebook
        l1, l2 = l1s[m // 2], l2s[m % 2]
        w64, _ = notebook_fit(X[:, 1:], y.numpy(), l1, l2)
        p64 = np.argmax(X_test @ w64, axis=1)
        assert int((p64 != pred[:, m].numpy()).sum()) <= 20, (l1, l2)  # 0.2 %: rounding only
    acc = (pred == y_test.unsqueeze(1)).double().mean(dim=0)
    assert acc[0] == acc.max() and 0.6 < acc[0] < 0.8  # 10 steps: 71.8 %, far from cell 6's 100-step 91 %
