"""Bit-sliced evaluation of a formula tree: one fold per chunk of 2^k words.

An ``or`` of literal conjunctions (a DNF) is written with one cube fill per term;
conjunction children that are cubes are therefore not folded on their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import LogicError
from ..formula.nodes import Node
from ..formula.walk import fold, operands
from .bitslice import ONES, ZERO, Layout, combine

__all__ = ["FormulaBits"]

_EMPTY = "empty"  # a contradictory cube: no rows


class FormulaBits:
    """Bit-sliced evaluator of a formula tree over ``variables``."""

    def __init__(self, node: Node, variables: Sequence[str], layout: Layout) -> None:
        self.node = node
        self.layout = layout
        self.index = {v: i for i, v in enumerate(variables)}
        self._cubes: dict[int, Any] = {}

    def _literal(self, n: Node) -> tuple[int, bool] | None:
        if n[0] == "var":
            return self.index[n[1]], True
        if n[0] == "not" and n[1][0][0] == "var":
            return self.index[n[1][0][1]], False
        return None

    def cube(self, n: Node) -> Any:
        """Cached cube of an ``and`` of literals: a cube tuple, ``"empty"``, or None (not a cube)."""
        key = id(n)
        if key not in self._cubes:
            lits = [self._literal(c) for c in n[1]] if n[0] == "and" else [None]
            if any(lit is None for lit in lits):
                self._cubes[key] = None
            else:
                c = self.layout.cube(lits)
                self._cubes[key] = _EMPTY if c is None else c
        return self._cubes[key]

    def _children(self, n: Node) -> Sequence[Node]:
        """What the fold must evaluate first: cubes are filled directly, not folded."""
        if n[0] == "and" and self.cube(n) is not None:
            return ()
        if n[0] == "or":
            return [c for c in n[1] if c[0] != "and" or self.cube(c) is None]
        return operands(n)

    def _fill(self, cubes: list, chunk: int) -> np.ndarray:
        out = np.zeros(self.layout.words, dtype=np.uint64)
        self.layout.fill(out, cubes, chunk)
        return out

    def chunk(self, planes: Sequence[Any], chunk: int) -> Any:
        def combine_node(n: Node, v: list[Any]) -> Any:
            op = n[0]
            if op == "var":
                return planes[self.index[n[1]]]
            if op == "const":
                return ONES if n[1] else ZERO
            if op == "not":
                return ~v[0]
            if op == "and":
                cube = self.cube(n)
                if cube is None:
                    return combine("and", v)
                return ZERO if cube == _EMPTY else self._fill([cube], chunk)
            if op == "or":
                cubes = [cu for c in n[1] if c[0] == "and" and (cu := self.cube(c)) not in (None, _EMPTY)]
                if cubes:
                    v = [*v, self._fill(cubes, chunk)]
                return combine("or", v) if v else ZERO
            if op == "xor":
                return combine("xor", v)
            if op == "implies":
                return ~v[0] | v[1]
            if op == "eq":
                return combine("and", v) | combine("and", [~x for x in v])
            if op == "ite":
                return (v[0] & v[1]) | (~v[0] & v[2])
            raise LogicError(f"unknown formula node {op!r}")

        return fold(self.node, combine_node, self._children)
