"""Sweeps: many ordinary config runs, one result file each, gathered by ``collect``.

A sweep point is a shipped config plus a few overrides and a seed, run with the same
``MNISTCLI`` a user runs by hand (built from the point's settings, ``study.training``). Its
result goes to ``<out>/points/<sweep>/<key>.json`` (written atomically), so a sweep can run in
one process, as one point per cluster array job (``lightning-mnist sweep width --index
$SLURM_ARRAY_TASK_ID``), or be resumed: points whose file exists are skipped.

This module keeps the names the study has always offered: profiles, points and their settings
(from ``study.points``) and, for a results folder given as a path, ``load_result``, ``collect``,
``write_json`` and ``run_point`` (through ``study.store.ResultStore`` and ``study.training``).
"""

from __future__ import annotations

import json
from pathlib import Path

from lightning_mnist.study.points import (  # noqa: F401 (the names this module always offered)
    BASE_SEED,
    OPTIONAL_SETTINGS,
    PROFILES,
    QUIET_LOGGERS,
    SWEEPS,
    Point,
    Profile,
    bf16_is_native,
    config_path,
    point_settings,
    quiet_lightning,
    run_precision,
    settings_mismatch,
    sweep_points,
)
from lightning_mnist.study.registry import DEPTH_SWEEPS, MLP_SWEEPS  # noqa: F401
from lightning_mnist.study.store import ResultStore
from logicnets.files import atomic_write


def load_result(point: Point, profile: Profile, out: Path, warn: bool = True) -> dict | None:
    """``point``'s result in ``out`` if it was computed with this run's settings (``ResultStore.load``)."""
    return ResultStore(out, profile).load(point, warn=warn)


def run_point(point: Point, profile: Profile, out: Path, progress_position: int = 1, progress: bool = True) -> dict:
    """Train and test one point; write and return its result (``study.training.run_point``).

    ``progress``: a per-epoch bar at ``progress_position`` (left behind by none), else no bar."""
    from lightning_mnist.study.training import run_point as train_point

    return train_point(point, profile, out, progress_position, progress)


def collect(name: str, out: Path, profile: Profile | None = None) -> list[dict]:
    """Mean, standard deviation and count of test accuracy per sweep value (``ResultStore.collect``)."""
    return ResultStore(out, profile).collect(name)


def write_json(path: Path, data) -> None:
    """Write ``data`` as JSON, atomically (never half a file)."""
    atomic_write(path, json.dumps(data, indent=1))
