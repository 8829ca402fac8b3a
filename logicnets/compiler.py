"""``compile``: boolean function -> ThresholdNetwork.

The notebook's construction (method="dnf"): a DNF, then one hidden AND neuron
per conjunct (weight +1 for x, -1 for ~x, 0 for an absent variable, bias
-(#positive literals) + 0.5) and an OR output neuron (weights 1, bias -0.5).
Every pre-activation is then ±0.5 or further from 0, so θ(0) does not matter.

Choices documented here:

* Constant functions (tautology, contradiction) compile to a single constant
  neuron with zero weights and bias +0.5 (always 1) or -0.5 (always 0): no
  hidden layer.  ``from_dnf`` keeps the literal notebook form instead (an empty
  DNF is zero hidden neurons, an empty conjunct a constant hidden neuron).
* Variables the function ignores stay inputs with zero weights, so
  ``network.inputs`` is exactly the given (or naturally sorted) variable list.
* Contradictory conjuncts (x & ~x) are dropped, repeated literals merged.
* method="auto" tries one neuron (linearly separable), the symmetric
  construction and the DNF, and keeps the fewest hidden neurons.
"""
from __future__ import annotations

import time
from typing import Any, Iterable, Sequence

import numpy as np

from .dnf import MAX_TERMS, Term, dnf_terms
from .errors import LogicError
from .formula import Formula, natural_key, sort_variables
from .network import Layer, ThresholdNetwork
from .truthtable import TruthTable, as_spec

__all__ = ["compile", "from_dnf", "constant_network", "network_from_terms", "METHODS", "TABLE_VARS"]

METHODS = ("dnf", "auto", "threshold", "symmetric")
#: Up to this many variables compile tabulates the function (bit-sliced) to
#: detect constants, minimise, and test separability / symmetry.
TABLE_VARS = 22
#: Largest first-layer weight matrix compile builds (hidden x inputs; 8 bytes each).
MAX_WEIGHTS = 50_000_000


def constant_network(value: bool, variables: Sequence[str]) -> ThresholdNetwork:
    """One neuron with zero weights: θ(+0.5) = 1 or θ(-0.5) = 0.

    >>> constant_network(True, ["x"])([[0], [1]]).tolist()
    [1, 1]
    """
    vs = tuple(variables)
    return ThresholdNetwork(vs, (Layer(np.zeros((1, len(vs))), [0.5 if value else -0.5]),),
                            {"method": "constant", "constant": bool(value), "hidden_after": 0})


def network_from_terms(terms: Sequence[Term], variables: Sequence[str], stats: dict | None = None
                       ) -> ThresholdNetwork:
    """Notebook construction from bitmask terms (see :mod:`logicnets.dnf`)."""
    vs = tuple(variables)
    n = len(vs)
    if len(terms) * n > MAX_WEIGHTS:
        raise LogicError(f"the network would have {len(terms)} hidden neurons x {n} inputs = "
                         f"{len(terms) * n} weights (limit {MAX_WEIGHTS}); try method='auto' or "
                         "minimize=True, or split the formula")
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
    from sympy import Not
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
    conj = [[_literal(l) for l in t] for t in terms]
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
    return ThresholdNetwork(vs, (Layer(W1, b1), Layer(np.ones((1, len(conj))), [-0.5])),
                            {"method": "dnf", "hidden_after": len(conj)})


def _minterm_terms(table: TruthTable) -> list[Term]:
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


