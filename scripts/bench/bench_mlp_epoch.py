"""One training epoch of ``seed_mlp`` (cell 11): the Lightning path vs a plain PyTorch loop.

The Lightning side is what ``lightning-mnist fit --config seed_mlp`` builds (the CLI's
DataModule, module and Trainer, CSV logging, checkpointing and progress bar on, the config's
``steps_per_execution``: 64 minibatches per Lightning step, one optimizer step each);
validation is off on both sides so only the training epoch is timed. The plain loop trains the same architecture with
the same optimizer over the same in-memory tensors, shuffling per epoch and accumulating
the epoch's loss and accuracy as Lightning does. Epochs alternate between the two sides so
that machine noise hits both alike; the median epoch time of each is compared.

    .venv/bin/python scripts/bench/bench_mlp_epoch.py [--epochs 9]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch
import torch.nn.functional as F
from lightning_mnist.backend import Callback

from lightning_mnist import MNISTDataModule
from lightning_mnist.cli import build_cli
from lightning_mnist.mlp import Layer, dense_stack, keras_dense


class EpochTimer(Callback):
    def __init__(self) -> None:
        self.times: list[float] = []

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self.start = time.perf_counter()

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self.times.append(time.perf_counter() - self.start)


def lightning_epoch(run_dir: str) -> float:
    """Build everything through the CLI, as a user's run does, and time one epoch."""
    timer = EpochTimer()
    cli = build_cli([
        "--config", "seed_mlp", "--trainer.max_epochs", "1", "--trainer.limit_val_batches", "0",
        "--trainer.num_sanity_val_steps", "0", "--trainer.logger.init_args.save_dir", run_dir,
    ], run=False)
    cli.trainer.callbacks.append(timer)
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    return timer.times[0]


def plain_epoch(x: torch.Tensor, y: torch.Tensor, model, optimizer, epoch: int) -> float:
    start = time.perf_counter()
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(epoch))
    loss_sum = torch.zeros(())
    correct = torch.zeros((), dtype=torch.long)
    for batch in order.split(128):
        xb, yb = x[batch], y[batch]
        logits = model(xb)
        loss = F.cross_entropy(logits, yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss_sum += loss.detach() * len(yb)
        correct += (logits.argmax(1) == yb).sum()
    _ = (loss_sum / len(y)).item(), (correct / len(y)).item()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=9, help="timed epochs per side (after 1 warm-up)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as run_dir:
        dm = MNISTDataModule()
        dm.setup()
        x, y = dm.train_set.x, dm.train_set.y
        torch.manual_seed(1337)
        hidden, width = dense_stack(784, [Layer(512, "relu")])
        model = torch.nn.Sequential(hidden, keras_dense(width, 10))
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

        lightning_epoch(run_dir), plain_epoch(x, y, model, optimizer, 0)  # warm-up
        pl_times, plain_times = [], []
        for epoch in range(args.epochs):
            pl_times.append(lightning_epoch(run_dir))
            plain_times.append(plain_epoch(x, y, model, optimizer, epoch + 1))

    t_pl, t_plain = statistics.median(pl_times), statistics.median(plain_times)
    print(f"seed_mlp, one training epoch of 60000 images, batch 128, median of {args.epochs}:")
    print(f"  plain PyTorch loop: {t_plain:6.3f} s   {60000 / t_plain:8.0f} samples/s")
    print(f"  Lightning (CLI)   : {t_pl:6.3f} s   {60000 / t_pl:8.0f} samples/s")
    print(f"  Lightning / plain : {t_pl / t_plain:.3f}x")


if __name__ == "__main__":
    main()
