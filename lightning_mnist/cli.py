"""``lightning-mnist``: LightningCLI over the modules and configs of this package.

``lightning-mnist fit --config softmax_gd.yaml --trainer.devices 2`` trains, then tests the
final weights and prints the test accuracy; ``predict`` writes ``predictions.pt``. Besides
LightningCLI's subcommands (fit, validate, test, predict) there are ``reproduce`` (the whole
notebook and its report), ``sweep NAME [--index I]`` (points of one sweep) and ``collect
NAME`` (gather a sweep). Configs may be named by path or by their file name in
``lightning_mnist/configs``. Every run writes its config, CSV metrics and checkpoints under
``runs/<name>/version_<k>/``.
"""

from __future__ import annotations

import os
import sys
from importlib.resources import files
from pathlib import Path
from types import MethodType

import torch

from lightning_mnist.backend import ROOT, LightningModule, callbacks
from lightning_mnist.backend import cli as lightning_cli
from lightning_mnist.classifier import DivergenceError
from lightning_mnist.datamodule import MNISTDataModule
from lightning_mnist.idx import DataError
from lightning_mnist.module import ResumeError

CONFIG_DIR = Path(str(files("lightning_mnist") / "configs"))
# Lightning's default bar redraws after every step, about 0.5 ms each on CPU: a quarter of a
# cell-11 MLP step. Every 10 steps still moves smoothly (about 50 redraws a second).
PROGRESS_REFRESH_STEPS = 10


