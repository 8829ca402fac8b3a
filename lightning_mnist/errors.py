"""The errors a user can cause, each meaning "fix your input", and none a traceback.

The CLI prints them as one line and exits 2 (``DivergenceError``: 1, the run itself failed).
They live below every other module so that data, models and the CLI can all raise and catch
them without importing one another.
"""

from __future__ import annotations

__all__ = ["ConfigError", "DataError", "DivergenceError", "Interrupted", "MissingResultsError", "ResumeError"]


class DataError(ValueError):
    """A data file is missing, corrupt or not what it claims to be."""


class DivergenceError(RuntimeError):
    """The training loss became NaN or infinite."""


class ResumeError(ValueError):
    """A checkpoint cannot be resumed the way this run would train."""


class ConfigError(ValueError):
    """An argument the user gave is out of range or names nothing (a layer width, a sweep
    index, a stage). Raised by our own constructors and commands, so that the CLI can tell it
    from a ValueError that is a bug."""


class MissingResultsError(FileNotFoundError):
    """A command needs results that have not been computed yet (``collect`` before ``sweep``)."""


class Interrupted(Exception):
    """SIGTERM (a preempted or cancelled job) outside a Lightning loop: the CLI exits 143."""
