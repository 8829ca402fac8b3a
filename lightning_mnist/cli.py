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

import sys
from pathlib import Path

from lightning_mnist.errors import DataError, DivergenceError, ResumeError
from lightning_mnist.trainer_cli import build_cli


def sweep_main(argv: list[str]) -> None:
    """``lightning-mnist sweep NAME [--index I]`` and ``lightning-mnist collect NAME``."""
    import argparse

    from lightning_mnist.study.sweeps import PROFILES, SWEEPS, collect, run_sweep, sweep_points

    command, rest = argv[0], argv[1:]
    parser = argparse.ArgumentParser(prog=f"lightning-mnist {command}")
    parser.add_argument("name", choices=sorted(SWEEPS))
    parser.add_argument("--profile", choices=sorted(PROFILES), default="quick")
    parser.add_argument("--out", type=Path, default=None, help="result directory (default reports/<profile>)")
    if command == "sweep":
        parser.add_argument(
            "--index", type=int, default=None, help="run only point I (0-based), e.g. $SLURM_ARRAY_TASK_ID"
        )
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
            from lightning_mnist.study.reproduce import main as reproduce_main

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
    exception") after a successful run."""
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
