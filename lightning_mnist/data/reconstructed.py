"""Training on an autoencoder's reconstructions (the notebook's cell 22).

Cell 22 trains the cell-18 classifier on ``decoder.predict(encoder.predict(X_train))`` and
tests it on the original ``X_test``. Here that is a DataModule, not a training loop: the
data changes, the classifier and the Trainer do not. ``ReconstructedDataModule`` is an
``MNISTDataModule`` whose training images are replaced, once in ``setup``, by the
reconstructions of a trained ``Autoencoder``; validation and test images stay the originals.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from lightning_mnist.data.datamodule import InMemoryDataset, MNISTDataModule
from lightning_mnist.models.autoencoder import Autoencoder, load_autoencoder


@torch.no_grad()
def reconstruct(
    autoencoder: Autoencoder,
    x: torch.Tensor,
    batch_size: int = 10_000,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """``autoencoder``'s reconstructions of ``x``, shaped and placed like ``x``.

    Runs in eval mode and without autograd, ``batch_size`` images at a time on ``device``
    (default: where the autoencoder is), so the whole training set never has to fit on an
    accelerator at once. The autoencoder is left where and in the mode it was.
    """
    if len(x) == 0:
        return x.clone()
    device = torch.device(device) if device is not None else next(autoencoder.parameters()).device
    was_training, old_device = autoencoder.training, next(autoencoder.parameters()).device
    autoencoder.eval().to(device)
    try:
        out = torch.empty_like(x)
        for start in range(0, len(x), batch_size):
            batch = x[start : start + batch_size].to(device, non_blocking=True)
            out[start : start + batch_size] = autoencoder(batch).to(out.device)
        return out
    finally:
        autoencoder.to(old_device).train(was_training)


class ReconstructedDataModule(MNISTDataModule):
    """MNIST whose *training* images are a trained autoencoder's reconstructions of them.

    The reconstructions are computed once per process, in ``setup`` for fitting, batched,
    on the Trainer's device (``trainer.strategy.root_device``: the GPU of this rank under
    DDP, the CPU without a Trainer). Every process reconstructs the whole training split,
    since the shuffling sampler may hand it any image. Validation (a hold-out of *original*
    training images, or the test set with ``val_split="test"``) and test images are the
    originals, as in the notebook: the question is how a classifier trained on
    reconstructions does on real digits.

    Args:
        autoencoder_ckpt: Lightning checkpoint of a trained ``Autoencoder``. Like the data
            files, it is read in ``setup``, not here: a missing or wrong file is reported
            there as a ``DataError`` (``AutoencoderCheckpointError``), which the CLI prints as
            a message, where an error raised while the CLI builds objects becomes a traceback.
        reconstruction_batch_size: images per forward pass while reconstructing.
        **kwargs: ``MNISTDataModule`` options (``data_dir``, ``batch_size``, ``val_split``, ...).
    """

    def __init__(self, autoencoder_ckpt: str, reconstruction_batch_size: int = 10_000, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if reconstruction_batch_size < 1:
            raise ValueError(f"reconstruction_batch_size must be >= 1, got {reconstruction_batch_size}")
        self.autoencoder_ckpt = str(autoencoder_ckpt)
        self.reconstruction_batch_size = reconstruction_batch_size
        self.reconstructed = False
        self.reconstruction_device: torch.device | None = None  # where setup ran the autoencoder

    def setup(self, stage: str | None = None) -> None:
        if self.reconstructed or stage not in (None, "fit"):
            super().setup(stage)
            return  # testing and validating read original images only
        # The checkpoint first: a wrong one fails before 60000 images are read.
        autoencoder = load_autoencoder(self.autoencoder_ckpt, num_features=math.prod(self.dims))
        super().setup(stage)
        device = self.trainer.strategy.root_device if self.trainer is not None else torch.device("cpu")
        train = self.train_set
        self.train_set = InMemoryDataset(
            reconstruct(autoencoder, train.x, self.reconstruction_batch_size, device), train.y, train.transform
        )
        self.reconstructed, self.reconstruction_device = True, device
