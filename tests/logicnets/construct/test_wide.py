"""compile(method="auto") above the truth-table size: symmetric and threshold formulas given as DAGs."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from logicnets import Formula, LogicError, compile, verify
from logicnets.construct import wide
from logicnets.construct.compiler import TABLE_VARS
from logicnets.formula.nodes import FALSE, TRUE, Node, and_, not_, or_, var
from logicnets.formula.walk import node_size
from logicnets.prove.verify import EXHAUSTIVE_VARS


def at_least(literals: list[Node], k: int) -> Node:
    """Sequential counter: c[j] = "at least j of the literals so far", sharing every c[j].
    A literal listed w times counts with weight w."""
    c = [TRUE] + [FALSE] * k
    for lit in literals:
        new = [TRUE]
        for j in range(1, k + 1):
            grow = lit if c[j - 1] is TRUE else FALSE if c[j - 1] is FALSE else and_(lit, c[j - 1])
            new.append(grow if c[j] is FALSE else c[j] if grow is FALSE else or_(c[j], grow))
        c = new
    return c[k]


def sorting_network(xs: list, lor=sympy.Or, land=sympy.And, false=sympy.false) -> list:
    """Batcher's odd-even merge sort (sympy And/Or by default): out[j] is "at least j+1 inputs are true"."""
    m = 1
    while m < len(xs):
        m *= 2
    w = list(xs) + [false] * (m - len(xs))
    p = 1
    while p < m:
        k = p
        while k >= 1:
            for j in range(k % p, m - k, 2 * k):
                for i in range(min(k, m - j - k)):
                    if (i + j) // (p * 2) == (i + j + k) // (p * 2):
                        a, b = w[i + j], w[i + j + k]
                        w[i + j], w[i + j + k] = lor(a, b), land(a, b)
            k //= 2
        p *= 2
    return w[: len(xs)]


def names(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i}" for i in range(n)]


def random_rows(n: int, count: int = 3000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.random((count, n)) < rng.random((count, 1))).astype(np.uint8)


def test_at_least_13_of_25_as_a_sympy_sorting_network_is_one_neuron():
    xs = sympy.symbols("x0:25")
    expr = sorting_network(xs)[12]
    formula = Formula.from_sympy(expr, xs)
    assert node_size(formula.node) < 1000  # a DAG; its DNF has C(25, 13) = 5.2 million terms
    with pytest.raises(LogicError, match="DNF of this formula has more than"):
        compile(expr, xs)  # the notebook's construction
    net = compile(expr, xs, method="auto")
    assert len(net.layers) == 1 and net.hidden_size == 0 and net.stats["method"] == "threshold"
    assert net.layers[0].weights.tolist() == [[1.0] * 25] and net.layers[0].biases.tolist() == [-12.5]
    assert net.stats["wide"]["groups"] == [25]
    assert all(p["equivalent"] for p in net.stats["wide"]["proofs"])
    assert verify(net, expr, xs)


def test_exactly_k_of_32_from_a_sorting_network_is_two_hidden_neurons():
    xs = sympy.symbols("x0:32")
    out = sorting_network(xs)
    expr = sympy.And(out[9], sympy.Not(out[10]))  # exactly 10
    net = compile(expr, xs, method="auto")
    assert net.hidden_size == 2 and net.stats["method"] == "symmetric"
    rows = random_rows(32)
    assert np.array_equal(net(rows), (rows.sum(1) == 10).astype(np.uint8))
    check = verify(net, expr, xs)
    assert check and "SAT" in check.method


def test_parity_of_30_as_a_chain_of_and_or_xors_is_symmetric():
    acc = var("p0")
    for v in names("p", 30)[1:]:
        acc = or_(and_(acc, not_(var(v))), and_(not_(acc), var(v)))  # acc ^ v, acc shared twice
    formula = Formula(acc, tuple(names("p", 30)))
    net = compile(formula, method="auto")
    assert net.hidden_size == 30 and net.stats["method"] == "symmetric"
    rows = random_rows(30)
    assert np.array_equal(net(rows), rows.sum(1) % 2)
    assert verify(net, formula)


def test_parity_of_30_as_a_sympy_xor_chain():
    xs = sympy.symbols("x0:30")
    expr = xs[0]
    for x in xs[1:]:
        expr = sympy.Xor(expr, x)
    net = compile(expr, xs, method="auto")
    assert net.hidden_size == 30 and verify(net, expr, xs)


