"""One threshold neuron or none: exact proofs either way (the notebook's and / or / not / xor)."""

from __future__ import annotations

import itertools
from fractions import Fraction

from logicnets.prove.neuron import check_certificate, neuron_computes, single_neuron_proof

ROWS = [(0, 0), (0, 1), (1, 0), (1, 1)]


def test_and_or_not_are_one_neuron_with_the_notebooks_weights():
    tables = {
        "and": ([(r, r[0] & r[1]) for r in ROWS], (1, 1), -1.5),
        "or": ([(r, r[0] | r[1]) for r in ROWS], (1, 1), -0.5),
        "not": ([((0,), 1), ((1,), 0)], (-1,), 0.5),
    }
    for table, w, b in tables.values():
        assert neuron_computes(w, b, table)
        assert single_neuron_proof(table)["separable"]
    assert not neuron_computes((1, 1), -0.5, tables["and"][0])  # or's weights are not and's


def test_xor_certificate_is_exact_and_any_neuron_fails():
    xor = [(r, r[0] ^ r[1]) for r in ROWS]
    proof = single_neuron_proof(xor)
    assert proof == {"separable": False, "certificate": [1, 1, 1, 1], "checked": True}
    assert check_certificate([Fraction(1, 4)] * 4, xor)
    assert not check_certificate([0, 0, 0, 0], xor) and not check_certificate([1, -1, 1, 1], xor)
    # What the certificate proves, tried: no weights on a grid compute xor.
    grid = [Fraction(k, 2) for k in range(-6, 7)]
    assert not any(neuron_computes((w1, w2), b, xor) for w1, w2, b in itertools.product(grid, repeat=3))


def test_exactly_xor_and_xnor_of_the_16_two_input_functions_need_two_layers():
    inseparable = []
    for outputs in itertools.product((0, 1), repeat=4):
        table = list(zip(ROWS, outputs, strict=True))
        proof = single_neuron_proof(table)
        assert proof["checked"]
        if proof["separable"]:
            assert neuron_computes(proof["weights"], proof["bias"], table)
        else:
            assert check_certificate(proof["certificate"], table)
            inseparable.append(outputs)
    assert inseparable == [(0, 1, 1, 0), (1, 0, 0, 1)]


def test_the_weights_are_the_smallest_integers_with_margin_one():
    """and / or / not as in the committed report: threshold_function's weights, doubled."""
    and_ = [(r, r[0] & r[1]) for r in ROWS]
    assert single_neuron_proof(and_) == {"separable": True, "weights": [2, 2], "bias": -3, "checked": True}
    assert single_neuron_proof([((0,), 1), ((1,), 0)])["weights"] == [-2]
