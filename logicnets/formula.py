"""A small immutable formula tree, independent of sympy's auto-simplification.

Why not use sympy objects directly: sympy rewrites as it builds (``x & ~x``
becomes ``false`` and the variable ``x`` disappears), lowers Xor through CNF
when asked for a DNF, and recurses deeply.  Our compiler and verifier walk this
plain tuple tree instead; sympy is an input and output format.

Nodes are tuples:

* ``("var", name)`` and ``("const", True|False)``
* ``("not", (a,))``
* ``("and" | "or" | "xor", (a, b, ...))``  (n-ary)
* ``("eq", (a, b, ...))``  all children equal (sympy ``Equivalent``)
* ``("implies", (a, b))`` and ``("ite", (cond, then, else))``
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from .errors import LogicError

__all__ = [
    "Formula", "MAX_DEPTH", "var", "const", "not_", "and_", "or_", "xor_",
    "natural_key", "sort_variables", "node_variables", "node_depth",
    "evaluate_node", "node_to_text", "node_to_sympy", "node_from_sympy",
]

#: Deepest formula tree accepted anywhere (parser, sympy input, JSON).  The
#: tree walkers recurse once per level, so this keeps far from RecursionError.
MAX_DEPTH = 100

Node = tuple

TRUE: Node = ("const", True)
FALSE: Node = ("const", False)


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


def _nary(op: str, args: Sequence[Node]) -> Node:
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
    return _nary("and", args)


def or_(*args: Node) -> Node:
    """N-ary disjunction, flattened.

    >>> or_(var("a"), var("b"))
    ('or', (('var', 'a'), ('var', 'b')))
    """
    return _nary("or", args)


def xor_(*args: Node) -> Node:
    """N-ary exclusive or (parity), flattened.

    >>> xor_(var("a"), xor_(var("b"), var("c")))[0]
    'xor'
    """
    return _nary("xor", args)


_NUM = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple:
    """Sort key that puts ``x2`` before ``x10``.

    >>> sorted(["x10", "x2", "y", "x1"], key=natural_key)
    ['x1', 'x2', 'x10', 'y']
    """
    return tuple((0, int(p), p) if p.isdigit() else (1, 0, p) for p in _NUM.split(name) if p)


def sort_variables(names: Iterable[str]) -> tuple[str, ...]:
    """Distinct names in natural order: the default input order of a network.

    >>> sort_variables(["y", "x", "y"])
    ('x', 'y')
    """
    return tuple(sorted(set(names), key=natural_key))


def node_variables(node: Node) -> set[str]:
    """Names of all variables in a tree (iterative, any depth).

    >>> sorted(node_variables(and_(var("b"), not_(var("a")))))
    ['a', 'b']
    """
    out: set[str] = set()
    stack = [node]
    seen: set[int] = set()
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        if n[0] == "var":
            out.add(n[1])
        elif n[0] != "const":
            stack.extend(n[1])
    return out


def node_depth(node: Node) -> int:
    """Height of the tree, computed without recursion (leaves have depth 0).

    >>> node_depth(and_(var("x"), not_(var("y"))))
    2
    """
    best = 0
    stack = [(node, 0)]
    while stack:
        n, d = stack.pop()
        best = max(best, d)
        if n[0] not in ("var", "const"):
            stack.extend((c, d + 1) for c in n[1])
    return best


def node_size(node: Node) -> int:
    """Number of operator nodes (leaves not counted)."""
    count = 0
    stack = [node]
    while stack:
        n = stack.pop()
        if n[0] not in ("var", "const"):
            count += 1
            stack.extend(n[1])
    return count


def _check_depth(node: Node) -> None:
    d = node_depth(node)
    if d > MAX_DEPTH:
        raise LogicError(
            f"formula nests {d} levels deep, more than the limit of {MAX_DEPTH}; "
            "flatten chains (use n-ary And/Or/Xor) or split the formula")


def evaluate_node(node: Node, env: Mapping[str, Any], true: Any, false: Any) -> Any:
    """Evaluate with bitwise operators on whatever ``env`` holds.

    The same walk serves numpy bool columns (``true=np.True_``) and bit-sliced
    uint64 words (``true=np.uint64(2**64-1)``): ``~ & | ^`` mean the same thing.

    >>> import numpy as np
    >>> cols = {"x": np.array([0, 0, 1, 1], bool), "y": np.array([0, 1, 0, 1], bool)}
    >>> evaluate_node(xor_(var("x"), var("y")), cols, np.True_, np.False_).astype(int).tolist()
    [0, 1, 1, 0]
    """
    memo: dict[int, Any] = {}

    def ev(n: Node) -> Any:
        key = id(n)
        if key in memo:
            return memo[key]
        op = n[0]
        if op == "var":
            r = env[n[1]]
        elif op == "const":
            r = true if n[1] else false
        else:
            args = n[1]
            if op == "not":
                r = ~ev(args[0])
            elif op in ("and", "or", "xor"):
                vals = [ev(a) for a in args]
                r = vals[0]
                for v in vals[1:]:
                    r = (r & v) if op == "and" else (r | v) if op == "or" else (r ^ v)
            elif op == "implies":
                r = ~ev(args[0]) | ev(args[1])
            elif op == "eq":
                vals = [ev(a) for a in args]
                all_true, all_false = vals[0], ~vals[0]
                for v in vals[1:]:
                    all_true = all_true & v
                    all_false = all_false & ~v
                r = all_true | all_false
            elif op == "ite":
                c = ev(args[0])
                r = (c & ev(args[1])) | (~c & ev(args[2]))
            else:  # pragma: no cover - trees are built by this package
                raise LogicError(f"unknown formula node {op!r}")
        memo[key] = r
        return r

    return ev(node)


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_KEYWORDS = {"not", "and", "or", "xor", "true", "false"}
_PREC = {"eq": 1, "implies": 2, "or": 3, "xor": 4, "and": 5, "not": 6}
_SYM = {"eq": " <-> ", "implies": " -> ", "or": " | ", "xor": " ^ ", "and": " & "}


def node_to_text(node: Node) -> str:
    """Render in the package's grammar (``parse`` reads it back).

    >>> node_to_text(or_(and_(var("x"), not_(var("y"))), ("implies", (var("a"), var("b")))))
    'x & ~y | (a -> b)'
    """
    def name(n: str) -> str:
        if _IDENT.match(n) and n.lower() not in _KEYWORDS:
            return n
        raise LogicError(f"variable name {n!r} cannot be written in the formula grammar")

    def go(n: Node, parent: int) -> str:
        op = n[0]
        if op == "var":
            return name(n[1])
        if op == "const":
            return "1" if n[1] else "0"
        if op == "not":
            return "~" + go(n[1][0], _PREC["not"])
        if op == "ite":
            c, t, e = n[1]
            return f"({go(c, 6)} & {go(t, 6)} | ~{go(c, 6)} & {go(e, 6)})"
        prec = _PREC[op]
        if op == "eq" and len(n[1]) > 2:
            # all-equal of k > 2 children: a<->b & b<->c ... written out explicitly
            pairs = [("eq", (n[1][i], n[1][i + 1])) for i in range(len(n[1]) - 1)]
            return go(("and", tuple(pairs)), parent)
        if op == "implies":
            text = go(n[1][0], prec + 1) + _SYM[op] + go(n[1][1], prec)
        elif op == "eq":
            text = go(n[1][0], prec) + _SYM[op] + go(n[1][1], prec + 1)
        else:
            text = _SYM[op].join(go(c, prec + 1) for c in n[1])
        return f"({text})" if prec < parent else text

    return go(node, 0)


def node_to_sympy(node: Node, symbols: Mapping[str, Any] | None = None) -> Any:
    """Convert to a sympy boolean expression (sympy may simplify while building)."""
    import sympy
    from sympy.logic import boolalg as ba

    cache: dict[str, Any] = dict(symbols or {})
    memo: dict[int, Any] = {}

    def go(n: Node) -> Any:
        if id(n) in memo:
            return memo[id(n)]
        op = n[0]
        if op == "var":
            if n[1] not in cache:
                cache[n[1]] = sympy.Symbol(n[1])
            r = cache[n[1]]
        elif op == "const":
            r = sympy.true if n[1] else sympy.false
        else:
            args = [go(c) for c in n[1]]
            r = {
                "not": lambda a: ba.Not(a[0]),
                "and": lambda a: ba.And(*a),
                "or": lambda a: ba.Or(*a),
                "xor": lambda a: ba.Xor(*a),
                "eq": lambda a: ba.Equivalent(*a),
                "implies": lambda a: ba.Implies(*a),
                "ite": lambda a: ba.ITE(*a),
            }[op](args)
        memo[id(n)] = r
        return r

    _check_depth(node)
    return go(node)


def _sympy_depth(expr: Any) -> int:
    best = 0
    stack = [(expr, 0)]
    while stack:
        e, d = stack.pop()
        best = max(best, d)
        if d > MAX_DEPTH:
            break
        stack.extend((a, d + 1) for a in getattr(e, "args", ()))
    return best


def node_from_sympy(expr: Any) -> Node:
    """Convert a sympy boolean expression; anything non-boolean is a ``LogicError``.

    >>> import sympy
    >>> x, y = sympy.symbols("x y")
    >>> node_from_sympy(x ^ ~y)
    ('xor', (('var', 'x'), ('not', (('var', 'y'),))))
    """
    import sympy
    from sympy.logic import boolalg as ba

    if isinstance(expr, bool):
        return const(expr)
    if not isinstance(expr, sympy.Basic):
        raise LogicError(
            f"expected a sympy boolean expression, a formula string or a TruthTable, "
            f"got {type(expr).__name__}")
    if _sympy_depth(expr) > MAX_DEPTH:
        raise LogicError(f"sympy expression nests deeper than {MAX_DEPTH} levels; flatten it")

    def go(e: Any) -> Node:
        if e is sympy.true or isinstance(e, ba.BooleanTrue):
            return TRUE
        if e is sympy.false or isinstance(e, ba.BooleanFalse):
            return FALSE
        if isinstance(e, sympy.Symbol):
            return var(e.name)
        if isinstance(e, ba.Not):
            return not_(go(e.args[0]))
        if isinstance(e, ba.And):
            return and_(*map(go, e.args))
        if isinstance(e, ba.Or):
            return or_(*map(go, e.args))
        if isinstance(e, ba.Xnor):
            return not_(xor_(*map(go, e.args)))
        if isinstance(e, ba.Xor):
            return xor_(*map(go, e.args))
        if isinstance(e, ba.Nand):
            return not_(and_(*map(go, e.args)))
        if isinstance(e, ba.Nor):
            return not_(or_(*map(go, e.args)))
        if isinstance(e, ba.Implies):
            return ("implies", (go(e.args[0]), go(e.args[1])))
        if isinstance(e, ba.Equivalent):
            args = tuple(map(go, e.args))
            return args[0] if len(args) == 1 else ("eq", args)
        if isinstance(e, ba.ITE):
            return ("ite", tuple(map(go, e.args)))
        if e.is_Integer and int(e) in (0, 1):
            return const(bool(int(e)))
        raise LogicError(
            f"unsupported sympy object {e!s} of type {type(e).__name__}: only symbols, "
            "true/false and And, Or, Not, Xor, Xnor, Nand, Nor, Implies, Equivalent, ITE are allowed")

    return go(expr)


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
        used = node_variables(self.node)
        if not self.variables:
            object.__setattr__(self, "variables", sort_variables(used))
        else:
            vs = tuple(self.variables)
            if len(set(vs)) != len(vs):
                raise LogicError(f"variables list has duplicates: {list(vs)}")
            missing = used - set(vs)
            if missing:
                raise LogicError(
                    f"formula uses {sorted(missing, key=natural_key)} which are not in the "
                    f"given variables {list(vs)}; add them to the variables list")
            object.__setattr__(self, "variables", vs)
        _check_depth(self.node)

    @classmethod
    def parse(cls, text: str, variables: Sequence[str] | None = None) -> "Formula":
        """Parse a formula string with the package's own grammar (never ``eval``)."""
        from .parser import parse_node
        return cls(parse_node(text), tuple(variables or ()))

    @classmethod
    def from_sympy(cls, expr: Any, variables: Sequence[Any] | None = None) -> "Formula":
        """Wrap a sympy expression; ``variables`` may be names or Symbols."""
        names = tuple(getattr(v, "name", v) for v in (variables or ()))
        return cls(node_from_sympy(expr), names)

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


def map_leaves(node: Node, fn: Callable[[Node], Node]) -> Node:
    """Rebuild a tree with every variable leaf replaced by ``fn(leaf)``."""
    if node[0] == "var":
        return fn(node)
    if node[0] == "const":
        return node
    return (node[0], tuple(map_leaves(c, fn) for c in node[1]))