class ProgressBar(callbacks.TQDMProgressBar):
    """Redraws every PROGRESS_REFRESH_STEPS minibatches: with grouped steps (see
    ``lightning_mnist.module``) a Lightning step holds many, and the bar counts groups."""

    def __init__(self) -> None:
        super().__init__(refresh_rate=PROGRESS_REFRESH_STEPS)

    def on_train_start(self, trainer, pl_module) -> None:
        group = getattr(pl_module, "grouped_steps", 1)
        self._refresh_rate = max(1, PROGRESS_REFRESH_STEPS // group)
        super().on_train_start(trainer, pl_module)


class MNISTCLI(lightning_cli.LightningCLI):
    def add_arguments_to_parser(self, parser) -> None:
        parser.add_argument(
            "--test_after_fit", type=bool, default=True,
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
            # without one, `data:` sections and --data.* flags configure MNISTDataModule as before
            cls = self.datamodule_class
            parser.set_defaults({"data": {"class_path": f"{cls.__module__}.{cls.__qualname__}"}})

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
        """Add our ProgressBar, unless the config brings its own or turns it off."""
        config = self.config_init[self.subcommand] if self.subcommand else self.config_init
        trainer = config["trainer"]
        extra = trainer.get("callbacks") or []
        if trainer.get("enable_progress_bar") is not False and not any(
            isinstance(c, callbacks.ProgressBar) for c in extra
        ):
            trainer["callbacks"] = [*extra, ProgressBar()]
        return super().instantiate_trainer(**kwargs)

    def after_fit(self) -> None:
        if not self.config[self.subcommand].get("test_after_fit", True):
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
        path = log_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{name}.{os.getpid()}.tmp")
        torch.save(torch.cat(predictions), tmp)
        os.replace(tmp, path)  # a reader never sees half a file
        print(f"{sum(len(p) for p in predictions)} predictions written to {path}")

    def _print_test_metrics(self) -> None:
        metrics = self.trainer.callback_metrics
        log_dir = self.trainer.log_dir  # a collective call under DDP: every rank makes it
        if not self.trainer.is_global_zero:
            return
        for key, label in (("test/acc", "test accuracy"), ("test/mse", "test MSE")):
            if key in metrics:
                print(f"{label}: {float(metrics[key]):.4f}  (run directory: {log_dir})")


def resolve_config_names(argv: list[str]) -> list[str]:
    """Let ``--config softmax_gd`` name a shipped config; real paths win."""
    out = list(argv)
    for i, arg in enumerate(out[:-1]):
        if arg in ("--config", "-c") and not Path(out[i + 1]).exists():
            name = out[i + 1] if out[i + 1].endswith(".yaml") else out[i + 1] + ".yaml"
            if (CONFIG_DIR / name).exists():
                out[i + 1] = str(CONFIG_DIR / name)
    return out


def build_cli(args: list[str], **kwargs) -> MNISTCLI:
    """The CLI as ``lightning-mnist`` builds it; ``run=False`` gives its objects untrained."""
    options = dict(
        model_class=LightningModule,
        datamodule_class=MNISTDataModule,
        subclass_mode_model=True,
        subclass_mode_data=True,
        seed_everything_default=1337,
        save_config_kwargs={"overwrite": True},
    )
    args = resolve_config_names(args)
    if kwargs.get("run", True):
        # This call trains, and Lightning's DDP launcher re-executes sys.argv in every new
        # process: the (resolved) arguments must be there, not only in args=.
        sys.argv = [sys.argv[0], *args]
        return MNISTCLI(**{**options, **kwargs})
    # Nothing is launched here: hide a host program's own arguments (pytest's, reproduce's),
    # which LightningCLI would otherwise warn about next to args=.
    argv, sys.argv = sys.argv, sys.argv[:1]
    try:
        return MNISTCLI(args=args, **{**options, **kwargs})
    finally:
        sys.argv = argv


def sweep_main(argv: list[str]) -> None:
    """``lightning-mnist sweep NAME [--index I]`` and ``lightning-mnist collect NAME``."""
    import argparse

    from lightning_mnist.sweeps import PROFILES, SWEEPS, collect, run_sweep, sweep_points

    command, rest = argv[0], argv[1:]
    parser = argparse.ArgumentParser(prog=f"lightning-mnist {command}")
    parser.add_argument("name", choices=sorted(SWEEPS))
    parser.add_argument("--profile", choices=sorted(PROFILES), default="quick")
    parser.add_argument("--out", type=Path, default=None, help="result directory (default reports/<profile>)")
    if command == "sweep":
        parser.add_argument("--index", type=int, default=None,
                            help="run only point I (0-based), e.g. $SLURM_ARRAY_TASK_ID")
        parser.add_argument("--list", action="store_true", help="list the points and exit")
    args = parser.parse_args(rest)
    out = args.out or Path("reports") / args.profile
    profile = PROFILES[args.profile]
    if command == "collect":
        for row in collect(args.name, out):
            print(row)
    elif args.list:
        for i, point in enumerate(sweep_points(args.name, profile)):
            print(i, point.key)
    else:
        for result in run_sweep(args.name, profile, out, args.index):
            print(f"{result['key']}: test accuracy {result['test_acc']:.4f}")


SUBCOMMANDS = {"reproduce", "sweep", "collect"}


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    try:
        if argv and argv[0] == "reproduce":
            from lightning_mnist.reproduce import main as reproduce_main

            reproduce_main(argv[1:])
        elif argv and argv[0] in SUBCOMMANDS:
            sweep_main(argv)
        else:
            build_cli(argv)
            close_process_group()
    except Exception as err:
        cause = user_error(err)
        if cause is None:
            raise
        # The user's to fix (a data file, a checkpoint, a diverging run): a message, not a traceback.
        print(f"lightning-mnist: error: {cause}", file=sys.stderr)
        raise SystemExit(1 if isinstance(cause, DivergenceError) else 2) from None


def close_process_group() -> None:
    """Shut gloo/NCCL down before the interpreter does: left to exit, their threads are
    destroyed unjoined and the process aborts ("terminate called without an active
    exception") after a successful run, often enough to fail one run in three here."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def user_error(err: BaseException | None) -> BaseException | None:
    """The DataError / DivergenceError behind ``err``, if any (jsonargparse wraps errors
    raised while it instantiates a model from the config)."""
    seen = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, (DataError, DivergenceError, ResumeError)):
            return err
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return None


if __name__ == "__main__":
    main()
