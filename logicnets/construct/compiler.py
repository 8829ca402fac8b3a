"""``compile``: boolean function -> ThresholdNetwork.

Choices documented here:

* method="dnf" is the notebook's construction (:mod:`.dnfnet`): one hidden AND
  neuron per DNF term and an OR output neuron.
* Constant functions (tautology, contradiction) compile to a single constant
  neuron with zero weights and bias +0.5 (always 1) or -0.5 (always 0): no
  hidden layer.  ``from_dnf`` keeps the literal notebook form instead (an empty
  DNF is zero hidden neurons, an empty conjunct a constant hidden neuron).
* Variables the function ignores stay inputs with zero weights, so
  ``network.inputs`` is exactly the given (or naturally sorted) variable list.
* Contradictory conjuncts (x & ~x) are dropped, repeated literals merged.
* method="auto" tries one neuron (linearly separable), the symmetric
  construction and the DNF, and keeps the fewest hidden neurons.  The DNF is
  built only by the methods that use it.
* Above TABLE_VARS variables (and for tables with more relevant variables than
  the table's threshold test takes) threshold and symmetric functions are found
  from symmetry groups and counts (:mod:`.wide`); each such network is proven
  equal to the formula before it is kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..errors import LogicError
from ..formula.dnf import MAX_TERMS, Term, dnf_size_bound, dnf_terms
from ..formula.formula import Formula
from ..formula.minimize import minimize_table
from ..network.network import Layer, ThresholdNetwork
from ..prove.sat import solve_formula
from ..prove.truthtable import TruthTable, as_spec
from .dnfnet import constant_network, minterm_terms, network_from_terms
from .separable import SEPARABLE_MAX_VARS, threshold_function, unateness
from .symmetric import parity_profile, symmetric_network, symmetric_profile
from .wide import MAX_GROUPS, WideFunction, analyse_wide

__all__ = ["METHODS", "TABLE_VARS", "compile"]

METHODS = ("dnf", "auto", "threshold", "symmetric")
#: Up to this many variables compile tabulates the function (bit-sliced) to
#: detect constants, minimise, and test separability / symmetry.
TABLE_VARS = 22

_UNSET = object()
_TOO_WIDE = object()


def compile(
    source: Any,
    variables: Sequence[Any] | None = None,
    *,
    minimize: bool = False,
    method: str = "dnf",
    max_terms: int = MAX_TERMS,
    time_limit: float = 10.0,
) -> ThresholdNetwork:
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
    job = _Compilation(spec, method, minimize, max_terms, time_limit)
    used, net = job.run()
    stats = {
        **job.stats,
        **net.stats,
        "method": used,
        "hidden_after": net.hidden_size,
        "seconds": round(time.perf_counter() - t0, 6),
    }
    return ThresholdNetwork(net.inputs, net.layers, stats)


class _Compilation:
    """One call of :func:`compile`: the spec, its table when small, the DNF on demand."""

    def __init__(self, spec: Any, method: str, minimize: bool, max_terms: int, time_limit: float) -> None:
        self.spec, self.method, self.minimize = spec, method, minimize
        self.max_terms, self.time_limit = max_terms, time_limit
        self.names = tuple(spec.variables)
        n = len(self.names)
        self.table: TruthTable | None = None
        if isinstance(spec, TruthTable):
            self.table = spec
        elif n <= TABLE_VARS:
            self.table = TruthTable.from_source(spec)
        self.stats: dict[str, Any] = {"inputs": n}
        self._terms: Any = _UNSET
        self._wide: Any = _UNSET

    def run(self) -> tuple[str, ThresholdNetwork]:
        value = self.constant()
        if value is not None:
            if self.method in ("dnf", "auto"):
                self.stats["hidden_before"] = 0
            return "constant", constant_network(value, self.names)
        candidates = self.candidates()
        if not candidates:
            raise LogicError(
                "no construction applies; the DNF is too large: try method='auto' or minimize=True, or raise max_terms"
                + self.unproven_hint()
            )
        candidates.sort(key=lambda c: (c[0], c[1]))
        if self.method == "auto":
            self.stats["candidates"] = {c[2]: c[0] for c in candidates}
        elif "dnf_terms" not in self.stats and isinstance(self.spec, Formula):
            bound = dnf_size_bound(self.spec, self.max_terms)
            if bound is not None:
                self.stats["dnf_terms_at_most"] = bound
        return candidates[0][2], candidates[0][3]

    def unproven_hint(self) -> str:
        """Advice when a wide construction was found but its proof ran out of time."""
        return _unproven_hint(self._wide if self._wide is not _UNSET else None, self.time_limit)

    def constant(self) -> bool | None:
        """The function's value when it is constant, else None (also when undecided)."""
        if self.table is not None:
            if not self.table.outputs.any():
                return False
            return True if self.table.outputs.all() else None
        return _constant_by_sat(self.spec)

    def terms(self) -> list[Term] | None:
        """The unminimised DNF (the notebook's), built on first use; None when too large."""
        if self._terms is _UNSET:
            if isinstance(self.spec, TruthTable):
                self._terms = minterm_terms(self.spec)
            else:
                try:
                    self._terms = dnf_terms(self.spec, self.max_terms)
                except LogicError:
                    if self.method == "dnf" and not self.minimize:
                        raise
                    self._terms = None
            if self._terms is not None:
                self.stats["dnf_terms"] = len(self._terms)
        return self._terms

    def wide(self) -> WideFunction | None:
        """Symmetry groups and count grid (on first use): for a formula too wide to tabulate,
        or a table with more relevant variables than the table's threshold test takes."""
        if self._wide is _UNSET:
            self._wide = None
            if isinstance(self.spec, (Formula, TruthTable)):
                self._wide = analyse_wide(self.spec, time_limit=self.time_limit)
            if self._wide is not None:
                self.stats["wide"] = self._wide.stats
        return self._wide

    def candidates(self) -> list[tuple[int, int, str, ThresholdNetwork]]:
        """(hidden neurons, tie rank, method, network) of every construction that applies."""
        out = []
        if self.method in ("threshold", "auto"):
            net = _literal_gate(self.spec, self.names) if self.table is None else None
            if net is None and self.table is None:
                net = _wide_threshold(self.wide(), self.names, self.method == "threshold", self.time_limit)
            elif net is None:
                net = _threshold_candidate(self.table, self.names, self.method == "threshold", self.time_limit)
                if net is _TOO_WIDE:
                    net = _wide_threshold(self.wide(), self.names, self.method == "threshold", self.time_limit)
            if net is not None:
                out.append((net.hidden_size, 0, "threshold", net))
        if self.method in ("symmetric", "auto"):
            # a proven single neuron beats any symmetric network: skip that proof when auto has one
            wide = self.wide if not out else lambda: None
            strict = self.method == "symmetric"
            net = _symmetric_candidate(self.spec, self.table, self.names, wide, strict, self.time_limit)
            if net is not None:
                out.append((net.hidden_size, 2, "symmetric", net))
        if self.method in ("dnf", "auto"):
            try:
                net = self.dnf_candidate()
            except LogicError:
                if self.method == "dnf" or not out:
                    raise
                net = None  # auto: another construction already applies
            if net is not None:
                out.append((net.hidden_size, 1, "dnf", net))
        return out

    def dnf_candidate(self) -> ThresholdNetwork | None:
        terms, table, stats = self.terms(), self.table, self.stats
        if not self.minimize:
            if terms is None:
                return None
            stats["hidden_before"] = len(terms)
            return network_from_terms(terms, self.names)
        if table is None:
            if terms is None:
                raise LogicError(
                    f"{len(self.names)} variables: the DNF is too large and the function too "
                    f"wide to tabulate (> {TABLE_VARS} variables) for minimisation"
                )
            stats.update(
                hidden_before=len(terms),
                minimal=False,
                minimize_method="absorption only (too many variables for a table)",
            )
            return network_from_terms(terms, self.names)
        before = len(terms) if terms is not None else len(table.minterms)
        res = minimize_table(table, start=terms, time_limit=self.time_limit)
        stats.update(hidden_before=before, minimal=res.exact, minimize_method=res.method)
        return network_from_terms(res.terms, self.names)


