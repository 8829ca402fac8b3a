"""``MNISTCLI``: LightningCLI with this package's defaults, and ``build_cli``, which builds it
the way ``lightning-mnist`` does (for the command line, the sweeps and tests alike)."""

from __future__ import annotations

import csv
import io
import sys
from argparse import ArgumentError
from importlib.resources import files
from pathlib import Path
from types import MethodType

import torch
import yaml

from lightning_mnist.backend import ROOT, LightningModule, callbacks, is_overridden, loggers, plugins
from lightning_mnist.backend import cli as lightning_cli
from lightning_mnist.budgets import bounded_yaml_loader
from lightning_mnist.checkpoints import (
    AtomicCheckpointIO,
    SaveOnSigterm,
    built_class,
    check_class,
    check_state,
    check_swap,
    read_checkpoint,
)
from lightning_mnist.data.datamodule import MNISTDataModule
from lightning_mnist.errors import ConfigError, ResumeError
from lightning_mnist.interrupts import StopOnSigterm
from lightning_mnist.models.module import MNISTModule
from lightning_mnist.runfiles import SaveConfigAtomically, write_hparams_atomically
from logicnets.files import OutputPathError, atomic_write, check_target

CONFIG_DIR = Path(str(files("lightning_mnist") / "configs"))
# Read before any --config: what every notebook experiment shares. Each shipped config holds
# only what differs; --print_config shows the merge.
DEFAULTS = CONFIG_DIR / "defaults.yaml"
SUBCOMMANDS = ("fit", "validate", "test", "predict")
# Lightning's default bar redraws after every step, which costs a real share of a small
# MLP's step on CPU; every 10 steps still moves smoothly.
PROGRESS_REFRESH_STEPS = 10


