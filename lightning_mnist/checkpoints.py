"""Checkpoints the CLI can trust: written whole, read only when they are what the run expects,
and saved when a job is told to stop (SIGTERM).

* ``AtomicCheckpointIO`` writes every checkpoint through ``logicnets.files.atomic_write``: a
  kill, a full disk or a crash during the save never leaves a truncated file under the final
  name (Lightning writes the final name in place).
* ``read_checkpoint``, ``check_class``, ``check_swap`` and ``check_state`` read a
  ``--ckpt_path`` with ``weights_only=True`` and within the bounds of ``lightning_mnist.budgets``
  before Lightning does, and refuse URLs and model registries, missing / empty / truncated /
  legacy-format / oversized / non-checkpoint files, hyperparameters that are not a dict,
  checkpoints of another model (whatever key names its class) and ``last`` / ``best`` / ``hpc``
  / a folder with nothing to load, each as one line (``ResumeError``). ``built_class`` tells
  which class a config's preset function builds, the class its checkpoints record.
* ``SaveOnSigterm`` saves ``<checkpoint dir>/interrupted.ckpt`` when SIGTERM stops ``fit``;
  ``raise_on_sigterm`` turns SIGTERM outside a Lightning loop into ``Interrupted``.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import signal
import typing
from pathlib import Path

import torch

from lightning_mnist import budgets
from lightning_mnist.backend import Callback, SIGTERMException, callbacks, plugins, strategies
from lightning_mnist.errors import Interrupted, ResumeError
from lightning_mnist.interrupts import Received, handling
from logicnets.files import atomic_write, remove_stale_temporaries

INTERRUPTED_NAME = "interrupted.ckpt"
# What Lightning resolves itself (they name no file the user gave).
SPECIAL_PATHS = ("best", "hpc")


def is_url(path) -> bool:
    return "://" in str(path)


class AtomicCheckpointIO(plugins.TorchCheckpointIO):
    """``TorchCheckpointIO`` whose saves are atomic (temporary file in the same folder, fsync,
    rename); a failed save (ENOSPC) raises ``OutputPathError`` naming the checkpoint. The first
    save into a folder removes the temporaries that killed saves left there."""

    def save_checkpoint(self, checkpoint, path, storage_options=None) -> None:
        if storage_options is not None or is_url(path):
            return super().save_checkpoint(checkpoint, path, storage_options)
        path = Path(path)
        cleaned = self.__dict__.setdefault("_cleaned_folders", set())
        if path.parent not in cleaned:
            remove_stale_temporaries(path.parent)
            cleaned.add(path.parent)
        atomic_write(path, lambda f: torch.save(checkpoint, f))


def checkpoint_dir(trainer) -> Path:
    """Where this run's checkpoints go: the ModelCheckpoint's folder, else ``<log dir>/checkpoints``."""
    callback = trainer.checkpoint_callback
    if callback is not None and getattr(callback, "dirpath", None):
        return Path(callback.dirpath)
    return Path(trainer.log_dir or trainer.default_root_dir) / "checkpoints"


class SaveOnSigterm(Callback):
    """When SIGTERM stops ``fit`` (Lightning raises SIGTERMException at the next step),
    save a resumable checkpoint and attach its path to the exception (``checkpoint_path``)."""

    def on_exception(self, trainer, pl_module, exception: BaseException) -> None:
        if not isinstance(exception, SIGTERMException):
            return
        if getattr(trainer.state.fn, "value", trainer.state.fn) != "fit":
            return
        path = checkpoint_dir(trainer) / INTERRUPTED_NAME
        trainer.save_checkpoint(path)
        exception.checkpoint_path = path


@contextlib.contextmanager
def raise_on_sigterm():
    """SIGTERM raises ``Interrupted`` here, except while a Trainer runs: Lightning then wraps
    this handler in its own, and stops its loop itself (SIGTERMException). Either way it is
    remembered in ``interrupts.Received`` (a SIGTERM after a loop's last check is not lost)."""
    Received.sigterm = False

    def handler(signum, frame):
        Received.sigterm = True
        if signal.getsignal(signal.SIGTERM) is handler:
            raise Interrupted("SIGTERM")

    with handling(signal.SIGTERM, handler):
        yield


def _last_checkpoints(trainer) -> tuple[set[str], list[str]]:
    """``last*.ckpt`` files of this experiment: in the checkpoint folders of this run and, since
    each run gets a new ``version_<k>``, in every version of each logger's run directory."""
    found, folders = set(), []
    for callback in trainer.checkpoint_callbacks:
        if isinstance(callback, callbacks.ModelCheckpoint):
            # Private, and guarded: Lightning's own search for its last.ckpt naming scheme.
            with contextlib.suppress(Exception):
                found |= callback._find_last_checkpoints(trainer)
            folders.append(str(callback.dirpath or checkpoint_dir(trainer)))
    for logger in trainer.loggers:
        root = getattr(logger, "root_dir", None)  # CSVLogger, TensorBoardLogger: <save_dir>/<name>
        if isinstance(root, (str, Path)) and "://" not in str(root) and Path(root).is_dir():
            found |= {str(p) for p in Path(root).glob("*/checkpoints/last*.ckpt") if p.is_file()}
            folders.append(f"{root}/*/checkpoints")
    return found, folders


def _class_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _resolve(class_path: str):
    module, _, name = class_path.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError):
        return None


