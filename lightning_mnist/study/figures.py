"""Every figure of the study, in one style: matplotlib's object API on the Agg canvas (no
pyplot state, no display), saved through the one atomic writer so a reader never sees half a PNG.

- ``reconstruction_grid`` / ``autoencoder_grid``: originals above reconstructions (cells 21, 33);
  ``python -m lightning_mnist.study.figures --ckpt AE.ckpt --out grid.png`` draws a trained
  autoencoder's reconstructions of the first 10 training images, as the notebook does.
- ``plot_grid``: cell 9's contour of test accuracy over the (L1, L2) grid, correctly labelled.
  The notebook fills ``zgrid[i][j]`` for ``l1 = reg[i], l2 = reg[j]`` and draws it on
  ``np.meshgrid(reg, reg)``, which puts ``l2`` on x under an "L1 coeff" label. Here x is L1 and
  y is L2 as labelled (the contour is drawn from ``acc.T``, see :func:`contour_arrays`): the
  notebook's surface mirrored about the diagonal, under the labels it claimed.
- ``width_figure`` / ``depth_figure``: the sweeps (cells 13, 15, 17) with run-to-run error bars.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from lightning_mnist.data.datamodule import MNISTDataModule
from lightning_mnist.errors import DataError
from lightning_mnist.models.autoencoder import load_autoencoder
from logicnets.files import OutputPathError, atomic_write


def new_figure(width: float, height: float) -> Figure:
    """A figure on the Agg canvas, with no pyplot state behind it."""
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, path: str | Path, dpi: int = 100, **savefig) -> Path:
    """Write ``fig`` to ``path`` (format from its suffix, PNG by default), atomically."""
    path = Path(path)
    return atomic_write(path, lambda f: fig.savefig(f, format=path.suffix[1:] or "png", dpi=dpi, **savefig))


def reconstruction_grid(
    originals: torch.Tensor | np.ndarray,
    reconstructions: torch.Tensor | np.ndarray,
    path: str | Path,
    n: int = 10,
    dpi: int = 100,
) -> Path:
    """Write a PNG: ``n`` originals in the top row, their reconstructions below; returns ``path``.

    Images may be flat (784) or 28x28 / 1x28x28. Gray colormap, no axes, pixels shown on
    the fixed [0, 1] scale (so a dim reconstruction looks dim, as it is), figure 2n x 4
    inches as the notebook's ``figsize=(20, 4)``.
    """
    top, bottom = _as_images(originals, "originals"), _as_images(reconstructions, "reconstructions")
    if len(top) != len(bottom):
        raise ValueError(f"{len(top)} originals but {len(bottom)} reconstructions")
    n = min(n, len(top))
    if n < 1:
        raise ValueError("no images to draw")
    fig = new_figure(2 * n, 4)
    for row, images in enumerate((top, bottom)):
        for i in range(n):
            ax = fig.add_subplot(2, n, row * n + i + 1)
            ax.imshow(images[i], cmap="gray", vmin=0.0, vmax=1.0)
            ax.set_axis_off()
    return save_figure(fig, path, dpi)


def _as_images(x: torch.Tensor | np.ndarray, name: str) -> np.ndarray:
    array = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    side = round(np.sqrt(array[0].size)) if len(array) else 0
    if len(array) and side * side != array[0].size:
        raise ValueError(f"{name}: images of {array[0].size} values are not square")
    return array.reshape(len(array), side, side)


def autoencoder_grid(
    ckpt: str | Path,
    out: str | Path,
    data_dir: str | None = None,
    n: int = 10,
    verify_checksums: bool = True,
    dpi: int = 100,
) -> Path:
    """The notebook's picture for the trained autoencoder in ``ckpt``: first ``n`` training images."""
    autoencoder = load_autoencoder(ckpt)
    data = MNISTDataModule(data_dir=data_dir, verify_checksums=verify_checksums, val_split="test")
    data.setup("predict")
    originals = data.train_set.x[:n]
    with torch.no_grad():
        reconstructions = autoencoder(originals)
    return reconstruction_grid(originals, reconstructions, out, n=n, dpi=dpi)


def contour_arrays(acc: np.ndarray, l1s: Sequence[float], l2s: Sequence[float]):
    """``(X, Y, Z)`` for ``contourf`` with x = L1, y = L2: ``Z[j, i] = acc[i, j]`` at ``(l1s[i], l2s[j])``."""
    acc = np.asarray(acc, dtype=np.float64)
    l1s, l2s = np.asarray(l1s, dtype=np.float64), np.asarray(l2s, dtype=np.float64)
    if acc.shape != (len(l1s), len(l2s)):
        raise ValueError(f"acc has shape {acc.shape}, expected (len(l1s), len(l2s)) = {(len(l1s), len(l2s))}")
    xs, ys = np.meshgrid(l1s, l2s)  # xs[j, i] = l1s[i], ys[j, i] = l2s[j]
    return xs, ys, acc.T


