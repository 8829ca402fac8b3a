"""Per-seed-epoch time of stacked notebook sweep members with and without
``compile_optimizer`` (the optimizer's step through ``torch.compile``), side by side.

Each side is built as ``notebook-fast`` builds it (``stacked_runs.stack``, its
precision on this machine, grouped steps, validation on the test set each epoch), on a fraction of an epoch
as in ``bench_notebook_speed.py``. The first epoch holds the compile; it is reported apart
(``compile s``: first raw epoch minus second), and the second epoch is the one timed. Sides
alternate, medians of ``--rounds``.

    PYTHONPATH=. .venv/bin/python scripts/bench/bench_compiled_optimizer.py [--fraction 0.14] [--rounds 2]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from bench_notebook_speed import MEMBERS, PhaseTimer, shrink, timed_args

from lightning_mnist.study.stacked_runs import stack
from lightning_mnist.study.sweeps import PROFILES
from lightning_mnist.trainer_cli import build_cli


class RawEpochs(PhaseTimer):
    """PhaseTimer plus the raw seconds of each whole epoch (training and validation)."""

    def __init__(self) -> None:
        super().__init__()
        self.raw: list[float] = []

    def on_validation_epoch_end(self, trainer, pl_module) -> None:
        super().on_validation_epoch_end(trainer, pl_module)
        if not trainer.sanity_checking:
            self.raw.append(time.perf_counter() - self.start)


def seed_epoch_seconds(run_dir: str, member: str, compiled: bool, fraction: float, seeds: int) -> tuple[float, float]:
    """(seconds per seed-epoch of the second epoch, seconds the first epoch took longer)."""
    config, overrides = MEMBERS[member]
    timer = RawEpochs()
    seeds_ = list(range(1337, 1337 + seeds))
    cli = stack(
        build_cli(
            [
                "--config",
                config,
                *[*overrides, "--model.init_args.compile_optimizer", str(compiled).lower()],
                "--seed_everything",
                str(seeds_[0]),
                *timed_args(run_dir, PROFILES["notebook-fast"].run_precision(config)),
            ],
            run=False,
        ),
        seeds_,
    )
    cli.trainer.callbacks.append(timer)
    shrink(cli.datamodule, fraction)
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    return (timer.train[-1] + timer.val[-1]) / seeds, timer.raw[0] - timer.raw[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fraction", type=float, default=0.14, help="fraction of a training epoch timed")
    parser.add_argument("--rounds", type=int, default=2, help="timed rounds per side (median)")
    parser.add_argument(
        "--members", nargs="*", default=["depth_rmsprop=7", "seed_dropout", "depth_sgd=7"], choices=list(MEMBERS)
    )
    args = parser.parse_args()
    fast = PROFILES["notebook-fast"]
    times: dict[tuple[str, bool], list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as run_dir:
        for _ in range(args.rounds):
            for member in args.members:
                seeds = fast.seeds_for(MEMBERS[member][0])
                for compiled in (False, True):
                    t = seed_epoch_seconds(run_dir, member, compiled, args.fraction, seeds)
                    times.setdefault((member, compiled), []).append(t)
                    print(f"  {member} compiled={compiled}: {t[0]:.2f} s/seed-epoch, first epoch +{t[1]:.1f} s")
    print(f"\nSeconds per seed-epoch (stacked, {fast.run_precision('seed_mlp')}), median of {args.rounds}:")
    print("| member | seeds | eager | compiled | compiled / eager | compile s |")
    print("|---|---|---|---|---|---|")
    for member in args.members:
        eager = statistics.median(t for t, _ in times[(member, False)])
        compiled = statistics.median(t for t, _ in times[(member, True)])
        pairs = zip(times[(member, True)], times[(member, False)], strict=True)
        extra = statistics.median(c - e for (_, c), (_, e) in pairs)
        seeds = fast.seeds_for(MEMBERS[member][0])
        print(f"| {member} | {seeds} | {eager:.2f} | {compiled:.2f} | {compiled / eager:.2f} | {extra:.0f} |")


if __name__ == "__main__":
    main()
