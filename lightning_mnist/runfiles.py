"""The files Lightning itself writes into a run folder, routed through ``logicnets.files``.

LightningCLI saves ``config.yaml`` (``SaveConfigCallback``, by jsonargparse's ``parser.save``)
and the CSVLogger saves ``hparams.yaml`` (``save_hparams_to_yaml``), both with a plain
``open(path, "w")``: in a reused run folder (``reproduce`` and ``sweep`` always reuse
``version_0``) a symbolic link planted under either name is written through, overwriting its
target, and a FIFO blocks the run or ends it in a traceback. Here both go through
:func:`logicnets.files.atomic_write`, by the hooks Lightning offers (a ``SaveConfigCallback``
subclass, the logger's experiment writer): a link or special file is refused with one
``OutputPathError`` line and left untouched, and a kill never leaves half a file.

The text itself is still Lightning's: its writer renders into a private temporary folder (a
fresh ``tempfile.mkdtemp``, which nobody else can plant anything in), and the bytes are then
written atomically. Remote (fsspec URL) log folders keep Lightning's own writers.
"""

from __future__ import annotations

import importlib
import inspect
import tempfile
from collections.abc import Callable
from pathlib import Path

from lightning_mnist.backend import ROOT
from lightning_mnist.backend import cli as lightning_cli
from logicnets.files import atomic_write

__all__ = ["SaveConfigAtomically", "write_hparams_atomically"]


def _rendered(name: str, write: Callable[[str], object]) -> bytes:
    """What ``write(path)`` writes to a file called ``name`` in a private temporary folder."""
    with tempfile.TemporaryDirectory(prefix="lightning-mnist-") as private:
        path = Path(private) / name
        write(str(path))
        return path.read_bytes()


def _is_remote(path) -> bool:
    return "://" in str(path)


class SaveConfigAtomically(lightning_cli.SaveConfigCallback):
    """``SaveConfigCallback`` whose ``config.yaml`` is written by ``atomic_write``: never
    through a link, never into a FIFO, never half a file. Same text, same rank-zero rule, same
    refusal to overwrite when ``overwrite=False``; multi-file saves and remote folders are
    left to Lightning."""

    def setup(self, trainer, pl_module, stage: str) -> None:
        if self.already_saved or not self.save_to_log_dir or self.multifile:
            return super().setup(trainer, pl_module, stage)
        log_dir = trainer.log_dir  # a collective call under DDP: every rank makes it
        if log_dir is None or _is_remote(log_dir):
            return super().setup(trainer, pl_module, stage)
        path = Path(log_dir) / self.config_filename
        exists = trainer.is_global_zero and not self.overwrite and path.is_file()
        if trainer.strategy.broadcast(exists):
            raise RuntimeError(
                f"{type(self).__name__} expected {path} to NOT exist. Aborting to avoid overwriting "
                "results of a previous run."
            )
        if trainer.is_global_zero:
            # jsonargparse renamed skip_none to skip_unset (4.49); Lightning still passes the old name.
            skip = "skip_unset" if "skip_unset" in inspect.signature(self.parser.save).parameters else "skip_none"
            text = _rendered(
                self.config_filename,
                lambda tmp: self.parser.save(self.config, tmp, **{skip: False}, overwrite=True, multifile=False),
            )
            atomic_write(path, text)
            self.save_config(trainer, pl_module, stage)
            self.already_saved = True
        self.already_saved = trainer.strategy.broadcast(self.already_saved)
        return None


def write_hparams_atomically(logger) -> None:
    """Make a CSVLogger write ``hparams.yaml`` through ``atomic_write``: its experiment writer's
    ``log_hparams`` is replaced (once per writer, when hyperparameters are first logged) by one
    that renders the file with Lightning's ``save_hparams_to_yaml`` and writes it atomically."""
    log_hyperparams = logger.log_hyperparams

    def routed(*args, **kwargs):
        writer = logger.experiment  # rank zero: the ExperimentWriter; elsewhere a dummy
        if isinstance(writer, _experiment_writer()) and not _is_remote(writer.log_dir):
            writer.log_hparams = lambda params: _log_hparams(writer, params)
        return log_hyperparams(*args, **kwargs)

    logger.log_hyperparams = routed


def _experiment_writer() -> type:
    return importlib.import_module(f"{ROOT}.loggers.csv_logs").ExperimentWriter


def _log_hparams(writer, params: dict) -> None:
    save_hparams_to_yaml = importlib.import_module(f"{ROOT}.core.saving").save_hparams_to_yaml
    writer.hparams.update(params)
    name = getattr(writer, "NAME_HPARAMS_FILE", "hparams.yaml")
    atomic_write(Path(writer.log_dir) / name, _rendered(name, lambda tmp: save_hparams_to_yaml(tmp, writer.hparams)))
