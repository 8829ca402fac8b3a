"""Disjunctive normal form straight from the formula tree.

Why not sympy's ``to_dnf``: it lowers Xor through CNF (183 terms for a 4-input Xor
instead of 8) and needs ``force=True`` past 8 variables.  We push negations down
ourselves and expand Xor, Implies, Equivalent and ITE directly.  A term is a pair of
bitmasks ``(positive, negative)`` over variable indices; contradictory terms (x and ~x)
are dropped, repeated literals merge, and absorbed terms (a superset of another term)
are removed.

Products multiply term counts, so before building anything :func:`dnf_size_bound`
bounds every intermediate list bottom-up on the DAG and the build is refused when
a bound passes ``max_terms``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from ..errors import LogicError
from .formula import Formula
from .nodes import Node, and_, const, not_, or_, var
from .walk import fold

__all__ = ["MAX_TERMS", "Term", "absorb", "dnf_size_bound", "dnf_terms", "term_literals", "terms_to_node"]

Term = tuple[int, int]

#: Default cap on DNF size (= hidden neurons); past it compile suggests another method.
MAX_TERMS = 1 << 16

#: Absorption is quadratic; above this many terms only exact duplicates are removed.
_ABSORB_LIMIT = 4096

#: A product of term lists examines every pair: at most this many pairs per max_terms allowed.
_PAIRS_PER_TERM = 4

#: Variables counted per subformula for the 3^k bound (past it the bound says nothing).
_FEW_VARS = 40


def absorb(terms: Iterable[Term]) -> list[Term]:
    """Drop contradictory, duplicate and absorbed terms, keeping a stable order.

    >>> absorb([(0b01, 0), (0b11, 0), (0b01, 0b01), (0b10, 0)])
    [(1, 0), (2, 0)]
    """
    uniq = list(dict.fromkeys(t for t in terms if not t[0] & t[1]))
    if len(uniq) < 2 or len(uniq) > _ABSORB_LIMIT:
        return uniq
    sizes = [p.bit_count() + n.bit_count() for p, n in uniq]
    if min(sizes) == max(sizes):
        return uniq  # equal sizes: a subset would be an equal (already removed) term
    # A term is absorbed iff some strictly smaller term's literals are a subset of its own
    # (if that smaller term is itself absorbed, its absorber is a subset too).
    if all(p < 1 << 64 and n < 1 << 64 for p, n in uniq):
        P = np.array([p for p, _ in uniq], dtype=np.uint64)
        N = np.array([n for _, n in uniq], dtype=np.uint64)
        S = np.array(sizes)
        dead = np.zeros(len(uniq), dtype=bool)
        for start in range(0, len(uniq), 256):
            p, n, s = P[start : start + 256, None], N[start : start + 256, None], S[start : start + 256, None]
            sub = ((P[None, :] & ~p) == 0) & ((N[None, :] & ~n) == 0) & (S[None, :] < s)
            dead[start : start + 256] = sub.any(axis=1)
        return [t for t, d in zip(uniq, dead, strict=True) if not d]
    return [
        t
        for t, s in zip(uniq, sizes, strict=True)
        if not any(s2 < s and (p2 & ~t[0]) == 0 and (n2 & ~t[1]) == 0 for (p2, n2), s2 in zip(uniq, sizes, strict=True))
    ]


class _TooBig(Exception):
    pass


Item = tuple[Node, bool]  # a subformula and the polarity whose DNF is wanted


def _item_key(item: Item) -> tuple[int, bool]:
    return id(item[0]), item[1]


def _item_children(item: Item) -> tuple[Item, ...]:
    """The (subformula, polarity) pairs whose DNFs make up this item's DNF."""
    n, pos = item
    op = n[0]
    if op in ("var", "const"):
        return ()
    kids = n[1]
    if op == "not":
        return ((kids[0], not pos),)
    if op in ("and", "or"):
        return tuple((c, pos) for c in kids)
    if op in ("xor", "eq"):
        return tuple((c, p) for c in kids for p in (True, False))
    if op == "implies":
        return ((kids[0], not pos), (kids[1], pos))
    if op == "ite":
        return ((kids[0], True), (kids[1], pos), (kids[0], False), (kids[2], pos))
    raise LogicError(f"unknown formula node {op!r}")


def _combine_dnf(item: Item, kids: list, one, product, union):
    """One item's DNF from its children's, in any algebra with ``one``/``product``/``union``
    (term lists for the build, saturated counts for the size bound).  Children come in
    :func:`_item_children` order."""
    n, pos = item
    op = n[0]
    if op == "not":
        return kids[0]
    if (op == "and" and pos) or (op == "or" and not pos) or (op == "implies" and not pos):
        return product(kids)
    if op in ("and", "or", "implies"):
        return union(kids)
    if op == "xor":  # kids: c0+, c0-, c1+, c1-, ...; track (odd, even) parity DNFs
        odd, even = kids[0], kids[1]
        for cp, cq in zip(kids[2::2], kids[3::2], strict=True):
            odd, even = (
                union([product([odd, cq]), product([even, cp])]),
                union([product([odd, cp]), product([even, cq])]),
            )
        return odd if pos else even
    if op == "eq":
        trues, falses = kids[0::2], kids[1::2]
        if pos:
            return union([product(trues), product(falses)])
        return union([product([trues[0], f]) for f in falses[1:]] + [product([falses[0], t]) for t in trues[1:]])
    c, t, nc, e = kids
    return union([product([c, t]), product([nc, e])])


