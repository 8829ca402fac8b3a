"""Proof of a multi-output network against cube covers by SAT, at any number of inputs.

Why: the exhaustive check in :mod:`logicnets.prove.function_check` walks all 2^n rows,
which stops being affordable past ~20 inputs, while PLAs of the MCNC/ESPRESSO suite have
up to 130.  Here each output is checked with two SAT questions on a CNF that never grows
with 2^n: "is there an ON point where the network says 0?" and "is there an OFF point
where it says 1?".  Both UNSAT is a proof; a model is a counterexample input.

The network is encoded exactly: every neuron through its integer form
(:func:`~logicnets.network.neurons.integer_form`, ``sum a * literal >= T``), AND/OR
neurons as one Tseitin gate, other threshold neurons through a weighted sequential
counter reified in both directions.  The covers become clauses directly: an ON (or
OFF) cover is one selector variable per cube (selector -> the cube's literals, plus
"some selector"), and "in no DC cube" is one clause per DC cube (the OR of its
negated literals).  One solver per output holds the output's cone of the network;
the two questions are switched on by assumption literals.

Cubes are ``(pos, neg, outs)`` python ints as bitmasks: bit i of ``pos`` means input i
is 1, of ``neg`` input i is 0, bit k of ``outs`` means the cube belongs to output k.

>>> from logicnets.network.multinet import MultiOutputNetwork
>>> from logicnets.network.network import Layer
>>> net = MultiOutputNetwork(["a", "b"], ["y"], Layer([[1, 1]], [-1.5]), Layer([[1]], [-0.5]))
>>> verify_cubes(net, on=[(0b11, 0, 1)], dc=[]).ok          # y = a & b
True
>>> bad = verify_cubes(net, on=[(0b01, 0, 1)], dc=[])        # y = a? a=1, b=0 says 0
>>> bad.ok, bad.examples
(False, [('y', 2, 1)])
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np

from ..errors import LogicError
from ..network.multinet import MultiOutputNetwork
from ..network.neurons import IntegerNeuron, integer_forms
from .check_result import FunctionCheck

__all__ = ["MAX_COUNTER_CELLS", "verify_cubes"]

Cube = tuple[int, int, int]

#: Largest (literals x threshold) of one threshold neuron the counter encoding accepts.
MAX_COUNTER_CELLS = 4_000_000


def _bits(mask: int) -> list[int]:
    """Indices of the set bits of ``mask``, lowest first."""
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


class _Cnf:
    """Clauses over input variables 1..n plus fresh ones; ``True``/``False`` are constant wires."""

    def __init__(self, n_inputs: int) -> None:
        self.top = n_inputs
        self.clauses: list[list[int]] = []

    def new(self) -> int:
        self.top += 1
        return self.top

    def gate_and(self, lits: list[int]) -> int | bool:
        """A variable g with g <-> AND(lits) (constants folded)."""
        if not lits:
            return True
        if len(lits) == 1:
            return lits[0]
        g = self.new()
        self.clauses.extend([-g, lit] for lit in lits)
        self.clauses.append([g] + [-lit for lit in lits])
        return g

    def at_least(self, lits: list[int], weights: list[int], t: int) -> int | bool:
        """A variable g with g <-> sum(weights * lits) >= t, exact in both directions.

        Sequential weighted counter: s[j] after literal i means "the sum so far is >= j",
        j = 1..t (saturating), reified as s_i[j] <-> s_{i-1}[j] | (x_i & s_{i-1}[j - a_i]).
        When t is above half the total, the complement "sum of the negated literals >=
        total - t + 1" needs fewer cells, and g is its negation.
        """
        total = sum(weights)
        if t <= 0:
            return True
        if t > total:
            return False
        if t > total - t + 1:
            g = self.at_least([-x for x in lits], weights, total - t + 1)
            return not g if isinstance(g, bool) else -g
        if len(lits) * t > MAX_COUNTER_CELLS:
            raise LogicError(
                f"a neuron with {len(lits)} inputs and threshold {t} is too large for the SAT counter "
                f"encoding ({MAX_COUNTER_CELLS} cells); scale its weights down"
            )
        prev: list[int | bool] = [True] + [False] * t
        for x, a in zip(lits, weights, strict=True):
            cur: list[int | bool] = [True]
            for j in range(1, t + 1):
                cur.append(self._cell(prev[j], x, prev[max(0, j - a)]))
            prev = cur
        return prev[t]

    def _cell(self, p: int | bool, x: int, q: int | bool) -> int | bool:
        """A wire s <-> p | (x & q), with constants folded."""
        if p is True or (q is True and p is False):
            return True if p is True else x
        if q is False:
            return p
        if p is False:
            return self.gate_and([x, q])
        if q is True:  # s <-> p | x
            s = self.new()
            self.clauses += [[-p, s], [-x, s], [-s, p, x]]
            return s
        s = self.new()
        self.clauses += [[-p, s], [-x, -q, s], [-s, p, x], [-s, p, q]]
        return s

    def neuron(self, form: IntegerNeuron, inputs: Sequence[int | bool]) -> int | bool:
        """The output wire of ``sum a * literal >= T`` over the wires ``inputs``."""
        lits: list[int] = []
        weights: list[int] = []
        t = form.threshold
        for i, a, neg in form.literals:
            x = inputs[i]
            if neg:
                x = (not x) if isinstance(x, bool) else -x
            if isinstance(x, bool):
                t -= a if x else 0
                continue
            lits.append(x)
            weights.append(a)
        if t <= 0:
            return True
        if t > sum(weights):
            return False
        if t == sum(weights):
            return self.gate_and(lits)
        if t <= min(weights):
            g = self.gate_and([-x for x in lits])
            return not g if isinstance(g, bool) else -g
        d = math.gcd(*weights)  # same function with fewer counter cells: sum(a/d * x) >= ceil(t/d)
        return self.at_least(lits, [a // d for a in weights], -(-t // d))


def _forms(net: MultiOutputNetwork) -> tuple[list[IntegerNeuron], list[IntegerNeuron]]:
    """Integer forms of both layers; a clear error when a weight is not dyadic."""
    hidden = integer_forms(net.hidden.weights, net.hidden.biases)
    out = integer_forms(net.output_layer.weights, net.output_layer.biases)
    if any(f is None for f in hidden) or any(f is None for f in out):
        raise LogicError(
            "the SAT proof needs dyadic weights (integers, halves, quarters, ...) of modest size; "
            "this network has other weights: check it exhaustively (at most 24 inputs)"
        )
    return hidden, out  # type: ignore[return-value]


def _encode_output(cnf: _Cnf, hidden: list[IntegerNeuron], form: IntegerNeuron, n: int) -> int | bool:
    """The wire of one output, encoding only its cone (the hidden neurons it reads)."""
    wires: list[int | bool] = [False] * len(hidden)
    inputs = list(range(1, n + 1))
    for j in sorted({j for j, _, _ in form.literals}):
        wires[j] = cnf.neuron(hidden[j], inputs)
    return cnf.neuron(form, wires)


def _cube_lits(pos: int, neg: int) -> list[int]:
    return [i + 1 for i in _bits(pos)] + [-(i + 1) for i in _bits(neg)]


def _literal_cover(cubes: Sequence[Cube] | None, n: int, m: int) -> list[tuple[list[int], int]] | None:
    """Each non-empty cube as its literals (input i is variable i + 1) with its outputs, once for all outputs."""
    if cubes is None:
        return None
    out = []
    for pos, neg, outs in cubes:
        if (pos | neg) >> n or outs >> m or min(pos, neg, outs) < 0:
            raise LogicError(
                f"cube ({pos:#x}, {neg:#x}, {outs:#x}) names an input beyond the network's {n} "
                f"or an output beyond the {m} checked; give bitmasks over those only"
            )
        if not pos & neg:
            out.append((_cube_lits(pos, neg), outs))
    return out


def _outside(cnf: _Cnf, cubes: list[list[int]], guard: int) -> bool:
    """Clauses: the point is in none of ``cubes`` (when ``guard`` holds). False: impossible."""
    for lits in cubes:
        if not lits:
            return False  # the whole space
        cnf.clauses.append([-guard, *(-lit for lit in lits)])
    return True


def _inside(cnf: _Cnf, cubes: list[list[int]], guard: int) -> bool:
    """Clauses: the point is in one of ``cubes`` (when ``guard`` holds). False: no cube."""
    selectors = []
    for lits in cubes:
        c = cnf.new()
        selectors.append(c)
        cnf.clauses.extend([-c, lit] for lit in lits)
    if not selectors:
        return False
    cnf.clauses.append([-guard, *selectors])
    return True


def _questions(
    cnf: _Cnf, on: list[list[int]], dc: list[list[int]], off: list[list[int]] | None
) -> list[tuple[list[int], int]]:
    """Guarded cover constraints for the two questions: (assumptions, expected output value).
    "In no DC cube" is shared by both questions under its own guard."""
    g_dc = cnf.new()
    if not _outside(cnf, dc, g_dc):
        return []  # every point is a don't-care
    asks = []
    g_on = cnf.new()
    if _inside(cnf, on, g_on):
        asks.append(([g_on, g_dc], 1))
    g_off = cnf.new()
    if _inside(cnf, off, g_off) if off is not None else _outside(cnf, on, g_off):
        asks.append(([g_off, g_dc], 0))
    return asks


def _for_output(cubes: Sequence[Cube] | None, k: int) -> list[Cube] | None:
    return None if cubes is None else [c for c in cubes if c[2] >> k & 1]


def _lits_for_output(cover: list[tuple[list[int], int]] | None, k: int) -> list[list[int]] | None:
    return None if cover is None else [lits for lits, outs in cover if outs >> k & 1]


def _row(model: list[int], n: int) -> int:
    """The model's input point as a row number (input 0 most significant, as in :mod:`logicnets.rows`)."""
    r = 0
    for i in range(n):
        r = (r << 1) | int(model[i] > 0)
    return r


