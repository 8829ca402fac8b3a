"""Bit-sliced evaluation: 64 truth-table rows per uint64 word, numpy-vectorised.

Why: exhaustive verification of n inputs touches 2^n rows; row-by-row sympy
manages ~10^4 rows/s, these kernels 10^8-10^9.  Rows are numbered with the
first variable as the most significant bit (sympy's convention).  Row r lives
in word r // 64, bit r % 64.  A chunk holds ``2^k`` words; for variable i with
row bit b = n-1-i the column ("plane") is

* b < 6: a constant in-word pattern (0xAAAA..., 0xCCCC..., ...),
* 6 <= b < 6+k: whole words of 0 or ~0 alternating along the chunk,
* b >= 6+k: the same word for the whole chunk (a numpy scalar).

Conjunctions of literals are written with one strided numpy assignment each
("cube fill"), so a DNF costs one operation per term, not per literal.
Threshold neurons that are not AND/OR use a bit-sliced adder and comparator.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Sequence

import numpy as np

from .errors import LogicError
from .formula import Node
from .neurons import IntegerNeuron, integer_forms

__all__ = ["ONES", "ZERO", "Layout", "FormulaBits", "NetworkBits", "TableBits",
           "evaluator_for", "unpack", "pack"]

ONES = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
ZERO = np.uint64(0)
LOW = tuple(np.uint64(v) for v in (0xAAAA_AAAA_AAAA_AAAA, 0xCCCC_CCCC_CCCC_CCCC,
                                    0xF0F0_F0F0_F0F0_F0F0, 0xFF00_FF00_FF00_FF00,
                                    0xFFFF_0000_FFFF_0000, 0xFFFF_FFFF_0000_0000))
#: Words per chunk (2^14 words = 2^20 rows = 128 KiB per plane).
CHUNK_LOG = 14


@lru_cache(maxsize=64)
def _word_plane(k: int, j: int) -> np.ndarray:
    idx = np.arange(1 << k, dtype=np.uint64)
    plane = np.where((idx >> np.uint64(j)) & np.uint64(1), ONES, ZERO)
    plane.setflags(write=False)
    return plane


class Layout:
    """How 2^n rows split into chunks of words; yields the input planes."""

    def __init__(self, n: int, chunk_log: int = CHUNK_LOG) -> None:
        if n < 0:
            raise LogicError("number of variables must be >= 0")
        self.n = n
        self.k = min(max(n - 6, 0), chunk_log)
        self.words = 1 << self.k
        self.n_chunks = 1 << max(n - 6 - self.k, 0)
        self.rows_per_chunk = min(64 * self.words, 1 << n)
        self.valid = ONES if n >= 6 else np.uint64((1 << (1 << n)) - 1)

    def planes(self, chunk: int) -> list[Any]:
        out = []
        for i in range(self.n):
            b = self.n - 1 - i
            if b < 6:
                out.append(LOW[b])
            elif b < 6 + self.k:
                out.append(_word_plane(self.k, b - 6))
            else:
                out.append(ONES if (chunk >> (b - 6 - self.k)) & 1 else ZERO)
        return out

    def full(self, plane: Any) -> np.ndarray:
        """A plane as an array of ``words`` words (scalars broadcast), masked to valid rows."""
        arr = np.empty(self.words, dtype=np.uint64)
        arr[...] = plane
        if self.n < 6:
            arr &= self.valid
        return arr

    def cube(self, literals: Sequence[tuple[int, bool]]) -> tuple[np.uint64, tuple, int, int] | None:
        """Precompute a conjunction of (variable index, positive) literals for cube fills.

        Returns (in-word pattern, word-axis index, chunk mask, chunk value), or None if
        the conjunction is contradictory.
        """
        pattern = ONES
        idx: list[Any] = [slice(None)] * self.k
        cmask = cval = 0
        for i, positive in literals:
            b = self.n - 1 - i
            if b < 6:
                pattern &= LOW[b] if positive else ~LOW[b]
            elif b < 6 + self.k:
                axis = self.k - 1 - (b - 6)
                want = 1 if positive else 0
                if isinstance(idx[axis], int) and idx[axis] != want:
                    return None
                idx[axis] = want
            else:
                bit = 1 << (b - 6 - self.k)
                want = bit if positive else 0
                if cmask & bit and (cval & bit) != want:
                    return None
                cmask |= bit
                cval |= want
        if self.n < 6:
            pattern &= self.valid
        if pattern == ZERO:
            return None
        return pattern, tuple(idx), cmask, cval

    def fill(self, out: np.ndarray, cubes: Sequence[tuple], chunk: int) -> None:
        """OR each cube into ``out`` (an array of ``words`` words) for this chunk."""
        view = out.reshape((2,) * self.k)
        for pattern, idx, cmask, cval in cubes:
            if chunk & cmask == cval:
                view[idx] |= pattern


def _is_scalar(p: Any) -> bool:
    return not isinstance(p, np.ndarray)


def _combine(op: str, values: list[Any]) -> Any:
    """AND/OR/XOR many planes: scalars folded first, arrays combined in place."""
    scal = [v for v in values if _is_scalar(v)]
    arrs = [v for v in values if not _is_scalar(v)]
    s = None
    for v in scal:
        s = v if s is None else (s & v if op == "and" else s | v if op == "or" else s ^ v)
    if op == "and" and s is not None and s == ZERO:
        return ZERO
    if op == "or" and s is not None and s == ONES:
        return ONES
    if not arrs:
        return s
    fn = {"and": np.bitwise_and, "or": np.bitwise_or, "xor": np.bitwise_xor}[op]
    if s is not None and not ((op == "and" and s == ONES) or (op != "and" and s == ZERO)):
        acc = fn(arrs[0], s)
    elif len(arrs) == 1:
        return arrs[0]
    else:
        acc = fn(arrs[0], arrs[1])
        arrs = arrs[1:]
    for a in arrs[1:]:
        fn(acc, a, out=acc)
    return acc


class FormulaBits:
    """Bit-sliced evaluator of a formula tree over ``variables``."""

    def __init__(self, node: Node, variables: Sequence[str], layout: Layout) -> None:
        self.node = node
        self.layout = layout
        self.index = {v: i for i, v in enumerate(variables)}
        self._cubes: dict[int, Any] = {}

    def _cube_literals(self, n: Node) -> list[tuple[int, bool]] | None:
        if n[0] == "var":
            return [(self.index[n[1]], True)]
        if n[0] == "not" and n[1][0][0] == "var":
            return [(self.index[n[1][0][1]], False)]
        if n[0] == "and":
            lits: list[tuple[int, bool]] = []
            for c in n[1]:
                sub = self._cube_literals(c) if c[0] != "and" else None
                if sub is None:
                    return None
                lits.extend(sub)
            return lits
        return None

    def _cube(self, n: Node) -> Any:
        """Cached cube for a literal conjunction: a tuple, "empty", or None (not a cube)."""
        key = id(n)
        if key not in self._cubes:
            lits = self._cube_literals(n) if n[0] == "and" else None
            if lits is None:
                self._cubes[key] = None
            else:
                c = self.layout.cube(lits)
                self._cubes[key] = "empty" if c is None else c
        return self._cubes[key]

    def chunk(self, planes: Sequence[Any], chunk: int) -> Any:
        memo: dict[int, Any] = {}
        layout = self.layout

        def ev(n: Node) -> Any:
            key = id(n)
            if key in memo:
                return memo[key]
            op = n[0]
            if op == "var":
                r = planes[self.index[n[1]]]
            elif op == "const":
                r = ONES if n[1] else ZERO
            elif op == "not":
                r = ~ev(n[1][0])
            elif op in ("and", "or"):
                cubes, rest = [], []
                for c in n[1] if op == "or" else (n,):
                    cube = self._cube(c) if c[0] == "and" else None
                    if cube is None:
                        rest.append(c)
                    elif cube != "empty":
                        cubes.append(cube)
                if op == "and" and not rest:
                    if not cubes:
                        r = ZERO
                    else:
                        r = np.zeros(layout.words, dtype=np.uint64)
                        layout.fill(r, cubes, chunk)
                elif op == "and":
                    r = _combine("and", [ev(c) for c in n[1]])
                else:
                    vals = [ev(c) for c in rest]
                    if cubes:
                        buf = np.zeros(layout.words, dtype=np.uint64)
                        layout.fill(buf, cubes, chunk)
                        vals.append(buf)
                    r = _combine("or", vals) if vals else ZERO
            elif op == "xor":
                r = _combine("xor", [ev(c) for c in n[1]])
            elif op == "implies":
                r = ~ev(n[1][0]) | ev(n[1][1])
            elif op == "eq":
                vals = [ev(c) for c in n[1]]
                r = _combine("and", vals) | _combine("and", [~v for v in vals])
            elif op == "ite":
                c = ev(n[1][0])
                r = (c & ev(n[1][1])) | (~c & ev(n[1][2]))
            else:  # pragma: no cover
                raise LogicError(f"unknown formula node {op!r}")
            memo[key] = r
            return r

        return ev(self.node)


def _add_plane(acc: list[Any], plane: Any, weight: int) -> None:
    """acc += weight * plane; acc is a little-endian list of bit planes, long enough
    for the final sum, so carries out of the top bit are always zero and dropped."""
    j = 0
    while weight:
        if weight & 1:
            carry = plane
            for pos in range(j, len(acc)):
                if _is_scalar(carry) and carry == ZERO:
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
            integer_forms(l.weights, l.biases) for l in network.layers]
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
            if out.kind == "or" and not any(neg for _, _, neg in out.literals) and all(
                    hidden[i].kind in ("and", "const0", "const1") for i, _, _ in out.literals):
                always = any(hidden[i].kind == "const1" for i, _, _ in out.literals)
                cubes = [self._layer0_cubes[i] for i, _, _ in out.literals
                         if hidden[i].kind == "and" and self._layer0_cubes[i] is not None]
                self._fast = (always, cubes)

    def _neuron(self, form: IntegerNeuron, planes: Sequence[Any], sums: dict) -> Any:
        kind = form.kind
        if kind == "const1":
            return ONES
        if kind == "const0":
            return ZERO
        lits = [planes[i] if not neg else ~planes[i] for i, _, neg in form.literals]
        if kind == "and":
            return _combine("and", lits)
        if kind == "or":
            return _combine("or", lits)
        key = form.literals
        acc = sums.get(key)
        if acc is None:
            acc = [ZERO] * form.total.bit_length()
            for p, (_, a, _) in zip(lits, form.literals):
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
        n = layout.n
        r = layout.rows_per_chunk
        rows = np.arange(chunk * r, chunk * r + r, dtype=np.int64)
        shifts = np.arange(n - 1, -1, -1, dtype=np.int64)
        x = ((rows[:, None] >> shifts[None, :]) & 1).astype(np.uint8)
        return pack(self.network(x).astype(bool), layout)


class TableBits:
    """Bit-sliced view of an explicit output column (a truth table)."""

    def __init__(self, outputs: np.ndarray, layout: Layout) -> None:
        self.outputs = np.asarray(outputs, dtype=bool)
        self.layout = layout

    def chunk(self, planes: Sequence[Any], chunk: int) -> Any:
        r = self.layout.rows_per_chunk
        return pack(self.outputs[chunk * r:(chunk + 1) * r], self.layout)


def pack(bits: np.ndarray, layout: Layout) -> np.ndarray:
    """Pack a bool column of one chunk into words (row r -> word r//64, bit r%64)."""
    bits = np.asarray(bits, dtype=bool)
    padded = np.zeros(layout.words * 64, dtype=bool)
    padded[:bits.size] = bits
    return np.packbits(padded, bitorder="little").view("<u8").astype(np.uint64)


def unpack(words: np.ndarray, rows: int) -> np.ndarray:
    """Inverse of :func:`pack`: the first ``rows`` bits as a bool array."""
    w = np.ascontiguousarray(words, dtype="<u8")
    return np.unpackbits(w.view(np.uint8), bitorder="little")[:rows].astype(bool)


def evaluator_for(spec: Any, variables: Sequence[str], layout: Layout) -> Any:
    """Bit-sliced evaluator for a Formula, ThresholdNetwork or TruthTable over ``variables``."""
    from .formula import Formula
    from .network import ThresholdNetwork
    from .truthtable import TruthTable

    if isinstance(spec, Formula):
        return FormulaBits(spec.node, variables, layout)
    if isinstance(spec, ThresholdNetwork):
        if tuple(spec.inputs) != tuple(variables):
            raise LogicError("internal: network inputs must match the variable order")
        return NetworkBits(spec, layout)
    if isinstance(spec, TruthTable):
        if tuple(spec.variables) != tuple(variables):
            raise LogicError("internal: truth table variables must match the variable order")
        return TableBits(spec.outputs, layout)
    raise LogicError(f"cannot evaluate {type(spec).__name__}")
