"""sympy boolean expressions to formula trees and back.

sympy shares subexpressions (its constructors cache), so both directions are
folds memoised by identity.  Distinct sympy symbols that print alike (``Symbol('x')``
and ``Dummy('x')``, or ``Symbol('x', positive=True)`` and ``Symbol('x')``) are refused:
the tree names a variable by its name only, and merging them would change the function.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import LogicError
from .nodes import FALSE, MAX_DEPTH, TRUE, Node, and_, const, not_, or_, var, xor_
from .walk import check_depth, fold

__all__ = ["node_from_sympy", "node_to_sympy", "symbol_names"]


def node_to_sympy(node: Node, symbols: Mapping[str, Any] | None = None) -> Any:
    """Convert to a sympy boolean expression (sympy may simplify while building).

    >>> node_to_sympy(("implies", (("var", "a"), ("not", (("var", "b"),)))))
    Implies(a, ~b)
    """
    import sympy
    from sympy.logic import boolalg as ba

    check_depth(node)
    cache: dict[str, Any] = dict(symbols or {})
    build = {
        "not": lambda a: ba.Not(a[0]),
        "and": lambda a: ba.And(*a),
        "or": lambda a: ba.Or(*a),
        "xor": lambda a: ba.Xor(*a),
        "eq": lambda a: ba.Equivalent(*a),
        "implies": lambda a: ba.Implies(*a),
        "ite": lambda a: ba.ITE(*a),
    }

    def combine(n: Node, args: list[Any]) -> Any:
        if n[0] == "var":
            if n[1] not in cache:
                cache[n[1]] = sympy.Symbol(n[1])
            return cache[n[1]]
        if n[0] == "const":
            return sympy.true if n[1] else sympy.false
        return build[n[0]](args)

    return fold(node, combine)


def _sympy_args(e: Any) -> tuple:
    return e.args if _is_operator(e) else ()


def _is_operator(e: Any) -> bool:
    from sympy.logic import boolalg as ba

    return isinstance(e, (ba.Not, ba.And, ba.Or, ba.Xor, ba.Xnor, ba.Nand, ba.Nor, ba.Implies, ba.Equivalent, ba.ITE))


def symbol_names(symbols: Iterable[Any]) -> dict[str, Any]:
    """Name -> sympy symbol, refusing two different symbols that share a name.

    >>> import sympy
    >>> symbol_names([sympy.Symbol("x"), sympy.Dummy("x")])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    logicnets.errors.LogicError: two different sympy symbols are both named 'x' (x and _x); rename one: ...
    """
    out: dict[str, Any] = {}
    for s in symbols:
        seen = out.setdefault(s.name, s)
        if seen != s:
            raise LogicError(
                f"two different sympy symbols are both named {s.name!r} ({seen} and {s}); "
                "rename one: variables are matched by name"
            )
    return out


def node_from_sympy(expr: Any, variables: Iterable[Any] = ()) -> Node:
    """Convert a sympy boolean expression; anything non-boolean is a ``LogicError``.

    ``variables`` (names or Symbols) are checked against the expression's symbols:
    a Symbol there must be the very symbol the expression uses under that name.

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
            f"expected a sympy boolean expression, a formula string or a TruthTable, got {type(expr).__name__}"
        )
    depth = fold(expr, lambda e, kids: 1 + max(kids) if kids else 0, _sympy_args)
    if depth > MAX_DEPTH:
        raise LogicError(f"sympy expression nests deeper than {MAX_DEPTH} levels ({depth}); flatten it")
    leaves: list[Any] = []

    def combine(e: Any, kids: list[Node]) -> Node:
        if isinstance(e, ba.BooleanTrue):
            return TRUE
        if isinstance(e, ba.BooleanFalse):
            return FALSE
        if isinstance(e, sympy.Symbol):
            leaves.append(e)
            return var(e.name)
        if _is_operator(e):
            return _operator_node(e, kids)
        if getattr(e, "is_Integer", False) and int(e) in (0, 1):
            return const(bool(int(e)))
        raise LogicError(
            f"unsupported sympy object {e!s} of type {type(e).__name__}: only symbols, true/false and "
            "And, Or, Not, Xor, Xnor, Nand, Nor, Implies, Equivalent, ITE are allowed"
        )

    node = fold(expr, combine, _sympy_args)
    symbol_names([*leaves, *(v for v in variables if isinstance(v, sympy.Symbol))])
    return node


def _operator_node(e: Any, kids: list[Node]) -> Node:
    from sympy.logic import boolalg as ba

    if isinstance(e, ba.Not):
        return not_(kids[0])
    if isinstance(e, ba.And):
        return and_(*kids)
    if isinstance(e, ba.Or):
        return or_(*kids)
    if isinstance(e, ba.Xnor):
        return not_(xor_(*kids))
    if isinstance(e, ba.Xor):
        return xor_(*kids)
    if isinstance(e, ba.Nand):
        return not_(and_(*kids))
    if isinstance(e, ba.Nor):
        return not_(or_(*kids))
    if isinstance(e, ba.Implies):
        return ("implies", (kids[0], kids[1]))
    if isinstance(e, ba.Equivalent):
        return TRUE if len(kids) == 1 else ("eq", tuple(kids))  # one argument: vacuously all equal
    return ("ite", tuple(kids))