def built_class(class_path: str | None) -> str | None:
    """The class of the model a config's ``class_path`` builds: the class itself, or, for a
    builder function (``models.presets``), the class its return annotation names; None when
    that cannot be told. A checkpoint records the built class's arguments, never the builder's."""
    if not class_path:
        return None
    target = _resolve(class_path)
    if isinstance(target, type):
        return class_path
    try:
        returned = typing.get_type_hints(target).get("return") if callable(target) else None
    except Exception:  # an annotation that does not resolve: the class cannot be told
        return None
    return _class_name(returned) if isinstance(returned, type) else None


def read_checkpoint(ckpt_path, trainer=None) -> tuple[Path, dict] | None:
    """The checkpoint ``--ckpt_path`` names, read with ``weights_only=True`` within the bounds of
    ``lightning_mnist.budgets``, or None for what only the trainer can resolve (``last``, ``best``,
    ``hpc``, a folder: None without ``trainer``) or a sharded folder its strategy reads itself.
    ResumeError (one line) for a URL or model registry, a missing / empty / truncated /
    non-checkpoint / legacy-format / oversized file, hyperparameters that are not a dict, and
    ``last`` / ``best`` / ``hpc`` / a folder with nothing to load."""
    if ckpt_path is None:
        return None
    if is_url(ckpt_path) or str(ckpt_path).startswith("registry"):
        raise ResumeError(
            f"--ckpt_path {ckpt_path}: checkpoints are not loaded from URLs or model registries (unpickling "
            "one can run code); download it, make sure you trust it, and pass the local file"
        )
    if str(ckpt_path) in ("last", *SPECIAL_PATHS):
        if trainer is None:
            return None
        ckpt_path = _resolve_special(str(ckpt_path), trainer)
    path = Path(ckpt_path)
    if not path.exists():
        raise ResumeError(f"checkpoint {path} does not exist")
    if path.is_dir():
        return _check_folder(path, trainer)
    return path, _load_bounded(path)


def _resolve_special(name: str, trainer) -> str:
    """The file ``last``, ``best`` or ``hpc`` stands for in this run; ResumeError when none."""
    if name == "last":
        found, folders = _last_checkpoints(trainer)
        if not found:
            where = " or ".join(folders) if folders else "this run (checkpointing is off)"
            raise ResumeError(
                f"--ckpt_path last: there is no last checkpoint in {where}; pass the checkpoint file "
                "to resume from, or leave --ckpt_path out to start from scratch"
            )
        return max(found, key=os.path.getmtime)
    if name == "best":
        best = getattr(trainer.checkpoint_callback, "best_model_path", "") if trainer.checkpoint_callback else ""
        if not best:
            raise ResumeError(
                "--ckpt_path best: there is no best checkpoint to load (it names the best checkpoint of a fit run "
                "earlier in the same process); pass the checkpoint file instead"
            )
        return best
    # Private, and guarded: where Lightning finds hpc_ckpt_<k>.ckpt (the SLURM requeue checkpoint).
    hpc = getattr(getattr(trainer, "_checkpoint_connector", None), "_hpc_resume_path", None)
    if not hpc:
        raise ResumeError(
            f"--ckpt_path hpc: there is no HPC checkpoint (hpc_ckpt_<k>.ckpt) in {trainer.default_root_dir}; "
            "pass the checkpoint file instead"
        )
    return str(hpc)


def _check_folder(path: Path, trainer) -> None:
    """A folder is a sharded checkpoint only a strategy with its own loader (FSDP, DeepSpeed)
    reads; for any other, ResumeError naming the checkpoint files inside."""
    if trainer is None:
        return None
    if type(trainer.strategy).load_checkpoint is not strategies.Strategy.load_checkpoint:
        return None
    inside = sorted(p.name for p in path.glob("*.ckpt"))[:3]
    raise ResumeError(
        f"checkpoint {path} is a folder, and this run's {type(trainer.strategy).__name__} reads checkpoint "
        f"files; pass a file{' (in it: ' + ', '.join(inside) + ')' if inside else ''}"
    )