def _leaf_terms(item: Item, index: dict[str, int]) -> list[Term]:
    n, pos = item
    if n[0] == "var":
        bit = 1 << index[n[1]]
        return [(bit, 0)] if pos else [(0, bit)]
    return [(0, 0)] if n[1] == pos else []


def _few_vars(node: Node) -> dict[int, int | None]:
    """Per subformula (by identity): its number of distinct variables, None past _FEW_VARS."""
    sizes: dict[int, int | None] = {}

    def combine(n: Node, kids: list[frozenset | None]) -> frozenset | None:
        if n[0] == "var":
            names: frozenset | None = frozenset((n[1],))
        elif n[0] == "const" or any(k is None for k in kids):
            names = frozenset() if n[0] == "const" else None
        else:
            names = frozenset().union(*kids)
            if len(names) > _FEW_VARS:
                names = None
        sizes[id(n)] = None if names is None else len(names)
        return names

    fold(node, combine)
    return sizes


def dnf_size_bound(formula: Formula, max_terms: int = MAX_TERMS) -> int | None:
    """An upper bound on the DNF's term count made without building it, or None when some
    intermediate list (or the pairs a product examines) would pass ``max_terms``.

    Linear in the size of the formula's DAG.

    >>> dnf_size_bound(Formula.parse("(a | b) & (c | d | e)"))
    6
    >>> wide = " | ".join(f"x{i}" for i in range(300)), " | ".join(f"y{i}" for i in range(300))
    >>> dnf_size_bound(Formula.parse(f"({wide[0]}) & ({wide[1]})")) is None
    True
    """
    few = _few_vars(formula.node)
    pair_limit = _PAIRS_PER_TERM * max_terms

    def check(count: int, node: Node) -> int:
        k = few[id(node)]
        if k is not None:
            count = min(count, 3**k)  # distinct consistent terms over k variables
        if count > max_terms:
            raise _TooBig
        return count

    def combine(item: Item, kids: list[int]) -> int:
        node = item[0]
        if node[0] in ("var", "const"):
            return 1 if node[0] == "var" else int(node[1] == item[1])

        def product(parts: list[int]) -> int:
            if 0 in parts:
                return 0
            r = 1
            for c in parts:
                if r * c > pair_limit and r > 1 and c > 1:
                    raise _TooBig
                r = check(r * c, node)
            return r

        return check(_combine_dnf(item, kids, 1, product, lambda parts: check(sum(parts), node)), node)

    try:
        return fold((formula.node, True), combine, _item_children, _item_key)
    except _TooBig:
        return None


def _product(parts: list[list[Term]]) -> list[Term]:
    if any(not p for p in parts):
        return []
    r: list[Term] = [(0, 0)]
    for b in parts:
        r = absorb({(p1 | p2, n1 | n2) for p1, n1 in r for p2, n2 in b if not (p1 | p2) & (n1 | n2)})
        if not r:
            break
    return r


def _union(parts: list[list[Term]]) -> list[Term]:
    return absorb(t for part in parts for t in part)


def dnf_terms(formula: Formula, max_terms: int = MAX_TERMS) -> list[Term]:
    """DNF terms of a formula over ``formula.variables`` (bit i = variable i).

    >>> f = Formula.parse("x ^ y")
    >>> dnf_terms(f)
    [(1, 2), (2, 1)]
    >>> dnf_terms(Formula.parse("x & ~x | y & y"))
    [(2, 0)]

    Raises ``LogicError`` (at once, before building) when the DNF could exceed ``max_terms``.
    """
    if dnf_size_bound(formula, max_terms) is None:
        raise LogicError(
            f"the DNF of this formula has more than {max_terms} terms (one hidden neuron each); "
            "use minimize=True or method='auto' (threshold/symmetric constructions), or raise max_terms"
        )
    index = {v: i for i, v in enumerate(formula.variables)}

    def combine(item: Item, kids: list[list[Term]]) -> list[Term]:
        if item[0][0] in ("var", "const"):
            return _leaf_terms(item, index)
        return _combine_dnf(item, kids, [(0, 0)], _product, _union)

    return absorb(fold((formula.node, True), combine, _item_children, _item_key))


def term_literals(term: Term, variables: Sequence[str]) -> list[tuple[str, bool]]:
    """``(name, positive)`` literals of a term, in variable order.

    >>> term_literals((0b01, 0b10), ["x", "y"])
    [('x', True), ('y', False)]
    """
    p, n = term
    return [(v, bool(p >> i & 1)) for i, v in enumerate(variables) if (p | n) >> i & 1]


def terms_to_node(terms: Sequence[Term], variables: Sequence[str]) -> Node:
    """The DNF as a formula tree (``false`` for no terms, ``true`` for an empty term).

    >>> from logicnets.formula.text import node_to_text
    >>> node_to_text(terms_to_node([(1, 2), (2, 1)], ["x", "y"]))
    'x & ~y | ~x & y'
    """
    if not terms:
        return const(False)
    conj = []
    for t in terms:
        lits = [var(v) if pos else not_(var(v)) for v, pos in term_literals(t, variables)]
        conj.append(and_(*lits) if lits else const(True))
    return or_(*conj)
