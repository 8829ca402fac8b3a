"""Profiles and sweep points: how much of the notebook a reproduction runs, the points of each
sweep (``study.registry``), and the settings that determine a point's result (``point_settings``:
recorded in its file, and what its run is built from, ``study.training``).

A point's result goes to ``<out>/points/<sweep>/<key>.json`` (:func:`point_file`, the one
spelling of that path; ``ResultStore`` owns the folder). A file whose settings differ from the
run's (another profile in the same ``--out``, an edited config, a file from before settings were
recorded) is stale: the point is rerun, with a warning, and ``collect`` leaves it out.
"""

from __future__ import annotations

import hashlib
import logging
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch

from lightning_mnist.errors import ConfigError
from lightning_mnist.study.registry import DEPTH_SWEEPS, MLP_SWEEPS, REGISTRY, Sweep
from lightning_mnist.trainer_cli import CONFIG_DIR, DEFAULTS

# Settings recorded only when they differ from these defaults (a file without one used the default).
OPTIONAL_SETTINGS = {"precision": "32-true", "stack_seeds": False, "compile_optimizer": False}


def settings_mismatch(recorded: dict | None, wanted: dict) -> str | None:
    """None when equal, else a short account of the first differences."""
    if not isinstance(recorded, dict):
        return "the file records no settings (written by an older version)"
    keys = [*wanted, *(k for k in OPTIONAL_SETTINGS if k not in wanted)]
    pairs = [(k, recorded.get(k, OPTIONAL_SETTINGS.get(k)), wanted.get(k, OPTIONAL_SETTINGS.get(k))) for k in keys]
    diffs = [f"{k}: {there!r} there, {now!r} now" for k, there, now in pairs if there != now]
    return "; ".join(diffs[:3]) + (" ..." if len(diffs) > 3 else "") if diffs else None


BASE_SEED = 1337  # the notebook's np.random.seed(1337)


def bf16_is_native() -> bool:
    """Whether bf16 matrix products run in hardware here: a CUDA device with bf16, or a CPU
    with AVX512-BF16 or AMX. Elsewhere (AVX2) torch emulates them, many times slower than float32."""
    if torch.cuda.is_available():
        return torch.cuda.is_bf16_supported()
    return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()


def run_precision(precision: str) -> str:
    """The precision a run asked to use ``precision`` uses on this machine: bf16 only where native."""
    return "32-true" if precision.startswith("bf16") and not bf16_is_native() else precision


@dataclass(frozen=True)
class Profile:
    """How much of the notebook to run: ``notebook`` is its exact settings."""

    name: str
    epochs: int  # for every Keras model (the notebook: 50)
    seeds: int  # runs per sweep point
    depth_seeds: int | None = None  # runs per point of the depth sweeps (None: seeds); their claims rest on small gaps
    widths: tuple[int, ...] = tuple(2**k for k in range(1, 12))
    depths: tuple[int, ...] = tuple(range(1, 11))
    limit_train_batches: float | int = 1.0  # a fraction of each training epoch, or a count
    data_dir: str | None = None  # None: the DataModule's default (the vendored MNIST)
    verify_checksums: bool = True
    # --trainer.precision of the MLP sweeps' runs ("bf16-mixed": autocast to bf16); softmax GD,
    # whose claim is an exact figure, and the autoencoders, which bf16 does not speed up, stay float32.
    # bf16 applies only where it is native (bf16_is_native); elsewhere the runs use 32-true. Each
    # result records the precision it ran with ("precision"), the settings the one asked for.
    precision: str = "32-true"
    stack_seeds: bool = False  # train the seeds of one MLP sweep value as one run (study.runs, study.stacked_runs)
    # Sweeps whose runs compile their optimizer's update (--model.init_args.compile_optimizer):
    # worth it where the update is several memory-bound passes (RMSprop, Adadelta).
    compile_optimizer: tuple[str, ...] = ()
    # A profile with speed-ups reruns these (sweep, value) points with the settings of profile
    # ``reference`` into <out>/reference, and the report sets the two side by side.
    reference: str | None = None
    reference_points: tuple[tuple[str, int | None], ...] = ()

    def seeds_for(self, sweep: str) -> int:
        return (self.depth_seeds or self.seeds) if sweep in DEPTH_SWEEPS else self.seeds

    def precision_for(self, sweep: str) -> str:
        """The precision the profile asks for (recorded in the point settings)."""
        return self.precision if sweep in MLP_SWEEPS else "32-true"

    def run_precision(self, sweep: str) -> str:
        """The precision a run of ``sweep`` uses on this machine: bf16 only where native."""
        return run_precision(self.precision_for(sweep))

    def compiled_for(self, sweep: str) -> bool:
        return sweep in self.compile_optimizer

    def data_kwargs(self) -> dict:
        return {"data_dir": self.data_dir, "verify_checksums": self.verify_checksums}

    def data_args(self) -> list[str]:
        args = ["--data.verify_checksums", str(self.verify_checksums).lower()]
        return args + (["--data.data_dir", self.data_dir] if self.data_dir else [])


