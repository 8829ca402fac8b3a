"""The formula tree: immutable tuples, independent of sympy's auto-simplification.

Why not sympy objects: sympy rewrites as it builds (``x & ~x`` becomes ``false``
and the variable ``x`` disappears) and lowers Xor through CNF when asked for a
DNF.  The compiler and the provers walk this plain tuple tree instead; sympy is
an input and output format (:mod:`logicnets.formula.sympy_io`).

Nodes are tuples:

* ``("var", name)`` and ``("const", True|False)``
* ``("not", (a,))``
* ``("and" | "or" | "xor", (a, b, ...))``  (n-ary)
* ``("eq", (a, b, ...))``  all children equal (sympy ``Equivalent``)
* ``("implies", (a, b))`` and ``("ite", (cond, then, else))``

A tree may share subtrees (it is a DAG); every walk memoises by node identity.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from ..errors import LogicError

__all__ = [
    "FALSE",
    "LEAVES",
    "MAX_DEPTH",
    "OPERATORS",
    "TRUE",
    "Node",
    "and_",
    "const",
    "nary",
    "natural_key",
    "not_",
    "or_",
    "sort_variables",
    "var",
    "xor_",
]

#: Deepest formula tree accepted anywhere (parser, sympy input, JSON).  The walks here are
#: iterative, but sympy's printer and Python's tuple ``repr`` recurse once per level.
MAX_DEPTH = 100

Node = tuple

TRUE: Node = ("const", True)
FALSE: Node = ("const", False)
LEAVES = ("var", "const")
OPERATORS = ("not", "and", "or", "xor", "eq", "implies", "ite")


def var(name: str) -> Node:
    """A variable leaf.

    >>> var("x")
    ('var', 'x')
    """
    return ("var", name)


def const(value: bool) -> Node:
    """A constant leaf.

    >>> const(1)
    ('const', True)
    """
    return TRUE if value else FALSE


def not_(a: Node) -> Node:
    """Negation; double negation and negated constants collapse.

    >>> not_(not_(var("x")))
    ('var', 'x')
    >>> not_(const(True))
    ('const', False)
    """
    if a[0] == "not":
        return a[1][0]
    if a[0] == "const":
        return const(not a[1])
    return ("not", (a,))


def nary(op: str, args: Sequence[Node]) -> Node:
    """An n-ary ``and``/``or``/``xor`` node; children with the same operator are flattened.

    >>> nary("or", [var("a")])
    ('var', 'a')
    """
    flat: list[Node] = []
    for a in args:
        if a[0] == op:
            flat.extend(a[1])
        else:
            flat.append(a)
    if not flat:
        raise LogicError(f"'{op}' needs at least one operand")
    if len(flat) == 1:
        return flat[0]
    return (op, tuple(flat))


def and_(*args: Node) -> Node:
    """N-ary conjunction, flattened; no other simplification.

    >>> and_(var("x"), and_(var("y"), var("x")))
    ('and', (('var', 'x'), ('var', 'y'), ('var', 'x')))
    """
    return nary("and", args)


def or_(*args: Node) -> Node:
    """N-ary disjunction, flattened.

    >>> or_(var("a"), var("b"))
    ('or', (('var', 'a'), ('var', 'b')))
    """
    return nary("or", args)


def xor_(*args: Node) -> Node:
    """N-ary exclusive or (parity), flattened.

    >>> xor_(var("a"), xor_(var("b"), var("c")))[0]
    'xor'
    """
    return nary("xor", args)


_NUM = re.compile(r"([0-9]+)")


def natural_key(name: str) -> tuple:
    """Sort key that puts ``x2`` before ``x10``.

    >>> sorted(["x10", "x2", "y", "x1"], key=natural_key)
    ['x1', 'x2', 'x10', 'y']
    """
    # digit runs compare by value without int(): a name may carry thousands of digits
    return tuple(
        (0, len(p.lstrip("0")), p.lstrip("0"), p) if p.isascii() and p.isdigit() else (1, p)
        for p in _NUM.split(name)
        if p
    )


def sort_variables(names: Iterable[str]) -> tuple[str, ...]:
    """Distinct names in natural order: the default input order of a network.

    >>> sort_variables(["y", "x", "y"])
    ('x', 'y')
    """
    return tuple(sorted(set(names), key=natural_key))
