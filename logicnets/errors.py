"""Error types: every bad input ends in a ``LogicError`` that says what to do.

Both classes subclass ``ValueError`` so callers that already catch
``ValueError`` keep working; the CLI maps them to exit code 2.
"""

from __future__ import annotations

__all__ = ["LogicError", "ParseError", "PlaError"]


class LogicError(ValueError):
    """Bad input or an impossible request (too many variables, unsupported object, ...)."""


class ParseError(LogicError):
    """A formula string that the grammar does not accept.

    ``position`` is the 0-based character offset, ``expected`` what the parser
    wanted there and ``found`` what it got; ``str(err)`` shows the text with a caret.
    """

    def __init__(self, message: str, text: str = "", position: int = 0, expected: str = "", found: str = "") -> None:
        self.text = text
        self.position = position
        self.expected = expected
        self.found = found
        self.message = message
        super().__init__(self._render())

    def _render(self) -> str:
        head = f"parse error at position {self.position}: {self.message}"
        if not self.text:
            return head
        # Show a window of at most 60 characters around the error with a caret under it.
        start = max(0, self.position - 30)
        window = self.text[start : start + 60]
        shown = "".join(c if c.isprintable() else "?" for c in window)
        caret = " " * (self.position - start) + "^"
        prefix = "..." if start > 0 else ""
        return f"{head}\n  {prefix}{shown}\n  {' ' * len(prefix)}{caret}"


class PlaError(LogicError):
    """A malformed Berkeley PLA file; ``str(err)`` is one line ``FILE:LINE: what is wrong``."""

    def __init__(self, message: str, filename: str = "<pla>", line: int = 0) -> None:
        self.filename = filename
        self.line = line
        self.message = message
        where = f"{filename}:{line}" if line else filename
        super().__init__(f"{where}: {message}")
