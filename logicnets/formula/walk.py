"""The one walk over a formula: an iterative post-order fold of a DAG, memoised by identity.

Every pass over a formula tree in the package (evaluation, text, sympy, DNF, SAT
encoding, bit-sliced evaluation, variables, depth) is a :func:`fold`: no recursion,
so depth costs no stack, and each shared subtree is combined once, so the work is
linear in the size of the DAG, not of the tree it unfolds to.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, TypeVar

from ..errors import LogicError
from .nodes import LEAVES, MAX_DEPTH, Node

__all__ = [
    "check_depth",
    "evaluate_node",
    "fold",
    "map_leaves",
    "node_depth",
    "node_size",
    "node_variables",
    "operands",
]

T = TypeVar("T")


def operands(node: Node) -> Sequence[Node]:
    """The children of a formula node (none for leaves)."""
    return () if node[0] in LEAVES else node[1]


def fold(
    root: Any,
    combine: Callable[[Any, list[T]], T],
    children: Callable[[Any], Sequence[Any]] = operands,
    key: Callable[[Any], Hashable] = id,
) -> T:
    """``combine(item, [results of its children])`` for every item reachable from ``root``,
    children first, once per ``key`` (identity by default); returns the root's result.

    ``children`` may return fewer items than the node has (the combine step then reads
    the others itself) and items need not be formula nodes (sympy objects, or
    ``(node, polarity)`` pairs with a matching ``key``).

    >>> from logicnets.formula.nodes import and_, not_, or_, var
    >>> shared = and_(var("x"), var("y"))
    >>> seen = []
    >>> fold(or_(shared, not_(shared)), lambda n, kids: seen.append(n[0]) or len(seen))
    5
    >>> seen                     # the shared conjunction is combined once
    ['var', 'var', 'and', 'not', 'or']
    """
    memo: dict[Hashable, T] = {}
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        item, ready = stack.pop()
        k = key(item)
        if k in memo:
            continue
        kids = children(item)
        if ready:
            memo[k] = combine(item, [memo[key(c)] for c in kids])
            continue
        stack.append((item, True))
        stack.extend((c, False) for c in reversed(kids) if key(c) not in memo)
    return memo[key(root)]


def node_variables(node: Node) -> set[str]:
    """Names of all variables in a tree.

    >>> from logicnets.formula.nodes import and_, not_, var
    >>> sorted(node_variables(and_(var("b"), not_(var("a")))))
    ['a', 'b']
    """
    out: set[str] = set()

    def visit(n: Node, _kids: list) -> None:
        if n[0] == "var":
            out.add(n[1])

    fold(node, visit)
    return out


def node_depth(node: Node) -> int:
    """Height of the tree (leaves have depth 0).

    >>> from logicnets.formula.nodes import and_, not_, var
    >>> node_depth(and_(var("x"), not_(var("y"))))
    2
    """
    return fold(node, lambda n, kids: 1 + max(kids) if kids else 0)


def node_size(node: Node) -> int:
    """Number of distinct operator nodes (shared subtrees count once).

    >>> from logicnets.formula.nodes import and_, var
    >>> node_size(and_(var("x"), var("y")))
    1
    """
    count = 0

    def visit(n: Node, _kids: list) -> None:
        nonlocal count
        count += n[0] not in LEAVES

    fold(node, visit)
    return count


def check_depth(node: Node) -> None:
    """Refuse trees deeper than :data:`MAX_DEPTH` with advice."""
    d = node_depth(node)
    if d > MAX_DEPTH:
        raise LogicError(
            f"formula nests {d} levels deep, more than the limit of {MAX_DEPTH}; "
            "flatten chains (use n-ary And/Or/Xor) or split the formula"
        )


def map_leaves(node: Node, fn: Callable[[Node], Node]) -> Node:
    """Rebuild a tree with every variable leaf replaced by ``fn(leaf)`` (sharing kept).

    >>> from logicnets.formula.nodes import and_, var
    >>> map_leaves(and_(var("x"), var("y")), lambda leaf: var(leaf[1].upper()))
    ('and', (('var', 'X'), ('var', 'Y')))
    """

    def rebuild(n: Node, kids: list[Node]) -> Node:
        if n[0] == "var":
            return fn(n)
        if n[0] == "const":
            return n
        return (n[0], tuple(kids))

    return fold(node, rebuild)


def _all_equal(vals: list[Any]) -> Any:
    all_true, all_false = vals[0], ~vals[0]
    for v in vals[1:]:
        all_true = all_true & v
        all_false = all_false & ~v
    return all_true | all_false


def _reduce(op: str, vals: list[Any]) -> Any:
    r = vals[0]
    for v in vals[1:]:
        r = (r & v) if op == "and" else (r | v) if op == "or" else (r ^ v)
    return r


def evaluate_node(node: Node, env: Mapping[str, Any], true: Any, false: Any) -> Any:
    """Evaluate with bitwise operators on whatever ``env`` holds.

    The same walk serves numpy bool columns (``true=np.True_``) and Python ints used
    as bitsets: ``~ & | ^`` mean the same thing on both.

    >>> import numpy as np
    >>> from logicnets.formula.nodes import var, xor_
    >>> cols = {"x": np.array([0, 0, 1, 1], bool), "y": np.array([0, 1, 0, 1], bool)}
    >>> evaluate_node(xor_(var("x"), var("y")), cols, np.True_, np.False_).astype(int).tolist()
    [0, 1, 1, 0]
    """

    def combine(n: Node, v: list[Any]) -> Any:
        op = n[0]
        if op == "var":
            return env[n[1]]
        if op == "const":
            return true if n[1] else false
        if op == "not":
            return ~v[0]
        if op in ("and", "or", "xor"):
            return _reduce(op, v)
        if op == "implies":
            return ~v[0] | v[1]
        if op == "eq":
            return _all_equal(v)
        if op == "ite":
            return (v[0] & v[1]) | (~v[0] & v[2])
        raise LogicError(f"unknown formula node {op!r}")

    return fold(node, combine)
