"""Incompletely specified multi-output functions: ON, DC and OFF sets as row bitsets.

Why bitsets: a Python int with one bit per row (row r sets input i to
``(r >> (n-1-i)) & 1``, first input most significant, as in
:mod:`logicnets.rows`) makes "does this cube meet the OFF
set" one AND, and removing a literal from a cube one shift and OR.  Up to
``MAX_INPUTS`` inputs (2^24 rows = 2 MiB per set).

>>> f = IncompleteFunction.from_cubes(["a", "b"], ["y"], on=[("11", 1)], dc=[("10", 1)])
>>> f.on[0], f.dc[0], f.off[0]
(8, 4, 3)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ..errors import LogicError, PlaError
from ..rows import row_block

__all__ = ["MAX_INPUTS", "IncompleteFunction", "cube_rows", "neuron_rows", "variable_planes"]

MAX_INPUTS = 24


def variable_planes(n: int) -> list[int]:
    """Bitset of the rows where input i is 1, for each input.

    >>> [bin(p) for p in variable_planes(2)]
    ['0b1100', '0b1010']
    """
    total = 1 << n
    planes = []
    for i in range(n):
        s = 1 << (n - 1 - i)
        pat, length = ((1 << s) - 1) << s, 2 * s
        while length < total:
            pat |= pat << length
            length *= 2
        planes.append(pat)
    return planes


def cube_rows(pos: int, neg: int, n: int) -> int:
    """Bitset of the rows of the cube with positive literals ``pos`` and negative ``neg``
    (bit i = input i), built by doubling over the free inputs.

    >>> bin(cube_rows(0b01, 0, 2))    # a = 1: rows 2 and 3
    '0b1100'
    """
    base = 0
    for i in range(n):
        if pos >> i & 1:
            base |= 1 << (n - 1 - i)
    mask = 1 << base
    for i in range(n):
        if not (pos | neg) >> i & 1:
            mask |= mask << (1 << (n - 1 - i))
    return mask


def neuron_rows(w: Sequence[int], t: int, n: int) -> int:
    """Row bitset of ``[w·x >= t]`` over all 2^n rows (numpy, chunked)."""
    out = 0
    chunk = 1 << min(n, 16)
    wv = np.asarray(w, dtype=np.int64)
    for start in range(0, 1 << n, chunk):
        z = row_block(start, chunk, n).astype(np.int64) @ wv
        bits = np.packbits(z >= t, bitorder="little").tobytes()
        out |= int.from_bytes(bits, "little") << start
    return out


def _parse_cube(text: str, n: int) -> tuple[int, int]:
    pos = neg = 0
    for i, c in enumerate(text):
        if c == "1":
            pos |= 1 << i
        elif c == "0":
            neg |= 1 << i
    return pos, neg


@dataclass(frozen=True, eq=False)
class IncompleteFunction:
    """Per output ``o``: ``on[o]`` rows must give 1, ``dc[o]`` are free, the rest must give 0.

    ``cubes`` keeps the ON cubes the function came from, ``(pos, neg, outputs)``,
    as a starting cover for minimization.
    """

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    on: tuple[int, ...]
    dc: tuple[int, ...]
    cubes: tuple[tuple[int, int, int], ...] = ()

    def __post_init__(self) -> None:
        if len(self.inputs) > MAX_INPUTS:
            raise LogicError(
                f"{len(self.inputs)} inputs: at most {MAX_INPUTS} are supported (2^{MAX_INPUTS} rows per set)"
            )
        if len(self.on) != len(self.outputs) or len(self.dc) != len(self.outputs):
            raise LogicError("need one ON and one DC set per output")
        if any(a & b for a, b in zip(self.on, self.dc, strict=True)):
            raise LogicError("ON and DC sets overlap; give rows that are free only in DC")

    @property
    def n_inputs(self) -> int:
        return len(self.inputs)

    @property
    def n_outputs(self) -> int:
        return len(self.outputs)

    @property
    def full(self) -> int:
        return (1 << (1 << self.n_inputs)) - 1

    @cached_property
    def off(self) -> tuple[int, ...]:
        full = self.full
        return tuple(full & ~(a | b) for a, b in zip(self.on, self.dc, strict=True))

    @classmethod
    def from_cubes(
        cls,
        inputs: Sequence[str],
        outputs: Sequence[str],
        on: Iterable[tuple[str, int]] = (),
        dc: Iterable[tuple[str, int]] = (),
        off: Iterable[tuple[str, int]] | None = None,
    ) -> IncompleteFunction:
        """From cubes as (input string of ``0 1 -``, output bitmask).

        Without ``off`` the rows in neither ON nor DC are OFF; with it the rows in
        none of the three are free.  A row in both ON and DC is free.
        """
        n, m = len(inputs), len(outputs)
        ON, DC = [0] * m, [0] * m
        OFF = [0] * m
        cubes = []
        for target, source in ((ON, on), (DC, dc), (OFF, off or ())):
            for text, outs in source:
                pos, neg = _parse_cube(text, n)
                rows = cube_rows(pos, neg, n)
                for k in range(m):
                    if outs >> k & 1:
                        target[k] |= rows
                if target is ON:
                    cubes.append((pos, neg, outs))
        full = (1 << (1 << n)) - 1
        if off is not None:
            for k in range(m):
                if ON[k] & OFF[k]:
                    raise LogicError(f"output {outputs[k]}: a row is in both the ON and OFF set")
                DC[k] |= full & ~(ON[k] | OFF[k])
        ON = [a & ~b for a, b in zip(ON, DC, strict=True)]
        return cls(tuple(inputs), tuple(outputs), tuple(ON), tuple(DC), tuple(cubes))

    @classmethod
    def from_pla(cls, pla: Any) -> IncompleteFunction:
        """ESPRESSO's reading of a PLA's rows for its ``.type`` (see :mod:`logicnets.pla.format`)."""
        kind = pla.type
        on, dc, off = [], [], []
        for ins, outs in pla.rows:
            mask_on = mask_dc = mask_off = 0
            for k, c in enumerate(outs):
                if c == "1":
                    mask_on |= 1 << k
                elif c == "-" and "d" in kind:
                    mask_dc |= 1 << k
                elif c == "0" and "r" in kind:
                    mask_off |= 1 << k
            if mask_on:
                on.append((ins, mask_on))
            if mask_dc:
                dc.append((ins, mask_dc))
            if mask_off:
                off.append((ins, mask_off))
        try:
            return cls.from_cubes(pla.inputs, pla.outputs, on, dc, off if "r" in kind else None)
        except LogicError as exc:
            raise PlaError(str(exc), getattr(pla, "source", "<pla>")) from None

    def restrict(self, outputs: Sequence[int]) -> IncompleteFunction:
        """The function of some outputs only (in the given order)."""
        keep = list(outputs)
        remap = {o: j for j, o in enumerate(keep)}
        cubes = []
        for p, q, o in self.cubes:
            mask = sum(1 << remap[k] for k in keep if o >> k & 1)
            if mask:
                cubes.append((p, q, mask))
        return IncompleteFunction(
            self.inputs,
            tuple(self.outputs[k] for k in keep),
            tuple(self.on[k] for k in keep),
            tuple(self.dc[k] for k in keep),
            tuple(cubes),
        )

    def counts(self) -> list[tuple[int, int, int]]:
        """(ON, DC, OFF) row counts per output."""
        return [
            (a.bit_count(), b.bit_count(), c.bit_count()) for a, b, c in zip(self.on, self.dc, self.off, strict=True)
        ]
