"""Per-epoch time of notebook sweep members, float32 vs bf16-mixed, separate vs stacked seeds,
and the notebook profile's estimated total from them.

Every side is built the way ``sweeps.run_point`` builds a point (``build_cli`` with the shipped
config, validation on the test set each epoch as in the notebook), on a fraction of an epoch:
the training set is cut to whole groups of minibatches (``--fraction`` of it) and the
training part scaled up to 60000 images; the validation pass is added as measured.
Sides alternate (round-robin, ``--rounds`` times) so machine noise hits all of them alike;
the median of each is reported. Stacked sides (``lightning_mnist.study.stacked_runs``) train
``S`` seeds in one program; their time is divided by ``S`` (time per seed-epoch).

    PYTHONPATH=. .venv/bin/python scripts/bench/bench_notebook_speed.py [--fraction 0.1] [--rounds 3]

The estimate: per-epoch time of each member of every sweep (depth and width interpolated
linearly between the measured members, time being affine in the layers' sizes), times 50
epochs, times its seeds; softmax_gd and the autoencoders are measured once each.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from lightning_mnist.backend import Callback
from lightning_mnist.data.datamodule import InMemoryDataset
from lightning_mnist.study.sweeps import PROFILES
from lightning_mnist.trainer_cli import build_cli

TRAIN_IMAGES = 60000


class PhaseTimer(Callback):
    """Seconds of the training part and of the validation part of each epoch."""

    def __init__(self) -> None:
        self.train: list[float] = []  # seconds per 60000 training images
        self.val: list[float] = []

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self.start, self.images = time.perf_counter(), len(trainer.datamodule.train_set)

    def on_validation_epoch_start(self, trainer, pl_module) -> None:
        if trainer.sanity_checking:
            return
        self.val_start = time.perf_counter()
        self.train.append((self.val_start - self.start) * TRAIN_IMAGES / self.images)

    def on_validation_epoch_end(self, trainer, pl_module) -> None:
        if not trainer.sanity_checking:
            self.val.append(time.perf_counter() - self.val_start)


# name -> (config, overrides); the sweeps' members.
MEMBERS = {
    "seed_mlp": ("seed_mlp", []),
    "width=2": ("width", ["--model.init_args.width", "2"]),
    "width=2048": ("width", ["--model.init_args.width", "2048"]),
    "depth_sgd=1": ("depth_sgd", ["--model.init_args.depth", "1"]),
    "depth_sgd=4": ("depth_sgd", ["--model.init_args.depth", "4"]),
    "depth_sgd=7": ("depth_sgd", ["--model.init_args.depth", "7"]),
    "depth_sgd=10": ("depth_sgd", ["--model.init_args.depth", "10"]),
    "depth_rmsprop=7": ("depth_rmsprop", ["--model.init_args.depth", "7"]),
    "seed_dropout": ("seed_dropout", []),
    "autoencoder": ("autoencoder", []),
}


def shrink(datamodule, fraction: float) -> None:
    """Train on the first ``fraction`` of the training set, in whole groups of minibatches.

    Not ``limit_train_batches``: a limit turns grouped steps off (see ``models.grouping``),
    and the notebook's runs have them on."""
    datamodule.setup("fit")
    group = datamodule.batch_size * datamodule.steps_per_execution
    n = max(group, round(TRAIN_IMAGES * fraction / group) * group)
    full = datamodule.train_set
    datamodule.train_set = InMemoryDataset(full.x[:n], full.y[:n])


def epoch_seconds(run_dir: str, config: str, overrides: list[str], precision: str, fraction: float) -> float:
    """One timed epoch (after a warm-up epoch) of a point built as run_point builds it."""
    timer = PhaseTimer()
    cli = build_cli(
        [
            "--config",
            config,
            *overrides,
            *timed_args(run_dir, precision, keep_checkpoint=config.startswith("autoencoder")),
        ],
        run=False,
    )
    cli.trainer.callbacks.append(timer)
    shrink(cli.datamodule, fraction)
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    return timer.train[-1] + timer.val[-1]


def timed_args(run_dir: str, precision: str, keep_checkpoint: bool = False) -> list[str]:
    """Trainer flags of a timed side: two epochs (warm-up, timed), nothing else; the
    autoencoders (``keep_checkpoint``) save the checkpoint the next runs load, as in the sweep."""
    return [
        "--trainer.max_epochs",
        "2",
        "--trainer.precision",
        precision,
        *(["--trainer.callbacks.dirpath", run_dir] if keep_checkpoint else ["--trainer.enable_checkpointing", "false"]),
        "--trainer.enable_model_summary",
        "false",
        "--trainer.enable_progress_bar",
        "false",
        "--trainer.num_sanity_val_steps",
        "0",
        "--trainer.logger.init_args.save_dir",
        run_dir,
    ]


def stacked_epoch_seconds(run_dir: str, config: str, overrides: list[str], precision: str, fraction: float, seeds: int):
    """Seconds per seed-epoch of ``seeds`` copies trained as one stacked program."""
    from lightning_mnist.study.stacked_runs import stack
    from lightning_mnist.trainer_cli import build_cli

    timer = PhaseTimer()
    seeds_ = list(range(1337, 1337 + seeds))
    cli = stack(
        build_cli(
            ["--config", config, *overrides, "--seed_everything", str(seeds_[0]), *timed_args(run_dir, precision)],
            run=False,
        ),
        seeds_,
    )
    cli.trainer.callbacks.append(timer)
    shrink(cli.datamodule, fraction)
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    return (timer.train[-1] + timer.val[-1]) / seeds