class ProgressBar(callbacks.TQDMProgressBar):
    """Redraws every PROGRESS_REFRESH_STEPS minibatches: with grouped steps (see
    ``lightning_mnist.models.module``) a Lightning step holds many, and the bar counts groups."""

    def __init__(self) -> None:
        super().__init__(refresh_rate=PROGRESS_REFRESH_STEPS)

    def on_train_start(self, trainer, pl_module) -> None:
        group = pl_module.grouped_steps if isinstance(pl_module, MNISTModule) else 1
        # Private: TQDMProgressBar's refresh_rate has no setter (test_grouping checks the name).
        self._refresh_rate = max(1, PROGRESS_REFRESH_STEPS // group)
        super().on_train_start(trainer, pl_module)


class MNISTCLI(lightning_cli.LightningCLI):
    def add_arguments_to_parser(self, parser) -> None:
        parser.add_argument(
            "--test_after_fit",
            type=bool,
            default=True,
            help="after fit, evaluate the final weights on the test set and print the accuracy",
        )
        parser.set_defaults(
            {
                "trainer.logger": {
                    "class_path": f"{ROOT}.loggers.CSVLogger",
                    "init_args": {"save_dir": "runs", "name": "lightning_mnist"},
                }
            }
        )
        if self.subclass_mode_data:  # a config may name a subclass (ReconstructedDataModule);
            # without one, `data:` sections and --data.* flags configure MNISTDataModule as before.
            # The notebook validates on the test set (the header of configs/defaults.yaml), so its
            # configs do: said here, not in the YAML, whose digest the committed results record.
            cls = self.datamodule_class
            data = {"class_path": f"{cls.__module__}.{cls.__qualname__}", "init_args": {"val_split": "test"}}
            parser.set_defaults({"data": data})

    def _add_configure_optimizers_method_to_model(self, subcommand: str | None) -> None:
        """As LightningCLI, plus ``--lr_scheduler`` without ``--optimizer``, which Lightning
        silently ignores: here it schedules the optimizer the module configures itself."""
        super()._add_configure_optimizers_method_to_model(subcommand)
        config = self.config_init[subcommand] if subcommand else self.config_init
        scheduler_init = config.get("lr_scheduler")
        if not scheduler_init or "configure_optimizers" in vars(self.model):
            return  # nothing asked, or Lightning already installed --optimizer [--lr_scheduler]
        own = self.model.configure_optimizers

        def configure_optimizers(model):
            optimizer = own()
            scheduler = lightning_cli.instantiate_class(optimizer, scheduler_init)
            return self.configure_optimizers(model, optimizer, scheduler)

        self.model.configure_optimizers = MethodType(configure_optimizers, self.model)

    def instantiate_trainer(self, **kwargs):
        """Add our ProgressBar (unless the config brings its own or turns it off), SaveOnSigterm
        (a preempted fit leaves ``interrupted.ckpt``), a ModelCheckpoint that keeps ``last.ckpt``
        (unless the config brings one or turns checkpointing off) and AtomicCheckpointIO (unless
        the config names its own CheckpointIO plugin)."""
        config = self.config_init[self.subcommand] if self.subcommand else self.config_init
        trainer = config["trainer"]
        extra = list(trainer.get("callbacks") or [])
        if trainer.get("enable_progress_bar") is not False and not any(
            isinstance(c, callbacks.ProgressBar) for c in extra
        ):
            extra.append(ProgressBar())
        if not any(isinstance(c, SaveOnSigterm) for c in extra):
            extra.append(SaveOnSigterm())
        if not any(isinstance(c, StopOnSigterm) for c in extra):
            extra.append(StopOnSigterm())  # validate / test / predict stop on SIGTERM too
        if trainer.get("enable_checkpointing") is not False and not any(
            isinstance(c, callbacks.ModelCheckpoint) for c in extra
        ):
            # Lightning's default checkpoint, plus last.ckpt (a link to the newest): what
            # --ckpt_path last resumes, across the experiment's versions.
            extra.append(callbacks.ModelCheckpoint(save_last="link"))
        trainer["callbacks"] = extra
        own = trainer.get("plugins")
        own = [] if own is None else list(own) if isinstance(own, (list, tuple)) else [own]
        if not any(isinstance(p, plugins.CheckpointIO) for p in own):
            trainer["plugins"] = [*own, AtomicCheckpointIO()]
        built = super().instantiate_trainer(**kwargs)
        for logger in built.loggers:
            if isinstance(logger, loggers.CSVLogger):
                write_metrics_atomically(logger)
                write_hparams_atomically(logger)
        return built

    def _parse_ckpt_path(self) -> None:
        """LightningCLI's merge of ``--ckpt_path``'s hyperparameters into the config, done on the
        checkpoint as ``read_checkpoint`` read it (bounded, and once), and refused in one line
        when it would change the model class the config names, whatever keys say so. A config
        whose model is a preset function (``models.presets``) builds a class whose arguments are
        what the checkpoint recorded: they configure that class, as they would configure it named
        directly (Lightning would pass them to the function, which takes other arguments). See
        ``lightning_mnist.checkpoints``."""
        subcommand = self.config.get("subcommand")
        if not subcommand:
            return
        ckpt_path = self.config[subcommand].get("ckpt_path")
        configured = _model_class(self.config[subcommand])
        before = built_class(configured)
        if configured and before is None:  # a builder of no stated class: the config alone builds the model
            return  # (check_state then checks the weights against it)
        # A file named "best", "hpc" or "last" is what LightningCLI would read here: check it too.
        special = str(ckpt_path) in ("last", "best", "hpc") and Path(ckpt_path).is_file()
        read = read_checkpoint(Path(ckpt_path).absolute() if special else ckpt_path)
        if read is None:
            return
        check_class(*read, before)
        hparams = {k: v for k, v in (read[1].get("hyper_parameters") or {}).items() if k != "_instantiator"}
        if not hparams:
            return
        if "_class_path" in hparams:  # as LightningCLI does
            hparams = {"class_path": hparams.pop("_class_path"), "dict_kwargs": hparams}
        elif "class_path" not in hparams and before:  # plain init arguments: of the configured class
            hparams = {"class_path": before, "init_args": hparams}
        exit_on_error, self.parser.exit_on_error = self.parser.exit_on_error, False
        try:
            self.config = self.parser.parse_object({subcommand: {"model": hparams}}, self.config)
        except ArgumentError as err:  # jsonargparse's, many lines: the hyperparameters fit no model
            raise ResumeError(
                f"checkpoint {ckpt_path}: its hyperparameters do not configure this run's model {before} "
                f"({_gist(err)}); pass a checkpoint of the same model (or the config it was trained with)"
            ) from None
        finally:
            self.parser.exit_on_error = exit_on_error
        check_swap(ckpt_path, before, _model_class(self.config[subcommand]))

    def _prepare_subcommand_kwargs(self, subcommand: str) -> dict:
        """Check ``--ckpt_path`` against the built model (and ``last`` against the trainer's
        checkpoint folder); have Lightning load it with ``weights_only=True`` unless the user chose."""
        kwargs = super()._prepare_subcommand_kwargs(subcommand)
        read = read_checkpoint(kwargs.get("ckpt_path"), self.trainer)
        if read is not None:
            check_state(*read, self.model)
            if kwargs["ckpt_path"] in ("last", "best", "hpc"):  # resolved in this run
                name, kwargs["ckpt_path"] = kwargs["ckpt_path"], str(read[0])
                if self.trainer.is_global_zero:
                    print(f"--ckpt_path {name}: {'resuming from' if subcommand == 'fit' else 'loading'} {read[0]}")
        if "weights_only" in kwargs and kwargs["weights_only"] is None and kwargs.get("ckpt_path") is not None:
            kwargs["weights_only"] = True
        return kwargs

    def after_fit(self) -> None:
        if not self.config[self.subcommand].get("test_after_fit", True):
            return
        if not is_overridden("test_step", self.model):
            if self.trainer.is_global_zero:
                print(f"{type(self.model).__name__} has no test_step: skipping the test after fit")
            return
        self.trainer.test(self.model, datamodule=self.datamodule)
        self._print_test_metrics()

    def after_test(self) -> None:
        self._print_test_metrics()

    def after_predict(self) -> None:
        """Save what ``predict_step`` returned, as one tensor, to ``<run dir>/predictions[_rank<r>].pt``."""
        log_dir = Path(self.trainer.log_dir or self.trainer.default_root_dir)  # collective under DDP
        predictions = self.trainer.predict_loop.predictions
        if not predictions:
            return
        trainer = self.trainer
        name = "predictions.pt" if trainer.world_size == 1 else f"predictions_rank{trainer.global_rank}.pt"
        path = atomic_write(log_dir / name, lambda f: torch.save(torch.cat(predictions), f))
        print(f"{sum(len(p) for p in predictions)} predictions written to {path}")

    def _print_test_metrics(self) -> None:
        metrics = self.trainer.callback_metrics
        log_dir = self.trainer.log_dir  # a collective call under DDP: every rank makes it
        if not self.trainer.is_global_zero:
            return
        if self.trainer.fast_dev_run:
            print("fast_dev_run: a smoke test on a few batches, no accuracy to report")
            return
        for key, label in (("test/acc", "test accuracy"), ("test/mse", "test MSE")):
            if key in metrics:
                print(f"{label}: {float(metrics[key]):.4f}  (run directory: {log_dir})")


def write_metrics_atomically(logger) -> None:
    """Make a CSVLogger write metrics.csv whole through ``atomic_write``: Lightning's writer
    appends in place, so a kill or a full disk leaves a truncated file under the final name,
    and its bare OSError names no path. Remote (fsspec URL) log folders keep Lightning's writer."""
    save = logger.save

    def atomic_save() -> None:
        writer = logger.experiment
        path = getattr(writer, "metrics_file_path", None)
        if path is not None and "://" not in str(path) and getattr(writer, "save", None) is not None:
            writer.save = lambda: _save_rows(writer)  # once per writer; Lightning's save calls it
        try:
            save()
        except OutputPathError:
            raise
        except OSError as err:
            raise OutputPathError(f"cannot write {path or logger.log_dir}: {err.strerror or err}") from err

    logger.save = atomic_save


def _save_rows(writer) -> None:
    """The rows on disk plus the new ones, under the union of their keys, written whole."""
    if not writer.metrics:
        return
    path = Path(writer.metrics_file_path)
    check_target(path)  # a planted link is refused before it is read, not merged into the metrics
    rows = []
    if path.is_file():
        with path.open(newline="") as f:
            rows = list(csv.DictReader(f))
    keys = sorted(set(writer.metrics_keys).union(*writer.metrics, *rows))
    writer.metrics_keys[:] = keys
    table = io.StringIO(newline="")
    out = csv.DictWriter(table, fieldnames=keys)
    out.writeheader()
    out.writerows(rows + writer.metrics)
    atomic_write(path, table.getvalue())
    writer.metrics = []


def _model_class(config) -> str | None:
    """The model class a subcommand's config names (None when it names none)."""
    model = config.get("model")
    class_path = model.get("class_path") if hasattr(model, "get") else None
    return class_path if isinstance(class_path, str) else None


def _gist(err: BaseException) -> str:
    """The line of a jsonargparse error that says what did not fit."""
    lines = [line.strip(" -") for line in str(err).splitlines() if line.strip(" -")]
    for needle in ("not accepted", "Problem", "Expected"):
        found = [line for line in lines if needle in line]
        if found:
            return found[0]
    return lines[0] if lines else ""


def install_yaml_bound() -> None:
    """Make jsonargparse's YAML loader (``--config`` files, YAML values) refuse documents whose
    aliases expand beyond ``budgets.MAX_YAML_NODES`` (a "billion laughs"): ConfigError, one line."""
    import jsonargparse

    jsonargparse.set_loader(
        "yaml", bounded_yaml_loader(jsonargparse.get_loader("yaml"), ConfigError), exceptions=(yaml.YAMLError,)
    )


def shipped_configs() -> list[str]:
    """Names of the configs shipped in ``lightning_mnist/configs`` (``defaults`` is read by all)."""
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml") if p.stem != "defaults")


def resolve_config_names(argv: list[str]) -> list[str]:
    """Let ``--config softmax_gd`` name a shipped config; real paths win; a name that is
    neither raises ConfigError listing the shipped ones."""
    out = list(argv)
    for i, arg in enumerate(out):
        flag, eq, value = arg.partition("=")
        if flag not in ("--config", "-c") or (not eq and i + 1 == len(out)):
            continue
        value = value if eq else out[i + 1]
        if Path(value).exists() or value.lstrip().startswith(("{", "[")):  # a path, or YAML inline
            continue
        name = value if value.endswith(".yaml") else value + ".yaml"
        if not (CONFIG_DIR / name).exists():
            raise ConfigError(
                f"--config {value}: no such file, and no shipped config of that name; "
                f"shipped configs: {', '.join(shipped_configs())}"
            )
        resolved = str(CONFIG_DIR / name)
        if eq:
            out[i] = f"{flag}={resolved}"
        else:
            out[i + 1] = resolved
    return out


def build_cli(args: list[str] | dict, **kwargs) -> MNISTCLI:
    """The CLI as ``lightning-mnist`` builds it; ``run=False`` gives its objects untrained.

    ``args``: command-line arguments, or (with ``run=False``) the whole config as a dict (a
    sweep point's run, ``lightning_mnist.study.training``: no command line in between)."""
    options = dict(
        model_class=LightningModule,
        datamodule_class=MNISTDataModule,
        subclass_mode_model=True,
        subclass_mode_data=True,
        save_config_callback=SaveConfigAtomically,
        save_config_kwargs={"overwrite": True},
    )
    args = args if isinstance(args, dict) else resolve_config_names(args)
    install_yaml_bound()
    defaults = {"default_config_files": [str(DEFAULTS)]}
    if kwargs.get("run", True):
        options["parser_kwargs"] = {name: defaults for name in SUBCOMMANDS}
        # This call trains, and Lightning's DDP launcher re-executes sys.argv in every new
        # process: the (resolved) arguments must be there, not only in args=.
        sys.argv = [sys.argv[0], *args]
        return MNISTCLI(**{**options, **kwargs})
    options["parser_kwargs"] = defaults  # no subcommands: the main parser reads the configs
    # Nothing is launched here: hide a host program's own arguments (pytest's, reproduce's),
    # which LightningCLI would otherwise warn about next to args=.
    argv, sys.argv = sys.argv, sys.argv[:1]
    try:
        return MNISTCLI(args=args, **{**options, **kwargs})
    finally:
        sys.argv = argv
