"""``decompile``: a network back to a boolean formula.

Each neuron is read exactly through its integer form (``Σ a_i·literal_i >= T``):
AND/OR neurons become And/Or of literals, other threshold neurons the
disjunction of their minimal true literal sets, and the output neuron is then
written over the hidden neurons' formulas.  ``simplify=True`` replaces the
result by a minimal DNF of the network's truth table (small networks).

The functions take anything with ``inputs``, ``layers`` and ``truth_table()`` (a
:class:`~logicnets.network.network.ThresholdNetwork`), so the network class can
offer ``decompile()`` as a method.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import LogicError
from ..formula.dnf import terms_to_node
from ..formula.formula import Formula
from ..formula.minimize import HEURISTIC_VARS, minimize_table
from ..formula.nodes import Node, and_, const, not_, or_, var
from ..formula.walk import fold
from ..rows import all_rows
from .neurons import integer_form

__all__ = ["MAX_DECOMPILE_SIZE", "MAX_DECOMPILE_TERMS", "decompile", "decompile_formula"]

#: Cap on the terms written for one generic threshold neuron.
MAX_DECOMPILE_TERMS = 1 << 14

#: Cap on a decompiled formula's size: the literals of the terms built for all neurons together,
#: and the nodes of the formula written out as a tree (each shared sub-formula once per use).
#: Why: a deep network's formula shares sub-formulas, and written out (as text, or as a sympy
#: expression, which sympy builds in time linear in the unfolded tree) it doubles with every
#: layer of two neurons: 31 such layers are 2^31 nodes.  2^20 nodes are about 1 s of sympy.
MAX_DECOMPILE_SIZE = 1 << 20


def _threshold_terms(weights: list[int], threshold: int) -> list[list[int]]:
    """Minimal index sets whose weights reach the threshold (weights sorted descending),
    by an explicit-stack search (a neuron may have thousands of inputs).

    >>> _threshold_terms([1, 1, 1], 2)
    [[0, 1], [0, 2], [1, 2]]
    """
    m = len(weights)
    suffix = [0] * (m + 1)
    for i in range(m - 1, -1, -1):
        suffix[i] = suffix[i + 1] + weights[i]
    out: list[list[int]] = []
    stack: list[tuple[int, tuple[int, ...], int]] = [(0, (), 0)]
    while stack:
        i, chosen, total = stack.pop()
        if total >= threshold:
            # minimal: dropping any chosen element must fall below the threshold
            if all(total - weights[j] < threshold for j in chosen):
                out.append(list(chosen))
            continue
        if i == m or total + suffix[i] < threshold:
            continue
        if len(out) > MAX_DECOMPILE_TERMS:
            raise LogicError(
                f"a neuron has more than {MAX_DECOMPILE_TERMS} minimal true sets; too large to write as a formula"
            )
        stack.append((i + 1, chosen, total))  # without i: searched after the sets with i
        stack.append((i + 1, (*chosen, i), total + weights[i]))
    return out


def _neuron_node(w: np.ndarray, b: float, inputs: list[Node]) -> Node:
    form = integer_form(w, b)
    if form is None:
        return _float_neuron_node(w, b, inputs)
    lits = [not_(inputs[i]) if neg else inputs[i] for i, _, neg in form.literals]
    kind = form.kind
    if kind in ("const1", "const0"):
        return const(kind == "const1")
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
    rows = all_rows(k)
    fires = rows @ w[nz] + b >= 0
    terms = [
        and_(*[inputs[nz[j]] if r[j] else not_(inputs[nz[j]]) for j in range(k)]) if k else const(True)
        for r, f in zip(rows, fires, strict=True)
        if f
    ]
    return or_(*terms) if terms else const(False)


def decompile_formula(network: Any, simplify: bool = False) -> Formula:
    """Like :func:`decompile` but returns a :class:`Formula` over ``network.inputs``."""
    if not hasattr(network, "layers") or not hasattr(network, "inputs"):
        raise LogicError(f"decompile expects a ThresholdNetwork, got {type(network).__name__}")
    names = tuple(network.inputs)
    if simplify:
        if len(names) > HEURISTIC_VARS:
            raise LogicError(f"simplify=True tabulates the network; at most {HEURISTIC_VARS} inputs")
        res = minimize_table(network.truth_table())
        return Formula(terms_to_node(res.terms, names), names)
    h: list[Node] = [var(v) for v in names]
    built = 0
    for layer in network.layers:
        h = [_neuron_node(layer.weights[j], layer.biases[j], h) for j in range(layer.size)]
        built += sum(_own_size(node) for node in h)
        _check_size(built, "its neurons' terms hold")
    _check_size(unfolded_size(h[0]), "written out, its formula has")
    return Formula(h[0], names)


def _own_size(node: Node) -> int:
    """Nodes a neuron's formula adds on top of its inputs' (its terms and their literals)."""
    kids = node[1] if node[0] in ("and", "or") else ()
    return 1 + sum(1 + (len(k[1]) if k[0] in ("and", "or", "not") else 0) for k in kids)


def _check_size(size: int, what: str) -> None:
    if size > MAX_DECOMPILE_SIZE:
        raise LogicError(
            f"cannot decompile this network: {what} {size} nodes, more than the limit of {MAX_DECOMPILE_SIZE} "
            "(each shared sub-formula is written out once per use); decompile with simplify "
            f"(--simplify, at most {HEURISTIC_VARS} inputs) or a smaller network"
        )


def unfolded_size(node: Node) -> int:
    """Nodes of the tree ``node`` stands for, each shared subtree counted once per use.

    Linear in the shared (DAG) size: every node is visited once, its count summed over uses.

    >>> shared = and_(var("x"), var("y"))
    >>> unfolded_size(or_(shared, not_(shared)))
    8
    """
    return fold(node, lambda _n, kids: 1 + sum(kids))


def decompile(network: Any, simplify: bool = False) -> Any:
    """The function a network computes, as a sympy boolean expression.

    >>> from logicnets import compile
    >>> decompile(compile("x ^ y"))
    (x & ~y) | (y & ~x)
    >>> decompile(compile("a & b | a & c | b & c", method="auto"))
    (a & b) | (a & c) | (b & c)
    """
    return decompile_formula(network, simplify).to_sympy()
