"""``Formula``: a formula tree plus its variable order, and ``parse`` (text -> sympy)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import LogicError
from .nodes import Node, natural_key, sort_variables
from .parser import parse_node
from .sympy_io import node_from_sympy, node_to_sympy
from .text import node_to_text
from .walk import check_depth, evaluate_node, node_variables

__all__ = ["Formula", "parse"]


@dataclass(frozen=True)
class Formula:
    """A boolean formula tree plus its variable order.

    ``variables`` fixes the column order of truth tables and network inputs.
    By default it is the formula's variables in natural order (``x2`` before
    ``x10``); pass extra names to keep variables that the formula ignores.
    """

    node: Node
    variables: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        check_depth(self.node)
        used = node_variables(self.node)
        if not self.variables:
            object.__setattr__(self, "variables", sort_variables(used))
            return
        vs = tuple(self.variables)
        if len(set(vs)) != len(vs):
            raise LogicError(f"variables list has duplicates: {list(vs)}")
        missing = used - set(vs)
        if missing:
            raise LogicError(
                f"formula uses {sorted(missing, key=natural_key)} which are not in the "
                f"given variables {list(vs)}; add them to the variables list"
            )
        object.__setattr__(self, "variables", vs)

    @classmethod
    def parse(cls, text: str, variables: Sequence[str] | None = None) -> Formula:
        """Parse a formula string with the package's own grammar (never ``eval``)."""
        return cls(parse_node(text), tuple(variables or ()))

    @classmethod
    def from_sympy(cls, expr: Any, variables: Sequence[Any] | None = None) -> Formula:
        """Wrap a sympy expression; ``variables`` may be names or Symbols."""
        variables = tuple(variables or ())
        node = node_from_sympy(expr, variables)
        return cls(node, tuple(getattr(v, "name", v) for v in variables))

    @property
    def n(self) -> int:
        return len(self.variables)

    def to_sympy(self) -> Any:
        """The formula as a sympy expression."""
        return node_to_sympy(self.node)

    def __str__(self) -> str:
        return node_to_text(self.node)

    def evaluate(self, rows: Any) -> np.ndarray:
        """Evaluate on a 0/1 array of shape (batch, n) with columns in ``variables`` order.

        >>> Formula.parse("x & ~y").evaluate([[0, 0], [1, 0], [1, 1]]).tolist()
        [False, True, False]
        """
        x = np.asarray(rows)
        if x.ndim != 2 or x.shape[1] != self.n:
            raise LogicError(f"expected rows of shape (batch, {self.n}), got {x.shape}")
        cols = {v: x[:, i].astype(bool) for i, v in enumerate(self.variables)}
        out = evaluate_node(self.node, cols, np.True_, np.False_)
        return np.broadcast_to(np.asarray(out, dtype=bool), (x.shape[0],)).copy()


def parse(text: str, variables: Sequence[str] | None = None) -> Any:
    """Parse a formula string into a sympy boolean expression, without ``eval``.

    >>> parse("x ^ y")
    x ^ y
    >>> parse("a -> b -> c")
    Implies(a, Implies(b, c))
    >>> parse("x & (y |")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    logicnets.errors.ParseError: parse error at position 8: expected a variable, ... but found the end of the formula
      x & (y |
              ^

    Note: sympy simplifies while building (``x & ~x`` is ``false``); use
    :class:`Formula.parse` or pass the string to ``compile`` to keep every variable.
    """
    return Formula.parse(text, variables).to_sympy()
