"""Sweep figures (cells 13, 15 and 17) with run-to-run error bars, written atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def save_figure(fig, path: Path) -> Path:
    """Save ``fig`` as PNG through a temporary file and a rename; close it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".png")
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _errorbar(ax, rows: list[dict], label: str | None = None, **kwargs) -> None:
    xs = [r["x"] for r in rows]
    ax.errorbar(xs, [r["acc_mean"] for r in rows], yerr=[r["acc_std"] for r in rows],
                marker="o", capsize=3, label=label, **kwargs)


def width_figure(rows: list[dict], path: Path) -> Path:
    """Cell 13: test accuracy against hidden width (log2 axis), with training time."""
    fig, ax = plt.subplots(figsize=(6.4, 4))
    _errorbar(ax, rows, label="test accuracy", color="C0")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("hidden units (one relu layer)")
    ax.set_ylabel("test accuracy (mean ± std over seeds)")
    time_ax = ax.twinx()
    time_ax.plot([r["x"] for r in rows], [r["seconds_mean"] for r in rows], "s--", color="C1",
                 label="training time")
    time_ax.set_ylabel("training time, s", color="C1")
    ax.set_title(f"Width sweep, SGD, {rows[0]['epochs']} epochs, {rows[0]['n']} seeds")
    ax.grid(alpha=0.3)
    return save_figure(fig, path)


def depth_figure(curves: dict[str, list[dict]], path: Path) -> Path:
    """Cells 15 and 17 in one figure: accuracy against depth for each optimizer."""
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for label, rows in curves.items():
        _errorbar(ax, rows, label=label)
    first = next(iter(curves.values()))
    ax.set_xlabel("hidden relu layers of 512")
    ax.set_ylabel("test accuracy (mean ± std over seeds)")
    ax.set_xticks([r["x"] for r in first])
    ax.set_title(f"Depth sweep, {first[0]['epochs']} epochs, {first[0]['n']} seeds")
    ax.legend()
    ax.grid(alpha=0.3)
    return save_figure(fig, path)