def _check_output(forms: tuple, k_net: int, cubes: tuple, n: int) -> list[tuple[int, int]]:
    """(row, expected) counterexamples of one output: at most one per question."""
    from pysat.solvers import Solver

    hidden, out = forms
    cnf = _Cnf(n)
    wire = _encode_output(cnf, hidden, out[k_net], n)
    asks = _questions(cnf, *cubes)
    found = []
    with Solver(name=_solver_name(), bootstrap_with=cnf.clauses) as solver:
        for guards, expected in asks:
            if wire is (expected == 1):
                continue  # a constant output that is right on every point
            assume = guards if isinstance(wire, bool) else [*guards, -wire if expected else wire]
            if solver.solve(assumptions=assume):
                model = solver.get_model()
                model += [-(v + 1) for v in range(len(model), n)]
                found.append((_row(model, n), expected))
    return found


def _solver_name() -> str:
    from pysat.solvers import SolverNames

    for name in ("glucose4", "minisat22", "cadical153"):
        if hasattr(SolverNames, name):
            return name
    raise LogicError("python-sat has none of CaDiCaL, Glucose or MiniSat; reinstall python-sat")  # pragma: no cover


def _in_cover(point: int, cubes: Sequence[Cube]) -> bool:
    """Is the point (bit i = input i) in one of the cubes?"""
    return any(point & pos == pos and not point & neg for pos, neg, _ in cubes)


