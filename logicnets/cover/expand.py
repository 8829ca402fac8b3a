"""ESPRESSO's expand: each cube grown to a prime against the OFF cover, held as row bitsets.

Why bitsets: expand asks, for every raise it tries, whether each OFF row the cube must avoid
still keeps a literal that contradicts it.  The OFF cover is transposed once per call: per
literal, one Python int with a bit per OFF row it contradicts; per output, the rows feeding it.
How many of the cube's literals still block each row is kept bit-sliced (int ``k`` holds bit
``k`` of every row's count), so raising an input is a few big-int operations instead of a pass
over a (rows x inputs) matrix, and the answers are the same.

>>> from .cubes import CubeSpace
>>> sp = CubeSpace(2, 1)
>>> F, R = sp.from_strings(["11"], ["1"]), sp.from_strings(["00"], ["1"])
>>> sp.to_strings(expand(sp, F, R))
[('-1', '1')]
"""

from __future__ import annotations

import numpy as np

from .columns import bitsets, feeding_any, minus, missing, once, tally
from .cubes import CubeSpace
from .small import to_ints

__all__ = ["OffRows", "expand", "expand_one", "mini_weights", "raise_order"]


class OffRows:
    """The OFF cover ``R`` transposed into bitsets over its rows."""

    def __init__(self, sp: CubeSpace, R: np.ndarray) -> None:
        codes = sp.input_codes(R).T
        self.sp, self.size, self.all = sp, len(R), (1 << len(R)) - 1
        #: ``blocks[v][i]``: the rows that the literal "input i is v" contradicts
        self.blocks = (bitsets(codes == 1), bitsets(codes == 0))
        #: ``feeding[k]``: the rows of output ``k``
        self.feeding = bitsets(sp.output_bits(R).T)

    def feeding_any(self, outputs: int) -> int:
        return feeding_any(self.feeding, outputs)

    def outputs_of(self, rows: int) -> int:
        """The outputs that some of ``rows`` feeds."""
        return sum(1 << k for k, feeding in enumerate(self.feeding) if feeding & rows)

    def allowed_outputs(self, codes: np.ndarray) -> int:
        """The outputs a cube with these input codes may feed: those of no row it meets."""
        blocked = 0
        for rows in self.literal_rows(codes):
            blocked |= rows
        return ((1 << self.sp.m) - 1) & ~self.outputs_of(self.all & ~blocked)

    def literal_rows(self, codes: np.ndarray) -> list[int]:
        """Per input, the rows its literal in ``codes`` contradicts (0 where the input is free)."""
        return [self.blocks[v][i] if v < 2 else 0 for i, v in enumerate(codes.tolist())]