PROFILES = {
    # Every experiment, 5 epochs, 2 seeds: about 15 minutes on 2 CPU cores.
    "quick": Profile("quick", epochs=5, seeds=2),
    "notebook": Profile("notebook", epochs=50, seeds=3, depth_seeds=5),
    # The same with bf16 autocast and stacked seeds: 0.66x the time (docs/notebook-speed.md);
    # one value of each MLP sweep also runs as in `notebook`, to show the results agree.
    "notebook-fast": Profile(
        "notebook-fast",
        epochs=50,
        seeds=3,
        depth_seeds=5,
        precision="bf16-mixed",
        stack_seeds=True,
        compile_optimizer=("depth_rmsprop", "seed_dropout"),
        reference="notebook",
        reference_points=(
            ("seed_mlp", None),
            ("width", 128),
            ("depth_sgd", 3),
            ("depth_rmsprop", 3),
            ("seed_dropout", None),
        ),
    ),
    # Seconds, not minutes: every stage present, nothing meaningful. For trying the pipeline.
    "smoke": Profile("smoke", epochs=1, seeds=2, widths=(2, 128), depths=(1, 2), limit_train_batches=10),
}


def point_file(out: Path, sweep: str, key: str) -> Path:
    """Where a point's result lives in results folder ``out``."""
    return out / "points" / sweep / f"{key}.json"


@dataclass(frozen=True)
class Point:
    sweep: str
    key: str  # unique within the sweep, also the result's file name
    config: str  # a shipped config name or a path
    overrides: tuple[str, ...]
    seed: int
    x: float | None = None  # the sweep variable, for plots
    epochs: int | None = None  # None: the profile's epochs
    checkpoint: bool = False  # keep the config's checkpointing (for runs that others load)

    def result_path(self, out: Path) -> Path:
        """This point's file in results folder ``out`` (as ``ResultStore.point_path``)."""
        return point_file(Path(out), self.sweep, self.key)


def _member(sweep: Sweep, profile: Profile) -> list[Point]:
    """Each value of ``sweep`` times each of its seeds under ``profile``."""
    points = []
    for value in sweep.values_for(profile):
        for s in range(profile.seeds_for(sweep.name)):
            over = (sweep.arg, str(value)) if sweep.arg else ()
            key = f"{sweep.var}={value}-seed={BASE_SEED + s}" if sweep.var else f"seed={BASE_SEED + s}"
            points.append(Point(sweep.name, key, sweep.config, over, BASE_SEED + s, value))
    return points