def test_negated_literals_form_one_group_and_one_neuron():
    lits = [var(v) for v in names("a", 14)] + [not_(var(v)) for v in names("b", 14)]
    formula = Formula(at_least(lits, 15), tuple(names("a", 14) + names("b", 14)))
    net = compile(formula, method="auto")
    assert len(net.layers) == 1
    w = net.layers[0].weights[0]
    assert w[:14].tolist() == [1.0] * 14 and w[14:].tolist() == [-1.0] * 14
    assert verify(net, formula)
    exactly = compile(Formula(and_(at_least(lits, 15), not_(at_least(lits, 16))), formula.variables), method="auto")
    assert exactly.hidden_size == 2 and exactly.stats["wide"]["groups"] == [28]


def weighted_formula(n_heavy: int = 5, n_light: int = 18, k: int = 14) -> tuple[Formula, np.ndarray]:
    """2*(a0 + ... ) + (b0 + ...) >= k as a counter that lists each heavy input twice."""
    heavy, light = names("a", n_heavy), names("b", n_light)
    lits = [var(v) for v in heavy for _ in range(2)] + [var(v) for v in light]
    weights = np.array([2] * n_heavy + [1] * n_light)
    return Formula(at_least(lits, k), tuple(heavy + light)), weights


def test_weighted_threshold_symmetric_in_groups_is_one_neuron():
    formula, weights = weighted_formula()
    assert formula.n > TABLE_VARS
    net = compile(formula, method="auto")
    assert len(net.layers) == 1 and net.stats["wide"]["groups"] == [5, 18]
    assert net.layers[0].weights[0].tolist() == weights.tolist() and net.layers[0].biases.tolist() == [-13.5]
    assert verify(net, formula)


def test_threshold_without_affordable_groups_by_counterexample_guided_search(monkeypatch):
    monkeypatch.setattr(wide, "MAX_GROUPS", 1)  # pretend the groups were too many
    formula, weights = weighted_formula(4, 19, 13)
    net = compile(formula, method="threshold")
    assert net.layers[0].weights[0].tolist() == weights.tolist()
    assert net.stats["wide"]["groups"] is None and net.stats["wide"]["cegis_rounds"] >= 1
    assert verify(net, formula)
    nonunate = Formula(or_(at_least([var(v) for v in names("x", 24)], 12), var("x3")), tuple(names("x", 24)))
    with pytest.raises(LogicError, match="no single neuron"):
        compile(
            Formula(and_(nonunate.node, not_(at_least([var(v) for v in names("x", 24)], 20))), nonunate.variables),
            method="threshold",
        )


def test_groups_whose_counts_are_not_separable_are_refused_with_a_reason():
    left, right = names("l", 12), names("r", 12)
    node = or_(
        and_(at_least([var(v) for v in left], 6), not_(at_least([var(v) for v in right], 6))),
        and_(not_(at_least([var(v) for v in left], 6)), at_least([var(v) for v in right], 6)),
    )
    formula = Formula(node, tuple(left + right))
    with pytest.raises(LogicError, match="no single neuron"):
        compile(formula, method="threshold")
    with pytest.raises(LogicError, match="no symmetry found"):
        compile(formula, method="symmetric")


def test_a_symmetry_broken_at_one_input_is_never_trusted():
    """Sampling cannot see a single exceptional input; the proof must, and no network comes back."""
    xs = names("x", 24)
    point = and_(*[var(v) if i % 3 else not_(var(v)) for i, v in enumerate(xs)])
    majority = at_least([var(v) for v in xs], 12)
    formula = Formula(or_(and_(majority, not_(point)), and_(not_(majority), point)), tuple(xs))
    found = wide.analyse_wide(formula)
    assert found is not None and found.stats["groups"] == [24]  # the sample saw a symmetric function
    assert found.threshold_network() is None and found.symmetric_network() is None
    assert [p["equivalent"] for p in found.stats["proofs"]] == [False, False]
    with pytest.raises(LogicError):
        compile(formula, method="threshold")
    with pytest.raises(LogicError):
        compile(formula, method="symmetric")
    with pytest.raises(LogicError, match="no construction applies"):
        compile(formula, method="auto")


