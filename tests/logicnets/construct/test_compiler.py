"""compile(): edge cases, minimisation, one-neuron and symmetric constructions, decompile."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import sympy
from sympy.logic.boolalg import Xor

from logicnets import (
    Formula,
    LogicError,
    ThresholdNetwork,
    TruthTable,
    compile,
    constant_network,
    decompile,
    exactly_k_network,
    from_dnf,
    parity_network,
    symmetric_profile,
    threshold_function,
    verify,
)
from logicnets.construct.separable import unateness

x, y, z = sympy.symbols("x y z")


def table(net):
    return TruthTable.from_source(net).outputs


# ---------------------------------------------------------------- edge cases
@pytest.mark.parametrize(
    "text, value",
    [
        ("x | ~x", True),
        ("x & ~x", False),
        ("1", True),
        ("false", False),
        ("(a -> b) | (b -> a)", True),
        ("(a ^ b) & (a <-> b)", False),
    ],
)
def test_tautology_and_contradiction_are_one_constant_neuron(text, value):
    net = compile(text)
    assert net.hidden_size == 0 and len(net.layers) == 1
    assert not net.layers[0].weights.any()
    assert net.layers[0].biases[0] == (0.5 if value else -0.5)
    assert net.stats["method"] == "constant"
    rows = np.array(list(itertools.product([0, 1], repeat=net.n_inputs)), dtype=int).reshape(
        1 << net.n_inputs, net.n_inputs
    )
    assert set(net(rows).tolist()) == {int(value)}
    assert verify(net, text)


def test_constant_sympy_input_and_constant_with_variables():
    net = compile(sympy.true)
    assert net.inputs == () and net(np.zeros((3, 0))).tolist() == [1, 1, 1]
    net = compile(x & ~x, variables=[x, y])  # sympy already folded it to false
    assert net.inputs == ("x", "y") and table(net).tolist() == [False] * 4
    assert constant_network(True, ["a"])([[0], [1]]).tolist() == [1, 1]


@pytest.mark.parametrize("text, positive", [("x", True), ("~x", False)])
def test_single_literal(text, positive):
    net = compile(text)
    assert net.hidden_size == 1
    assert net.W1.tolist() == [[1.0 if positive else -1.0]]
    assert net([[0], [1]]).tolist() == ([0, 1] if positive else [1, 0])
    one = compile(text, method="auto")
    assert one.hidden_size == 0 and one([[0], [1]]).tolist() == ([0, 1] if positive else [1, 0])


def test_repeated_and_contradictory_literals_in_a_conjunct():
    net = compile("x & x & y | z & ~z & x | y & ~x & y")
    assert net.inputs == ("x", "y", "z")
    assert verify(net, "x & y | ~x & y")
    # contradictory conjunct dropped, repeats merged: two terms x&y and ~x&y (absorbed? no)
    assert net.hidden_size == 2
    assert set(np.abs(net.W1).ravel().tolist()) <= {0.0, 1.0}


def test_from_dnf_keeps_literals_as_written_and_is_still_right():
    # the notebook formula, taken literally, is correct even with repeats and contradictions
    net = from_dnf([["x", "x", "~y"], ["y", "~y"], ["~x", "~x"], []], ["x", "y"])
    assert net.W1.tolist() == [[2.0, -1.0], [0.0, 0.0], [-2.0, 0.0], [0.0, 0.0]]
    assert net.b1.tolist() == [-1.5, -0.5, 0.5, 0.5]
    assert net.hidden_size == 4
    # term 4 is empty = true, so the whole DNF is a tautology
    assert net([[0, 0], [0, 1], [1, 0], [1, 1]]).tolist() == [1, 1, 1, 1]
    net2 = from_dnf([["x", "x", "~y"], ["y", "~y"], [("x", False), sympy.Not(y)]])
    assert net2([[0, 0], [0, 1], [1, 0], [1, 1]]).tolist() == [1, 0, 1, 0]
    assert verify(net2, "x & ~y | ~x & ~y")
    assert from_dnf([], ["x"])([[0], [1]]).tolist() == [0, 0]  # empty DNF = false
    with pytest.raises(LogicError, match="literal"):
        from_dnf([["x & y"]])
    with pytest.raises(LogicError, match="not in variables"):
        from_dnf([["x"]], ["y"])


def test_irrelevant_variables_stay_inputs_with_zero_weights():
    net = compile("x | y & ~y", ["w", "x", "y"])
    assert net.inputs == ("w", "x", "y")
    assert not net.W1[:, 0].any() and not net.W1[:, 2].any()
    net = compile("x & (y | ~y)")
    assert net.inputs == ("x", "y")
    assert verify(net, "x")
    with pytest.raises(LogicError, match="not in the given variables"):
        compile("x & q", ["x"])


def test_input_order_is_explicit_and_stable():
    assert compile("b & a").inputs == ("a", "b")
    assert compile("b & a", ["b", "a"]).inputs == ("b", "a")
    assert compile("x10 | x9 | x1").inputs == ("x1", "x9", "x10")


# ----------------------------------------------------- theta(0) and margins
@pytest.mark.parametrize("text", ["x ^ y", "x & y & ~z", "x -> y <-> z", "(a | b) & ~(c ^ d)", "a & b | b & c | a & c"])
def test_heaviside_at_zero_does_not_matter(text):
    built = 0
    for method in ("dnf", "auto", "symmetric", "threshold"):
        try:
            net = compile(text, method=method)
        except LogicError:
            continue  # this construction does not apply to this function
        built += 1
        rows = np.array(list(itertools.product([0, 1], repeat=net.n_inputs)))
        assert np.array_equal(net(rows, at_zero=1), net(rows, at_zero=0))
        assert np.array_equal(net(rows, at_zero=1), net(rows, at_zero=0.5))
        for z_ in net.preactivations(rows):  # every pre-activation is at least 0.5 from 0
            assert np.abs(z_).min() >= 0.5
    assert built >= 2


# ------------------------------------------------------------- minimisation
def test_minimize_reports_before_and_after():
    text = "a & b & c | a & b & ~c | a & ~b & c | a & ~b & ~c | ~a & b & c"
    plain = compile(text)
    small = compile(text, minimize=True)
    assert plain.hidden_size == 5
    assert small.stats["hidden_before"] == 5 and small.stats["hidden_after"] == 2
    assert small.stats["minimal"] is True
    assert verify(small, text)


def test_minimize_known_minimum_sizes():
    # x ^ y ^ z needs 4 terms; majority needs 3; a | b needs 2
    assert compile("x ^ y ^ z", minimize=True).hidden_size == 4
    assert compile("a & b | a & c | b & c | a & b & c", minimize=True).hidden_size == 3
    assert compile("a | a & b | b & ~a", minimize=True).hidden_size == 2


def test_minimize_truth_table_input():
    t = TruthTable.from_minterms([0, 1, 2, 5, 6, 7], ["a", "b", "c"])
    net = compile(t, minimize=True)
    assert net.stats["hidden_before"] == 6
    assert net.hidden_size == 3  # a cyclic core: 3 primes suffice
    assert verify(net, t)


def test_minimize_beats_syntactic_dnf_on_random_functions():
    rng = np.random.default_rng(7)
    for n in (4, 6, 8):
        out = rng.random(1 << n) < 0.4
        t = TruthTable.from_outputs(out)
        plain = compile(t)
        small = compile(t, minimize=True)
        assert small.hidden_size <= plain.hidden_size
        assert np.array_equal(table(small), out)


# ---------------------------------------------------- one neuron (threshold)
def test_majority_and_threshold_k_compile_to_one_neuron():
    names = [f"x{i}" for i in range(7)]
    maj = " | ".join("(" + " & ".join(c) + ")" for c in itertools.combinations(names, 4))
    net = compile(maj, method="auto")
    assert net.hidden_size == 0 and len(net.layers) == 1
    assert net.layers[0].weights.tolist() == [[1.0] * 7] and net.layers[0].biases.tolist() == [-3.5]
    assert net.stats["dnf_terms"] == math.comb(7, 4)
    assert verify(net, maj)
    at_least_2_of_5 = compile(TruthTable.from_outputs([bin(r).count("1") >= 2 for r in range(32)]), method="threshold")
    assert at_least_2_of_5.layers[0].biases.tolist() == [-1.5]


def test_threshold_with_negations_and_unequal_weights():
    # x & ~y | x & z | ~y & z  is threshold: x - y + z >= 1 (after flipping y)
    net = compile("x & ~y | x & z | ~y & z", method="threshold")
    assert net.hidden_size == 0
    assert verify(net, "x & ~y | x & z | ~y & z")
    f = "a & b | a & c & d"  # smallest integer weights 3, 2, 1, 1 with threshold 5
    net = compile(f, method="threshold")
    assert verify(net, f)
    assert net.layers[0].weights[0].tolist() == [3, 2, 1, 1] and net.layers[0].biases[0] == -4.5


def test_threshold_rejects_non_separable_with_a_reason():
    with pytest.raises(LogicError, match=r"not linearly separable.*not unate"):
        compile("x ^ y", method="threshold")
    with pytest.raises(LogicError, match="not linearly separable"):
        compile("a & b | c & d", method="threshold")  # unate but not threshold


def _separable_by_lp(out: np.ndarray, n: int) -> bool:
    """Independent check: LP feasibility over all rows (scipy linprog, real weights)."""
    from scipy.optimize import linprog

    rows = np.array(list(itertools.product([0, 1], repeat=n)), dtype=float)
    A = np.hstack([rows, np.ones((len(rows), 1))])
    sign = np.where(out, -1.0, 1.0)  # out=1: -(w.x+b) <= -1 ; out=0: w.x+b <= -1
    res = linprog(
        np.zeros(n + 1),
        A_ub=sign[:, None] * A,
        b_ub=-np.ones(len(rows)),
        bounds=[(None, None)] * (n + 1),
        method="highs",
    )
    return res.status == 0


def test_threshold_detection_counts_all_functions_of_3_variables():
    count = 0
    for bits in itertools.product([False, True], repeat=8):
        out = np.array(bits)
        tf = threshold_function(TruthTable.from_outputs(out))
        assert (tf is not None) == _separable_by_lp(out, 3)
        if tf is not None:
            count += 1
            rows = np.array(list(itertools.product([0, 1], repeat=3)))
            assert np.array_equal(rows @ tf.weights + tf.bias >= 0, out)
    assert count == 104  # known number of threshold functions of 3 variables


def test_threshold_detection_on_random_4_variable_functions():
    rng = np.random.default_rng(0)
    for _ in range(150):
        out = rng.random(16) < rng.random()
        tf = threshold_function(TruthTable.from_outputs(out))
        assert (tf is not None) == _separable_by_lp(out, 4)


def test_unateness():
    assert unateness(TruthTable.from_source("x & ~y")) == [1, -1]
    assert unateness(TruthTable.from_source("x ^ y")) == [None, None]


# ------------------------------------------------------------------ symmetric
def test_parity_uses_n_hidden_neurons_not_2_to_the_n_minus_1():
    for n in (3, 6, 10):
        names = [f"x{i}" for i in range(n)]
        text = " ^ ".join(names)
        dnf = compile(text)
        sym = compile(text, method="symmetric")
        assert dnf.hidden_size == 2 ** (n - 1)
        assert sym.hidden_size == n
        assert compile(text, method="auto").hidden_size == n
        assert verify(sym, text)


def test_parity_of_many_variables_without_a_truth_table():
    names = [f"v{i}" for i in range(40)]
    net = compile(" ^ ".join(names) + " ^ 1", method="symmetric")
    assert net.hidden_size == 40
    rng = np.random.default_rng(1)
    rows = rng.integers(0, 2, size=(200, 40))
    assert np.array_equal(net(rows), (rows.sum(axis=1) + 1) % 2)


def test_symmetric_functions_exactly_k_and_negated_literals():
    t = TruthTable.from_outputs([bin(r).count("1") in (1, 3) for r in range(16)])
    net = compile(t, method="symmetric")
    assert net.hidden_size <= 4 + 1
    assert np.array_equal(table(net), t.outputs)
    one_of = "x & y & ~z | ~x & ~y & ~z | ~x & y & z"  # exactly one of x, ~y, z
    p = symmetric_profile(TruthTable.from_source(one_of))
    assert p is not None and p.negated == (False, True, False) and p.values == (0, 1, 0, 0)
    net = compile(one_of, method="symmetric")
    assert net.hidden_size == 2 and verify(net, one_of)
    net = compile("x ^ ~y ^ z", method="symmetric")
    assert verify(net, "x ^ ~y ^ z")
    net = compile("(a & ~b) | (~a & b) | (a & b & c)", method="auto")
    assert verify(net, "(a & ~b) | (~a & b) | (a & b & c)")
    with pytest.raises(LogicError, match="not symmetric"):
        compile("x & y | z", method="symmetric")


def test_exactly_k_and_parity_helpers():
    n = 6
    rows = np.array(list(itertools.product([0, 1], repeat=n)))
    for k in range(n + 1):
        net = exactly_k_network(n, k)
        assert net.hidden_size <= 2
        assert np.array_equal(net(rows), (rows.sum(1) == k).astype(np.uint8))
    assert np.array_equal(parity_network(n)(rows), rows.sum(1) % 2)


def test_symmetric_ignores_irrelevant_variables():
    net = compile("x ^ y", ["x", "w", "y"], method="symmetric")
    assert net.inputs == ("x", "w", "y") and net.hidden_size == 2
    assert not net.W1[:, 1].any()


# ----------------------------------------------------------------- auto / misc
def test_auto_reports_candidates_and_picks_fewest():
    net = compile("x0 & x1 | x0 & x2 | x1 & x2", method="auto")
    assert net.stats["candidates"]["threshold"] == 0
    assert net.stats["method"] == "threshold"
    net = compile("a & b | c & d", method="auto")
    assert net.stats["method"] == "dnf" and net.hidden_size == 2


def test_bad_method_and_sources():
    with pytest.raises(LogicError, match="unknown method"):
        compile("x", method="magic")
    with pytest.raises(LogicError, match="not a network"):
        compile(compile("x"))


def test_dnf_size_limit_gives_advice():
    names = [f"x{i}" for i in range(12)]
    cnf = " & ".join(f"({a} | {b})" for a, b in zip(names[::2], names[1::2], strict=True))  # 2^6 terms
    with pytest.raises(LogicError, match=r"more than 10 terms.*minimize=True"):
        compile(cnf, max_terms=10)
    assert compile(cnf).hidden_size == 64


def test_compile_sympy_expression_with_all_connectives(sympy_table):
    expr = sympy.ITE(x, y, ~z) | sympy.Equivalent(x, z) & sympy.Implies(y, x) ^ sympy.Nand(x, z)
    net = compile(expr)
    assert np.array_equal(table(net), sympy_table(expr, [x, y, z]))


# ----------------------------------------------------------------- decompile
@pytest.mark.parametrize("text", ["x ^ y", "x & ~y | z", "a -> b", "x0 ^ x1 ^ x2 ^ x3", "1", "0"])
@pytest.mark.parametrize("method", ["dnf", "auto"])
def test_decompile_round_trip(text, method, sympy_table):
    net = compile(text, method=method)
    back = decompile(net)
    syms = [sympy.Symbol(v) for v in net.inputs]
    assert np.array_equal(sympy_table(back, syms), table(net))
    simple = decompile(net, simplify=True)
    assert np.array_equal(sympy_table(simple, syms), table(net))


def test_decompile_xor_reads_like_the_notebook():
    assert decompile(compile("x ^ y")) == (x & ~y) | (~x & y)


def test_decompile_generic_and_float_weights(sympy_table):
    net = ThresholdNetwork(("a", "b", "c"), (([[2, 1, 1], [0.3, 0.3, -0.1]], [-2.5, -0.5]), ([[1, -1]], [-0.5])))
    back = decompile(net)
    assert np.array_equal(sympy_table(back, sympy.symbols("a b c")), table(net))
    assert sympy.simplify_logic(Xor(back, decompile(net, simplify=True))) == sympy.false


def test_wide_and_or_of_literals_is_one_neuron_without_a_table():
    names = [f"v{i}" for i in range(60)]
    text = " | ".join(("~" if i % 4 == 0 else "") + v for i, v in enumerate(names))
    net = compile(text, method="auto")
    assert net.hidden_size == 0 and net.stats["method"] == "threshold"
    assert verify(net, text)
    rng = np.random.default_rng(2)
    rows = rng.integers(0, 2, size=(300, 60))
    rows[0] = [0 if i % 4 == 0 else 1 for i in range(60)]  # not every row is 1
    rows[1] = [1 if i % 4 == 0 else 0 for i in range(60)]  # the only false row
    expect = Formula.parse(text).evaluate(rows)
    assert np.array_equal(net(rows).astype(bool), expect) and not expect[1]


def test_huge_first_layer_is_refused_with_advice():
    text = " | ".join(f"v{i}" for i in range(8000))
    with pytest.raises(LogicError, match="weights"):
        compile(text)
    assert compile(text, method="auto").hidden_size == 0


def test_two_layer_constructor_matches_compile():
    net = compile("x ^ y")
    same = ThresholdNetwork.two_layer(net.inputs, net.W1, net.b1, net.W2, net.b2)
    assert same == net
