"""A sweep's seeds of one sweep value trained as one ``StackedMLP`` run (``Profile.stack_seeds``).

The points of a sweep value differ only in their seed. When their config builds an
``MLPClassifier`` (seed_mlp, width, depth_sgd, depth_rmsprop, seed_dropout), the seeds whose
result is missing are trained together as one ``StackedMLP`` (``lightning_mnist.models.stacked``)
with the CLI's own Trainer and DataModule, built from the same settings ``run_point`` uses;
each seed's result goes to its usual point file, so ``collect``, figures and resumes see the
same files as from separate runs. Copy i starts from the weights its own run would draw and
sees the same minibatches (the DataModule shuffles with its own seed, not the run's), so it
follows its separate run up to float rounding; only dropout masks are drawn differently
(independently per copy, from the first seed's stream).

Other points (softmax_gd, the autoencoders) run one by one through ``run_point``.
"""

from __future__ import annotations

import dataclasses

from lightning_mnist.study.registry import STACKABLE_CONFIGS
from lightning_mnist.study.training import run_stacked, stack

__all__ = ["STACKABLE_CONFIGS", "run_stacked", "same_but_seed", "stack", "stackable"]


def stackable(point) -> bool:
    return point.config in STACKABLE_CONFIGS and not point.checkpoint


def same_but_seed(a, b) -> bool:
    """Do points ``a`` and ``b`` differ only in their seed (and so in their key)?"""
    return dataclasses.replace(a, seed=b.seed, key=b.key) == b
