"""A sweep point's run, built from its declared settings: no command line in between.

``sweeps.point_settings`` declares what determines a point's result (and is what its file
records); :func:`run_config` turns those settings, plus what only places the run (its log folder,
its progress bar), into the LightningCLI config of the run: the shipped config's YAML with the
settings merged in, as a dict that ``build_cli`` parses directly. Separate runs (:func:`run_point`)
and stacked seeds (:func:`run_stacked`) share one skeleton, :func:`train_and_test`.
"""

from __future__ import annotations

import copy
import gc
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import yaml

from lightning_mnist.checkpoints import SaveOnSigterm
from lightning_mnist.models.mlp import MLPClassifier
from lightning_mnist.models.stacked import StackedMLP, copy_metrics
from lightning_mnist.study import points
from lightning_mnist.study.points import Point, Profile, config_path, point_settings
from lightning_mnist.study.store import ResultStore
from lightning_mnist.trainer_cli import build_cli

__all__ = ["build", "run_config", "run_point", "run_stacked", "stack", "train_and_test"]

# Sections whose plain keys are the init args of the class they name (LightningCLI's subclass mode).
CLASS_SECTIONS = ("model", "data")


def _set(config: dict, dotted: str, value: Any) -> None:
    """Set ``a.b.c`` in the nested ``config`` as jsonargparse sets ``--a.b.c``: in a list of
    classes (``trainer.callbacks``), an option goes to the init args of the last one."""
    *path, last = dotted.split(".")
    node = config
    for key in path:
        child = node.setdefault(key, {})
        node = child[-1].setdefault("init_args", {}) if isinstance(child, list) else child
    node[last] = value


def _init_args(config: dict) -> dict:
    """``model``/``data`` with every init arg under ``init_args`` (the YAML may write them plainly)."""
    for section in CLASS_SECTIONS:
        body = config.get(section)
        if isinstance(body, dict):
            plain = {k: v for k, v in body.items() if k not in ("class_path", "init_args", "dict_kwargs")}
            rest = {k: v for k, v in body.items() if k not in plain}
            config[section] = {**rest, "init_args": {**plain, **(rest.get("init_args") or {})}}
    return config


def run_config(settings: dict, store: ResultStore, name: str, progress: bool, position: int = 1) -> dict:
    """The LightningCLI config of a run with recorded ``settings`` (``point_settings``), in the
    results folder of ``store``; ``name``: its log folder under ``runs/``; ``progress``: a
    per-epoch bar at ``position``, else none. What ran is what the settings say, except the
    precision: bf16 only where this machine has it natively (``Profile.run_precision``)."""
    config = _init_args(yaml.safe_load(config_path(settings["config"]).read_text()) or {})
    overrides = settings["overrides"]
    for flag, value in zip(overrides[::2], overrides[1::2], strict=True):
        _set(config, flag.removeprefix("--"), yaml.safe_load(store.expand(value)))
    config["seed_everything"] = settings["seed"]
    trainer = config.setdefault("trainer", {})
    trainer.update(max_epochs=settings["epochs"], limit_train_batches=settings["limit_train_batches"])
    trainer["enable_model_summary"] = False
    if not settings["checkpoint"]:
        trainer["enable_checkpointing"] = False
    logger = trainer.setdefault("logger", {}).setdefault("init_args", {})
    logger.update(save_dir=str(store.runs_folder), name=name, version=0)
    data = config.setdefault("data", {}).setdefault("init_args", {})
    data.update({k: v for k, v in settings["data"].items() if v is not None})
    if isinstance(settings["limit_train_batches"], int):
        data["steps_per_execution"] = 1  # a count of batches means minibatches, not groups of them
    if (precision := points.run_precision(settings.get("precision", "32-true"))) != "32-true":
        trainer["precision"] = precision
    if settings.get("compile_optimizer"):
        config["model"]["init_args"]["compile_optimizer"] = True
    if progress:  # a step is 64 minibatches (steps_per_execution): redraw every one
        bar = {"class_path": "TQDMProgressBar", "init_args": {"process_position": position, "refresh_rate": 1}}
        bar["init_args"]["leave"] = False
        trainer["callbacks"] = [*(trainer.get("callbacks") or []), bar]
    else:
        trainer["enable_progress_bar"] = False
    return config


