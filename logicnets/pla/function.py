"""Incompletely specified multi-output functions: ON, DC and OFF as covers of cubes.

Why covers: a PLA is a list of cubes, and ESPRESSO's algorithms work on those lists directly
(:mod:`logicnets.cover`), so nothing here grows with 2^n and any number of inputs works.  The
row bitsets of the exact small-function engine (a Python int with one bit per row; row r sets
input i to ``(r >> (n-1-i)) & 1``, first input most significant, as in :mod:`logicnets.rows`)
are derived on demand, up to ``MAX_INPUTS`` inputs.

>>> f = IncompleteFunction.from_cubes(["a", "b"], ["y"], on=[("11", 1)], dc=[("10", 1)])
>>> f.on[0], f.dc[0], f.off[0]
(8, 4, 3)
>>> f.on_cubes, f.dc_cubes
(((3, 0, 1),), ((1, 2, 1),))
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ..cover.cubes import CubeSpace
from ..errors import LogicError, PlaError
from ..rows import row_bits, row_block

__all__ = ["MAX_INPUTS", "IncompleteFunction", "cube_rows", "neuron_rows", "variable_planes"]

#: Row bitsets (the exact small-function engine) are built up to this many inputs (2^24 rows).
MAX_INPUTS = 24

#: Output characters of a PLA row, by meaning (ESPRESSO's reader: 4 is ON, 2 is don't-care).
_ON_CHARS, _DC_CHARS, _OFF_CHARS = b"14", b"-2", b"0"


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


def _rows_of_cover(space: CubeSpace, cover: np.ndarray) -> list[int]:
    """Per output, the row bitset of the cubes of ``cover`` that feed it."""
    out = [0] * space.m
    for pos, neg, outs in space.to_triples(cover):
        rows = cube_rows(pos, neg, space.n)
        for k in range(space.m):
            if outs >> k & 1:
                out[k] |= rows
    return out


def _minterm_cover(space: CubeSpace, bitsets: Sequence[int]) -> np.ndarray:
    """One cube per (row, output) pair of the bitsets (small functions only)."""
    n = space.n
    rows, outs = [], []
    for k, bits in enumerate(bitsets):
        r = np.flatnonzero(
            np.unpackbits(np.frombuffer(bits.to_bytes((1 << n) // 8 + 1, "little"), np.uint8), bitorder="little")[
                : 1 << n
            ]
        )
        rows.append(r)
        outs.append(np.full(len(r), k))
    r, k = np.concatenate(rows or [np.zeros(0, int)]), np.concatenate(outs or [np.zeros(0, int)])
    codes = row_bits(r, n) if n else np.zeros((len(r), 0), np.uint8)
    out_bits = np.zeros((len(r), space.m), dtype=np.uint8)
    out_bits[np.arange(len(r)), k] = 1
    return space.from_codes(codes, out_bits)


@dataclass(frozen=True, eq=False)
class IncompleteFunction:
    """Per output: the points of ``on_cover`` must give 1 (unless also in ``dc_cover``), the points
    of ``dc_cover`` are free, and the OFF points must give 0: those of ``given_off`` when the PLA
    gave them (types fr, fdr; then every other point is free), else all points outside ON ∪ DC.

    The covers are :class:`~logicnets.cover.cubes.CubeSpace` arrays over ``space``.
    """

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    on_cover: np.ndarray
    dc_cover: np.ndarray
    given_off: np.ndarray | None = None
    #: bound on the cubes (and steps) of a computed OFF or free cover, per output
    cover_limit: int = 200_000

    def __post_init__(self) -> None:
        words = self.space.words
        for cover in (self.on_cover, self.dc_cover, self.given_off):
            if cover is not None and (cover.ndim != 2 or cover.shape[1] != words):
                raise LogicError(f"a cover must be an array of shape (cubes, {words}) for this function")

    @cached_property
    def space(self) -> CubeSpace:
        return CubeSpace(len(self.inputs), len(self.outputs))

    @property
    def n_inputs(self) -> int:
        return len(self.inputs)

    @property
    def n_outputs(self) -> int:
        return len(self.outputs)

    # -- covers ---------------------------------------------------------------------------------
    @cached_property
    def off_cover(self) -> np.ndarray:
        """The OFF cover: given, or the complement of ON ∪ DC per output."""
        from ..cover.espresso import off_cover

        if self.given_off is not None:
            return self.given_off
        return off_cover(self.space, self.on_cover, self.dc_cover, self.cover_limit, self.outputs)

    @cached_property
    def free_cover(self) -> np.ndarray:
        """Every point that is free: DC, and with a given OFF cover whatever no cover names."""
        from ..cover.espresso import off_cover

        if self.given_off is None:
            return self.dc_cover
        named = np.vstack([self.on_cover, self.given_off])
        return np.vstack([self.dc_cover, off_cover(self.space, named, self.dc_cover, self.cover_limit, self.outputs)])

    @cached_property
    def on_cubes(self) -> tuple[tuple[int, int, int], ...]:
        """The ON cover as ``(pos, neg, outs)`` bitmasks (bit i = input i, bit k = output k)."""
        return tuple(self.space.to_triples(self.on_cover))

    @cached_property
    def dc_cubes(self) -> tuple[tuple[int, int, int], ...]:
        return tuple(self.space.to_triples(self.dc_cover))

    @cached_property
    def off_cubes(self) -> tuple[tuple[int, int, int], ...] | None:
        """The given OFF cover as bitmasks; None when OFF is everything outside ON ∪ DC."""
        return None if self.given_off is None else tuple(self.space.to_triples(self.given_off))

    @property
    def cubes(self) -> tuple[tuple[int, int, int], ...]:
        """The ON cubes, the starting cover of minimization."""
        return self.on_cubes

    # -- row bitsets (small functions) ----------------------------------------------------------
    def _need_rows(self) -> None:
        if self.n_inputs > MAX_INPUTS:
            raise LogicError(
                f"{self.n_inputs} inputs: row bitsets stop at {MAX_INPUTS} inputs (2^{MAX_INPUTS} rows per set); "
                "use the covers (on_cover, dc_cover, off_cover)"
            )

    @property
    def full(self) -> int:
        self._need_rows()
        return (1 << (1 << self.n_inputs)) - 1

    @cached_property
    def _row_sets(self) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        self._need_rows()
        full = self.full
        on = _rows_of_cover(self.space, self.on_cover)
        dc = _rows_of_cover(self.space, self.dc_cover)
        if self.given_off is None:
            off = [full & ~(a | b) for a, b in zip(on, dc, strict=True)]
        else:
            off = [o & ~d for o, d in zip(_rows_of_cover(self.space, self.given_off), dc, strict=True)]
            dc = [full & ~(a | o) | d for a, o, d in zip(on, off, dc, strict=True)]
        on = [a & ~b for a, b in zip(on, dc, strict=True)]
        return tuple(on), tuple(dc), tuple(off)

    @property
    def on(self) -> tuple[int, ...]:
        """Per output, the row bitset of the ON rows that are not don't-cares."""
        return self._row_sets[0]

    @property
    def dc(self) -> tuple[int, ...]:
        return self._row_sets[1]

    @property
    def off(self) -> tuple[int, ...]:
        return self._row_sets[2]

    @classmethod
    def from_rows(
        cls, inputs: Sequence[str], outputs: Sequence[str], on: Sequence[int], dc: Sequence[int]
    ) -> IncompleteFunction:
        """From row bitsets (small functions): ON and DC per output, OFF the rest."""
        space = CubeSpace(len(inputs), len(outputs))
        if len(inputs) > MAX_INPUTS:
            raise LogicError(f"{len(inputs)} inputs: row bitsets stop at {MAX_INPUTS} inputs")
        if len(on) != len(outputs) or len(dc) != len(outputs):
            raise LogicError("need one ON and one DC set per output")
        if any(a & b for a, b in zip(on, dc, strict=True)):
            raise LogicError("ON and DC sets overlap; give rows that are free only in DC")
        return cls(tuple(inputs), tuple(outputs), _minterm_cover(space, on), _minterm_cover(space, dc))

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

        Without ``off`` the points in neither ON nor DC are OFF; with it the points in
        none of the three are free.  A point in both ON and DC is free.
        """
        space = CubeSpace(len(inputs), len(outputs))

        def cover(cubes: Iterable[tuple[str, int]]) -> np.ndarray:
            cubes = list(cubes)
            outs = ["".join("1" if o >> k & 1 else "0" for k in range(space.m)) for _, o in cubes]
            return space.from_strings([t for t, _ in cubes], outs)

        given = None if off is None else cover(off)
        return _checked(cls(tuple(inputs), tuple(outputs), cover(on), cover(dc), given))

    @classmethod
    def from_pla(cls, pla: Any, cover_limit: int = 200_000) -> IncompleteFunction:
        """ESPRESSO's reading of a PLA's rows for its ``.type`` (see :mod:`logicnets.pla.format`)."""
        kind = pla.type
        space = CubeSpace(len(pla.inputs), len(pla.outputs))
        ins = [a for a, _ in pla.rows]
        outs = np.frombuffer("".join(b for _, b in pla.rows).encode("ascii"), np.uint8).reshape(len(ins), space.m)

        def cover(chars: bytes) -> np.ndarray:
            bits = np.isin(outs, np.frombuffer(chars, np.uint8))
            rows = bits.any(axis=1)
            return space.from_codes(_input_codes([a for a, r in zip(ins, rows, strict=True) if r], space.n), bits[rows])

        on = cover(_ON_CHARS)
        dc = cover(_DC_CHARS) if "d" in kind else space.empty()
        off = cover(_OFF_CHARS) if "r" in kind else None
        try:
            return _checked(cls(tuple(pla.inputs), tuple(pla.outputs), on, dc, off, cover_limit))
        except LogicError as exc:
            raise PlaError(str(exc), getattr(pla, "source", "<pla>")) from None

    def restrict(self, outputs: Sequence[int]) -> IncompleteFunction:
        """The function of some outputs only (in the given order)."""
        keep = list(outputs)
        space = CubeSpace(self.n_inputs, len(keep))

        def cover(c: np.ndarray | None) -> np.ndarray | None:
            if c is None:
                return None
            bits = self.space.output_bits(c)[:, keep]
            rows = bits.any(axis=1)
            return space.from_codes(self.space.input_codes(c[rows]), bits[rows])

        names = tuple(self.outputs[k] for k in keep)
        return IncompleteFunction(
            self.inputs, names, cover(self.on_cover), cover(self.dc_cover), cover(self.given_off), self.cover_limit
        )

    def counts(self) -> list[tuple[int, int, int]]:
        """(ON, DC, OFF) row counts per output (small functions)."""
        return [
            (a.bit_count(), b.bit_count(), c.bit_count()) for a, b, c in zip(self.on, self.dc, self.off, strict=True)
        ]


def _input_codes(texts: Sequence[str], n: int) -> np.ndarray:
    if not texts:
        return np.zeros((0, n), dtype=np.uint8)
    raw = np.frombuffer("".join(texts).encode("ascii"), dtype=np.uint8).reshape(len(texts), n)
    return np.where(raw == ord("1"), 1, np.where(raw == ord("0"), 0, 2)).astype(np.uint8)


def _checked(f: IncompleteFunction) -> IncompleteFunction:
    """A given OFF cover must not meet the ON cover outside the don't-cares (checked on cubes)."""
    if f.given_off is None or not len(f.on_cover) or not len(f.given_off):
        return f
    from ..cover.unate import tautology

    sp = f.space
    for c in f.on_cover:
        meets = f.given_off[sp.intersects(c, f.given_off)]
        for r in meets:
            x = c & r
            for k in np.flatnonzero(sp.output_bits(x[None])[0]).tolist():
                dc = f.dc_cover[(f.dc_cover[:, sp.wi + k // 64] >> np.uint64(k % 64)) & np.uint64(1) == 1]
                dc = dc[sp.empty_inputs(dc[:, : sp.wi] & x[: sp.wi]) == 0]
                if not tautology(sp, dc[:, : sp.wi] | (sp.full[: sp.wi] & ~x[: sp.wi])):
                    raise LogicError(f"output {f.outputs[k]}: a row is in both the ON and OFF set")
    return f
