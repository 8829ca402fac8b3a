"""Signals end every subcommand with the shell's status for them: 130 for SIGINT (Ctrl-C), 143
for SIGTERM (a scheduler's preemption), as ``128 + signal number``.

Lightning stands in the way twice: it catches ``KeyboardInterrupt`` inside its loops and calls
``sys.exit(1)``, the status this package keeps for a diverging run; and it only acts on SIGTERM
in the training loop, so SIGTERM during ``validate``, ``test`` or ``predict`` was noted and
ignored (exit 0). ``record_sigint`` remembers that SIGINT came, so the CLI can tell Lightning's
``exit(1)`` after it from a failure; ``StopOnSigterm`` stops the evaluation and prediction loops
at the next batch once SIGTERM came, and ``Received.sigterm`` tells the CLI of a SIGTERM that
came after the last batch.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator

from lightning_mnist.backend import Callback, SIGTERMException

SIGINT_EXIT = 128 + signal.SIGINT  # 130
SIGTERM_EXIT = 128 + signal.SIGTERM  # 143


class Received:
    """Which signals arrived during the current command (``record_sigint``, and
    ``checkpoints.raise_on_sigterm`` for SIGTERM)."""

    sigint = False
    sigterm = False


@contextlib.contextmanager
def record_sigint() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt, as by default, and is remembered in ``Received``."""
    Received.sigint = False

    def handler(signum, frame):
        Received.sigint = True
        raise KeyboardInterrupt

    with handling(signal.SIGINT, handler):
        yield


@contextlib.contextmanager
def handling(signum: int, handler) -> Iterator[None]:
    """``handler`` for ``signum`` inside the block, the previous one after it; outside the
    main thread (where Python allows no handler) signals are left alone."""
    try:
        previous = signal.signal(signum, handler)
    except ValueError:
        yield
        return
    try:
        yield
    finally:
        signal.signal(signum, previous)


class StopOnSigterm(Callback):
    """Once SIGTERM arrived (Lightning's handler sets ``trainer.received_sigterm``), raise
    SIGTERMException at the next validation, test or predict batch outside ``fit``, as the
    training loop does inside it (where ``SaveOnSigterm`` then saves a checkpoint)."""

    def _stop(self, trainer) -> None:
        if trainer.received_sigterm and getattr(trainer.state.fn, "value", trainer.state.fn) != "fit":
            raise SIGTERMException()

    def on_validation_batch_start(self, trainer, *args) -> None:
        self._stop(trainer)

    def on_test_batch_start(self, trainer, *args) -> None:
        self._stop(trainer)

    def on_predict_batch_start(self, trainer, *args) -> None:
        self._stop(trainer)