def _autoencoder_points(sweep: Sweep) -> list[Point]:
    """Cells 19-22 and 33-34 in dependency order; "{out}" is the result directory."""
    ckpts = ("--trainer.callbacks.dirpath", "{out}/checkpoints")
    name = sweep.name
    return [
        Point(name, "autoencoder", "autoencoder", ckpts, BASE_SEED, checkpoint=True),
        Point(name, "autoencoder_linear", "autoencoder_linear", ckpts, BASE_SEED, checkpoint=True),
        Point(
            name,
            "reconstructed_dropout",
            "reconstructed_dropout",
            ("--data.init_args.autoencoder_ckpt", "{out}/checkpoints/autoencoder.ckpt"),
            BASE_SEED,
        ),
        Point(
            name,
            "encoder_classifier",
            "encoder_classifier",
            ("--model.init_args.autoencoder_ckpt", "{out}/checkpoints/autoencoder_linear.ckpt"),
            BASE_SEED,
        ),
    ]


# The sweeps by name (study.registry): ``sorted(SWEEPS)`` are the names a command accepts.
SWEEPS: dict[str, Sweep] = REGISTRY


def _points(sweep: Sweep, profile: Profile) -> list[Point]:
    if sweep.kind == "gd":  # deterministic from W = 0: one run; 100 GD iterations in every profile
        return [Point(sweep.name, "gd", sweep.config, (), BASE_SEED, None, epochs=100)]
    if sweep.kind == "autoencoders":
        return _autoencoder_points(sweep)
    return _member(sweep, profile)


def sweep_points(name: str, profile: Profile) -> list[Point]:
    if name not in SWEEPS:
        raise ConfigError(f"unknown sweep {name!r}; choose one of {sorted(SWEEPS)}")
    return _points(SWEEPS[name], profile)


def config_path(config: str) -> Path:
    """The YAML file of ``config``: a path, or the name of a shipped config."""
    path = Path(config)
    if not path.is_file():
        path = CONFIG_DIR / (config if config.endswith(".yaml") else config + ".yaml")
    if not path.is_file():
        raise ConfigError(f"--config {config}: no such file, and no shipped config of that name")
    return path


def _config_digest(config: str) -> str | None:
    """sha256 of the defaults and the config a point runs (so an edited config reruns it)."""
    try:
        path = config_path(config)
    except ConfigError:
        return None
    return hashlib.sha256(DEFAULTS.read_bytes() + b"\0" + path.read_bytes()).hexdigest()


def point_settings(point: Point, profile: Profile) -> dict:
    """What determines ``point``'s result under ``profile`` (recorded in its file; JSON types)."""
    return {
        "profile": profile.name,
        "epochs": point.epochs or profile.epochs,
        "limit_train_batches": profile.limit_train_batches,
        "seeds": profile.seeds_for(point.sweep),
        "seed": point.seed,
        "data": profile.data_kwargs(),
        "config": point.config,
        "config_sha256": _config_digest(point.config),
        "overrides": list(point.overrides),
        "checkpoint": point.checkpoint,
        # Recorded only when not the default, so files from before these settings stay valid.
        **{
            k: v
            for k, v in (
                ("precision", profile.precision_for(point.sweep)),
                ("stack_seeds", profile.stack_seeds),
                ("compile_optimizer", profile.compiled_for(point.sweep)),
            )
            if v != OPTIONAL_SETTINGS[k]
        },
    }


# Lightning's rank-zero INFO lines ("GPU available: ...", "LOCAL_RANK: ...", "Seed set to ...",
# "You are using a CUDA device ...") would come between the result lines of every run.
QUIET_LOGGERS = tuple(
    f"{root}.{mod}"
    for root in ("pytorch_lightning", "lightning_fabric", "lightning.pytorch", "lightning.fabric")
    for mod in ("utilities.rank_zero", "utilities.seed", "accelerators.cuda")
)


@contextmanager
def quiet_lightning():
    """Raise Lightning's banner loggers to WARNING for the duration (warnings still show)."""
    loggers = [logging.getLogger(name) for name in QUIET_LOGGERS]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(max(lg.getEffectiveLevel(), logging.WARNING))
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)