def build(config: dict):
    """The CLI's objects for ``config``, untrained; SIGTERM abandons the point (its result file is
    what resumes a sweep), so no ``interrupted.ckpt``."""
    cli = build_cli(copy.deepcopy(config), run=False)
    cli.trainer.callbacks = [c for c in cli.trainer.callbacks if not isinstance(c, SaveOnSigterm)]
    return cli


def stack(cli, seeds: list[int]):
    """``cli`` with its ``MLPClassifier`` replaced by a ``StackedMLP`` of it, one copy per seed.

    The CLI was seeded with ``seeds[0]`` (dropout masks); each copy's initial weights come from
    its own seed."""
    if not isinstance(cli.model, MLPClassifier):
        raise TypeError(f"stacked seeds need an MLPClassifier, the config builds {type(cli.model).__name__}")
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
    return cli


def train_and_test(cli) -> tuple[dict, float, float]:
    """Fit, then test the final weights: (test metrics, wall seconds, CPU seconds of the fit)."""
    start, cpu_start = time.perf_counter(), time.process_time()
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    train_seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    (test,) = cli.trainer.test(cli.model, datamodule=cli.datamodule, verbose=False)
    return test, train_seconds, cpu_seconds


def _result(point: Point, profile: Profile, test: dict, seconds, precision: str, **extra) -> dict:
    """A point's result file (``extra``: what a stacked run adds, ``stacked_seeds``)."""
    return {
        **asdict(point),
        "profile": profile.name,
        "epochs": point.epochs or profile.epochs,
        "test": test,
        "test_acc": test.get("test/acc"),
        "train_seconds": seconds[0],
        "cpu_seconds": seconds[1],  # this process's CPU time (all threads) during fit
        **extra,
        "precision": precision,  # what ran (Profile.run_precision)
        "settings": point_settings(point, profile),
    }


def run_point(point: Point, profile: Profile, out: Path, progress_position: int = 1, progress: bool = True) -> dict:
    """Train and test one point; write and return its result (``progress``: a per-epoch bar)."""
    store = ResultStore(out, profile)
    settings = point_settings(point, profile)
    cli = build(run_config(settings, store, f"{point.sweep}/{point.key}", progress, progress_position))
    test, *seconds = train_and_test(cli)
    result = _result(point, profile, {k: float(v) for k, v in test.items()}, seconds, cli.trainer.precision)
    if cli.trainer.is_global_zero:
        store.save(point, result)
    del cli
    gc.collect()  # a sweep runs many points in one process: free each run's tensors now
    return result


def run_stacked(points: list[Point], profile: Profile, out: Path, progress_position: int = 1, progress: bool = True):
    """Train ``points`` (one config and overrides, several seeds) as one stacked run; write and
    return each point's result, as :func:`run_point` would (see ``study.stacked_runs``)."""
    store, point, seeds = ResultStore(out, profile), points[0], [p.seed for p in points]
    name = f"{point.sweep}/{point.key.rsplit('seed=', 1)[0]}stacked-seeds={'_'.join(map(str, seeds))}"
    cli = stack(build(run_config(point_settings(point, profile), store, name, progress, progress_position)), seeds)
    test, train_seconds, cpu_seconds = train_and_test(cli)
    results = []
    for p, metrics in zip(points, copy_metrics(test, len(points)), strict=True):
        share = (train_seconds / len(points), cpu_seconds / len(points))  # this seed's share of the run
        result = _result(p, profile, metrics, share, cli.trainer.precision, stacked_seeds=seeds)
        if cli.trainer.is_global_zero:
            store.save(p, result)
        results.append(result)
    del cli
    gc.collect()
    return results
