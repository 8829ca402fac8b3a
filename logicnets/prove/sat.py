"""Equivalence by SAT beyond exhaustive enumeration: Tseitin encoding + a real solver.

Why: sympy's ``satisfiable`` (DPLL, no Tseitin encoding) needs ~5 s for 12
variables and minutes for 14.  We encode both sides as circuits in CNF — one
fresh variable per gate, threshold neurons through an exact weighted counter —
assert that the outputs differ (a "miter") and hand it to CaDiCaL/Glucose from
``python-sat``.  UNSAT is a proof of equivalence; a model is a counterexample.
Without python-sat installed, :func:`prove` falls back to sympy's ``satisfiable``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import LogicError
from ..formula.formula import Formula
from ..formula.nodes import Node
from ..formula.walk import fold
from ..network.network import ThresholdNetwork
from ..network.neurons import integer_form

__all__ = ["CircuitCNF", "cofactors_differ", "have_solver", "prove", "prove_within", "solve_formula", "solver_name"]

#: Conflicts per slice of a time-limited solve (a fraction of a second each).
CONFLICT_SLICE = 20_000
#: Largest (literals x threshold) of one threshold neuron the counter encoding accepts.
MAX_COUNTER_CELLS = 2_000_000


def _solver_class():
    try:
        from pysat.solvers import Solver, SolverNames
    except ImportError:  # pragma: no cover - exercised only without python-sat
        return None, None
    for name in ("cadical153", "glucose4", "minisat22"):
        if hasattr(SolverNames, name):
            return Solver, name
    return None, None  # pragma: no cover


def have_solver() -> bool:
    """True when python-sat is importable (the fast SAT path)."""
    return _solver_class()[0] is not None


def solver_name() -> str:
    return _solver_class()[1] or "sympy satisfiable (DPLL)"


class CircuitCNF:
    """Builds CNF gate by gate (Tseitin); Python True/False are constant wires."""

    def __init__(self, n_inputs: int) -> None:
        self.top = n_inputs
        self.clauses: list[list[int]] = []
        self._cache: dict[tuple, int] = {}

    def new(self) -> int:
        self.top += 1
        return self.top

    @staticmethod
    def neg(a: Any) -> Any:
        return (not a) if isinstance(a, bool) else -a

    def and_(self, lits: Sequence[Any]) -> Any:
        out: set[int] = set()
        for lit in lits:
            if lit is False:
                return False
            if lit is True:
                continue
            if -lit in out:
                return False
            out.add(lit)
        if not out:
            return True
        if len(out) == 1:
            return next(iter(out))
        key = ("and", *tuple(sorted(out)))
        if key in self._cache:
            return self._cache[key]
        g = self.new()
        for lit in out:
            self.clauses.append([-g, lit])
        self.clauses.append([g] + [-lit for lit in out])
        self._cache[key] = g
        return g

    def or_(self, lits: Sequence[Any]) -> Any:
        return self.neg(self.and_([self.neg(lit) for lit in lits]))

    def xor2(self, a: Any, b: Any) -> Any:
        if isinstance(a, bool):
            return self.neg(b) if a else b
        if isinstance(b, bool):
            return self.neg(a) if b else a
        if a == b:
            return False
        if a == -b:
            return True
        key = ("xor", min(a, b), max(a, b))
        if key in self._cache:
            return self._cache[key]
        g = self.new()
        self.clauses += [[-g, a, b], [-g, -a, -b], [g, -a, b], [g, a, -b]]
        self._cache[key] = g
        return g

    def ite(self, c: Any, t: Any, e: Any) -> Any:
        return self.or_([self.and_([c, t]), self.and_([self.neg(c), e])])

    def formula(self, node: Node, inputs: dict[str, Any]) -> Any:
        """The output wire of a formula tree; one gate per distinct subtree."""

        def gate(n: Node, v: list[Any]) -> Any:
            op = n[0]
            if op == "var":
                return inputs[n[1]]
            if op == "const":
                return bool(n[1])
            if op == "not":
                return self.neg(v[0])
            if op == "and":
                return self.and_(v)
            if op == "or":
                return self.or_(v)
            if op == "xor":
                r = False
                for c in v:
                    r = self.xor2(r, c)
                return r
            if op == "implies":
                return self.or_([self.neg(v[0]), v[1]])
            if op == "eq":
                return self.or_([self.and_(v), self.and_([self.neg(c) for c in v])])
            if op == "ite":
                return self.ite(*v)
            raise LogicError(f"unknown formula node {op!r}")

        return fold(node, gate)

    def neuron(self, weights: np.ndarray, bias: float, inputs: Sequence[Any]) -> Any:
        form = integer_form(weights, bias)
        if form is None:
            raise LogicError(
                "the SAT proof needs dyadic weights (integers, halves, quarters, ...); "
                "this network has other weights: verify exhaustively instead"
            )
        kind = form.kind
        lits = [self.neg(inputs[i]) if neg else inputs[i] for i, _, neg in form.literals]
        if kind == "const1":
            return True
        if kind == "const0":
            return False
        if kind == "and":
            return self.and_(lits)
        if kind == "or":
            return self.or_(lits)
        T = form.threshold
        if len(lits) * T > MAX_COUNTER_CELLS:
            raise LogicError(
                f"a neuron with {len(lits)} inputs and threshold {T} is too large for the "
                "SAT counter encoding; scale its weights down or verify exhaustively"
            )
        # prev[s] = "weighted sum of the literals so far >= s", exact (both directions)
        prev: list[Any] = [True] + [False] * T
        for lit, (_, a, _) in zip(lits, form.literals, strict=True):
            cur = [True] * (T + 1)
            for s in range(1, T + 1):
                cur[s] = self.or_([prev[s], self.and_([lit, prev[max(0, s - a)]])])
            prev = cur
        return prev[T]

    def network(self, network: Any, inputs: Sequence[Any]) -> Any:
        h = list(inputs)
        for layer in network.layers:
            h = [self.neuron(layer.weights[j], layer.biases[j], h) for j in range(layer.size)]
        return h[0]

    def encode(self, spec: Any, variables: Sequence[str]) -> Any:
        inputs = {v: i + 1 for i, v in enumerate(variables)}
        if isinstance(spec, Formula):
            return self.formula(spec.node, inputs)
        if isinstance(spec, ThresholdNetwork):
            return self.network(spec, [inputs[v] for v in spec.inputs])
        raise LogicError(f"cannot encode {type(spec).__name__} for SAT; give a formula or a network")


def _solve(cnf: CircuitCNF, out: Any, n: int, limit: int) -> list[list[int]] | None:
    """Models (input rows) where ``out`` is true, up to ``limit``; [] if UNSAT; None if no solver."""
    if out is False:
        return []
    Solver, name = _solver_class()
    if Solver is None:
        return None
    clauses = list(cnf.clauses)
    if out is not True:
        clauses.append([out])
    rows = []
    with Solver(name=name, bootstrap_with=clauses) as s:
        while len(rows) < limit and s.solve():
            model = s.get_model()
            vals = {abs(lit): lit > 0 for lit in model}
            row = [int(vals.get(i, False)) for i in range(1, n + 1)]
            rows.append(row)
            if n == 0:
                break
            s.add_clause([-(i + 1) if row[i] else i + 1 for i in range(n)])
    return rows


def _models_within(s: Any, n: int, limit: int, deadline: float) -> list[list[int]] | None:
    """Up to ``limit`` models of a loaded solver, solving in slices of conflicts; None when the
    deadline passes before the first answer (later models are best effort)."""
    rows: list[list[int]] = []
    while len(rows) < limit:
        s.conf_budget(CONFLICT_SLICE)
        found = s.solve_limited()
        if found is None:
            if time.perf_counter() > deadline:
                return rows or None
            continue
        if not found:
            break
        vals = {abs(lit): lit > 0 for lit in s.get_model()}
        rows.append([int(vals.get(i, False)) for i in range(1, n + 1)])
        if n == 0:
            break
        s.add_clause([-(i + 1) if rows[-1][i] else i + 1 for i in range(n)])
    return rows


def prove_within(
    a: Any, b: Any, variables: Sequence[str], time_limit: float, max_counterexamples: int = 8
) -> tuple[bool | None, list[list[int]], str]:
    """:func:`prove` with a wall-clock budget: (None, [], engine) when undecided in time or
    without python-sat.

    Why: a miter of two different counting circuits can take minutes past ~100 inputs, and
    the compiler would rather drop a candidate network than hang.  The solver runs in slices
    of ``CONFLICT_SLICE`` conflicts (CaDiCaL ignores ``interrupt``) and keeps what it learned.
    """
    n = len(variables)
    cnf = CircuitCNF(n)
    miter = cnf.xor2(cnf.encode(a, variables), cnf.encode(b, variables))
    Solver, name = _solver_class()
    engine = f"SAT ({name}, Tseitin encoding)"
    if miter is False:
        return True, [], engine
    if Solver is None:
        return None, [], "no SAT solver (python-sat is missing)"
    clauses = list(cnf.clauses) + ([[miter]] if miter is not True else [])
    with Solver(name=name, bootstrap_with=clauses) as s:
        rows = _models_within(s, n, max(1, max_counterexamples), time.perf_counter() + time_limit)
    if rows is None:
        return None, [], engine
    return not rows, rows, engine


def solve_formula(formula: Formula, want: bool = True) -> bool | None:
    """Is ``formula == want`` satisfiable?  None when python-sat is missing."""
    cnf = CircuitCNF(formula.n)
    out = cnf.encode(formula, formula.variables)
    rows = _solve(cnf, out if want else cnf.neg(out), formula.n, 1)
    return None if rows is None else bool(rows)


def prove(
    a: Any, b: Any, variables: Sequence[str], max_counterexamples: int = 8, engine: str = "auto"
) -> tuple[bool, list[list[int]], str]:
    """Decide ``a == b`` for all inputs; returns (equivalent, counterexample rows, engine).

    ``engine="auto"`` uses python-sat when installed, else sympy; ``"sympy"`` forces
    sympy's ``satisfiable`` on ``Xor(a, b)`` (slow past ~12 variables).
    """
    if engine == "sympy":
        return _prove_sympy(a, b, variables, max_counterexamples)
    n = len(variables)
    cnf = CircuitCNF(n)
    oa = cnf.encode(a, variables)
    ob = cnf.encode(b, variables)
    miter = cnf.xor2(oa, ob)
    if miter is False:
        return True, [], "SAT encoding (both sides reduce to the same gate)"
    rows = _solve(cnf, miter, n, max(1, max_counterexamples))
    if rows is not None:
        return (not rows), rows, f"SAT ({_solver_class()[1]}, Tseitin encoding)"
    return _prove_sympy(a, b, variables, max_counterexamples)


def _prove_sympy(a: Any, b: Any, variables: Sequence[str], limit: int) -> tuple[bool, list[list[int]], str]:
    """sympy ``satisfiable`` on the same Tseitin miter (equisatisfiable with ``Xor(a, b)``).

    Handing sympy ``Xor(a, b)`` itself makes it build a CNF that is exponential in
    the formula size (8 variables and 12 terms already take minutes); the
    clause form keeps its DPLL polynomial per step.
    """
    import sympy
    from sympy.logic.inference import satisfiable

    n = len(variables)
    cnf = CircuitCNF(n)
    miter = cnf.xor2(cnf.encode(a, variables), cnf.encode(b, variables))
    engine = "sympy satisfiable (DPLL on the Tseitin miter)"
    if miter is False:
        return True, [], engine
    syms = [sympy.Symbol(f"_in{i}") for i in range(n)] + [sympy.Dummy(f"g{i}") for i in range(cnf.top - n)]

    def literal(lit: int) -> Any:
        return syms[lit - 1] if lit > 0 else sympy.Not(syms[-lit - 1])

    clauses = [sympy.Or(*[literal(lit) for lit in c]) for c in cnf.clauses]
    if miter is not True:
        clauses.append(literal(miter))
    rows: list[list[int]] = []
    expr = sympy.And(*clauses)
    while len(rows) < max(1, limit):
        model = satisfiable(expr)
        if not model:
            break
        row = [int(bool(model.get(syms[i], False))) for i in range(n)]
        rows.append(row)
        if n == 0:
            break
        expr = sympy.And(expr, sympy.Or(*[sympy.Not(syms[i]) if row[i] else syms[i] for i in range(n)]))
    return (not rows), rows, engine


def cofactors_differ(formula: Formula, first: Mapping[str, bool], second: Mapping[str, bool]) -> bool | None:
    """Is there an input where ``formula`` with the ``first`` variables fixed differs from it with
    the ``second`` fixed (every other variable shared)?  None when python-sat is missing.

    Why: two cofactors that never differ prove a property for all 2^n inputs at once, e.g.
    f(x=0) == f(x=1) (x is irrelevant) or f(x=1, y=0) == f(x=0, y=1) (x and y are interchangeable).
    """
    cnf = CircuitCNF(formula.n)
    base: dict[str, Any] = {v: i + 1 for i, v in enumerate(formula.variables)}
    a = cnf.formula(formula.node, {**base, **first})
    b = cnf.formula(formula.node, {**base, **second})
    rows = _solve(cnf, cnf.xor2(a, b), formula.n, 1)
    return None if rows is None else bool(rows)