def _load_bounded(path: Path) -> dict:
    """``path`` loaded with ``weights_only=True`` once its size, format and declared
    decompressed size are checked, and its structure checked after (see ``budgets``)."""
    if path.stat().st_size == 0:
        raise ResumeError(f"checkpoint {path} is empty")
    with open(path, "rb") as f:
        head = f.read(4)
    if head[:1] == b"\x80":
        raise ResumeError(
            f"checkpoint {path} is in torch's legacy (pre-1.6) format, whose sizes cannot be checked before "
            "loading; if you trust it, load it and save it again with a current torch.save"
        )
    if head != b"PK\x03\x04":  # torch.save's zip
        raise ResumeError(f"checkpoint {path} is not a PyTorch checkpoint file")
    problem = budgets.checkpoint_size_problem(path)
    if problem is not None:
        raise ResumeError(f"checkpoint {path}: {problem}")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        detail = [line.strip() for line in str(err).splitlines() if "GLOBAL" in line or "Unsupported" in line]
        raise ResumeError(
            f"checkpoint {path} holds pickled objects beyond tensors and plain data, which are not "
            f"loaded (unpickling them can run code){': ' + detail[0] if detail else ''}"
        ) from None
    except Exception as err:  # EOFError, RuntimeError ("failed finding central directory"), ...
        raise ResumeError(
            f"checkpoint {path} cannot be read (truncated or not a checkpoint): {_first_line(err)}"
        ) from None
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get("state_dict"), dict):
        raise ResumeError(f"checkpoint {path} is not a Lightning checkpoint (it has no state_dict)")
    problem = budgets.structure_problem(ckpt)
    if problem is not None:
        raise ResumeError(f"checkpoint {path} is refused: {problem}")
    hparams = ckpt.get("hyper_parameters")
    if hparams is not None and not (isinstance(hparams, dict) and all(isinstance(k, str) for k in hparams)):
        raise ResumeError(
            f"checkpoint {path}: its hyperparameters are a {type(hparams).__name__}, not a dict of names "
            "to values; it was not saved by a LightningModule's save_hyperparameters"
        )
    return ckpt


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


# Where a checkpoint's hyperparameters may name a class LightningCLI would build: Lightning's
# own key, and jsonargparse's, which LightningCLI passes through as they are.
CLASS_KEYS = ("_class_path", "class_path")


def recorded_classes(ckpt: dict) -> list:
    """The model classes a checkpoint's hyperparameters name, under any spelling LightningCLI
    acts on (``_class_path``, ``class_path``), as written (strings, or whatever is there)."""
    hparams = ckpt.get("hyper_parameters")
    if not isinstance(hparams, dict):
        return []
    return [hparams[key] for key in CLASS_KEYS if key in hparams]


def check_class(path: Path, ckpt: dict, class_path: str | None) -> None:
    """Refuse a checkpoint whose hyperparameters name a model class other than the configured
    one, under any spelling (LightningCLI would otherwise swap the configured model for it).
    ``check_swap`` then checks what LightningCLI actually made of them, and ``check_state``
    the weights against the model built."""
    if not class_path:
        return
    for theirs in recorded_classes(ckpt):
        if not isinstance(theirs, str) or not _same_class(theirs, class_path):
            raise ResumeError(
                f"checkpoint {path} holds a {theirs}, but this run's model is a {class_path}: "
                "pass a checkpoint of the same model (or the config it was trained with)"
            )


def check_swap(path: Path | str, before: str | None, after: str | None) -> None:
    """Refuse when loading the checkpoint's hyperparameters changed the configured model class
    (``before``) to another (``after``): whatever keys did it, the weights are another model's."""
    if not before or before == after:
        return
    if after is None or not _same_class(after, before):
        raise ResumeError(
            f"checkpoint {path} holds a {after}, but this run's model is a {before}: "
            "pass a checkpoint of the same model (or the config it was trained with)"
        )


def _same_class(theirs: str, class_path: str) -> bool:
    """Whether ``theirs`` builds a model of ``class_path``'s class (a preset builds its class)."""
    built = built_class(theirs)
    return built is not None and _resolve(built) is _resolve(class_path)


def check_state(path: Path, ckpt: dict, model) -> None:
    """Refuse a checkpoint whose weights are not this model's (names or shapes)."""
    mine = _class_name(type(model))
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    if not expected:
        return  # parameters made in setup/configure_model: nothing to compare yet
    stored = {k: tuple(v.shape) for k, v in ckpt["state_dict"].items() if hasattr(v, "shape")}
    missing, unexpected = sorted(expected.keys() - stored), sorted(stored.keys() - expected)
    if missing or unexpected:
        detail = "; ".join(
            f"{what}: {', '.join(keys[:3])}{' ...' if len(keys) > 3 else ''}"
            for what, keys in (("missing", missing), ("unexpected", unexpected))
            if keys
        )
        raise ResumeError(f"checkpoint {path} is not a checkpoint of this run's {mine} ({detail})")
    for key, shape in expected.items():
        if stored[key] != shape:
            raise ResumeError(
                f"checkpoint {path} does not fit this run's {mine}: {key} has shape {list(stored[key])} "
                f"there, {list(shape)} here (another width or depth?)"
            )
