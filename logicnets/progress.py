"""Progress of a long compile on stderr: the one hook every minimizer pass calls.

Why: a compile of a large PLA may run for many seconds; without a sign of life a user
cannot tell a slow pass from a hang.  The minimizer calls :meth:`Progress.step` with the
name of its pass and the cubes it holds now, as often as it likes (each call is a clock
read and two comparisons).  Nothing is printed while the compile is young (``delay``), so
fast compiles stay silent; after that at most one line per ``interval`` seconds, with the
seconds since the start.

>>> import io
>>> t = iter([0.0, 0.5, 3.0, 3.4, 4.2])
>>> out = io.StringIO()
>>> p = Progress(out, clock=lambda: next(t))        # started at 0.0
>>> for stage, cubes in [("expand", 40), ("irredundant", 31), ("reduce", 30), ("expand", 28)]:
...     p.step(stage, cubes)
>>> print(out.getvalue(), end="")
logicnets: 3 s: irredundant, 31 cubes
logicnets: 4 s: expand, 28 cubes
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """Reporter of (pass name, cubes now) for a long computation; see the module docstring.

    ``stream`` defaults to ``sys.stderr``; ``delay`` is how long it stays silent, ``interval``
    the least time between two lines; ``clock`` returns seconds (monotonic).
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        delay: float = 2.0,
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.delay = delay
        self.interval = interval
        self.clock = clock
        self.start = clock()
        self.lines = 0  # lines printed so far
        self.stage = ""
        self.cubes = 0
        self._last = float("-inf")

    def step(self, stage: str, cubes: int) -> None:
        """Record that pass ``stage`` now holds ``cubes`` cubes; print a line when one is due."""
        self.stage, self.cubes = stage, cubes
        now = self.clock()
        elapsed = now - self.start
        if elapsed < self.delay or now - self._last < self.interval:
            return
        self._last = now
        self.lines += 1
        print(f"logicnets: {elapsed:.0f} s: {stage}, {cubes} cubes", file=self.stream or sys.stderr, flush=True)

    def elapsed(self) -> float:
        """Seconds since the reporter was made."""
        return self.clock() - self.start
