"""One training epoch of ``seed_mlp`` (cell 11): Lightning paths vs a plain PyTorch loop.

The Lightning sides are what ``lightning-mnist fit --config seed_mlp`` builds (the CLI's
DataModule, module and Trainer, CSV logging, checkpointing and progress bar on):

- shipped: the config as it is, whose ``steps_per_execution: 64`` the module takes up
  (grouped steps, 64 optimizer steps per Lightning step);
- textbook: ``--data.steps_per_execution 1``, automatic optimization, one Lightning step
  per minibatch;
- control: the same CLI-built Trainer and DataModule, with the module swapped for
  ``Control``, the textbook LightningModule a user writes by hand (``training_step``
  returns the loss, nothing else); what textbook costs beyond it is this package's;
- floor: ``Control`` in a bare ``Trainer`` (no logger, checkpointing, progress bar or
  summary; deterministic, as the shipped defaults): Lightning's own per-step cost.

Validation is off on every side so only the training epoch is timed. The plain loop trains
the same architecture with the same optimizer over the same in-memory tensors, shuffling
per epoch and accumulating the epoch's loss and accuracy. Epochs alternate between the
sides so that machine noise hits all alike; the median epoch time of each is compared.

    .venv/bin/python scripts/bench/bench_mlp_epoch.py [--epochs 9] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch
import torch.nn.functional as F

from lightning_mnist import MNISTDataModule
from lightning_mnist.backend import Callback, LightningModule, Trainer
from lightning_mnist.models.mlp import Layer, dense_stack, keras_dense
from lightning_mnist.trainer_cli import build_cli


class Control(LightningModule):
    """Cell 11's MLP the textbook way, keeping the epoch's loss and hits as the plain loop does."""

    def __init__(self) -> None:
        super().__init__()
        hidden, width = dense_stack(784, [Layer(512, "relu")])
        self.net = torch.nn.Sequential(hidden, keras_dense(width, 10))
        self.loss_sum, self.correct = torch.zeros(()), torch.zeros((), dtype=torch.long)

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        x, y = batch
        logits = self.net(x)
        loss = F.cross_entropy(logits, y)
        self.loss_sum += loss.detach() * len(y)
        self.correct += (logits.argmax(1) == y).sum()
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.01)


class EpochTimer(Callback):
    def __init__(self) -> None:
        self.times: list[float] = []

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self.start = time.perf_counter()

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self.times.append(time.perf_counter() - self.start)


TEXTBOOK = ["--data.steps_per_execution", "1"]
SIDES = {"shipped": [], "textbook": TEXTBOOK, "control": TEXTBOOK, "floor": None}


def lightning_epoch(run_dir: str, side: str) -> float:
    """Build everything through the CLI, as a user's run does, and time one epoch."""
    timer = EpochTimer()
    if SIDES[side] is None:
        return floor_epoch(run_dir, timer)
    cli = build_cli(
        [
            "--config",
            "seed_mlp",
            "--trainer.max_epochs",
            "1",
            "--trainer.limit_val_batches",
            "0",
            "--trainer.num_sanity_val_steps",
            "0",
            "--trainer.logger.init_args.save_dir",
            run_dir,
            *SIDES[side],
        ],
        run=False,
    )
    cli.trainer.callbacks.append(timer)
    if side == "control":
        cli.trainer.fit(Control(), datamodule=cli.datamodule)
        return timer.times[0]
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    expected = 64 if side == "shipped" else 1
    assert cli.model.grouped_steps == expected, f"{side}: grouped_steps {cli.model.grouped_steps}"
    return timer.times[0]


def floor_epoch(run_dir: str, timer: EpochTimer) -> float:
    torch.manual_seed(1337)
    trainer = Trainer(
        max_epochs=1,
        limit_val_batches=0,
        num_sanity_val_steps=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        deterministic=True,  # as the shipped defaults
        default_root_dir=run_dir,
        callbacks=[timer],
    )
    trainer.fit(Control(), datamodule=MNISTDataModule(val_split="test"))
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


def one_run(args, x, y) -> dict[str, float]:
    """Median epoch time of each side, epochs interleaved."""
    torch.manual_seed(1337)
    hidden, width = dense_stack(784, [Layer(512, "relu")])
    model = torch.nn.Sequential(hidden, keras_dense(width, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    times: dict[str, list[float]] = {"plain": [], **{side: [] for side in SIDES}}
    with tempfile.TemporaryDirectory() as run_dir:
        for side in SIDES:  # warm-up
            lightning_epoch(run_dir, side)
        plain_epoch(x, y, model, optimizer, 0)
        for epoch in range(args.epochs):
            times["plain"].append(plain_epoch(x, y, model, optimizer, epoch + 1))
            for side in SIDES:
                times[side].append(lightning_epoch(run_dir, side))
    return {side: statistics.median(t) for side, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=9, help="timed epochs per side and run (after 1 warm-up)")
    parser.add_argument("--runs", type=int, default=1, help="independent runs, each reported")
    args = parser.parse_args()
    dm = MNISTDataModule(val_split="test")
    dm.setup()
    x, y = dm.train_set.x, dm.train_set.y
    print(f"seed_mlp, one training epoch of 60000 images, batch 128, median of {args.epochs} per run:")
    ratios = {side: [] for side in SIDES}
    for run in range(args.runs):
        t = one_run(args, x, y)
        line = f"  run {run + 1}: plain {t['plain']:.3f} s ({60000 / t['plain']:.0f} samples/s)"
        for side in SIDES:
            ratios[side].append(t[side] / t["plain"])
            line += f" | {side} {t[side]:.3f} s ({60000 / t[side]:.0f}/s) {t[side] / t['plain']:.3f}x"
        print(line, flush=True)
    for side, target in (("shipped", 1.10), ("textbook", 1.30), ("control", None), ("floor", None)):
        within = f"; {sum(r <= target for r in ratios[side])} of {args.runs} runs <= {target:.2f}x" if target else ""
        print(f"  {side:8s}: Lightning / plain {_join(ratios[side])}{within}")
    ours = [t / c for t, c in zip(ratios["textbook"], ratios["control"], strict=True)]
    print(f"  textbook / control (what this package adds to a hand-written module): {_join(ours)}")


def _join(ratios: list[float]) -> str:
    return ", ".join(f"{r:.3f}" for r in ratios)


if __name__ == "__main__":
    main()
