"""``decompile``: a network back to a boolean formula (sympy).

Each neuron is read exactly through its integer form (``Σ a_i·literal_i >= T``):
AND/OR neurons become And/Or of literals, other threshold neurons the
disjunction of their minimal true literal sets, and the output neuron is then
written over the hidden neurons' formulas.  ``simplify=True`` replaces the
result by a minimal DNF of the network's truth table (small networks).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .errors import LogicError
from .formula import Formula, Node, and_, const, not_, or_, var
from .network import ThresholdNetwork
from .neurons import integer_form

__all__ = ["decompile", "decompile_formula", "MAX_DECOMPILE_TERMS"]

#: Cap on the terms written for one generic threshold neuron.
MAX_DECOMPILE_TERMS = 1 << 14


def _threshold_terms(weights: list[int], threshold: int) -> list[list[int]]:
    """Minimal index sets whose weights reach the threshold (weights sorted descending).

    >>> _threshold_terms([1, 1, 1], 2)
    [[0, 1], [0, 2], [1, 2]]
    """
    out: list[list[int]] = []
    m = len(weights)
    suffix = [0] * (m + 1)
    for i in range(m - 1, -1, -1):
        suffix[i] = suffix[i + 1] + weights[i]

    def go(i: int, chosen: list[int], total: int) -> None:
        if total >= threshold:
            # minimal: dropping any chosen element must fall below the threshold
            if all(total - weights[j] < threshold for j in chosen):
                out.append(list(chosen))
            return
        if i == m or total + suffix[i] < threshold:
            return
        if len(out) > MAX_DECOMPILE_TERMS:
            raise LogicError(f"a neuron has more than {MAX_DECOMPILE_TERMS} minimal true sets; "
                             "too large to write as a formula")
        chosen.append(i)
        go(i + 1, chosen, total + weights[i])
        chosen.pop()
        go(i + 1, chosen, total)

    go(0, [], 0)
    return out


def _neuron_node(w: np.ndarray, b: float, inputs: list[Node]) -> Node:
    form = integer_form(w, b)
    if form is None:
        return _float_neuron_node(w, b, inputs)
    lits = [not_(inputs[i]) if neg else inputs[i] for i, _, neg in form.literals]
    kind = form.kind
    if kind == "const1":
        return const(True)
    if kind == "const0":
        return const(False)
    if kind == "and":
        return and_(*lits)
    if kind == "or":
        return or_(*lits)
    order = sorted(range(len(lits)), key=lambda j: -form.literals[j][1])
    weights = [form.literals[j][1] for j in order]
    terms = _threshold_terms(weights, form.threshold)
    return or_(*[and_(*[lits[order[j]] for j in t]) for t in terms])


def _float_neuron_node(w: np.ndarray, b: float, inputs: list[Node]) -> Node:
    """Non-dyadic weights: tabulate the neuron over its nonzero inputs (<= 16)."""
    nz = np.flatnonzero(w)
    if len(nz) > 16:
        raise LogicError("cannot decompile a neuron with more than 16 inputs and non-dyadic weights")
    k = len(nz)
    rows = ((np.arange(1 << k)[:, None] >> np.arange(k - 1, -1, -1)[None, :]) & 1).astype(float)
    fires = rows @ w[nz] + b >= 0
    terms = []
    for r, f in zip(rows, fires):
        if f:
            terms.append(and_(*[inputs[nz[j]] if r[j] else not_(inputs[nz[j]]) for j in range(k)])
                         if k else const(True))
    return or_(*terms) if terms else const(False)


def decompile_formula(network: ThresholdNetwork, simplify: bool = False) -> Formula:
    """Like :func:`decompile` but returns a :class:`Formula` over ``network.inputs``."""
    if not isinstance(network, ThresholdNetwork):
        raise LogicError(f"decompile expects a ThresholdNetwork, got {type(network).__name__}")
    names = network.inputs
    if simplify:
        from .minimize import HEURISTIC_VARS, minimize_table
        from .dnf import terms_to_node
        from .truthtable import TruthTable
        if network.n_inputs > HEURISTIC_VARS:
            raise LogicError(f"simplify=True tabulates the network; at most {HEURISTIC_VARS} inputs")
        res = minimize_table(TruthTable.from_source(network))
        return Formula(terms_to_node(res.terms, names), names)
    h: list[Node] = [var(v) for v in names]
    for layer in network.layers:
        h = [_neuron_node(layer.weights[j], layer.biases[j], h) for j in range(layer.size)]
    return Formula(h[0], names)


def decompile(network: ThresholdNetwork, simplify: bool = False) -> Any:
    """The function a network computes, as a sympy boolean expression.

    >>> from logicnets import compile
    >>> decompile(compile("x ^ y"))
    (x & ~y) | (y & ~x)
    >>> decompile(compile("a & b | a & c | b & c", method="auto"))
    (a & b) | (a & c) | (b & c)
    """
    return decompile_formula(network, simplify).to_sympy()
