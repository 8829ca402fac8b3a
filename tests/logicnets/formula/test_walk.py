"""The one walker and what is built on it: work linear in the DAG, DNF refused before building."""

from __future__ import annotations

import time

import pytest

from logicnets import Formula, LogicError, TruthTable, compile, dnf_terms, verify
from logicnets.formula.dnf import dnf_size_bound
from logicnets.formula.nodes import and_, not_, or_, var, xor_
from logicnets.formula.text import node_to_text
from logicnets.formula.walk import fold, node_depth, node_size, node_variables


def at_least(k: int, n: int):
    """[at least k of x0..x(n-1)] as a DAG: T(i, k) = x_i & T(i+1, k-1) | T(i+1, k), shared."""
    memo: dict = {}

    def t(i: int, j: int):
        if j <= 0:
            return ("const", True)
        if n - i < j:
            return ("const", False)
        if (i, j) not in memo:
            memo[(i, j)] = or_(and_(var(f"x{i}"), t(i + 1, j - 1)), t(i + 1, j))
        return memo[(i, j)]

    return t(0, k)


def doubling(levels: int):
    """A DAG whose tree has 2^levels leaves: e_{i+1} = (e_i & a_i) ^ (e_i | b_i)."""
    e = var("s")
    for i in range(levels):
        e = xor_(and_(e, var(f"a{i}")), or_(e, var(f"b{i}")))
    return e


def test_fold_combines_each_shared_node_once():
    calls = []
    fold(doubling(40), lambda n, kids: calls.append(n) or 0)
    assert len(calls) == 1 + 40 * 5  # s, and a_i, b_i, and, or, xor per level


def test_walks_on_a_dag_with_an_exponential_tree_are_fast():
    node = doubling(45)
    t0 = time.perf_counter()
    assert node_depth(node) == 90 and node_size(node) == 135 and len(node_variables(node)) == 91
    f = Formula(node)
    assert f.n == 91
    assert time.perf_counter() - t0 < 1.0


def test_majority_of_33_as_a_dag_is_handled_in_linear_work():
    node = at_least(17, 33)
    t0 = time.perf_counter()
    f = Formula(node)
    with pytest.raises(LogicError, match="more than 65536 terms"):
        compile(f)
    assert compile(f, method="auto").hidden_size == 0  # recognised without a table: one neuron (proven)
    assert time.perf_counter() - t0 < 15.0
    small = Formula(at_least(5, 9))
    net = compile(small, method="auto")
    assert net.hidden_size == 0 and verify(net, small)
    assert (
        TruthTable.from_source(small).minterms
        == TruthTable.from_source(
            " | ".join(
                " & ".join(f"x{i}" for i in range(9) if m >> (8 - i) & 1) for m in range(512) if bin(m).count("1") == 5
            )
        ).minterms
    )


def test_dnf_blow_up_is_refused_before_building():
    a = " | ".join(f"x{i}" for i in range(2048))
    b = " | ".join(f"y{i}" for i in range(2048))
    f = Formula.parse(f"({a}) & ({b})")
    t0 = time.perf_counter()
    assert dnf_size_bound(f) is None
    with pytest.raises(LogicError, match="more than 65536 terms"):
        dnf_terms(f)
    with pytest.raises(LogicError, match="more than 65536 terms"):
        compile(f)
    assert time.perf_counter() - t0 < 1.0


def test_size_bound_is_an_upper_bound_and_uses_few_variables():
    for text in ["(a | b) & (c | d | e)", "a ^ b ^ c ^ d", "(a -> b) <-> (c | ~d)", "a & ~a | b"]:
        f = Formula.parse(text)
        assert len(dnf_terms(f)) <= dnf_size_bound(f)
    repeated = Formula.parse(" & ".join(["(a | b | c)"] * 12))  # 3^12 products, but only 3 variables
    assert dnf_size_bound(repeated) <= 27
    assert sorted(dnf_terms(repeated)) == [(1, 0), (2, 0), (4, 0)]


def test_symmetric_method_builds_no_dnf():
    text = " ^ ".join(f"x{i}" for i in range(20))
    t0 = time.perf_counter()
    net = compile(text, method="symmetric")
    assert net.hidden_size == 20 and "dnf_terms" not in net.stats
    assert time.perf_counter() - t0 < 0.5


def test_text_of_a_shared_dag_is_bounded():
    with pytest.raises(LogicError, match="longer than"):
        node_to_text(doubling(40))
    assert node_to_text(not_(and_(var("x"), var("y")))) == "~(x & y)"
