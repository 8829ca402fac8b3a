"""``lightning-mnist``: LightningCLI over the modules and configs of this package.

``lightning-mnist fit --config softmax_gd.yaml --trainer.devices 2`` trains, then tests the
final weights and prints the test accuracy; ``predict`` writes ``predictions.pt``. Besides
LightningCLI's subcommands (fit, validate, test, predict) there are ``reproduce`` (the whole
notebook and its report), ``sweep NAME [--index I]`` (points of one sweep) and ``collect
NAME`` (gather a sweep). Configs may be named by path or by their file name in
``lightning_mnist/configs``. Every run writes its config, CSV metrics and checkpoints under
``runs/<name>/version_<k>/``.

Faults end in one line on stderr: ``lightning-mnist: error: ...`` and exit 2 for what the user
is to fix (data, a ``--ckpt_path`` that is a URL, broken, another model's or a missing
``last``; a bad argument; an unwritable output; an input past its bound, see
``lightning_mnist.budgets``), 1 for a diverging run. SIGINT exits 130 and SIGTERM 143, in every
subcommand: ``fit`` first saves ``<checkpoint dir>/interrupted.ckpt`` on SIGTERM (resume with
``--ckpt_path``), ``validate`` / ``test`` / ``predict`` stop at the next batch,
``reproduce`` / ``sweep`` keep their finished points.
"""

from __future__ import annotations

import errno
import sys

from lightning_mnist.errors import (
    ConfigError,
    DataError,
    DivergenceError,
    Interrupted,
    MissingResultsError,
    ResumeError,
)
from lightning_mnist.trainer_cli import build_cli


def sweep_main(argv: list[str]) -> None:
    """``lightning-mnist reproduce|sweep|collect ...``: the study's front (``lightning_mnist.study.cli``)."""
    from lightning_mnist.study.cli import main as study_main

    study_main(argv)


SUBCOMMANDS = {"reproduce", "sweep", "collect"}


# Exit statuses of a run stopped by SIGTERM / SIGINT (128 + 15 / 2, what a shell reports for
# them): a scheduler, or a wrapper script, sees the job did not finish.
SIGTERM_EXIT = 143
SIGINT_EXIT = 130


def main(argv: list[str] | None = None) -> None:
    from lightning_mnist.backend import SIGTERMException
    from lightning_mnist.checkpoints import raise_on_sigterm
    from lightning_mnist.interrupts import Received, record_sigint

    argv = sys.argv[1:] if argv is None else argv
    command = argv[0] if argv else ""
    if command in ("-h", "--help"):
        print(overview())
        return
    try:
        with raise_on_sigterm(), record_sigint():
            if command in SUBCOMMANDS:  # reproduce, sweep, collect: the study's front
                sweep_main(argv)
            else:
                build_cli(argv)
                close_process_group()
                if Received.sigterm:  # after a loop's last check: the run went on to the end
                    raise Interrupted("SIGTERM")
    except (Interrupted, SIGTERMException) as err:
        print(f"lightning-mnist: {interrupted_message(command, err)}", file=sys.stderr)
        raise SystemExit(SIGTERM_EXIT) from None
    except (KeyboardInterrupt, SystemExit) as err:
        # Lightning answers Ctrl-C inside its loops with sys.exit(1), the status of a diverging run.
        if not (isinstance(err, KeyboardInterrupt) or Received.sigint):
            raise
        print("lightning-mnist: interrupted by SIGINT (Ctrl-C)", file=sys.stderr)
        raise SystemExit(SIGINT_EXIT) from None
    except Exception as err:
        cause = user_error(err)
        if cause is None:
            raise
        # The user's to fix (a data file, a checkpoint, a diverging run): a message, not a traceback.
        print(f"lightning-mnist: error: {describe(cause)}", file=sys.stderr)
        raise SystemExit(1 if isinstance(cause, DivergenceError) else 2) from None


def overview() -> str:
    """``lightning-mnist --help``: every subcommand and the shipped configs."""
    from lightning_mnist.trainer_cli import shipped_configs

    return "\n".join(
        [
            "usage: lightning-mnist SUBCOMMAND [options]   (lightning-mnist SUBCOMMAND --help for its options)",
            "",
            "subcommands:",
            "  fit        train a model (LightningCLI), then test the final weights and print the accuracy",
            "  validate   evaluate a checkpoint on the validation set",
            "  test       evaluate a checkpoint on the test set",
            "  predict    write predictions.pt into the run directory",
            "  reproduce  run the whole notebook and write its report",
            "  sweep      run the points of one sweep (--index I for one, --list to list them)",
            "  collect    gather the results of a sweep",
            "",
            "shipped configs (--config NAME, or a path to your own YAML):",
            *(f"  {name}" for name in shipped_configs()),
            "",
            "example: lightning-mnist fit --config seed_mlp --trainer.max_epochs 5",
        ]
    )


def interrupted_message(command: str, err: BaseException) -> str:
    if command in ("reproduce", "sweep"):
        return (
            "interrupted by SIGTERM; finished points are kept, the current one is abandoned "
            "(run the same command again to resume)"
        )
    ckpt = getattr(err, "checkpoint_path", None)
    if ckpt is not None:
        return f"interrupted by SIGTERM; checkpoint saved to {ckpt} (resume with --ckpt_path {ckpt})"
    return "interrupted by SIGTERM outside a training step; no checkpoint saved on the way out"


def close_process_group() -> None:
    """Shut gloo/NCCL down before the interpreter does: left to exit, their threads are
    destroyed unjoined and the process aborts ("terminate called without an active
    exception") after a successful run."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


# Failures of the disk or of permissions, not of the code.
ENVIRONMENT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}


def user_error(err: BaseException | None) -> BaseException | None:
    """The error behind ``err`` that the user is to fix, if any: our own errors (DataError,
    DivergenceError, ResumeError, ConfigError, MissingResultsError), an output path we cannot
    write (``OutputPathError``), a full or read-only disk. jsonargparse wraps errors raised
    while it instantiates a model from the config, so the whole chain is searched; other
    ValueErrors stay tracebacks (they are bugs)."""
    from logicnets.files import OutputPathError

    seen = set()
    while err is not None and id(err) not in seen:
        if isinstance(
            err, (DataError, DivergenceError, ResumeError, ConfigError, MissingResultsError, OutputPathError)
        ):
            return err
        if isinstance(err, OSError) and err.errno in ENVIRONMENT_ERRNOS:
            return err
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return None


def describe(err: BaseException) -> str:
    """One line: the message, with the file an OSError names."""
    if isinstance(err, OSError) and err.filename and str(err.filename) not in str(err.strerror or ""):
        return f"{err.filename}: {err.strerror or err}"
    return " ".join(str(err).split()) if "\n" in str(err) else str(err)


if __name__ == "__main__":
    main()
