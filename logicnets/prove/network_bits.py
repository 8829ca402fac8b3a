"""Bit-sliced evaluation of a threshold network, exact for dyadic weights.

Each neuron is read through its integer form: AND/OR neurons are combinations of
planes (input-layer ANDs are cube fills), other threshold neurons a bit-sliced
adder and comparator.  Networks with other weights fall back to the float network
on explicit rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..network.neurons import IntegerNeuron, integer_forms
from ..rows import row_block
from .bitslice import ONES, ZERO, Layout, combine, is_scalar, pack

__all__ = ["NetworkBits"]


def _add_plane(acc: list[Any], plane: Any, weight: int) -> None:
    """acc += weight * plane; acc is a little-endian list of bit planes, long enough
    for the final sum, so carries out of the top bit are always zero and dropped."""
    j = 0
    while weight:
        if weight & 1:
            carry = plane
            for pos in range(j, len(acc)):
                if is_scalar(carry) and carry == ZERO:
                    break
                s = acc[pos] ^ carry
                carry = acc[pos] & carry
                acc[pos] = s
        weight >>= 1
        j += 1


def _at_least(acc: list[Any], threshold: int) -> Any:
    """Bit-sliced comparison acc >= threshold (threshold a non-negative int)."""
    if threshold <= 0:
        return ONES
    if threshold >> len(acc):
        return ZERO
    ge: Any = ONES
    for i, bit in enumerate(acc):
        ge = (bit & ge) if (threshold >> i) & 1 else (bit | ge)
    return ge


class NetworkBits:
    """Bit-sliced evaluator of a ThresholdNetwork (exact, same θ(0)=1 semantics)."""

    def __init__(self, network: Any, layout: Layout) -> None:
        self.network = network
        self.layout = layout
        self.forms: list[list[IntegerNeuron | None]] = [
            integer_forms(layer.weights, layer.biases) for layer in network.layers
        ]
        self.exact = all(f is not None for layer in self.forms for f in layer)
        # input-layer AND neurons as precomputed cubes (None: contradictory, always 0)
        self._layer0_cubes: dict[int, Any] = {}
        if self.exact:
            for j, f in enumerate(self.forms[0]):
                if f.kind == "and":
                    self._layer0_cubes[j] = layout.cube([(k, not neg) for k, _, neg in f.literals])
        # fast path: OR of input-layer ANDs = one cube fill per term
        self._fast = None
        if self.exact and len(network.layers) == 2:
            out = self.forms[1][0]
            hidden = self.forms[0]
            if (
                out.kind == "or"
                and not any(neg for _, _, neg in out.literals)
                and all(hidden[i].kind in ("and", "const0", "const1") for i, _, _ in out.literals)
            ):
                always = any(hidden[i].kind == "const1" for i, _, _ in out.literals)
                cubes = [
                    self._layer0_cubes[i]
                    for i, _, _ in out.literals
                    if hidden[i].kind == "and" and self._layer0_cubes[i] is not None
                ]
                self._fast = (always, cubes)

    def _neuron(self, form: IntegerNeuron, planes: Sequence[Any], sums: dict) -> Any:
        kind = form.kind
        if kind == "const1":
            return ONES
        if kind == "const0":
            return ZERO
        lits = [planes[i] if not neg else ~planes[i] for i, _, neg in form.literals]
        if kind == "and":
            return combine("and", lits)
        if kind == "or":
            return combine("or", lits)
        key = form.literals
        acc = sums.get(key)
        if acc is None:
            acc = [ZERO] * form.total.bit_length()
            for p, (_, a, _) in zip(lits, form.literals, strict=True):
                _add_plane(acc, p, a)
            sums[key] = acc
        return _at_least(acc, form.threshold)

    def chunk(self, planes: Sequence[Any], chunk: int) -> Any:
        layout = self.layout
        if not self.exact:
            return self._float_chunk(chunk)
        if self._fast is not None:
            always, cubes = self._fast
            if always:
                return ONES
            out = np.zeros(layout.words, dtype=np.uint64)
            layout.fill(out, cubes, chunk)
            return out
        h = list(planes)
        for li, forms in enumerate(self.forms):
            sums: dict = {}
            nxt = []
            for j, form in enumerate(forms):
                if li == 0 and j in self._layer0_cubes:
                    cube = self._layer0_cubes[j]
                    if cube is None:
                        nxt.append(ZERO)
                        continue
                    arr = np.zeros(layout.words, dtype=np.uint64)
                    layout.fill(arr, [cube], chunk)
                    nxt.append(arr)
                else:
                    nxt.append(self._neuron(form, h, sums))
            h = nxt
        return h[0]

    def _float_chunk(self, chunk: int) -> Any:
        """Fallback for non-dyadic weights: evaluate explicit rows with the float network."""
        layout = self.layout
        r = layout.rows_per_chunk
        return pack(self.network(row_block(chunk * r, r, layout.n)).astype(bool), layout)