def compile(source: Any, variables: Sequence[Any] | None = None, *, minimize: bool = False,
            method: str = "dnf", max_terms: int = MAX_TERMS, time_limit: float = 10.0) -> ThresholdNetwork:
    """Compile a formula string, sympy expression, Formula or TruthTable into a network.

    ``method``: "dnf" (the notebook: one hidden neuron per DNF term), "threshold"
    (one neuron; LogicError if not linearly separable), "symmetric" (<= n hidden
    neurons; LogicError if not symmetric), or "auto" (fewest hidden neurons).
    ``minimize=True`` uses a minimal DNF; ``network.stats`` reports hidden-neuron
    counts before and after.

    >>> net = compile("x ^ y")
    >>> net.inputs, net.hidden_size, net([[0, 0], [0, 1], [1, 0], [1, 1]]).tolist()
    (('x', 'y'), 2, [0, 1, 1, 0])
    >>> compile("a & b | a & c | b & c", method="auto").hidden_size   # majority: one neuron
    0
    >>> net = compile("x & y | x & ~y", minimize=True)
    >>> net.stats["hidden_before"], net.stats["hidden_after"]
    (2, 1)
    """
    if method not in METHODS:
        raise LogicError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    t0 = time.perf_counter()
    spec = as_spec(source, variables)
    if isinstance(spec, ThresholdNetwork):
        raise LogicError("compile takes a formula or truth table, not a network; use verify or decompile")
    names = spec.variables
    n = len(names)
    table: TruthTable | None = None
    if isinstance(spec, TruthTable):
        table = spec
    elif n <= TABLE_VARS:
        table = TruthTable.from_source(spec)
    stats: dict[str, Any] = {"inputs": n}

    def done(net: ThresholdNetwork, used: str) -> ThresholdNetwork:
        st = dict(stats)
        st.update(net.stats)
        st["method"] = used
        st["hidden_after"] = net.hidden_size
        st["seconds"] = round(time.perf_counter() - t0, 6)
        return ThresholdNetwork(net.inputs, net.layers, st)

    # constants: a single constant neuron
    const_value = None
    if table is not None:
        if not table.outputs.any():
            const_value = False
        elif table.outputs.all():
            const_value = True
    else:
        const_value = _constant_by_sat(spec)
    if const_value is not None:
        if method in ("dnf", "auto"):
            stats["hidden_before"] = 0
        return done(constant_network(const_value, names), "constant")

    # the unminimised DNF (notebook) and its size
    terms: list[Term] | None = None
    if isinstance(spec, TruthTable):
        terms = _minterm_terms(spec)
    else:
        try:
            terms = dnf_terms(spec, max_terms)
        except LogicError:
            if method == "dnf" and not minimize:
                raise
            terms = None
    if terms is not None:
        stats["dnf_terms"] = len(terms)

    candidates: list[tuple[int, int, str, ThresholdNetwork]] = []

    if method in ("threshold", "auto"):
        net = _literal_gate(spec, names) if table is None else None
        if net is None:
            net = _threshold_candidate(table, names, strict=method == "threshold", time_limit=time_limit)
        if net is not None:
            candidates.append((net.hidden_size, 0, "threshold", net))
    if method in ("symmetric", "auto"):
        net = _symmetric_candidate(spec, table, names, strict=method == "symmetric")
        if net is not None:
            candidates.append((net.hidden_size, 2, "symmetric", net))
    if method in ("dnf", "auto"):
        try:
            dnf_net = _dnf_candidate(spec, table, names, terms, minimize, stats, time_limit)
        except LogicError:
            if method == "dnf" or not candidates:
                raise
            dnf_net = None     # auto: another construction already applies
        if dnf_net is not None:
            candidates.append((dnf_net.hidden_size, 1, "dnf", dnf_net))
    if not candidates:
        raise LogicError("no construction applies; the DNF is too large: try method='auto' "
                         "or minimize=True, or raise max_terms")
    candidates.sort(key=lambda c: (c[0], c[1]))
    if method == "auto":
        stats["candidates"] = {c[2]: c[0] for c in candidates}
    _, _, used, net = candidates[0]
    return done(net, used)


