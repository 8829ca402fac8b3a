"""One threshold neuron computes a truth table, or none does: an exact proof either way.

The notebook states that and / or / not are each one Heaviside neuron θ(w·x + b) and that xor
is none. A proof of the first kind is weights that compute the table, checked in rational
arithmetic (:func:`neuron_computes`); of the second, a Farkas certificate (:func:`check_certificate`).
The weights come from :func:`logicnets.construct.separable.threshold_function` (smallest integer
weights, half-integer bias), doubled to integers with margin 1; the certificate from an LP
(scipy's ``linprog``) whose answer is rounded to small fractions and checked exactly: the
floating-point LP only finds the proof, it is no part of it.

A table is a sequence of ``(inputs, output)`` rows, inputs 0/1 (see :mod:`logicnets.rows`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

__all__ = ["check_certificate", "neuron_computes", "single_neuron_proof"]

Row = tuple[Sequence[int], int]


def _signed_rows(table: Sequence[Row]) -> list[list[Fraction]]:
    """Row i as s_i * (x_i, 1) with s_i = +1 where the output is 1, -1 where it is 0."""
    return [[Fraction(1 if out else -1) * v for v in (*map(Fraction, x), Fraction(1))] for x, out in table]


def neuron_computes(weights: Sequence, bias, table: Sequence[Row]) -> bool:
    """Does θ(w·x + b), θ(z) = [z >= 0], give every output of ``table``? Exact (fractions).

    >>> neuron_computes([1, 1], -1.5, [((0, 0), 0), ((0, 1), 0), ((1, 0), 0), ((1, 1), 1)])
    True
    >>> neuron_computes([1, 1], -0.5, [((0, 0), 0), ((0, 1), 0), ((1, 0), 0), ((1, 1), 1)])
    False
    """
    w, b = [Fraction(v) for v in weights], Fraction(bias)
    return all((sum((wi * xi for wi, xi in zip(w, x, strict=True)), b) >= 0) == bool(out) for x, out in table)


def check_certificate(lam: Sequence, table: Sequence[Row]) -> bool:
    """Is ``lam`` a Farkas certificate that no threshold neuron computes ``table``?

    It is if lam >= 0, lam != 0 and sum_i lam_i s_i (x_i, 1) = 0 exactly, s_i = ±1 the row's
    required sign. Then, for any (w, b), sum_i lam_i s_i (w·x_i + b) = 0, while a neuron
    computing the table makes every term s_i (w·x_i + b) >= 0 (outputs 1) or > 0 (outputs 0);
    the last component (the bias column) forces as much weight on 0-rows as on 1-rows, so some
    term is strictly positive and the sum is > 0: a contradiction. (The same holds under the
    other convention θ(z) = [z > 0], with the roles of strict and non-strict swapped.)

    >>> xor = [((0, 0), 0), ((0, 1), 1), ((1, 0), 1), ((1, 1), 0)]
    >>> check_certificate([1, 1, 1, 1], xor), check_certificate([1, 0, 0, 1], xor)
    (True, False)
    """
    lam = [Fraction(v) for v in lam]
    if len(lam) != len(table) or any(v < 0 for v in lam) or not any(lam):
        return False
    rows = _signed_rows(table)
    return all(sum(l_i * r[j] for l_i, r in zip(lam, rows, strict=True)) == 0 for j in range(len(rows[0])))


def single_neuron_proof(table: Sequence[Row]) -> dict:
    """Prove that one threshold neuron computes ``table``, or that none does.

    Returns ``{"separable": True, "weights", "bias", "checked": True}`` (integers, margin 1:
    s_i (w·x_i + b) >= 1) or ``{"separable": False, "certificate", "checked": True}`` (the
    smallest integers). Raises ArithmeticError if neither checks exactly (never seen).

    >>> xor = [((0, 0), 0), ((0, 1), 1), ((1, 0), 1), ((1, 1), 0)]
    >>> single_neuron_proof(xor)
    {'separable': False, 'certificate': [1, 1, 1, 1], 'checked': True}
    >>> single_neuron_proof([((0, 0), 0), ((0, 1), 1), ((1, 0), 1), ((1, 1), 1)])
    {'separable': True, 'weights': [2, 2], 'bias': -1, 'checked': True}
    """
    found = _weights(table)
    if found is not None:
        return {"separable": True, "weights": found[0], "bias": found[1], "checked": True}
    lam = _certificate(table)
    if lam is not None:
        return {"separable": False, "certificate": lam, "checked": True}
    raise ArithmeticError("neither weights nor a certificate check exactly")


def _weights(table: Sequence[Row]) -> tuple[list[int], int] | None:
    """Integer (w, b) computing ``table`` with margin 1, checked exactly; None if not separable."""
    from logicnets.construct.separable import threshold_function
    from logicnets.prove.truthtable import TruthTable

    n = len(table[0][0])
    outputs = [0] * (1 << n)
    for x, out in table:
        outputs[int("".join(map(str, x)) or "0", 2)] = int(bool(out))
    neuron = threshold_function(TruthTable.from_outputs(outputs, [f"x{i}" for i in range(n)]))
    if neuron is None:
        return None
    w, b = [2 * int(v) for v in neuron.weights], int(2 * Fraction(neuron.bias))
    return (w, b) if neuron_computes(w, b, table) else None


def _certificate(table: Sequence[Row]) -> list[int] | None:
    """A Farkas certificate (smallest integers) found by an LP and checked exactly; None if none checks."""
    import numpy as np
    from scipy.optimize import linprog

    rows = np.array([[float(v) for v in r] for r in _signed_rows(table)])
    m, k = rows.shape
    cert = linprog(
        np.zeros(m),
        A_eq=np.vstack([rows.T, np.ones(m)]),
        b_eq=np.append(np.zeros(k), 1.0),
        bounds=[(0, None)] * m,
        method="highs",
    )
    if cert.status != 0:
        return None
    for denominator in (10, 1000, 10**6):
        lam = [Fraction(float(v)).limit_denominator(denominator) for v in cert.x]
        if check_certificate(lam, table):
            scale = math.lcm(*(v.denominator for v in lam))
            ints = [int(v * scale) for v in lam]
            g = math.gcd(*ints)
            return [v // g for v in ints]
    return None
