"""Covers of cubes in positional-cube notation, packed into uint64 words, as ESPRESSO keeps them.

Why this notation: a cube over ``n`` binary inputs and ``m`` outputs is one bit vector, two bits
per input (bit ``2i`` set: input ``i`` may be 0; bit ``2i+1`` set: it may be 1; both: the input is
free; neither: the cube is empty) followed by one bit per output it feeds.  Then intersection is
AND, containment is ``a & ~b == 0`` and the distance between two cubes counts empty fields, all on
whole covers at once with numpy, and nothing grows with 2^n.

A cover is a 2-D ``uint64`` array, one row per cube: ``space.wi`` input words (32 inputs a word)
then ``space.wo`` output words (64 outputs a word).

>>> sp = CubeSpace(3, 2)
>>> F = sp.from_strings(["1-0", "-11"], ["10", "11"])
>>> sp.to_strings(F)
[('1-0', '10'), ('-11', '11')]
>>> bool(sp.intersects(F[0], F[1:])[0])        # 1-0 and -11 differ in the last input
False
>>> sp.to_strings(sp.cofactor(F, sp.from_strings(["1--"], ["11"])[0]))
[('--0', '10'), ('-11', '11')]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

__all__ = ["CubeSpace"]

_ZERO_BITS = np.uint64(0x5555555555555555)  # bit 2j of a word: input j of the word may be 0
_ONE = np.uint64(1)


def _ones(nbits: int) -> np.uint64:
    return np.uint64((1 << nbits) - 1)


class CubeSpace:
    """Word layout and the cube operations for functions of ``n`` inputs and ``m`` outputs."""

    def __init__(self, n: int, m: int) -> None:
        self.n, self.m = n, m
        self.wi = max(1, (2 * n + 63) // 64)
        self.wo = max(1, (m + 63) // 64)
        self.words = self.wi + self.wo
        full = np.zeros(self.words, dtype=np.uint64)
        for w in range(self.wi):
            full[w] = _ones(max(0, min(64, 2 * n - 64 * w)))
        for w in range(self.wo):
            full[self.wi + w] = _ones(max(0, min(64, m - 64 * w)))
        #: the universal cube: every input free, every output fed
        self.full = full
        #: per input word, the "may be 0" bit of every input in it
        self.zero_bits = full[: self.wi] & _ZERO_BITS
        #: the same two masks of the input part as Python ints (for :mod:`.small`)
        self.int_masks = tuple(
            int.from_bytes(w.astype("<u8").tobytes(), "little") for w in (self.zero_bits, full[: self.wi])
        )

    # -- conversion ---------------------------------------------------------------------------
    def empty(self, k: int = 0) -> np.ndarray:
        return np.zeros((k, self.words), dtype=np.uint64)

    def _pack(self, bits: np.ndarray, words: int) -> np.ndarray:
        k = bits.shape[0]
        padded = np.zeros((k, words * 64), dtype=np.uint8)
        padded[:, : bits.shape[1]] = bits
        return np.packbits(padded, axis=1, bitorder="little").view("<u8").astype(np.uint64).reshape(k, words)

    def _unpack(self, words: np.ndarray, nbits: int) -> np.ndarray:
        raw = np.ascontiguousarray(words.astype("<u8")).view(np.uint8)
        return np.unpackbits(raw, axis=1, bitorder="little")[:, :nbits]

    def from_codes(self, inputs: np.ndarray, outputs: np.ndarray) -> np.ndarray:
        """Cover from a ``(k, n)`` array of input codes (0, 1, 2 = free) and ``(k, m)`` output bits."""
        inputs = np.asarray(inputs, dtype=np.uint8).reshape(-1, self.n)
        k = inputs.shape[0]
        pairs = np.empty((k, 2 * self.n), dtype=np.uint8)
        pairs[:, 0::2] = inputs != 1
        pairs[:, 1::2] = inputs != 0
        cover = np.empty((k, self.words), dtype=np.uint64)
        cover[:, : self.wi] = self._pack(pairs, self.wi)
        cover[:, self.wi :] = self._pack(np.asarray(outputs, dtype=np.uint8).reshape(k, self.m), self.wo)
        return cover

    def input_codes(self, cover: np.ndarray) -> np.ndarray:
        """``(k, n)`` codes: 0 or 1 for a literal, 2 for a free input, 3 for an empty field."""
        bits = self._unpack(cover[:, : self.wi], 2 * self.n)
        may0, may1 = bits[:, 0::2], bits[:, 1::2]
        return np.where(may0 & may1, 2, np.where(may1, 1, np.where(may0, 0, 3))).astype(np.uint8)

    def output_bits(self, cover: np.ndarray) -> np.ndarray:
        return self._unpack(cover[:, self.wi :], self.m)

    def from_strings(self, inputs: Sequence[str], outputs: Sequence[str]) -> np.ndarray:
        """Cover from PLA-style strings (``0 1 -`` per input, ``0 1`` per output)."""
        if not inputs:
            return self.empty()
        raw = np.frombuffer("".join(inputs).encode("ascii"), dtype=np.uint8).reshape(len(inputs), self.n)
        codes = np.where(raw == ord("1"), 1, np.where(raw == ord("0"), 0, 2))
        outs = np.frombuffer("".join(outputs).encode("ascii"), dtype=np.uint8).reshape(len(outputs), self.m)
        return self.from_codes(codes, outs == ord("1"))

    def to_strings(self, cover: np.ndarray) -> list[tuple[str, str]]:
        chars = np.frombuffer(b"01-?", dtype=np.uint8)[self.input_codes(cover)]
        outs = np.frombuffer(b"01", dtype=np.uint8)[self.output_bits(cover)]
        return [(a.tobytes().decode(), b.tobytes().decode()) for a, b in zip(chars, outs, strict=True)]

    def from_triples(self, triples: Iterable[tuple[int, int, int]]) -> np.ndarray:
        """Cover from ``(pos, neg, outs)`` bitmasks (bit i = input i; bit k = output k)."""
        triples = list(triples)
        codes = np.full((len(triples), self.n), 2, dtype=np.uint8)
        outs = np.zeros((len(triples), self.m), dtype=np.uint8)
        for r, (pos, neg, o) in enumerate(triples):
            codes[r, _bit_indices(pos, self.n)] = 1
            codes[r, _bit_indices(neg, self.n)] = 0
            outs[r, _bit_indices(o, self.m)] = 1
        return self.from_codes(codes, outs)

    def to_triples(self, cover: np.ndarray) -> list[tuple[int, int, int]]:
        codes, outs = self.input_codes(cover), self.output_bits(cover)
        weights = [1 << i for i in range(max(self.n, self.m))]
        out = []
        for c, o in zip(codes.tolist(), outs.tolist(), strict=True):
            pos = sum(w for w, v in zip(weights, c, strict=False) if v == 1)
            neg = sum(w for w, v in zip(weights, c, strict=False) if v == 0)
            out.append((pos, neg, sum(w for w, v in zip(weights, o, strict=False) if v)))
        return out

    # -- predicates on whole covers -------------------------------------------------------------
    def empty_inputs(self, cover: np.ndarray) -> np.ndarray:
        """Per cube: the number of input fields that are empty (00)."""
        x = cover[..., : self.wi]
        return np.bitwise_count(~(x | (x >> _ONE)) & self.zero_bits).sum(axis=-1)

    def is_empty(self, cover: np.ndarray) -> np.ndarray:
        return (self.empty_inputs(cover) > 0) | ~cover[..., self.wi :].any(axis=-1)

    def intersects(self, c: np.ndarray, cover: np.ndarray) -> np.ndarray:
        """Per cube of ``cover``: does it meet ``c`` (inputs and outputs)?"""
        return ~self.is_empty(cover & c)

    def distance(self, c: np.ndarray, cover: np.ndarray) -> np.ndarray:
        """Per cube: empty input fields of the intersection, +1 when the outputs are disjoint."""
        x = cover & c
        return self.empty_inputs(x) + ~x[..., self.wi :].any(axis=-1)

    def contains(self, cover: np.ndarray, c: np.ndarray) -> np.ndarray:
        """Per cube of ``cover``: does it contain ``c``?"""
        return ~(c & ~cover).any(axis=-1)

    def inside(self, cover: np.ndarray, c: np.ndarray) -> np.ndarray:
        """Per cube of ``cover``: is it contained in ``c``?"""
        return ~(cover & ~c).any(axis=-1)

    def free_inputs(self, cover: np.ndarray) -> np.ndarray:
        """Per cube: how many inputs it leaves free (its size is 2 to that power)."""
        x = cover[..., : self.wi]
        return np.bitwise_count(x & (x >> _ONE) & self.zero_bits).sum(axis=-1)

    def literal_count(self, cover: np.ndarray) -> int:
        return int(cover.shape[0] * self.n - self.free_inputs(cover).sum())

    # -- operations ---------------------------------------------------------------------------
    def cofactor(self, cover: np.ndarray, c: np.ndarray) -> np.ndarray:
        """ESPRESSO's cofactor: the cubes that meet ``c``, each OR'ed with ``c``'s complement."""
        keep = cover[self.intersects(c, cover)]
        return keep | (self.full & ~c)

    def drop_contained(self, cover: np.ndarray) -> np.ndarray:
        """Single-cube containment: drop every cube inside another (keep one of equal ones)."""
        if len(cover) < 2:
            return cover
        cover = _dedupe(cover)
        size = self.free_inputs(cover) * (self.m + 1) + _popcount_rows(cover[:, self.wi :])
        cover = cover[np.argsort(-size, kind="stable")]  # a container comes before what it holds
        return cover[~self._contained(cover)]

    def _contained(self, cover: np.ndarray) -> np.ndarray:
        """Per cube of a cover without repeats: does another cube contain it?  By columns: per
        input and value the set of cubes allowing it, per output the set feeding it, as
        Python-int bitsets; a cube's containers are the intersection of the sets of its parts."""
        codes = self.input_codes(cover).T
        allows = [_bitsets(codes != 1), _bitsets(codes != 0)]  # allows[v][i]: input i may be v
        feeds = _bitsets(self.output_bits(cover).T)
        everyone, out = (1 << len(cover)) - 1, np.zeros(len(cover), dtype=bool)
        for j, (c, outs) in enumerate(zip(codes.T.tolist(), self.output_bits(cover).tolist(), strict=True)):
            holders = everyone & ~(1 << j)
            for i, v in enumerate(c):
                if v < 3:  # an empty field (3) is inside anything
                    holders &= allows[v][i] if v < 2 else allows[0][i] & allows[1][i]
                if not holders:
                    break
            for k in np.flatnonzero(outs).tolist() if holders else ():
                holders &= feeds[k]
            out[j] = holders != 0
        return out

    def sharp(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``a # b``: disjoint cubes covering the points of cube ``a`` outside cube ``b``."""
        if not self.intersects(b, a[None])[0]:
            return a[None].copy()
        pieces = []
        rest = a.copy()
        codes_b = self.input_codes(b[None])[0]
        codes_a = self.input_codes(a[None])[0]
        for i in np.flatnonzero((codes_b < 2) & (codes_a == 2)).tolist():
            word, bit = divmod(2 * i, 64)
            keep_b = np.uint64(1 << (bit + int(codes_b[i])))
            flip = np.uint64(3 << bit) ^ keep_b
            piece = rest.copy()
            piece[word] &= ~keep_b
            pieces.append(piece)
            rest[word] &= ~flip
        outs_left = a[self.wi :] & ~b[self.wi :]
        if outs_left.any():
            piece = rest.copy()
            piece[self.wi :] = outs_left
            pieces.append(piece)
        return np.array(pieces, dtype=np.uint64).reshape(-1, self.words)


def _bit_indices(mask: int, n: int) -> list[int]:
    return [i for i in range(min(n, mask.bit_length())) if mask >> i & 1]


def _bitsets(matrix: np.ndarray) -> list[int]:
    """Each row of a boolean matrix as an int: bit ``r`` for column ``r``."""
    packed = np.packbits(np.asarray(matrix, dtype=bool), axis=1, bitorder="little")
    return [int.from_bytes(row.tobytes(), "little") for row in packed]


def _popcount_rows(words: np.ndarray) -> np.ndarray:
    return np.bitwise_count(words).sum(axis=-1)


def _dedupe(cover: np.ndarray) -> np.ndarray:
    """Remove repeated rows, keeping the first of each (order kept)."""
    view = np.ascontiguousarray(cover).view(np.dtype((np.void, cover.dtype.itemsize * cover.shape[1])))
    _, first = np.unique(view.ravel(), return_index=True)
    return cover[np.sort(first)]