def estimate(per_epoch: dict[str, float], softmax_gd: float, autoencoders: float) -> float:
    """Seconds of the notebook profile from per-epoch times (see the module docstring)."""
    nb = PROFILES["notebook"]
    epochs, seeds = nb.epochs, nb.seeds
    depth_seeds = getattr(nb, "depth_seeds", None) or max(seeds, 5)

    def interp(points: dict[float, float], x: float) -> float:
        xs = sorted(points)
        lo = max([p for p in xs if p <= x], default=xs[0])
        hi = min([p for p in xs if p >= x], default=xs[-1])
        if hi == lo:
            return points[lo]
        return points[lo] + (points[hi] - points[lo]) * (x - lo) / (hi - lo)

    sgd = {d: per_epoch[f"depth_sgd={d}"] for d in (1, 4, 7, 10) if f"depth_sgd={d}" in per_epoch}
    rms_ratio = per_epoch["depth_rmsprop=7"] / per_epoch["depth_sgd=7"]
    width = {2: per_epoch["width=2"], 512: per_epoch["seed_mlp"], 2048: per_epoch["width=2048"]}
    total = softmax_gd + autoencoders
    total += epochs * seeds * per_epoch["seed_mlp"]
    total += epochs * seeds * per_epoch["seed_dropout"]
    total += epochs * seeds * sum(interp(width, w) for w in nb.widths)
    total += epochs * depth_seeds * sum(interp(sgd, d) * (1 + rms_ratio) for d in nb.depths)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fraction", type=float, default=0.1, help="fraction of a training epoch timed")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per side (median)")
    parser.add_argument("--members", nargs="*", default=list(MEMBERS), choices=list(MEMBERS))
    parser.add_argument("--stacked", type=int, default=0, help="also time S seeds stacked (0: no)")
    args = parser.parse_args()
    sides = ["32-true", "bf16-mixed"]
    stacked_sides = [f"stacked{args.stacked}-{p}" for p in sides] if args.stacked else []
    times: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as run_dir:
        for _ in range(args.rounds):
            for member in args.members:
                config, over = MEMBERS[member]
                for side in sides:
                    t = epoch_seconds(run_dir, config, over, side, args.fraction)
                    times.setdefault((member, side), []).append(t)
                if member == "autoencoder":
                    continue
                for side in stacked_sides:
                    precision = side.split("-", 1)[1]
                    t = stacked_epoch_seconds(run_dir, config, over, precision, args.fraction, args.stacked)
                    times.setdefault((member, side), []).append(t)
                print(
                    f"  {member}: "
                    + ", ".join(
                        f"{s} {times[(member, s)][-1]:.2f}" for s in sides + stacked_sides if (member, s) in times
                    ),
                    flush=True,
                )
        gd = {}
        for side in sides:
            start = time.perf_counter()
            cli = build_cli(
                [
                    "--config",
                    "softmax_gd",
                    "--trainer.precision",
                    side,
                    "--trainer.enable_progress_bar",
                    "false",
                    "--trainer.enable_model_summary",
                    "false",
                    "--trainer.logger.init_args.save_dir",
                    run_dir,
                ],
                run=False,
            )
            cli.trainer.fit(cli.model, datamodule=cli.datamodule)
            gd[side] = time.perf_counter() - start
    print(f"\nSeconds per epoch (60000 training images + validation on 10000), median of {args.rounds}:")
    all_sides = sides + stacked_sides
    print("| member | " + " | ".join(all_sides) + " | " + " | ".join(f"{s} / 32-true" for s in all_sides[1:]) + " |")
    print("|---" * (2 * len(all_sides)) + "|")
    med = {k: statistics.median(v) for k, v in times.items()}
    for member in args.members:
        row = [f"{med[(member, s)]:.2f}" if (member, s) in med else "-" for s in all_sides]
        ratios = [
            f"{med[(member, s)] / med[(member, '32-true')]:.2f}" if (member, s) in med else "-" for s in all_sides[1:]
        ]
        print(f"| {member} | " + " | ".join(row) + " | " + " | ".join(ratios) + " |")
    print("softmax_gd (100 GD iterations, whole run): " + ", ".join(f"{s} {gd[s]:.1f} s" for s in sides))
    if set(MEMBERS) <= set(args.members):
        for side in all_sides:
            per_epoch = {m: med[(m, side)] for m in MEMBERS if (m, side) in med}
            base = side.split("-", 1)[1] if side.startswith("stacked") else side
            for m in MEMBERS:
                per_epoch.setdefault(m, med[(m, base)])
            autoencoders = PROFILES["notebook"].epochs * (
                2.5 * med[("autoencoder", base)] + med[("seed_dropout", base)]
            )
            total = estimate(per_epoch, gd[base], autoencoders)
            print(f"notebook profile estimate, {side}: {total / 3600:.2f} h ({total / 60:.0f} min)")


if __name__ == "__main__":
    main()
