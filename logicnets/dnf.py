"""Disjunctive normal form straight from the formula tree.

Why not sympy's ``to_dnf``: it lowers Xor through CNF (seconds and 183 terms
for a 4-input Xor instead of 8) and needs ``force=True`` past 8 variables.  We
push negations down ourselves and expand Xor, Implies, Equivalent and ITE
directly.  A term is a pair of bitmasks ``(positive, negative)`` over variable
indices; contradictory terms (x and ~x) are dropped, repeated literals merge,
and absorbed terms (a superset of another term) are removed.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from .errors import LogicError
from .formula import Formula, Node, and_, const, not_, or_, var

__all__ = ["Term", "dnf_terms", "absorb", "terms_to_node", "term_literals", "MAX_TERMS"]

Term = tuple[int, int]

#: Default cap on DNF size (= hidden neurons); past it compile suggests another method.
MAX_TERMS = 1 << 16

#: Absorption is quadratic; above this many terms only exact duplicates are removed.
_ABSORB_LIMIT = 4096


class _TooBig(Exception):
    pass


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
            p, n, s = P[start:start + 256, None], N[start:start + 256, None], S[start:start + 256, None]
            sub = ((P[None, :] & ~p) == 0) & ((N[None, :] & ~n) == 0) & (S[None, :] < s)
            dead[start:start + 256] = sub.any(axis=1)
        return [t for t, d in zip(uniq, dead) if not d]
    return [t for t, s in zip(uniq, sizes) if not any(
        s2 < s and (p2 & ~t[0]) == 0 and (n2 & ~t[1]) == 0 for (p2, n2), s2 in zip(uniq, sizes))]


def _product(a: list[Term], b: list[Term], limit: int) -> list[Term]:
    if len(a) * len(b) > 64 * limit:
        raise _TooBig
    out = {(p1 | p2, n1 | n2) for p1, n1 in a for p2, n2 in b if not (p1 | p2) & (n1 | n2)}
    res = absorb(out)
    if len(res) > limit:
        raise _TooBig
    return res


def _union(parts: Sequence[list[Term]], limit: int) -> list[Term]:
    res = absorb(t for part in parts for t in part)
    if len(res) > limit:
        raise _TooBig
    return res


def dnf_terms(formula: Formula, max_terms: int = MAX_TERMS) -> list[Term]:
    """DNF terms of a formula over ``formula.variables`` (bit i = variable i).

    >>> f = Formula.parse("x ^ y")
    >>> dnf_terms(f)
    [(1, 2), (2, 1)]
    >>> dnf_terms(Formula.parse("x & ~x | y & y"))
    [(2, 0)]

    Raises ``LogicError`` when the DNF would exceed ``max_terms`` terms.
    """
    index = {v: i for i, v in enumerate(formula.variables)}
    memo: dict[tuple[int, bool], list[Term]] = {}
    ONE: list[Term] = [(0, 0)]

    def go(n: Node, pos: bool) -> list[Term]:
        key = (id(n), pos)
        if key in memo:
            return memo[key]
        op = n[0]
        if op == "var":
            bit = 1 << index[n[1]]
            r = [(bit, 0)] if pos else [(0, bit)]
        elif op == "const":
            r = ONE if n[1] == pos else []
        elif op == "not":
            r = go(n[1][0], not pos)
        elif (op == "and" and pos) or (op == "or" and not pos):
            r = ONE
            for c in n[1]:
                r = _product(r, go(c, pos), max_terms)
                if not r:
                    break
        elif op in ("and", "or"):
            r = _union([go(c, pos) for c in n[1]], max_terms)
        elif op == "xor":
            p, q = go(n[1][0], True), go(n[1][0], False)
            for c in n[1][1:]:
                cp, cq = go(c, True), go(c, False)
                p, q = (_union([_product(p, cq, max_terms), _product(q, cp, max_terms)], max_terms),
                        _union([_product(p, cp, max_terms), _product(q, cq, max_terms)], max_terms))
            r = p if pos else q
        elif op == "implies":
            a, b = n[1]
            r = (_union([go(a, False), go(b, True)], max_terms) if pos
                 else _product(go(a, True), go(b, False), max_terms))
        elif op == "eq":
            kids = n[1]
            if pos:
                all_t, all_f = ONE, ONE
                for c in kids:
                    all_t = _product(all_t, go(c, True), max_terms)
                    all_f = _product(all_f, go(c, False), max_terms)
                r = _union([all_t, all_f], max_terms)
            else:
                first_t, first_f = go(kids[0], True), go(kids[0], False)
                r = _union([_product(first_t, go(c, False), max_terms) for c in kids[1:]]
                           + [_product(first_f, go(c, True), max_terms) for c in kids[1:]], max_terms)
        elif op == "ite":
            c, t, e = n[1]
            r = _union([_product(go(c, True), go(t, pos), max_terms),
                        _product(go(c, False), go(e, pos), max_terms)], max_terms)
        else:  # pragma: no cover
            raise LogicError(f"unknown formula node {op!r}")
        memo[key] = r
        return r

    try:
        return absorb(go(formula.node, True))
    except _TooBig:
        raise LogicError(
            f"the DNF of this formula has more than {max_terms} terms (one hidden neuron each); "
            "use minimize=True or method='auto' (threshold/symmetric constructions), or raise "
            "max_terms") from None


def term_literals(term: Term, variables: Sequence[str]) -> list[tuple[str, bool]]:
    """``(name, positive)`` literals of a term, in variable order.

    >>> term_literals((0b01, 0b10), ["x", "y"])
    [('x', True), ('y', False)]
    """
    p, n = term
    return [(v, bool(p >> i & 1)) for i, v in enumerate(variables) if (p | n) >> i & 1]


def terms_to_node(terms: Sequence[Term], variables: Sequence[str]) -> Node:
    """The DNF as a formula tree (``false`` for no terms, ``true`` for an empty term).

    >>> from logicnets.formula import node_to_text
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
