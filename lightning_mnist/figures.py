"""The notebook's reconstruction picture (cells 21 and 33): originals above reconstructions.

``reconstruction_grid`` draws any two equally long image stacks; ``python -m
lightning_mnist.figures --ckpt AE.ckpt --out grid.png`` draws a trained autoencoder's
reconstructions of the first 10 training images, as the notebook does. Figures are built
with matplotlib's object API on the Agg canvas (no pyplot state, no display needed) and
written atomically, so a reader never sees half a PNG.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from lightning_mnist.autoencoder import load_autoencoder
from lightning_mnist.datamodule import MNISTDataModule
from lightning_mnist.idx import DataError


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
    fig = Figure(figsize=(2 * n, 4))
    FigureCanvasAgg(fig)
    for row, images in enumerate((top, bottom)):
        for i in range(n):
            ax = fig.add_subplot(2, n, row * n + i + 1)
            ax.imshow(images[i], cmap="gray", vmin=0.0, vmax=1.0)
            ax.set_axis_off()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            fig.savefig(f, format="png", dpi=dpi)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _as_images(x: torch.Tensor | np.ndarray, name: str) -> np.ndarray:
    array = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    side = int(round(np.sqrt(array[0].size))) if len(array) else 0
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
    data = MNISTDataModule(data_dir=data_dir, verify_checksums=verify_checksums)
    data.setup("predict")
    originals = data.train_set.x[:n]
    with torch.no_grad():
        reconstructions = autoencoder(originals)
    return reconstruction_grid(originals, reconstructions, out, n=n, dpi=dpi)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m lightning_mnist.figures",
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
        path = autoencoder_grid(args.ckpt, args.out, args.data_dir, args.n, not args.no_verify_checksums, args.dpi)
    except DataError as err:  # includes a missing or wrong checkpoint
        parser.exit(2, f"{parser.prog}: error: {err}\n")
    print(path)


if __name__ == "__main__":
    main()
