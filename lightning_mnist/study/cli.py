"""The study's one command-line front: ``reproduce | sweep | collect``, sharing ``--profile`` and ``--out``.

``lightning-mnist reproduce|sweep|collect ...`` and ``python -m lightning_mnist.study ...`` both
land here. Faults (a bad argument, a busy or unusable results folder, missing results) are
raised as the package's errors; ``lightning_mnist.cli.main`` prints them in one line, exit 2.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from lightning_mnist.study.points import PROFILES, Profile
from lightning_mnist.study.registry import MLP_SWEEPS, REGISTRY
from lightning_mnist.study.stages import STAGES, check_only

__all__ = ["COMMANDS", "main", "parser"]

COMMANDS = ("reproduce", "sweep", "collect")

PROFILE_HELP = (
    "quick: about 16 min on a 2-core CPU; notebook: the notebook's settings, about 9.5 h on "
    "2 CPU cores; notebook-fast: the same with stacked seeds, bf16 where the CPU has it natively "
    "(0.66x the time there) and compiled RMSprop and Adadelta steps, plus reference points run "
    "the notebook way; smoke: a minute, to try the pipeline"
)


def _shared() -> argparse.ArgumentParser:
    """``--profile`` and ``--out``, the same for every command."""
    shared = argparse.ArgumentParser(add_help=False)
    shared.add_argument("--profile", choices=sorted(PROFILES), default="quick", help=PROFILE_HELP)
    shared.add_argument(
        "--out",
        type=Path,
        default=None,
        help="result directory (default reports/<profile>); results there that record other settings "
        "(another profile's) are rerun, with a warning, and left out of the report",
    )
    return shared


def parser(prog: str = "lightning-mnist") -> argparse.ArgumentParser:
    """The front's parser: one subcommand per job, each with the shared options."""
    front = argparse.ArgumentParser(prog=prog, description="The notebook study: sweeps, their results, the report.")
    commands = front.add_subparsers(dest="command", required=True)
    shared = _shared()
    reproduce = commands.add_parser(
        "reproduce",
        parents=[shared],
        description="Run the whole notebook and write report.md / report.html with every figure. "
        "SIGTERM (a preempted job) keeps the finished points, abandons the current one and exits 143; "
        "the same command resumes.",
    )
    reproduce.add_argument("--only", nargs="*", default=None, help=f"run only these stages: {', '.join(STAGES)}")
    reproduce.add_argument(
        "--report",
        type=Path,
        default=None,
        help="also write the Markdown report to this file, its figure links relative to it "
        "(e.g. docs/notebook-report.md)",
    )
    reproduce.add_argument(
        "--progress", action="store_true", help="also show each run's per-epoch progress bar (default: none)"
    )
    settings = "Each point's result file records the settings it was computed with (profile, epochs, batches, seeds, "
    settings += "data, config and overrides). "
    sweep = commands.add_parser(
        "sweep",
        parents=[shared],
        description=settings + "A point whose file records other settings (another profile's, an edited config's) "
        "is rerun, with a warning.",
    )
    sweep.add_argument("name", choices=sorted(REGISTRY))
    sweep.add_argument("--index", type=int, default=None, help="run only point I (0-based), e.g. $SLURM_ARRAY_TASK_ID")
    sweep.add_argument("--list", action="store_true", help="list the points and exit")
    collect = commands.add_parser(
        "collect",
        parents=[shared],
        description=settings + "Only results computed with --profile's settings are collected.",
    )
    collect.add_argument("name", choices=sorted(REGISTRY))
    return front


def main(argv: list[str] | None = None, prog: str = "lightning-mnist") -> None:
    """Parse ``argv`` (``COMMAND [options]``) and run the command."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser(prog).parse_args(argv)
    profile = PROFILES[args.profile]
    out = args.out or Path("reports") / args.profile
    if args.command == "reproduce":
        _reproduce(args, profile, out, " ".join(shlex.quote(a) for a in [prog, *argv]))
    elif args.command == "sweep":
        _sweep(args, profile, out)
    else:
        from lightning_mnist.study.store import ResultStore

        for row in ResultStore(out, profile).collect(args.name):
            print(row)


def _reproduce(args: argparse.Namespace, profile: Profile, out: Path, command: str) -> None:
    from lightning_mnist.study.reproduce import reproduce

    check_only(args.only)
    if profile.precision != (ran := profile.run_precision(MLP_SWEEPS[0])):
        print(f"{profile.name}: no native bf16 on this machine (sweeps.bf16_is_native); its MLP sweeps run {ran}")
    report = reproduce(profile, out, args.only, command=command, progress=args.progress, report_copy=args.report)
    print(f"report: {report}")


def _sweep(args: argparse.Namespace, profile: Profile, out: Path) -> None:
    from lightning_mnist.study.points import sweep_points
    from lightning_mnist.study.runs import run_sweep

    if args.list:
        for i, point in enumerate(sweep_points(args.name, profile)):
            print(i, point.key)
        return
    from lightning_mnist.study.store import ResultStore

    with ResultStore(out, profile).working(wait=True, shared=True):  # waits while a reproduction runs
        results = run_sweep(args.name, profile, out, args.index)
    for result in results:
        if result.get("test_acc") is not None:
            print(f"{result['key']}: test accuracy {result['test_acc']:.4f}")
        else:  # an autoencoder: its test metrics
            print(f"{result['key']}: " + ", ".join(f"{k} {v:.4f}" for k, v in result.get("test", {}).items()))