def _unproven_hint(wide: WideFunction | None, time_limit: float) -> str:
    """'; a network was found but not proven ...' when a wide proof ran out of time, else ''."""
    proofs = wide.stats.get("proofs", []) if wide is not None else []
    if any(p["equivalent"] is None for p in proofs):
        return (
            f"; a network was found but not proven within time_limit={time_limit:g} s: raise time_limit "
            "(the SAT proof of a counting circuit can take minutes past ~100 inputs)"
        )
    return ""


def _wide_threshold(
    wide: WideFunction | None, names: Sequence[str], strict: bool, time_limit: float
) -> ThresholdNetwork | None:
    """One neuron for a formula above the table size, proven equal to it; else None (or why, if strict)."""
    net = wide.threshold_network() if wide is not None else None
    if net is None and strict:
        hint = _unproven_hint(wide, time_limit)
        if hint:
            raise LogicError(f"no single neuron proven for these {len(names)} variables{hint}")
        raise LogicError(
            f"no single neuron found for these {len(names)} variables: above {SEPARABLE_MAX_VARS} relevant "
            "variables the test works on counts of interchangeable inputs, and these counts are not linearly "
            f"separable (or there are more than {MAX_GROUPS} groups of such inputs and no weights were found); "
            "use method='dnf' or 'auto'"
        )
    if net is not None:
        return ThresholdNetwork(net.inputs, net.layers, {"method": "threshold"})
    return None