def _dnf_candidate(spec: Any, table: TruthTable | None, names: Sequence[str], terms: list[Term] | None,
                   minimize: bool, stats: dict, time_limit: float) -> ThresholdNetwork | None:
    n = len(names)
    if minimize:
        if table is None:
            if terms is None:
                raise LogicError(f"{n} variables: the DNF is too large and the function too wide "
                                 f"to tabulate (> {TABLE_VARS} variables) for minimisation")
            stats.update(hidden_before=len(terms), minimal=False,
                         minimize_method="absorption only (too many variables for a table)")
            return network_from_terms(terms, names)
        from .minimize import minimize_table
        before = len(terms) if terms is not None else len(table.minterms)
        res = minimize_table(table, start=terms, time_limit=time_limit)
        stats.update(hidden_before=before, minimal=res.exact, minimize_method=res.method)
        return network_from_terms(res.terms, names)
    if terms is not None:
        stats["hidden_before"] = len(terms)
        return network_from_terms(terms, names)
    return None


def _threshold_candidate(table: TruthTable | None, names: Sequence[str], strict: bool,
                         time_limit: float) -> ThresholdNetwork | None:
    from .separable import threshold_function, unateness
    if table is None:
        if strict:
            raise LogicError(f"threshold detection needs a truth table; {len(names)} variables is more "
                             f"than {TABLE_VARS}")
        return None
    try:
        tf = threshold_function(table, time_limit=time_limit)
    except LogicError:
        if strict:
            raise
        return None
    if tf is None:
        if strict:
            bad = [v for v, s in zip(names, unateness(table)) if s is None]
            why = (f"it is not unate in {bad[:5]} (both x and ~x matter)" if bad
                   else "no integer weights separate its true and false rows")
            raise LogicError(f"this function is not linearly separable: {why}; use method='dnf' or 'auto'")
        return None
    return ThresholdNetwork(tuple(names), (Layer(tf.weights[None, :].astype(float), [tf.bias]),),
                            {"method": "threshold"})


def _literal_gate(spec: Any, names: Sequence[str]) -> ThresholdNetwork | None:
    """One neuron for an And/Or of literals, found without a truth table (any width)."""
    if not isinstance(spec, Formula) or spec.node[0] not in ("and", "or"):
        return None
    col = {v: i for i, v in enumerate(names)}
    w = np.zeros(len(names))
    n_pos = 0
    seen = set()
    for c in spec.node[1]:
        neg = c[0] == "not"
        leaf = c[1][0] if neg else c
        if leaf[0] != "var" or leaf[1] in seen:
            return None
        seen.add(leaf[1])
        w[col[leaf[1]]] = -1.0 if neg else 1.0
        n_pos += not neg
    n_neg = len(seen) - n_pos
    # AND: all literals true (sum = n_pos); OR: at least one literal true
    bias = -n_pos + 0.5 if spec.node[0] == "and" else n_neg - 0.5
    return ThresholdNetwork(tuple(names), (Layer(w[None, :], [bias]),), {"method": "threshold"})


def _symmetric_candidate(spec: Any, table: TruthTable | None, names: Sequence[str],
                         strict: bool) -> ThresholdNetwork | None:
    from .symmetric import parity_profile, symmetric_network, symmetric_profile
    profile = None
    if isinstance(spec, Formula):
        profile = parity_profile(spec.node, names)
    if profile is None and table is not None:
        profile = symmetric_profile(table)
    if profile is None:
        if strict:
            if table is None:
                raise LogicError(f"symmetry detection needs a truth table ({len(names)} variables is more "
                                 f"than {TABLE_VARS}) unless the formula is an Xor of distinct variables")
            raise LogicError("this function is not symmetric (its value depends on which inputs are 1, "
                             "not only how many); use method='dnf' or 'auto'")
        return None
    return symmetric_network(profile)


def _constant_by_sat(spec: Formula) -> bool | None:
    """For formulas too wide to tabulate: is it constant?  Uses the SAT solver when present."""
    from .sat import solve_formula
    sat_true = solve_formula(spec, want=True)
    if sat_true is None:
        return None
    if sat_true is False:
        return False
    sat_false = solve_formula(spec, want=False)
    if sat_false is False:
        return True
    return None