def draw_grid(ax, acc: np.ndarray, l1s: Sequence[float], l2s: Sequence[float], levels: int = 200, cmap: str = "jet"):
    """Draw the filled contour of ``acc[i, j]`` (l1s[i], l2s[j]) on ``ax``; returns (contour set, colorbar)."""
    xs, ys, zs = contour_arrays(acc, l1s, l2s)
    if np.ptp(zs) == 0:  # a flat surface: contourf needs increasing levels
        levels = np.array([zs.min() - 1e-9, zs.max() + 1e-9])
    cont = ax.contourf(xs, ys, zs, levels, cmap=cmap)
    ax.set_xlabel("L1 coeff")
    ax.set_ylabel("L2 coeff")
    cbar = ax.figure.colorbar(cont, ax=ax)
    cbar.ax.set_ylabel("Accuracy")
    return cont, cbar


def plot_grid(
    acc: np.ndarray,
    l1s: Sequence[float],
    l2s: Sequence[float],
    path,
    levels: int = 200,
    title: str | None = None,
    dpi: int = 100,
) -> Path:
    """Write the contour figure to ``path`` (format from its suffix), atomically."""
    fig = new_figure(6.4, 4.8)
    ax = fig.add_subplot()
    draw_grid(ax, acc, l1s, l2s, levels)
    if title:
        ax.set_title(title)
    return save_figure(fig, path, dpi)


def _errorbar(ax, rows: list[dict], label: str | None = None, **kwargs) -> None:
    xs = [r["x"] for r in rows]
    ax.errorbar(
        xs,
        [r["acc_mean"] for r in rows],
        yerr=[r["acc_std"] for r in rows],
        marker="o",
        capsize=3,
        label=label,
        **kwargs,
    )


def width_figure(rows: list[dict], path: Path) -> Path:
    """Cell 13: test accuracy against hidden width (log2 axis), with training time."""
    fig = new_figure(6.4, 4)
    ax = fig.add_subplot()
    _errorbar(ax, rows, label="test accuracy", color="C0")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("hidden units (one relu layer)")
    ax.set_ylabel("test accuracy (mean ± std over seeds)")
    time_ax = ax.twinx()
    time_ax.plot([r["x"] for r in rows], [r["seconds_mean"] for r in rows], "s--", color="C1", label="training time")
    time_ax.set_ylabel("training time, s", color="C1")
    ax.set_title(f"Width sweep, SGD, {rows[0]['epochs']} epochs, {rows[0]['n']} seeds")
    ax.grid(alpha=0.3)
    return save_figure(fig, path, dpi=110, bbox_inches="tight")


def depth_figure(curves: dict[str, list[dict]], path: Path) -> Path:
    """Cells 15 and 17 in one figure: accuracy against depth for each optimizer."""
    fig = new_figure(6.4, 4)
    ax = fig.add_subplot()
    for label, rows in curves.items():
        _errorbar(ax, rows, label=label)
    first = next(iter(curves.values()))
    ax.set_xlabel("hidden relu layers of 512")
    ax.set_ylabel("test accuracy (mean ± std over seeds)")
    ax.set_xticks([r["x"] for r in first])
    ax.set_title(f"Depth sweep, {first[0]['epochs']} epochs, {first[0]['n']} seeds")
    ax.legend()
    ax.grid(alpha=0.3)
    return save_figure(fig, path, dpi=110, bbox_inches="tight")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m lightning_mnist.study.figures",
        description="Draw 10 MNIST training images above an autoencoder's reconstructions (cells 21, 33).",
    )
    parser.add_argument("--ckpt", required=True, help="Lightning checkpoint of a trained Autoencoder")
    parser.add_argument("--out", required=True, help="PNG file to write")
    parser.add_argument("--data_dir", default=None, help="MNIST folder (default: the DataModule's)")
    parser.add_argument("--n", type=int, default=10, help="number of images (default 10)")
    parser.add_argument("--dpi", type=int, default=100)
    parser.add_argument("--no_verify_checksums", action="store_true", help="for MNIST-format data of your own")
    args = parser.parse_args(argv)
    try:
        _check_output(Path(args.out))  # before the checkpoint and the data are read
        path = autoencoder_grid(args.ckpt, args.out, args.data_dir, args.n, not args.no_verify_checksums, args.dpi)
    except (DataError, OutputPathError) as err:  # a missing or wrong checkpoint; an output we may not replace
        parser.exit(2, f"{parser.prog}: error: {err}\n")
    print(path)


def _check_output(path: Path) -> None:
    """Refuse an output that is a link or not a regular file, as the writer will (OutputPathError)."""
    if path.is_symlink() or (path.exists() and not path.is_file()):
        kind = "a symbolic link" if path.is_symlink() else "not a regular file"
        raise OutputPathError(f"--out {path} is {kind}: refusing to replace it; choose another output path")


if __name__ == "__main__":
    main()