def test_inputs_the_formula_mentions_but_ignores_get_zero_weight():
    xs = names("x", 21)
    dead = and_(var("z"), not_(var("z")))
    formula = Formula(or_(at_least([var(v) for v in xs], 8), dead), (*xs, "z", "unused"))
    assert formula.n > TABLE_VARS
    net = compile(formula, method="auto")
    assert len(net.layers) == 1 and net.stats["wide"]["relevant"] == 21
    assert net.layers[0].weights[0, 21:].tolist() == [0.0, 0.0]
    assert verify(net, formula)


def test_verify_uses_sat_above_the_exhaustive_size_and_finds_a_counterexample():
    xs = names("x", 32)
    formula = Formula(at_least([var(v) for v in xs], 16), tuple(xs))
    assert formula.n > EXHAUSTIVE_VARS
    net = compile(formula, method="auto")
    check = verify(net, formula)
    assert check and "SAT" in check.method
    w, b = net.layers[0].weights, net.layers[0].biases
    wrong = type(net)(net.inputs, ((w, b + 1.0),))  # at least 15
    bad = verify(wrong, formula)
    assert not bad and bad.counterexamples.sum(axis=1).tolist() == [15] * len(bad.counterexamples)
    assert bad.expected.tolist() == [0] * len(bad.expected) and bad.got.tolist() == [1] * len(bad.got)


def test_tables_with_more_relevant_variables_than_the_table_test_takes_get_one_neuron():
    from logicnets import TruthTable
    from logicnets.construct.separable import SEPARABLE_MAX_VARS

    n = 18
    assert SEPARABLE_MAX_VARS < n <= TABLE_VARS
    rows = np.arange(1 << n)
    popcount = np.bitwise_count(rows.astype(np.uint64)).astype(int)
    table = TruthTable.from_outputs(popcount >= 9, names("x", n))
    net = compile(table, method="auto")
    assert len(net.layers) == 1 and net.stats["method"] == "threshold"
    assert np.array_equal(TruthTable.from_source(net).outputs, table.outputs)
    formula, weights = weighted_formula(4, 15, 12)
    net = compile(formula, method="threshold")
    assert net.layers[0].weights[0].tolist() == weights.tolist() and verify(net, formula)
    with pytest.raises(LogicError, match="no single neuron"):
        high = np.bitwise_count((rows >> 9).astype(np.uint64)).astype(int)
        both = (high >= 5) & (popcount - high >= 5)  # unate, but an AND of two majorities is no neuron
        compile(TruthTable.from_outputs(both, names("x", n)), method="threshold")


def test_sat_proof_with_a_time_budget_answers_or_says_undecided():
    from logicnets.network.network import Layer, ThresholdNetwork
    from logicnets.prove.sat import prove_within

    xs = names("x", 48)
    formula = Formula(sorting_network([var(v) for v in xs], or_, and_, FALSE)[23], tuple(xs))
    neuron = ThresholdNetwork(tuple(xs), (Layer(np.ones((1, 48)), [-23.5]),))
    # one slice of conflicts is not enough for this miter: with no time left the answer is "undecided"
    equal, rows, method = prove_within(formula, neuron, xs, time_limit=0.0)
    assert equal is None and rows == [] and "SAT" in method
    wrong = ThresholdNetwork(tuple(xs), (Layer(np.ones((1, 48)), [-22.5]),))  # at least 23
    equal, rows, _ = prove_within(formula, wrong, xs, time_limit=0.0, max_counterexamples=3)
    assert equal is False and [sum(r) for r in rows] == [23, 23, 23]


def test_a_proof_that_runs_out_of_time_drops_the_network_with_advice(monkeypatch):
    monkeypatch.setattr(wide, "prove_within", lambda *args, **kwargs: (None, [], "SAT (stub: out of time)"))
    xs = names("x", 30)
    formula = Formula(at_least([var(v) for v in xs], 15), tuple(xs))
    with pytest.raises(LogicError, match=r"no single neuron proven .* not proven within time_limit=3 s"):
        compile(formula, method="threshold", time_limit=3)
    with pytest.raises(LogicError, match=r"no construction applies.*raise time_limit"):
        compile(formula, method="auto", time_limit=3)
