"""BLIF export, read back by a small BLIF reader (export_cases.blif_outputs) and compared with the
network on every row up to 12 inputs, 10,000 random rows above; threshold neurons as their own
minimal covers, checked against a brute-force enumeration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from export_cases import PLAS, big_weights_network, blif_outputs, formula_networks, outputs_of, rows_for

from logicnets.export import ExportError, to_blif
from logicnets.export.blif import minimal_sets
from logicnets.network.multinet import MultiOutputNetwork
from logicnets.network.network import Layer, ThresholdNetwork


def check(net) -> str:
    text = to_blif(net)
    rows = rows_for(net.n_inputs)
    expected = outputs_of(net, rows)
    got = blif_outputs(text, rows)
    assert got.shape == expected.shape and (got == expected).all()
    return text


@pytest.mark.parametrize("threshold", [False, True], ids=["cubes", "threshold-merged"])
@pytest.mark.parametrize("name", PLAS)
def test_pla_networks_read_back_as_the_network(pla_network, name, threshold):
    _, net = pla_network(name, threshold)
    text = check(net)
    assert text.count(".names") == net.hidden_size + net.n_outputs  # one cover per neuron


@pytest.mark.parametrize("name", list(formula_networks()))
def test_formula_networks_read_back_as_the_network(name):
    check(formula_networks()[name])


def test_wide_weights_read_back():
    check(big_weights_network())


def brute_minimal_sets(weights, threshold):
    n = len(weights)
    win = [
        s for r in range(n + 1) for s in itertools.combinations(range(n), r) if sum(weights[i] for i in s) >= threshold
    ]
    return sorted(s for s in win if all(sum(weights[i] for i in s if i != j) < threshold for j in s))


def test_minimal_sets_are_the_minimal_winning_sets():
    rng = np.random.default_rng(7)
    for _ in range(300):
        n = int(rng.integers(1, 8))
        weights = rng.integers(1, 6, size=n).tolist()
        threshold = int(rng.integers(1, sum(weights) + 1))
        assert minimal_sets(weights, threshold, 10**6) == brute_minimal_sets(weights, threshold)


def test_a_threshold_neuron_is_written_as_its_prime_implicants():
    """``2a + b + c - d >= 1.5``, as literals ``2a + b + c + ~d >= 3``: the minimal sets reaching 3
    are ab, ac, a~d, bc~d (the function is unate, so its minimal cover is all its primes)."""
    net = ThresholdNetwork(["a", "b", "c", "d"], [(np.array([[2.0, 1, 1, -1]]), [-1.5])])
    text = check(net)
    assert text.splitlines()[3:] == [".names a b c d out", "11-- 1", "1-1- 1", "1--0 1", "-110 1", ".end"]


def test_a_cover_past_the_limit_is_refused_by_name():
    maj13 = formula_networks()["maj13 (wide, one neuron)"]
    assert to_blif(maj13).count("\n1") + to_blif(maj13).count("\n-") == 1716  # C(13, 7) primes
    with pytest.raises(ExportError, match=r"neuron out's minimal cover has more than 1000 cubes; raise --blif-max"):
        to_blif(maj13, max_cubes=1000)


def test_names_blif_cannot_hold_are_refused():
    net = ThresholdNetwork(["a b", "c"], [(np.array([[1.0, 1.0]]), [-1.5])])
    with pytest.raises(ExportError, match=r"names 'a b' cannot be written"):
        to_blif(net)
    clash = MultiOutputNetwork(["a", "b"], ["a"], Layer([[1, 1]], [-1.5]), Layer([[1]], [-0.5]))
    with pytest.raises(ExportError, match="outputs a have the names of inputs"):
        to_blif(clash)
    with pytest.raises(ExportError, match="model name"):
        to_blif(net, model="two words")


def test_constant_neurons_read_no_signals():
    net = ThresholdNetwork.two_layer(["x", "y"], [[1, 1], [1, 1]], [0.5, -9.5], [1, 1], -0.5)  # h1 = 1, h2 = 0
    text = check(net)
    assert ".names h1\n1\n.names h2\n.names" in text