def expand_one(
    sp: CubeSpace,
    c: np.ndarray,
    code_c: np.ndarray,
    off: OffRows,
    F: np.ndarray,
    F_codes: np.ndarray,
    order: list[int],
    outputs_first: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Grow ``c`` (input codes ``code_c``) to a prime that avoids the OFF rows, preferring to
    swallow whole cubes of ``F`` (whose input codes are ``F_codes``), then raising single
    inputs in ``order``.  Returns the prime and its input codes.

    A row stays disjoint from the cube while the cube keeps a literal that contradicts it, and
    only matters once the cube feeds one of the row's outputs (``active``).  An active row down
    to one literal makes that literal essential (ESPRESSO's essential parts): never raised.
    """
    blocking = off.literal_rows(code_c)
    state = {"count": tally([b for b in blocking if b]), "active": off.feeding_any(to_ints(c[None, sp.wi :])[0])}
    last_one = once(state["count"]) & state["active"]
    fixed = np.array([bool(b & last_one) for b in blocking])
    raised = np.zeros(sp.n, dtype=bool)
    state["outputs"] = to_ints(c[None, sp.wi :])[0]
    if len(F):
        _swallow(sp, code_c, F, F_codes, off, blocking, fixed, state, raised, outputs_first)
    count, active = state["count"], state["active"]
    candidates = (code_c < 2) & ~raised & ~fixed
    for v in order:
        if candidates[v] and not blocking[v] & active & once(count):
            raised[v] = True
            count = minus(count, blocking[v])
    grown = c.copy()
    for i in np.flatnonzero(raised).tolist():
        word, bit = divmod(2 * i, 64)
        grown[word] |= np.uint64(3 << bit)
    forbidden = off.outputs_of(missing(count, off.all))
    grown[sp.wi :] = sp.full[sp.wi :] & ~_words(forbidden, sp.wo)
    grown_codes = code_c.copy()
    grown_codes[raised] = 2
    return grown, grown_codes


def _words(value: int, words: int) -> np.ndarray:
    return np.frombuffer(value.to_bytes(8 * words, "little"), dtype="<u8").astype(np.uint64)


def _smallest(key: np.ndarray, k: int) -> np.ndarray:
    """The positions of the ``k`` smallest keys, as a stable sort would list them first."""
    if len(key) <= k:
        return np.argsort(key, kind="stable")
    unique = key.astype(np.int64) * len(key) + np.arange(len(key))  # ties broken by position
    first = np.argpartition(unique, k)[:k]
    return first[np.argsort(unique[first])]


def _swallow(sp, code_c, F, F_codes, off, blocking, fixed, state, raised, outputs_first) -> None:
    """Raise what it takes to cover whole cubes of ``F``, nearest first (or, with
    ``outputs_first``, those sharing this cube's inputs first), while feasible.  Updates
    ``state`` (counter, active rows, outputs) and ``raised`` in place."""
    differ = (F_codes != code_c) & (code_c < 2)  # (d, n): literals of c that d lacks
    c_out = _words(state["outputs"], sp.wo)
    n_out = np.bitwise_count(F[:, sp.wi :] & ~c_out).sum(axis=1)
    n_in = differ.sum(axis=1)
    key = n_in * (sp.m + 1) + n_out if outputs_first else n_in + n_out
    nearest = _smallest(key, 64)
    nearest = nearest[(n_in[nearest] + n_out[nearest] > 0) & ~(differ[nearest] & fixed).any(axis=1)]
    f_outs = to_ints(F[nearest, sp.wi :])
    for j, f_out in zip(nearest.tolist(), f_outs, strict=True):
        vs = np.flatnonzero(differ[j] & ~raised).tolist()
        outs = f_out & ~state["outputs"]
        if not (vs or outs):
            continue
        count = state["count"]
        for i in vs:
            count = minus(count, blocking[i])
        active = state["active"] | off.feeding_any(outs) if outs else state["active"]
        if missing(count, off.all) & active:
            continue
        state.update(count=count, active=active, outputs=state["outputs"] | outs)
        raised[vs] = True


def mini_weights(sp: CubeSpace, F: np.ndarray) -> np.ndarray:
    """MINI's weight of each cube: the inner product of its parts with the column sums of ``F``."""
    raw = np.ascontiguousarray(F, dtype="<u8").view(np.uint8)
    blocks = range(0, len(F), 256)  # bits of 256 cubes at a time: memory stays small at many outputs
    sums = sum(
        (np.unpackbits(raw[s : s + 256], axis=1, bitorder="little").sum(axis=0, dtype=np.int64) for s in blocks), 0
    )
    out = np.zeros(len(F), dtype=np.int64)
    for s in blocks:
        out[s : s + 256] = np.unpackbits(raw[s : s + 256], axis=1, bitorder="little") @ sums
    return out


def raise_order(score: np.ndarray) -> list[int]:
    """Inputs in the order single raises try them: highest ``score`` first."""
    return np.argsort(-score, kind="stable").tolist()


def expand(
    sp: CubeSpace,
    F: np.ndarray,
    R: np.ndarray | OffRows,
    prime: np.ndarray | None = None,
    rng: np.random.Generator | None = None,
    outputs_first: bool = False,
) -> np.ndarray:
    """Every cube of ``F`` made prime against the OFF cover ``R``; cubes swallowed are dropped.

    ``prime`` marks cubes known to be prime already (left as they are), as ESPRESSO does after
    reduce left them unchanged.  Cubes go in MINI's order, those least like the rest first.
    With ``rng`` the inputs are raised in a random order instead: other primes, for the pool.
    """
    if len(F) == 0:
        return F
    off = R if isinstance(R, OffRows) else OffRows(sp, R)
    order = np.argsort(mini_weights(sp, F), kind="stable")
    F = F[order]
    prime = np.zeros(len(F), dtype=bool) if prime is None else prime[order]
    codes = sp.input_codes(F)
    out_codes = codes.copy()
    # raise first the inputs that most cubes leave free: the prime then covers more of F
    score = (codes == 2).sum(axis=0).astype(np.float64) if rng is None else rng.random(sp.n)
    inputs = raise_order(score)
    covered = np.zeros(len(F), dtype=bool)
    out = F.copy()
    for j in range(len(F)):
        if covered[j] or prime[j]:
            continue
        p, out_codes[j] = expand_one(sp, F[j], codes[j], off, out[~covered], out_codes[~covered], inputs, outputs_first)
        swallowed = sp.inside(out, p)
        swallowed[j] = False
        covered |= swallowed
        out[j] = p
    return sp.drop_contained(out[~covered])
