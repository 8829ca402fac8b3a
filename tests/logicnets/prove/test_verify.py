"""verify(): exhaustive bit-sliced proofs, SAT proofs, counterexamples; random formulas."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logicnets import Formula, Layer, LogicError, ThresholdNetwork, TruthTable, compile, parity_network, verify
from logicnets.prove.bitslice import Layout, TableBits, unpack
from logicnets.prove.network_bits import NetworkBits
from logicnets.prove.sat import have_solver

NAMES = ["a", "b", "c", "d", "e"]
SYMS = sympy.symbols(NAMES)


# ----------------------------------------------------------- random formulas
def _formulas(max_leaves: int = 16):
    """(text for our parser, the same formula built with sympy constructors)."""
    leaf = st.one_of(
        st.sampled_from(list(zip(NAMES, SYMS, strict=True))),
        st.sampled_from([("1", sympy.true), ("0", sympy.false), ("true", sympy.true)]),
    )

    def extend(children):
        un = children.map(lambda c: (f"~({c[0]})", sympy.Not(c[1])))
        ops = {
            "&": sympy.And,
            "|": sympy.Or,
            "^": sympy.Xor,
            "->": sympy.Implies,
            "<->": sympy.Equivalent,
        }
        binary = st.tuples(st.sampled_from(sorted(ops)), children, children).map(
            lambda t: (f"({t[1][0]}) {t[0]} ({t[2][0]})", ops[t[0]](t[1][1], t[2][1]))
        )
        ite = st.tuples(children, children, children).map(
            lambda t: (
                f"(({t[0][0]}) & ({t[1][0]}) | ~({t[0][0]}) & ({t[2][0]}))",
                sympy.ITE(t[0][1], t[1][1], t[2][1]),
            )
        )
        return st.one_of(un, binary, ite)

    return st.recursive(leaf, extend, max_leaves=max_leaves)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair=_formulas(), method=st.sampled_from(["dnf", "auto"]), minimize=st.booleans())
def test_random_formulas_compile_and_verify_against_sympy(pair, method, minimize, sympy_table):
    text, expr = pair
    net = compile(text, NAMES, method=method, minimize=minimize)
    assert net.inputs == tuple(NAMES)
    expected = sympy_table(expr, SYMS)  # sympy's own row-by-row evaluation
    rows = np.array(list(itertools.product([0, 1], repeat=5)))
    assert np.array_equal(net(rows).astype(bool), expected)
    assert verify(net, text).equivalent
    assert verify(net, expr, NAMES).equivalent  # the sympy object itself
    net2 = compile(expr, NAMES)  # compiling the sympy object agrees too
    assert np.array_equal(net2(rows).astype(bool), expected)


@settings(max_examples=40, deadline=None)
@given(pair=_formulas(), seed=st.integers(0, 10**6))
def test_broken_networks_give_true_counterexamples(pair, seed, sympy_table):
    text, expr = pair
    net = compile(text, NAMES)
    rng = np.random.default_rng(seed)
    # flip the output on one random row by adding a minterm neuron or removing the function
    r = int(rng.integers(0, 32))
    row = [(r >> (4 - i)) & 1 for i in range(5)]
    expected = sympy_table(expr, SYMS)
    patched = compile(sympy.Xor(expr, sympy.And(*[s if v else ~s for s, v in zip(SYMS, row, strict=True)])), NAMES)
    res = verify(patched, text)
    assert not res.equivalent
    assert res.mismatches == 1
    assert res.counterexamples.tolist() == [row]
    assert res.expected.tolist() == [int(expected[r])]
    assert res.got.tolist() == [1 - int(expected[r])]
    if have_solver():
        sat = verify(patched, text, method="sat")
        assert not sat.equivalent and sat.counterexamples.tolist() == [row]
        assert verify(net, text, method="sat").equivalent


def _random_text(rng: random.Random, names, leaves: int) -> str:
    nodes = [rng.choice(names) for _ in range(leaves)]
    while len(nodes) > 1:
        a = nodes.pop(rng.randrange(len(nodes)))
        b = nodes.pop(rng.randrange(len(nodes)))
        op = rng.choice(["&", "|", "^", "->", "<->", "&", "|"])
        neg = "~" if rng.random() < 0.3 else ""
        nodes.append(f"{neg}({a} {op} {b})")
    return nodes[0]


@pytest.mark.parametrize("seed", range(6))
def test_bigger_random_formulas_against_sympy(seed, sympy_table):
    rng = random.Random(seed)
    names = [f"x{i}" for i in range(8)]
    syms = sympy.symbols(names)
    text = _random_text(rng, names, 14)
    from logicnets import parse

    expr = parse(text)
    for method in ("dnf", "auto"):
        net = compile(text, names, method=method, minimize=seed % 2 == 0)
        rows = np.array(list(itertools.product([0, 1], repeat=8)))
        assert np.array_equal(net(rows).astype(bool), sympy_table(expr, syms)), (text, method)
        assert verify(net, text)


# ---------------------------------------------------------------- exhaustive
def test_counterexamples_are_listed_and_counted():
    res = verify(compile("x | y"), "x ^ y")
    assert not res and res.mismatches == 1
    assert res.counterexamples.tolist() == [[1, 1]]
    assert "x=1 y=1: expected 0, network gives 1" in res.summary()
    res = verify(compile("a & b"), "~(a & b)", max_counterexamples=2)
    assert res.mismatches == 4 and len(res.counterexamples) == 2


def test_verify_against_truth_table_and_other_network():
    t = TruthTable.from_minterms([1, 2, 4, 7], ["a", "b", "c"])
    net = compile(t)
    assert verify(net, t)
    assert verify(net, compile("a ^ b ^ c", method="symmetric"))
    assert verify(net, TruthTable.from_minterms([1, 2, 4, 7], ["a", "b", "c"]).reorder(["c", "b", "a"]))
    assert not verify(net, TruthTable.from_minterms([1, 2, 4], ["a", "b", "c"]))


def test_free_network_inputs_must_not_matter():
    net = compile("x", ["x", "y"])
    assert verify(net, "x")
    assert verify(net, TruthTable.from_outputs("01", ["x"]))
    bad = ThresholdNetwork(("x", "y"), (Layer([[1, 1]], [-1.5]),))  # x & y
    res = verify(bad, "x")
    assert not res and res.counterexamples.tolist() == [[1, 0]]


def test_formula_variable_missing_from_network_is_an_error():
    with pytest.raises(LogicError, match="not inputs of the network"):
        verify(compile("x"), "x & y")
    with pytest.raises(LogicError, match="unknown method"):
        verify(compile("x"), "x", method="guess")


def test_24_variables_exhaustively_in_seconds():
    rng = random.Random(24)
    names = [f"x{i}" for i in range(24)]
    terms = [
        " & ".join(("~" if rng.random() < 0.5 else "") + v for v in rng.sample(names, rng.randint(3, 9)))
        for _ in range(40)
    ]
    text = " | ".join(terms)
    net = compile(text, names)
    res = verify(net, text)
    assert res.equivalent and res.rows_checked == 2**24 and res.method.startswith("exhaustive")
    assert res.seconds < 10


def test_generic_threshold_path_matches_float_network():
    """Bit-sliced adder/comparator (non AND/OR neurons) agrees with the float network."""
    rng = np.random.default_rng(3)
    for n in (3, 7, 9):
        for _ in range(5):
            W1 = rng.integers(-3, 4, size=(4, n)).astype(float)
            b1 = rng.integers(-4, 4, size=4) + rng.choice([0.0, 0.5])
            W2 = rng.integers(-2, 3, size=(1, 4)).astype(float)
            net = ThresholdNetwork(tuple(f"v{i}" for i in range(n)), (Layer(W1, b1), Layer(W2, [0.0])))
            rows = TruthTable.from_outputs(np.zeros(1 << n, bool)).rows()
            layout = Layout(n)
            words = np.concatenate(
                [layout.full(NetworkBits(net, layout).chunk(layout.planes(c), c)) for c in range(layout.n_chunks)]
            )
            assert np.array_equal(unpack(words, 1 << n), net(rows).astype(bool))


def test_non_dyadic_weights_fall_back_to_float_rows():
    net = ThresholdNetwork(("a", "b"), (Layer([[0.1, 0.2]], [-0.15]),))  # fires iff b
    assert verify(net, "b")
    t = TruthTable.from_source(net)
    assert t.outputs.tolist() == [False, True, False, True]


def test_small_layout_masks_unused_rows():
    for n in range(0, 7):
        layout = Layout(n)
        tb = TableBits(np.ones(1 << n, bool), layout)
        words = layout.full(tb.chunk(layout.planes(0), 0))
        assert int(np.bitwise_count(words).sum()) == 1 << n


# ----------------------------------------------------------------------- SAT
needs_sat = pytest.mark.skipif(not have_solver(), reason="python-sat not installed")


@needs_sat
def test_sat_beyond_exhaustive_limit_proves_and_refutes():
    rng = random.Random(40)
    names = [f"x{i}" for i in range(40)]
    terms = [
        " & ".join(("~" if rng.random() < 0.5 else "") + v for v in rng.sample(names, rng.randint(2, 8)))
        for _ in range(30)
    ]
    text = " | ".join(terms)
    net = compile(text, names)
    res = verify(net, text)
    assert res.equivalent and res.method.startswith("SAT")
    # break one hidden neuron: drop its last literal
    W1 = net.W1.copy()
    b1 = net.b1.copy()
    j = int(np.flatnonzero(W1[0])[-1])
    if W1[0, j] > 0:
        b1[0] += 1
    W1[0, j] = 0
    broken = ThresholdNetwork(net.inputs, (Layer(W1, b1), net.layers[1]))
    res = verify(broken, text, max_counterexamples=3)
    assert not res.equivalent and 1 <= len(res.counterexamples) <= 3
    f = Formula.parse(text, names)
    for row, e, g in zip(res.counterexamples, res.expected, res.got, strict=True):
        assert f.evaluate(row[None, :])[0] == bool(e)
        assert broken(row) == g and e != g


@needs_sat
def test_sat_handles_threshold_neurons_parity_and_constants():
    names = [f"v{i}" for i in range(30)]
    text = " ^ ".join(names)
    net = parity_network(names)
    assert verify(net, text).method.startswith("SAT")
    assert verify(net, text)
    assert not verify(net, " ^ ".join(names[:-1]))
    assert verify(compile("x | ~x"), "1", method="sat")
    maj = ThresholdNetwork(tuple(names), (Layer(np.ones((1, 30)), [-14.5]),))
    assert verify(maj, maj, method="sat")
    tie = ThresholdNetwork(tuple(names), (Layer(np.ones((1, 30)), [-15.5]),))
    res = verify(maj, tie, method="sat")
    assert not res and (res.counterexamples.sum(axis=1) == 15).all()


def test_sat_and_exhaustive_agree_on_small_cases():
    if not have_solver():
        pytest.skip("python-sat not installed")
    for text, other in [("a -> b", "~a | b"), ("a <-> b <-> c", "a ^ b ^ c"), ("a ^ b", "a | b")]:
        net = compile(other)
        assert bool(verify(net, text, method="sat")) == bool(verify(net, text, method="exhaustive"))


def test_sympy_satisfiable_engine_proves_and_refutes():
    net = compile("a ^ b ^ c")
    res = verify(net, "a ^ b ^ c", method="sympy")
    assert res.equivalent and "sympy" in res.method
    res = verify(compile("a | b ^ c"), "a ^ b ^ c", method="sympy")
    assert not res.equivalent
    row = res.counterexamples[0]
    assert res.expected[0] != res.got[0]
    assert compile("a | b ^ c")(row) == res.got[0]


def test_sat_falls_back_to_sympy_without_python_sat(monkeypatch):
    import logicnets.prove.sat as sat

    monkeypatch.setattr(sat, "_solver_class", lambda: (None, None))
    assert not sat.have_solver()
    res = verify(compile("x ^ y"), "(x | y) & ~(x & y)", method="sat")
    assert res.equivalent and "sympy" in res.method
    assert not verify(compile("x -> y"), "x | y", method="sat")


def test_truth_table_sources_for_verify_and_compile():
    net = compile([0, 1, 1, 0], ["x", "y"])
    assert verify(net, "x ^ y")
    assert verify(net, np.array([False, True, True, False]), ["x", "y"])
    with pytest.raises(LogicError, match="from_minterms"):
        compile([1, 2])
    with pytest.raises(LogicError, match="exhaustive"):
        verify(net, TruthTable.from_outputs("0110", ["x", "y"]), method="sat")


def test_user_networks_with_zero_preactivation_use_theta_0_equals_1():
    # theta(x - y) fires when x >= y, including x == y where z == 0
    net = ThresholdNetwork(("x", "y"), (Layer([[1, -1]], [0.0]),))
    assert net([[0, 0], [0, 1], [1, 0], [1, 1]]).tolist() == [1, 0, 1, 1]
    assert verify(net, "x | ~y")
    assert verify(net, "x | ~y", method="sat")
    assert TruthTable.from_source(net).outputs.tolist() == [True, False, True, True]
    two = ThresholdNetwork(("a", "b", "c"), (Layer([[1, 1, -2], [2, -1, 0]], [0.0, -1.0]), Layer([[1, -1]], [0.0])))
    rows = TruthTable.from_outputs(np.zeros(8, bool)).rows()
    assert np.array_equal(TruthTable.from_source(two).outputs, two(rows).astype(bool))
    assert verify(two, TruthTable.from_outputs(two(rows), ["a", "b", "c"]), method="exhaustive")
    assert verify(two, two, method="sat")
