"""The notebook's text: and/or/not as one neuron, any function as θ(W2 θ(W1 x + b1) + b2)."""

from __future__ import annotations

import numpy as np
import pytest

from logicnets import (
    LogicError,
    TruthTable,
    and_neuron,
    compile,
    heaviside,
    not_neuron,
    or_neuron,
    threshold_neuron,
    verify,
)

ROWS2 = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])


def test_and_neuron_weights_and_truth_table():
    n = and_neuron(2)
    assert n.weights.tolist() == [1, 1] and n.bias == -1.5  # b = -n + 0.5
    assert n(ROWS2).tolist() == [0, 0, 0, 1]
    n5 = and_neuron(5)
    assert n5.bias == -4.5
    rows = np.array(np.meshgrid(*[[0, 1]] * 5)).reshape(5, -1).T
    assert n5(rows).tolist() == rows.all(axis=1).astype(int).tolist()


def test_or_neuron_weights_and_truth_table():
    n = or_neuron(2)
    assert n.weights.tolist() == [1, 1] and n.bias == -0.5
    assert n(ROWS2).tolist() == [0, 1, 1, 1]
    assert or_neuron(4)(np.zeros((1, 4))).tolist() == [0]


def test_not_neuron():
    n = not_neuron()
    assert n.weights.tolist() == [-1] and n.bias == 0.5
    assert n([[0], [1]]).tolist() == [1, 0]


def test_threshold_neuron_and_bad_sizes():
    assert threshold_neuron(3, 2)([[1, 1, 0], [0, 0, 1]]).tolist() == [1, 0]
    with pytest.raises(LogicError):
        and_neuron(0)
    with pytest.raises(LogicError, match="inputs"):
        and_neuron(2)([[1, 0, 1]])


def test_heaviside_convention():
    assert heaviside([-1, 0, 2]).tolist() == [0, 1, 1]  # θ(0) = 1
    assert heaviside([-1, 0, 2], at_zero=0).tolist() == [0, 0, 1]


def test_xor_network_is_the_notebooks_dnf():
    # XOR = (~x & y) | (x & ~y): two AND neurons and an OR neuron
    net = compile("x ^ y")
    assert net.inputs == ("x", "y")
    assert sorted(map(tuple, net.W1.tolist())) == [(-1.0, 1.0), (1.0, -1.0)]
    assert net.b1.tolist() == [-0.5, -0.5]  # -(#positive literals) + 0.5
    assert net.W2.tolist() == [1.0, 1.0] and net.b2 == -0.5  # OR
    assert net(ROWS2).tolist() == [0, 1, 1, 0]
    assert TruthTable.from_source(net).outputs.tolist() == [False, True, True, False]


@pytest.mark.parametrize(
    "text, table",
    [
        ("x & y", [0, 0, 0, 1]),
        ("x | y", [0, 1, 1, 1]),
        ("x ^ y", [0, 1, 1, 0]),
        ("~x", None),
        ("x -> y", [1, 1, 0, 1]),
        ("x <-> y", [1, 0, 0, 1]),
        ("~(x & y)", [1, 1, 1, 0]),
        ("~(x | y)", [1, 0, 0, 0]),
    ],
)
def test_notebook_networks_truth_tables(text, table):
    net = compile(text)
    if table is None:
        assert net([[0], [1]]).tolist() == [1, 0]
    else:
        assert net(ROWS2).tolist() == table
    assert verify(net, text)


def test_notebook_conjunct_with_absent_variables():
    # "if a conjunct does not contain all variables, put 0 there and raise b accordingly"
    net = compile("x & ~z | y", ["x", "y", "z"])
    rows = {tuple(r): j for j, r in enumerate(net.W1.tolist())}
    assert (1.0, 0.0, -1.0) in rows and (0.0, 1.0, 0.0) in rows
    assert net.b1[rows[(1.0, 0.0, -1.0)]] == -0.5
    assert net.b1[rows[(0.0, 1.0, 0.0)]] == -0.5
