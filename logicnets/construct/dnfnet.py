"""The notebook's construction: one hidden AND neuron per DNF term, an OR output neuron.

Each conjunct gets weight +1 for x, -1 for ~x and 0 for an absent variable, bias
-(#positive literals) + 0.5; the output neuron has weights 1 and bias -0.5.  Every
pre-activation is then ±0.5 or further from 0, so θ(0) does not matter.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..errors import LogicError
from ..formula.dnf import Term
from ..formula.nodes import natural_key, sort_variables
from ..network.network import Layer, ThresholdNetwork
from ..prove.truthtable import TruthTable

__all__ = ["MAX_WEIGHTS", "constant_network", "from_dnf", "minterm_terms", "network_from_terms"]

#: Largest first-layer weight matrix built (hidden x inputs; 8 bytes each).
MAX_WEIGHTS = 50_000_000


def constant_network(value: bool, variables: Sequence[str]) -> ThresholdNetwork:
    """One neuron with zero weights: θ(+0.5) = 1 or θ(-0.5) = 0.

    >>> constant_network(True, ["x"])([[0], [1]]).tolist()
    [1, 1]
    """
    vs = tuple(variables)
    return ThresholdNetwork(
        vs,
        (Layer(np.zeros((1, len(vs))), [0.5 if value else -0.5]),),
        {"method": "constant", "constant": bool(value), "hidden_after": 0},
    )


def network_from_terms(terms: Sequence[Term], variables: Sequence[str], stats: dict | None = None) -> ThresholdNetwork:
    """Notebook construction from bitmask terms (see :mod:`logicnets.formula.dnf`)."""
    vs = tuple(variables)
    n = len(vs)
    if len(terms) * n > MAX_WEIGHTS:
        raise LogicError(
            f"the network would have {len(terms)} hidden neurons x {n} inputs = "
            f"{len(terms) * n} weights (limit {MAX_WEIGHTS}); try method='auto' or "
            "minimize=True, or split the formula"
        )
    W1 = np.zeros((len(terms), n))
    b1 = np.zeros(len(terms))
    for j, (p, q) in enumerate(terms):
        for i in range(n):
            if p >> i & 1:
                W1[j, i] = 1.0
            elif q >> i & 1:
                W1[j, i] = -1.0
        b1[j] = -p.bit_count() + 0.5
    out = Layer(np.ones((1, len(terms))), [-0.5])
    return ThresholdNetwork(vs, (Layer(W1, b1), out), dict(stats or {}))


def _literal(lit: Any) -> tuple[str, bool]:
    if isinstance(lit, tuple) and len(lit) == 2 and isinstance(lit[0], str):
        return lit[0], bool(lit[1])
    if isinstance(lit, str):
        s = lit.strip()
        neg = False
        while s[:1] in ("~", "!"):
            neg, s = not neg, s[1:].strip()
        if s.lower().startswith("not "):
            neg, s = not neg, s[4:].strip()
        if not s or not s.replace("_", "a").isalnum() or s[0].isdigit():
            raise LogicError(f"literal {lit!r} is not a variable name or its negation (~name)")
        return s, not neg
    name = getattr(lit, "name", None)
    if name is not None:
        return name, True
    from sympy import Not  # sympy is slow to import and only needed for sympy literals

    if isinstance(lit, Not) and hasattr(lit.args[0], "name"):
        return lit.args[0].name, False
    raise LogicError(f"literal {lit!r} must be 'x', '~x', ('x', True/False) or a sympy (negated) Symbol")


def from_dnf(terms: Iterable[Iterable[Any]], variables: Sequence[str] | None = None) -> ThresholdNetwork:
    """The notebook's network for a DNF given as conjuncts of literals, taken literally.

    Each conjunct is an iterable of literals (``"x"``, ``"~x"``, ``("x", False)``
    or sympy symbols).  Weights add up per variable and the bias is
    -(number of positive literals) + 0.5, so repeated literals (x & x) and
    contradictions (x & ~x, always 0) still come out right.

    >>> net = from_dnf([["x", "~y"], ["~x", "y"]])
    >>> net.W1.tolist(), net.b1.tolist(), net([[0, 1], [1, 1]]).tolist()
    ([[1.0, -1.0], [-1.0, 1.0]], [-0.5, -0.5], [1, 0])
    >>> from_dnf([["x", "x", "~x"]])([[0], [1]]).tolist()
    [0, 0]
    """
    conj = [[_literal(lit) for lit in t] for t in terms]
    used = [v for t in conj for v, _ in t]
    vs = tuple(variables) if variables is not None else sort_variables(used)
    missing = set(used) - set(vs)
    if missing:
        raise LogicError(f"literals use {sorted(missing, key=natural_key)} which are not in variables {list(vs)}")
    col = {v: i for i, v in enumerate(vs)}
    W1 = np.zeros((len(conj), len(vs)))
    b1 = np.full(len(conj), 0.5)
    for j, t in enumerate(conj):
        for v, pos in t:
            W1[j, col[v]] += 1.0 if pos else -1.0
            b1[j] -= 1.0 if pos else 0.0
    return ThresholdNetwork(
        vs, (Layer(W1, b1), Layer(np.ones((1, len(conj))), [-0.5])), {"method": "dnf", "hidden_after": len(conj)}
    )


def minterm_terms(table: TruthTable) -> list[Term]:
    n = table.n
    full = (1 << n) - 1
    out = []
    for m in table.minterms:
        p = 0
        for i in range(n):
            if m >> (n - 1 - i) & 1:
                p |= 1 << i
        out.append((p, full & ~p))
    return out
