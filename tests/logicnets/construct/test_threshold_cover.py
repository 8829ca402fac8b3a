"""Threshold neurons from cubes: the wide path (minimal true and maximal false points, no
table) against brute force, and cube groups past the table size merged into one neuron."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from logicnets.construct.separable import threshold_function
from logicnets.construct.thresholdcover import MAX_RESIDUAL_VARS, merge_cubes, monotone_threshold
from logicnets.prove.truthtable import TruthTable


def _table(terms: list[int], k: int) -> np.ndarray:
    pts = np.array(list(itertools.product([0, 1], repeat=k)), dtype=np.int64)[:, ::-1]  # column j = x_j
    masks = pts @ (1 << np.arange(k))
    return np.array([any(m & t == t for t in terms) for m in masks.tolist()]), pts


@pytest.mark.parametrize("seed", range(40))
def test_monotone_threshold_agrees_with_the_truth_table(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 7))
    terms = [int(t) for t in rng.integers(1, 1 << k, size=int(rng.integers(1, 6)))]
    if seed % 3 == 0:  # a threshold function for sure: w·x >= t with random small weights
        w, t = rng.integers(1, 4, size=k), int(rng.integers(1, 6))
        terms = [m for m in range(1, 1 << k) if sum(w[j] for j in range(k) if m >> j & 1) >= t]
    if not terms:
        return  # constant 0: not a group of cubes
    values, pts = _table(terms, k)
    got = monotone_threshold(terms, k)
    # being a threshold function does not depend on the order of the variables
    expected = threshold_function(TruthTable(tuple(f"x{j}" for j in range(k)), values))
    if got is None:
        assert expected is None
    else:
        w, t = got
        assert all(x >= 0 for x in w)
        assert np.array_equal(pts @ np.array(w) >= t, values)


def test_at_least_two_of_twelve_is_one_neuron_from_its_terms():
    terms = [1 << i | 1 << j for i, j in itertools.combinations(range(12), 2)]
    assert monotone_threshold(terms, 12) == ([1] * 12, 2)
    assert monotone_threshold([0b0011, 0b1100], 4) is None  # x0 x1 | x2 x3


def test_cubes_whose_residual_is_wider_than_a_table_merge_into_one_neuron():
    """y & (x0 | ... | x11) & ~z given as 12 cubes: 12 residual variables, past the table."""
    n, y, z = 14, 12, 13
    assert MAX_RESIDUAL_VARS < 12
    cubes = [(1 << y | 1 << i, 1 << z, 1) for i in range(12)]
    (neuron,) = merge_cubes(cubes, n, forbidden=lambda pos, neg: 0)
    w, t, outs = neuron
    pts = np.array(list(itertools.product([0, 1], repeat=n)), dtype=np.int64)
    expected = (pts[:, y] == 1) & (pts[:, z] == 0) & (pts[:, :12].sum(axis=1) >= 1)
    assert np.array_equal(pts @ np.array(w) >= t, expected) and outs == 1


def test_a_wide_residual_with_a_negative_variable_keeps_its_sign():
    """y & (~x0 | x1 | ... | x11): x0 enters negated."""
    n, y = 13, 12
    cubes = [(1 << y, 1 << 0, 1)] + [(1 << y | 1 << i, 0, 1) for i in range(1, 12)]
    (neuron,) = merge_cubes(cubes, n, forbidden=lambda pos, neg: 0)
    w, t, _ = neuron
    pts = np.array(list(itertools.product([0, 1], repeat=n)), dtype=np.int64)
    expected = (pts[:, y] == 1) & ((pts[:, 0] == 0) | (pts[:, 1:12].sum(axis=1) >= 1))
    assert np.array_equal(pts @ np.array(w) >= t, expected)
