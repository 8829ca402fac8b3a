"""Symmetric functions with at most n hidden neurons instead of an exponential DNF.

A symmetric function depends only on s = the number of true inputs: f = v[s].
With h_k = [s >= k] (one neuron: weights 1, bias -k + 0.5),

    f = v[0] + sum_k (v[k] - v[k-1]) * h_k,

so one hidden neuron per k where v changes, and an output neuron with weights
±1 and bias v[0] - 0.5.  n-bit parity needs n hidden neurons against 2^(n-1)
DNF terms.  We also accept symmetry in literals (x ^ ~y is parity of x and ~y)
and ignore variables the function does not depend on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import LogicError
from ..formula.nodes import Node
from ..formula.walk import fold, operands
from ..network.network import Layer, ThresholdNetwork
from ..prove.truthtable import TruthTable

__all__ = [
    "SymmetricProfile",
    "exactly_k_network",
    "parity_network",
    "parity_profile",
    "symmetric_network",
    "symmetric_profile",
]


@dataclass(frozen=True)
class SymmetricProfile:
    """f(x) = values[number of true literals]; literal i is x_i, or ~x_i if negated[i].

    ``relevant`` lists the input indices the function depends on, in order.
    """

    variables: tuple[str, ...]
    relevant: tuple[int, ...]
    negated: tuple[bool, ...]
    values: tuple[int, ...]

    @property
    def switches(self) -> int:
        """Hidden neurons needed: the number of k with values[k] != values[k-1]."""
        return sum(1 for k in range(1, len(self.values)) if self.values[k] != self.values[k - 1])


def _relevant(arr: np.ndarray, n: int) -> list[int]:
    return [i for i in range(n) if not np.array_equal(np.take(arr, 0, axis=i), np.take(arr, 1, axis=i))]


def symmetric_profile(table: TruthTable) -> SymmetricProfile | None:
    """Profile of a function symmetric in (possibly negated) literals, else None.

    >>> p = symmetric_profile(TruthTable.from_source("x & y & ~z | ~x & ~y & ~z | ~x & y & z"))
    >>> p.negated, p.values          # exactly one of x, ~y, z
    ((False, True, False), (0, 1, 0, 0))
    >>> symmetric_profile(TruthTable.from_source("x & y | z")) is None
    True
    """
    n = table.n
    arr = table.cube_array()
    rel = _relevant(arr, n)
    if not rel:
        v = int(table.outputs[0])
        return SymmetricProfile(table.variables, (), (), (v,))
    g = arr[tuple(slice(None) if i in rel else 0 for i in range(n))]
    m = len(rel)
    neg = [False] * m
    for j in range(1, m):
        swapped = np.swapaxes(g, 0, j)
        if np.array_equal(swapped, g):
            neg[j] = False
        elif np.array_equal(np.flip(np.flip(swapped, 0), j), g):
            neg[j] = True
        else:
            return None
    h = g
    for j in range(m):
        if neg[j]:
            h = np.flip(h, axis=j)
    weight = np.zeros((2,) * m, dtype=np.int64)
    for axis in range(m):
        shape = [1] * m
        shape[axis] = 2
        weight = weight + np.arange(2).reshape(shape)
    values = []
    for s in range(m + 1):
        vals = h[weight == s]
        if vals.min() != vals.max():
            return None
        values.append(int(vals[0]))
    return SymmetricProfile(table.variables, tuple(rel), tuple(neg), tuple(values))


def parity_profile(node: Node, variables: Sequence[str]) -> SymmetricProfile | None:
    """Recognise a formula that is an Xor of distinct (possibly negated) variables and
    constants, without a truth table (so it works for any number of variables).

    >>> parity_profile(("xor", (("var", "a"), ("not", (("var", "b"),)))), ["a", "b"]).values
    (1, 0, 1)
    """

    def combine(n: Node, kids: list) -> tuple[int, frozenset] | None:
        if n[0] == "var":
            return 0, frozenset((n[1],))
        if n[0] == "const":
            return int(n[1]), frozenset()
        if n[0] not in ("xor", "not") or any(k is None for k in kids):
            return None
        flip, names = int(n[0] == "not"), set()
        for f, ns in kids:
            if not names.isdisjoint(ns):
                return None  # a repeated variable: not a parity of distinct inputs
            flip ^= f
            names.update(ns)
        return flip, frozenset(names)

    got = fold(node, combine, lambda n: operands(n) if n[0] in ("xor", "not") else ())
    if got is None or not got[1]:
        return None
    flip, names = got
    pos = {v: i for i, v in enumerate(variables)}
    rel = tuple(sorted(pos[v] for v in names))
    values = tuple((s + flip) % 2 for s in range(len(rel) + 1))
    return SymmetricProfile(tuple(variables), rel, (False,) * len(rel), values)


def symmetric_network(profile: SymmetricProfile) -> ThresholdNetwork:
    """Two-layer network for a symmetric profile: one hidden neuron per value change.

    >>> net = symmetric_network(parity_profile(("xor", (("var", "a"), ("var", "b"))), ["a", "b"]))
    >>> net.hidden_size, net([[0, 0], [0, 1], [1, 0], [1, 1]]).tolist()
    (2, [0, 1, 1, 0])
    """
    n = len(profile.variables)
    values = profile.values
    if len(values) != len(profile.relevant) + 1:
        raise LogicError("a symmetric profile needs one value per count 0..m")
    if profile.switches == 0:
        return ThresholdNetwork(
            profile.variables, (Layer(np.zeros((1, n)), [values[0] - 0.5]),), {"method": "symmetric", "hidden_after": 0}
        )
    row = np.zeros(n)
    n_neg = 0
    for i, neg in zip(profile.relevant, profile.negated, strict=True):
        row[i] = -1.0 if neg else 1.0
        n_neg += int(neg)
    W1, b1, W2 = [], [], []
    for k in range(1, len(values)):
        d = values[k] - values[k - 1]
        if d:
            W1.append(row)
            b1.append(-k + n_neg + 0.5)  # [#true literals >= k]
            W2.append(float(d))
    net = ThresholdNetwork(
        profile.variables,
        (Layer(np.array(W1), b1), Layer(np.array([W2]), [values[0] - 0.5])),
        {"method": "symmetric", "hidden_after": len(W1)},
    )
    return net


def _names(variables: Sequence[str] | int) -> tuple[str, ...]:
    if isinstance(variables, (int, np.integer)):
        if variables < 1:
            raise LogicError("need at least one variable")
        return tuple(f"x{i}" for i in range(int(variables)))
    return tuple(variables)


def parity_network(variables: Sequence[str] | int) -> ThresholdNetwork:
    """n-bit parity (odd number of ones) with n hidden neurons.

    >>> parity_network(3)([[1, 1, 1], [1, 1, 0]]).tolist()
    [1, 0]
    """
    names = _names(variables)
    m = len(names)
    return symmetric_network(SymmetricProfile(names, tuple(range(m)), (False,) * m, tuple(s % 2 for s in range(m + 1))))


def exactly_k_network(variables: Sequence[str] | int, k: int) -> ThresholdNetwork:
    """[exactly k inputs are 1] with two hidden neurons.

    >>> exactly_k_network(3, 2)([[1, 1, 0], [1, 1, 1], [0, 0, 1]]).tolist()
    [1, 0, 0]
    """
    names = _names(variables)
    m = len(names)
    if not 0 <= k <= m:
        raise LogicError(f"k must be between 0 and {m}, got {k}")
    return symmetric_network(
        SymmetricProfile(names, tuple(range(m)), (False,) * m, tuple(int(s == k) for s in range(m + 1)))
    )
