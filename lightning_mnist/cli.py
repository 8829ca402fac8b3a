"""``lightning-mnist``: LightningCLI over the modules and configs of this package.

``lightning-mnist fit --config softmax_gd.yaml --trainer.devices 2`` trains, then tests the
final weights and prints the test accuracy. Besides LightningCLI's subcommands (fit,
validate, test, predict) there are ``reproduce`` (the whole notebook and its report),
``sweep NAME [--index I]`` (points of one sweep) and ``collect NAME`` (gather a sweep). Configs may be named by path or by their file
name in ``lightning_mnist/configs``. Every run writes its config, CSV metrics and checkpoints
under ``runs/<name>/version_<k>/``.
"""

from __future__ import annotations

import sys
from importlib.resources import files
from pathlib import Path

from pytorch_lightning import LightningModule
from pytorch_lightning.cli import LightningCLI

from lightning_mnist.classifier import DivergenceError
from lightning_mnist.datamodule import MNISTDataModule
from lightning_mnist.idx import DataError

CONFIG_DIR = Path(str(files("lightning_mnist") / "configs"))


class MNISTCLI(LightningCLI):
    def add_arguments_to_parser(self, parser) -> None:
        parser.add_argument(
            "--test_after_fit", type=bool, default=True,
            help="after fit, evaluate the final weights on the test set and print the accuracy",
        )
        parser.set_defaults(
            {
                "trainer.logger": {
                    "class_path": "pytorch_lightning.loggers.CSVLogger",
                    "init_args": {"save_dir": "runs", "name": "lightning_mnist"},
                }
            }
        )
        if self.subclass_mode_data:  # a config may name a subclass (ReconstructedDataModule);
            # without one, `data:` sections and --data.* flags configure MNISTDataModule as before
            cls = self.datamodule_class
            parser.set_defaults({"data": {"class_path": f"{cls.__module__}.{cls.__qualname__}"}})

    def after_fit(self) -> None:
        if not self.config[self.subcommand].get("test_after_fit", True):
            return
        self.trainer.test(self.model, datamodule=self.datamodule)
        self._print_accuracy()

    def after_test(self) -> None:
        self._print_accuracy()

    def _print_accuracy(self) -> None:
        acc = self.trainer.callback_metrics.get("test/acc")
        log_dir = self.trainer.log_dir  # a collective call under DDP: every rank makes it
        if acc is not None and self.trainer.is_global_zero:
            print(f"test accuracy: {float(acc):.4f}  (run directory: {log_dir})")


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
    # LightningCLI warns whenever args= is given while sys.argv has arguments (ours were
    # already read from it, or belong to a host program such as pytest): hide them.
    argv, sys.argv = sys.argv, sys.argv[:1]
    try:
        return MNISTCLI(args=resolve_config_names(args), **{**options, **kwargs})
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
    except (DataError, DivergenceError) as err:  # the user's to fix: a message, not a traceback
        print(f"lightning-mnist: error: {err}", file=sys.stderr)
        raise SystemExit(2 if isinstance(err, DataError) else 1) from None


if __name__ == "__main__":
    main()
