"""A sweep's seeds of one sweep value trained as one ``StackedMLP`` run (``Profile.stack_seeds``).

The points of a sweep value differ only in their seed. When their config builds an
``MLPClassifier`` (seed_mlp, width, depth_sgd, depth_rmsprop, seed_dropout), the seeds whose
result is missing are trained together as one ``StackedMLP`` (``lightning_mnist.models.stacked``)
with the CLI's own Trainer and DataModule, built from the same arguments ``run_point`` uses;
each seed's result goes to its usual point file, so ``collect``, figures and resumes see the
same files as from separate runs. Copy i starts from the weights its own run would draw and
sees the same minibatches (the DataModule shuffles with its own seed, not the run's), so it
follows its separate run up to float rounding; only dropout masks are drawn differently
(independently per copy, from the first seed's stream).

Other points (softmax_gd, the autoencoders) run one by one through ``run_point``.
"""

from __future__ import annotations

import gc
import time
from dataclasses import asdict
from pathlib import Path

from lightning_mnist.checkpoints import SaveOnSigterm
from lightning_mnist.models.mlp import MLPClassifier
from lightning_mnist.models.stacked import StackedMLP, copy_metrics
from lightning_mnist.study.registry import STACKABLE_CONFIGS
from lightning_mnist.study.sweeps import point_settings, run_args, write_json
from lightning_mnist.trainer_cli import build_cli

__all__ = ["STACKABLE_CONFIGS", "build_stacked_cli", "run_stacked", "same_but_seed", "stackable"]


def build_stacked_cli(config: str, overrides: list[str], seeds: list[int], args: list[str]):
    """``build_cli`` for ``config`` with ``overrides`` and ``args``, its model replaced by a
    ``StackedMLP`` of the configured ``MLPClassifier``, one copy per seed.

    The CLI seeds everything with ``seeds[0]`` (dropout masks); each copy's initial weights
    come from its own seed."""
    cli = build_cli(["--config", config, *overrides, "--seed_everything", str(seeds[0]), *args], run=False)
    if not isinstance(cli.model, MLPClassifier):
        raise TypeError(f"{config}: stacked seeds need an MLPClassifier, the config builds {type(cli.model).__name__}")
    h = cli.model.hparams
    cli.model = StackedMLP(
        h.layers,
        h.optimizer,
        h.lr,
        compile_optimizer=h.compile_optimizer,
        seeds=list(seeds),
        num_features=h.num_features,
        num_classes=h.num_classes,
    )
    cli.trainer.callbacks = [c for c in cli.trainer.callbacks if not isinstance(c, SaveOnSigterm)]
    return cli


def run_stacked(points, profile, out: Path, progress_position: int = 1, progress: bool = True) -> list[dict]:
    """Train ``points`` (one config and overrides, several seeds) as one stacked run; write
    and return each point's result, as ``run_point`` would (``progress``: the per-epoch bar)."""
    point = points[0]
    seeds = [p.seed for p in points]
    name = f"{point.sweep}/{point.key.rsplit('seed=', 1)[0]}stacked-seeds={'_'.join(map(str, seeds))}"
    args = run_args(point, profile, out, name, progress, progress_position)  # point.checkpoint is False
    cli = build_stacked_cli(point.config, list(point.overrides), seeds, args)
    start, cpu_start = time.perf_counter(), time.process_time()
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    train_seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    (test,) = cli.trainer.test(cli.model, datamodule=cli.datamodule, verbose=False)
    results = []
    for p, metrics in zip(points, copy_metrics(test, len(points)), strict=True):
        result = {
            **asdict(p),
            "profile": profile.name,
            "epochs": p.epochs or profile.epochs,
            "test": metrics,
            "test_acc": metrics["test/acc"],
            "train_seconds": train_seconds / len(points),  # this seed's share of the stacked run
            "cpu_seconds": cpu_seconds / len(points),
            "stacked_seeds": seeds,
            "precision": cli.trainer.precision,
            "settings": point_settings(p, profile),
        }
        if cli.trainer.is_global_zero:
            write_json(p.result_path(out), result)
        results.append(result)
    del cli
    gc.collect()
    return results


def stackable(point) -> bool:
    return point.config in STACKABLE_CONFIGS and not point.checkpoint


def same_but_seed(a, b) -> bool:
    return (a.sweep, a.config, a.overrides, a.x, a.epochs, a.checkpoint) == (
        b.sweep,
        b.config,
        b.overrides,
        b.x,
        b.epochs,
        b.checkpoint,
    )