def _threshold_candidate(table: TruthTable, names: Sequence[str], strict: bool, time_limit: float) -> Any:
    """One neuron from the table; None if there is none; _TOO_WIDE past SEPARABLE_MAX_VARS relevant variables."""
    try:
        tf = threshold_function(table, time_limit=time_limit)
    except LogicError:  # more relevant variables than the table's integer program takes
        return _TOO_WIDE
    if tf is None:
        if strict:
            bad = [v for v, s in zip(names, unateness(table), strict=True) if s is None]
            why = (
                f"it is not unate in {bad[:5]} (both x and ~x matter)"
                if bad
                else "no integer weights separate its true and false rows"
            )
            raise LogicError(f"this function is not linearly separable: {why}; use method='dnf' or 'auto'")
        return None
    return ThresholdNetwork(
        tuple(names), (Layer(tf.weights[None, :].astype(float), [tf.bias]),), {"method": "threshold"}
    )


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


def _symmetric_candidate(
    spec: Any,
    table: TruthTable | None,
    names: Sequence[str],
    wide: Callable[[], WideFunction | None],
    strict: bool,
    time_limit: float = 10.0,
) -> ThresholdNetwork | None:
    profile = None
    found = None
    if isinstance(spec, Formula):
        profile = parity_profile(spec.node, names)
    if profile is None and table is not None:
        profile = symmetric_profile(table)
    if profile is None and table is None:
        found = wide()
        net = found.symmetric_network() if found is not None else None
        if net is not None:
            return net
    if profile is None:
        if strict:
            hint = _unproven_hint(found, time_limit)
            if hint:
                raise LogicError(f"no symmetric network proven for these {len(names)} variables{hint}")
            if table is None:
                raise LogicError(
                    f"no symmetry found in these {len(names)} variables (more than {TABLE_VARS}, so without a "
                    "truth table): swapping some two inputs, or an input and a negated one, changes the value; "
                    "use method='dnf' or 'auto'"
                )
            raise LogicError(
                "this function is not symmetric (its value depends on which inputs are 1, "
                "not only how many); use method='dnf' or 'auto'"
            )
        return None
    return symmetric_network(profile)


def _constant_by_sat(spec: Formula) -> bool | None:
    """For formulas too wide to tabulate: is it constant?  Uses the SAT solver when present."""
    sat_true = solve_formula(spec, want=True)
    if sat_true is None:
        return None
    if sat_true is False:
        return False
    sat_false = solve_formula(spec, want=False)
    if sat_false is False:
        return True
    return None