def _confirm(net: MultiOutputNetwork, k_net: int, row: int, expected: int, cubes: tuple, n: int) -> None:
    """A counterexample must be a real ON/OFF point that the float network gets wrong
    (an independent check of the encoding, on one row)."""
    on, dc, off = cubes
    point = sum(1 << i for i in range(n) if (row >> (n - 1 - i)) & 1)
    if expected == 1:
        real = _in_cover(point, on)
    else:
        real = _in_cover(point, off) if off is not None else not _in_cover(point, on)
    real = real and not _in_cover(point, dc)
    x = np.array([[(row >> (n - 1 - i)) & 1 for i in range(n)]], dtype=np.float64)
    if not real or int(net(x)[0, k_net]) == expected:
        raise LogicError(f"internal error: the SAT encoding disagrees with the network at input {row:0{n}b}")


def verify_cubes(
    net: MultiOutputNetwork,
    on: Sequence[Cube],
    dc: Sequence[Cube],
    off: Sequence[Cube] | None = None,
    outputs: Sequence[str] | None = None,
    max_examples: int = 8,
) -> FunctionCheck:
    """Prove ``net`` right on every ON and OFF point of the covers, by SAT, at any width.

    Per output k (bit k of a cube's ``outs``; ``outputs[k]`` names it in the network,
    default the network's own order): without ``off`` a point is ON if it is in an ON
    cube and in no DC cube of k, OFF if in neither; with ``off`` it is OFF if in an OFF
    cube and in no DC cube, and points in no cover are free (ESPRESSO's f/fd vs fr/fdr).
    ``wrong_on``/``wrong_off`` are 1 where a counterexample was found (SAT finds one
    point, it does not count them), and ``dc_rows``/``rows_checked`` stay 0: no row is
    enumerated.
    """
    t0 = time.perf_counter()
    n = net.n_inputs
    names = tuple(net.outputs if outputs is None else outputs)
    position = {name: k for k, name in enumerate(net.outputs)}  # a dict: no scan of the outputs per output
    missing = [o for o in names if o not in position]
    if missing:
        raise LogicError(f"the network has no output(s) {missing}")
    forms = _forms(net)
    covers = [_literal_cover(c, n, len(names)) for c in (on, dc, off)]
    wrong_on, wrong_off, examples = [], [], []
    for k, name in enumerate(names):
        k_net = position[name]
        found = _check_output(forms, k_net, tuple(_lits_for_output(c, k) for c in covers), n)
        for row, expected in found:
            _confirm(net, k_net, row, expected, tuple(_for_output(c, k) for c in (on, dc, off)), n)
            if len(examples) < max_examples:
                examples.append((name, row, expected))
        wrong_on.append(sum(e == 1 for _, e in found))
        wrong_off.append(sum(e == 0 for _, e in found))
    return FunctionCheck(
        not any(wrong_on) and not any(wrong_off),
        names,
        tuple(wrong_on),
        tuple(wrong_off),
        (0,) * len(names),
        0,
        time.perf_counter() - t0,
        examples,
        method=f"SAT ({_solver_name()}), no rows enumerated",
        n_inputs=n,
    )
