"""Cell 9's contour plot of test accuracy over the (L1, L2) grid, correctly labelled.

The notebook builds ``xgrid, ygrid = np.meshgrid(reg, reg)`` and fills ``zgrid[i][j]`` with the
accuracy for ``l1 = reg[i]``, ``l2 = reg[j]``. ``meshgrid`` makes ``xgrid[i][j] = reg[j]`` and
``ygrid[i][j] = reg[i]``, so ``contourf(xgrid, ygrid, zgrid)`` draws that model at
``x = l2, y = l1`` while the axes say ``x = 'L1 coeff'``, ``y = 'L2 coeff'``: the labels are
swapped relative to the data. Here ``x`` is L1 and ``y`` is L2 as labelled: the contour is
drawn from ``acc.T`` (see :func:`contour_arrays`), so the figure shows the same surface as the
notebook's, mirrored about the diagonal, under the labels it claimed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def contour_arrays(acc: np.ndarray, l1s: Sequence[float], l2s: Sequence[float]):
    """``(X, Y, Z)`` for ``contourf`` with x = L1, y = L2: ``Z[j, i] = acc[i, j]`` at ``(l1s[i], l2s[j])``."""
    acc = np.asarray(acc, dtype=np.float64)
    l1s, l2s = np.asarray(l1s, dtype=np.float64), np.asarray(l2s, dtype=np.float64)
    if acc.shape != (len(l1s), len(l2s)):
        raise ValueError(f"acc has shape {acc.shape}, expected (len(l1s), len(l2s)) = {(len(l1s), len(l2s))}")
    xs, ys = np.meshgrid(l1s, l2s)  # xs[j, i] = l1s[i], ys[j, i] = l2s[j]
    return xs, ys, acc.T


def draw_grid(ax, acc: np.ndarray, l1s: Sequence[float], l2s: Sequence[float], levels: int = 200,
              cmap: str = "jet"):
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


def plot_grid(acc: np.ndarray, l1s: Sequence[float], l2s: Sequence[float], path, levels: int = 200,
              title: str | None = None, dpi: int = 100) -> Path:
    """Write the contour figure to ``path`` (format from its suffix), atomically.

    The figure goes to a temporary file in the same folder first and is then moved over
    ``path`` with ``os.replace``, so a reader never sees a half-written image. Uses the Agg
    backend through ``matplotlib.figure.Figure`` (no display, no pyplot state).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig = Figure(figsize=(6.4, 4.8))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    draw_grid(ax, acc, l1s, l2s, levels)
    if title:
        ax.set_title(title)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix or ".png")
    try:
        with os.fdopen(fd, "wb") as fh:
            fig.savefig(fh, format=(path.suffix[1:] or "png"), dpi=dpi)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
