"""Fixtures for the logicnets tests: an evaluator independent of logicnets."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import sympy


def _sympy_truth_table(expr, symbols) -> np.ndarray:
    """Outputs of a sympy expression on all rows (first symbol most significant),
    evaluated row by row with sympy's own substitution: independent of logicnets."""
    out = []
    for bits in itertools.product([0, 1], repeat=len(symbols)):
        val = expr.xreplace({s: sympy.true if b else sympy.false for s, b in zip(symbols, bits, strict=True)})
        assert val in (sympy.true, sympy.false), val
        out.append(val is sympy.true)
    return np.array(out, dtype=bool)


def _all_rows(n: int) -> np.ndarray:
    return np.array(list(itertools.product([0, 1], repeat=n)), dtype=np.uint8).reshape(-1, n)


@pytest.fixture(scope="session")
def sympy_table():
    """sympy_table(expr, symbols) -> bool array over all rows, via sympy xreplace."""
    return _sympy_truth_table


@pytest.fixture(scope="session")
def rows():
    """rows(n) -> all 2^n 0/1 rows, first column most significant (itertools, not logicnets)."""
    return _all_rows
