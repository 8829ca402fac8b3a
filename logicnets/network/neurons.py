"""Single Heaviside neurons ``θ(w·x + b)``: the notebook's and / or / not.

Convention: θ(z) = 1 for z >= 0, else 0 (so θ(0) = 1).  Every neuron built by
this package keeps its pre-activation at least 0.5 away from 0 on 0/1 inputs
(the notebook's ``+0.5`` biases), so θ(0) = 0 would give the same outputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ..errors import LogicError

__all__ = [
    "IntegerNeuron",
    "Neuron",
    "and_neuron",
    "heaviside",
    "integer_form",
    "integer_forms",
    "not_neuron",
    "or_neuron",
    "threshold_neuron",
]


def heaviside(z: Any, at_zero: float = 1.0) -> np.ndarray:
    """Elementwise step: 1 where z > 0, ``at_zero`` where z == 0, else 0.

    >>> heaviside([-0.5, 0.0, 0.5]).tolist()
    [0.0, 1.0, 1.0]
    >>> heaviside([-0.5, 0.0, 0.5], at_zero=0).tolist()
    [0.0, 0.0, 1.0]
    """
    z = np.asarray(z, dtype=np.float64)
    if at_zero == 1:
        return (z >= 0).astype(np.float64)
    if at_zero == 0:
        return (z > 0).astype(np.float64)
    return np.where(z > 0, 1.0, np.where(z == 0, float(at_zero), 0.0))


@dataclass(frozen=True)
class Neuron:
    """One threshold unit; call it on a 0/1 vector or a (batch, n) array."""

    weights: np.ndarray
    bias: float

    def __call__(self, x: Any, at_zero: float = 1.0) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.shape[-1] != len(self.weights):
            raise LogicError(f"neuron has {len(self.weights)} inputs, got shape {x.shape}")
        return heaviside(x @ self.weights + self.bias, at_zero).astype(np.uint8)

    def __repr__(self) -> str:
        w = ", ".join(f"{v:g}" for v in self.weights)
        return f"Neuron(w=[{w}], b={self.bias:g})"


def _check_n(n: int) -> None:
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise LogicError(f"a neuron needs n >= 1 inputs, got {n!r}")


def and_neuron(n: int = 2) -> Neuron:
    """AND of n inputs: w = (1, ..., 1), b = -n + 0.5.

    >>> and_neuron(2)([[0, 0], [0, 1], [1, 0], [1, 1]]).tolist()
    [0, 0, 0, 1]
    >>> and_neuron(3)
    Neuron(w=[1, 1, 1], b=-2.5)
    """
    _check_n(n)
    return Neuron(np.ones(n), -n + 0.5)


def or_neuron(n: int = 2) -> Neuron:
    """OR of n inputs: w = (1, ..., 1), b = -0.5.

    >>> or_neuron(2)([[0, 0], [0, 1], [1, 0], [1, 1]]).tolist()
    [0, 1, 1, 1]
    """
    _check_n(n)
    return Neuron(np.ones(n), -0.5)


def not_neuron() -> Neuron:
    """NOT of one input: w = -1, b = 0.5.

    >>> not_neuron()([[0], [1]]).tolist()
    [1, 0]
    """
    return Neuron(np.array([-1.0]), 0.5)


def threshold_neuron(n: int, k: int) -> Neuron:
    """[x1 + ... + xn >= k]: w = (1, ..., 1), b = -k + 0.5 (k = n is AND, k = 1 is OR).

    >>> threshold_neuron(3, 2)([[1, 1, 0], [1, 0, 0]]).tolist()
    [1, 0]
    """
    _check_n(n)
    return Neuron(np.ones(n), -k + 0.5)


@dataclass(frozen=True)
class IntegerNeuron:
    """Exact integer view of a neuron: fires iff ``sum(a * literal) >= threshold``.

    ``literals`` holds ``(input index, positive integer weight a, negated)``;
    a negated literal is ``1 - x``.  Built from float weights without rounding,
    so bit-sliced evaluation, SAT encoding and decompiling agree exactly with the
    float ``θ(w·x + b)``.  ``kind`` is one of const0, const1, and, or, threshold.
    """

    literals: tuple[tuple[int, int, bool], ...]
    threshold: int

    @cached_property
    def total(self) -> int:
        return sum(a for _, a, _ in self.literals)

    @cached_property
    def kind(self) -> str:
        if self.threshold <= 0:
            return "const1"
        if self.threshold > self.total:
            return "const0"
        if self.threshold == self.total:
            return "and"
        if self.threshold <= min(a for _, a, _ in self.literals):
            return "or"
        return "threshold"


#: Largest |weight| sum for which float64 sums of 0/1 inputs stay exact.
_EXACT_LIMIT = 2**50


def integer_form(weights: Any, bias: float) -> IntegerNeuron | None:
    """Exact integer form of ``θ(w·x + b)``, or None when weights are not dyadic.

    >>> integer_form([1, -1, 0], -0.5)        # x & ~y: both literals needed
    IntegerNeuron(literals=((0, 1, False), (1, 1, True)), threshold=2)
    >>> integer_form([1, 1], -0.5).kind, integer_form([1, 1], -1.5).kind
    ('or', 'and')
    >>> integer_form([0.1, 0.2], 0.0) is None
    True
    """
    return integer_forms(np.asarray(weights, dtype=np.float64).reshape(1, -1), [bias])[0]


def integer_forms(weights: Any, biases: Any) -> list[IntegerNeuron | None]:
    """:func:`integer_form` for every row of a layer at once (vectorised scale search)."""
    W = np.asarray(weights, dtype=np.float64)
    b = np.asarray(biases, dtype=np.float64).reshape(-1)
    out: list[IntegerNeuron | None] = [None] * W.shape[0]
    if W.shape[0] == 0:
        return out
    finite = np.isfinite(W).all(axis=1) & np.isfinite(b)
    # smallest power-of-two scale per row that makes the row integral (None past 2^40)
    scale = np.full(W.shape[0], -1)
    todo = finite.copy()
    for s in range(41):
        if not todo.any():
            break
        ws = W[todo] * 2.0**s
        ok = (np.floor(ws) == ws).all(axis=1)
        idx = np.flatnonzero(todo)[ok]
        scale[idx] = s
        todo[idx] = False
    for j in range(W.shape[0]):
        s = int(scale[j])
        if s < 0:
            continue
        ws = W[j] * 2.0**s
        if np.abs(ws).sum() >= _EXACT_LIMIT:
            continue
        c = math.ceil(-float(b[j]) * 2.0**s)  # S >= -b  <=>  S >= ceil(-b) for integer S
        lits = []
        nz = np.flatnonzero(ws)
        for i, v in zip(nz.tolist(), ws[nz].tolist(), strict=True):
            a = int(v)
            if a > 0:
                lits.append((i, a, False))
            else:
                lits.append((i, -a, True))
                c += -a
        out[j] = IntegerNeuron(tuple(lits), int(c))
    return out
