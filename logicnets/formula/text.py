"""Formula trees as text in the package's grammar (what :mod:`logicnets.formula.parser` reads)."""

from __future__ import annotations

import re
from itertools import pairwise

from ..errors import LogicError
from .nodes import Node
from .walk import fold

__all__ = ["MAX_TEXT", "name_text", "node_to_text", "writable_name"]

#: Longest text rendered: a DAG with shared subtrees can unfold to exponentially long text.
MAX_TEXT = 10_000_000

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_KEYWORDS = {"not", "and", "or", "xor", "true", "false"}
_PREC = {"eq": 1, "implies": 2, "or": 3, "xor": 4, "and": 5, "not": 6, "leaf": 7}
_SYM = {"eq": " <-> ", "implies": " -> ", "or": " | ", "xor": " ^ ", "and": " & "}


def writable_name(name: str) -> bool:
    """Can the grammar spell this variable name without quotes?

    >>> writable_name("x1"), writable_name("and"), writable_name("x y")
    (True, False, False)
    """
    return bool(_IDENT.match(name)) and name.lower() not in _KEYWORDS


def name_text(name: str) -> str:
    """The name as the parser reads it back: bare when it is an identifier and no keyword,
    else in double quotes with ``\\`` and ``"`` escaped by a backslash.

    >>> print(name_text("x1"), name_text("busA<31>"), name_text("and"), name_text('a "b"'))
    x1 "busA<31>" "and" "a \\"b\\""
    """
    if writable_name(name):
        return name
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _wrap(part: tuple[str, int], need: int) -> str:
    text, prec = part
    return f"({text})" if prec < need else text


def _render(n: Node, kids: list[tuple[str, int]]) -> tuple[str, int]:
    """(text, precedence of its top operator) of one node from its children's."""
    op = n[0]
    if op == "var":
        return name_text(n[1]), _PREC["leaf"]
    if op == "const":
        return ("1" if n[1] else "0"), _PREC["leaf"]
    if op == "not":
        return "~" + _wrap(kids[0], _PREC["not"]), _PREC["not"]
    if op == "ite":
        c, t, e = (_wrap(k, _PREC["not"]) for k in kids)
        return f"({c} & {t} | ~{c} & {e})", _PREC["leaf"]
    prec = _PREC[op]
    if op == "eq" and len(kids) > 2:
        # all-equal of k > 2 children: a <-> b & b <-> c ... written out
        pairs = [f"({_wrap(a, prec)} <-> {_wrap(b, prec + 1)})" for a, b in pairwise(kids)]
        return " & ".join(pairs), _PREC["and"]
    if op == "implies":
        text = _wrap(kids[0], prec + 1) + _SYM[op] + _wrap(kids[1], prec)
    elif op == "eq":
        text = _wrap(kids[0], prec) + _SYM[op] + _wrap(kids[1], prec + 1)
    else:
        text = _SYM[op].join(_wrap(k, prec + 1) for k in kids)
    if len(text) > MAX_TEXT:
        raise LogicError(
            f"the formula's text would be longer than {MAX_TEXT} characters (shared subtrees "
            "unfold when written out); write a smaller formula"
        )
    return text, prec


def node_to_text(node: Node) -> str:
    """Render in the package's grammar (``parse`` reads it back).

    >>> from logicnets.formula.nodes import and_, not_, or_, var
    >>> node_to_text(or_(and_(var("x"), not_(var("y"))), ("implies", (var("a"), var("b")))))
    'x & ~y | (a -> b)'
    """
    return fold(node, _render)[0]
