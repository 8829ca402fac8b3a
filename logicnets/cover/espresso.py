"""ESPRESSO's loop on covers of cubes: expand, irredundant, reduce, last gasp, at any width.

Why this loop: it never builds a truth table, only covers (ON ``F``, don't-care ``D``, OFF
``R``), so its cost follows the covers' sizes.  A cube is valid while it meets no OFF cube of an
output it feeds; expanding makes cubes prime (as large as the OFF cover allows), irredundant drops
cubes the others cover, reduce shrinks each cube to what only it covers so that the next expand
can grow it in another direction.  The loop stops when the cost (cubes, then literals) stops
falling.  Brayton et al., "Logic Minimization Algorithms for VLSI Synthesis" (1984), chapter 4.

>>> from .cubes import CubeSpace
>>> sp = CubeSpace(3, 1)
>>> F = sp.from_strings(["110", "111", "011", "101"], ["1"] * 4)
>>> sorted(a for a, _ in sp.to_strings(espresso(sp, F, sp.empty(), off_cover(sp, F, sp.empty()))[0]))
['-11', '1-1', '11-']
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .columns import Columns, bitsets, missing, once, tally
from .cubes import CubeSpace
from .expand import OffRows, expand, expand_one, mini_weights, raise_order
from .small import from_ints, to_ints
from .unate import COMPLEMENT_LIMIT, CoverLimitError, complement

__all__ = ["espresso", "espresso_covers", "expand", "irredundant", "off_cover", "reduce"]

_ONE = np.uint64(1)
#: Covers up to this many cubes run from both starts (split and as given): cheap, sometimes better.
BOTH_STARTS_CUBES = 100
Progress = Callable[[str, int], None]


def _inputs(sp: CubeSpace, cover: np.ndarray) -> np.ndarray:
    return cover[..., : sp.wi]


def _with_output(sp: CubeSpace, inputs: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros((len(inputs), sp.words), dtype=np.uint64)
    out[:, : sp.wi] = inputs
    out[:, sp.wi + k // 64] = _ONE << np.uint64(k % 64)
    return out


def _feeds(sp: CubeSpace, cover: np.ndarray, k: int) -> np.ndarray:
    return ((cover[:, sp.wi + k // 64] >> np.uint64(k % 64)) & _ONE).astype(bool)


def merge_outputs(sp: CubeSpace, cover: np.ndarray) -> np.ndarray:
    """Cubes with equal inputs become one cube feeding the union of their outputs."""
    if len(cover) < 2:
        return cover
    ins = np.ascontiguousarray(_inputs(sp, cover))
    keys = ins.view(np.dtype((np.void, ins.dtype.itemsize * sp.wi))).ravel()
    uniq, inverse = np.unique(keys, return_inverse=True)
    out = np.zeros((len(uniq), sp.words), dtype=np.uint64)
    out[inverse, : sp.wi] = ins
    for w in range(sp.wo):
        np.bitwise_or.at(out[:, sp.wi + w], inverse, cover[:, sp.wi + w])
    return out


def off_cover(
    sp: CubeSpace, F: np.ndarray, D: np.ndarray, limit: int = COMPLEMENT_LIMIT, names: Sequence[str] = ()
) -> np.ndarray:
    """The OFF cover: per output the complement of ON ∪ DC, equal inputs merged across outputs.

    Raises :class:`CoverLimitError` naming the output when a complement passes ``limit``.
    """
    FD = np.vstack([F, D])
    parts = []
    for k in range(sp.m):
        try:
            part = complement(sp, _inputs(sp, FD[_feeds(sp, FD, k)]), limit)
        except CoverLimitError as exc:
            name = names[k] if k < len(names) else str(k)
            raise CoverLimitError(f"the OFF set of output {name} (the complement of ON ∪ DC): {exc}") from None
        parts.append(_with_output(sp, part, k))
    return merge_outputs(sp, np.vstack(parts)) if parts else sp.empty()


def essential(sp: CubeSpace, F: np.ndarray, D: np.ndarray) -> np.ndarray:
    """Which primes of ``F`` are essential (ESPRESSO's ``essential``): a prime c is essential
    iff consensus((F ∪ D) # c, c) ∪ D does not cover it.  Every minimal cover holds them, so
    the loop can set them aside as don't-cares and work on the rest.

    Cofactored by c, the consensus of c with a cube p at distance 0 or 1 is p with c's literals
    made free, so the test is a tautology over rows of ``F ∪ D`` (:class:`.Columns`): per
    output k of c, the rows whose consensus feeds k, on the inputs c leaves free.
    """
    G = np.vstack([F, D])
    cols, codes = Columns(sp, G), sp.input_codes(F)
    dont_care = cols.all & ~((1 << len(F)) - 1)
    out = np.zeros(len(F), dtype=bool)
    for j, c_out in enumerate(to_ints(F[:, sp.wi :])):
        share = cols.feeding_any(c_out)
        conflicts = tally(cols.contradicting(codes[j]))  # per row: the inputs apart from c
        apart0, apart1 = missing(conflicts, cols.all), once(conflicts)
        at0, at1 = apart0 & share, (apart1 & share) | (apart0 & ~share)  # distance 0 and 1
        inside = bitsets(sp.inside(G, F[j])[None])[0]
        elsewhere = bitsets((G[:, sp.wi :] & ~F[j, sp.wi :]).any(axis=1)[None])[0]
        # the consensus feeds every output of c: p feeds none of them, or p is at distance 0
        # and feeds an output c does not; otherwise it feeds the outputs p and c share
        every = (at1 & ~share) | (at0 & ~inside & elsewhere)
        shared = (at1 & share) | (at0 & ~inside) | (at0 & dont_care)
        free = np.flatnonzero(codes[j] == 2).tolist()
        out[j] = not all(cols.tautology((every | shared & cols.feeds[k]) & ~(1 << j), free) for k in _bits(c_out))
    return out


def _bits(value: int) -> list[int]:
    return [k for k in range(value.bit_length()) if value >> k & 1]


def _free(codes: np.ndarray) -> list[int]:
    return np.flatnonzero(codes == 2).tolist()


def _cube(sp: CubeSpace, inputs: int, outputs: int) -> np.ndarray:
    return np.concatenate([from_ints([inputs], sp.wi)[0], from_ints([outputs], sp.wo)[0]])


def _shrunk(cols: Columns, c_in: int, c_out: int, codes: np.ndarray, rows: int) -> tuple[int, int] | None:
    """The cube (``c_in``, ``c_out``) shrunk to the smallest cube holding what ``rows`` (cubes
    meeting it) leave uncovered of it, as (inputs, outputs); None if nothing."""
    new_in = new_out = 0
    free, seen = _free(codes), {}
    for k in _bits(c_out):
        feeding = rows & cols.feeds[k]
        if new_in == c_in:  # the inputs cannot grow further: only whether k keeps a point
            if not cols.tautology(feeding, free):
                new_out |= 1 << k
            continue
        if feeding not in seen:  # outputs fed by the same rows share the answer
            seen[feeding] = cols.sccc(feeding, free)
        if seen[feeding] is not None:
            new_in |= seen[feeding] & c_in
            new_out |= 1 << k
    return (new_in, new_out) if new_out else None


def irredundant(sp: CubeSpace, F: np.ndarray, D: np.ndarray) -> np.ndarray:
    """Drop cubes that the other cubes and the don't-cares cover, smallest cubes first."""
    F = F[np.argsort(sp.free_inputs(F), kind="stable")]
    cols, codes = Columns(sp, np.vstack([F, D])), sp.input_codes(F)
    alive = cols.all
    for j, c_out in enumerate(to_ints(F[:, sp.wi :])):
        alive &= ~(1 << j)
        rows, free = alive & cols.meeting(codes[j]), _free(codes[j])
        if not all(cols.tautology(rows & cols.feeds[k], free) for k in _bits(c_out)):
            alive |= 1 << j
    return F[[bool(alive >> j & 1) for j in range(len(F))]]


def reduce(sp: CubeSpace, F: np.ndarray, D: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shrink each cube, in turn (MINI's order, heaviest first), to what only it covers.

    Returns the cover and which cubes kept their size (still prime: expand skips them).
    """
    F = F[np.argsort(-mini_weights(sp, F), kind="stable")]
    G = np.vstack([F, D])
    cols, codes = Columns(sp, G), sp.input_codes(F)
    ins, outs = to_ints(F[:, : sp.wi]), to_ints(F[:, sp.wi :])
    alive, unchanged = cols.all, np.zeros(len(F), dtype=bool)
    for j in range(len(F)):
        alive &= ~(1 << j)
        new = _shrunk(cols, ins[j], outs[j], codes[j], alive & cols.meeting(codes[j]))
        if new is None:
            continue
        alive |= 1 << j
        unchanged[j] = new == (ins[j], outs[j])
        if not unchanged[j]:
            G[j] = _cube(sp, *new)
            new_codes = sp.input_codes(G[j][None])[0]
            cols.set_row(j, codes[j], new_codes, new[1])
            codes[j] = new_codes
    keep = [bool(alive >> j & 1) for j in range(len(F))]
    return G[: len(F)][keep], unchanged[keep]


def last_gasp(sp: CubeSpace, F: np.ndarray, D: np.ndarray, off: OffRows) -> np.ndarray:
    """Reduce every cube on its own against all the others, expand the reduced cubes, and keep
    the primes that cover two or more of them: a way out of a local minimum."""
    cols, codes = Columns(sp, np.vstack([F, D])), sp.input_codes(F)
    ins, outs = to_ints(F[:, : sp.wi]), to_ints(F[:, sp.wi :])
    shrunk = []
    for j in range(len(F)):
        new = _shrunk(cols, ins[j], outs[j], codes[j], cols.meeting(codes[j]) & ~(1 << j))
        if new is not None and new != (ins[j], outs[j]):
            shrunk.append(_cube(sp, *new))
    if len(shrunk) < 2:
        return F
    G = np.array(shrunk, dtype=np.uint64)
    codes = sp.input_codes(G)
    order = raise_order((codes == 2).sum(axis=0).astype(np.float64))
    extra = []
    for j in range(len(G)):
        p, _ = expand_one(sp, G[j], codes[j], off, G, codes, order)
        if sp.inside(G, p).sum() >= 2:
            extra.append(p)
    if not extra:
        return F
    return irredundant(sp, sp.drop_contained(np.vstack([np.array(extra, dtype=np.uint64), F])), D)


def widest_outputs(sp: CubeSpace, F: np.ndarray, off: OffRows) -> np.ndarray:
    """Each cube of ``F`` as it is, feeding every output its inputs may feed: candidates that
    share one product term among many outputs (for the pool)."""
    out = F.copy()
    out[:, sp.wi :] = from_ints([off.allowed_outputs(codes) for codes in sp.input_codes(F)], sp.wo)
    return out


def cost(sp: CubeSpace, F: np.ndarray) -> tuple[int, int]:
    return len(F), sp.literal_count(F)


def unravel(sp: CubeSpace, F: np.ndarray) -> np.ndarray:
    """One cube per (cube, output) pair: each starts single-output and expand grows the outputs."""
    outs = sp.output_bits(F)
    rows, ks = np.nonzero(outs)
    single = np.zeros((len(rows), sp.words), dtype=np.uint64)
    single[:, : sp.wi] = F[rows, : sp.wi]
    single[np.arange(len(rows)), sp.wi + ks // 64] = _ONE << (ks % 64).astype(np.uint64)
    return single


def _loop(
    sp: CubeSpace, F: np.ndarray, D: np.ndarray, off: OffRows, note: Progress, max_passes: int, seen: list
) -> tuple[np.ndarray, np.ndarray]:
    """The loop from ``F``: (the cover, the essential primes it holds)."""
    F = expand(sp, F, off)
    seen.append(F)
    F = irredundant(sp, F, D)
    note("expand", len(F))
    is_essential = essential(sp, F, D)
    E, F, D = F[is_essential], F[~is_essential], np.vstack([D, F[is_essential]])
    note("essential primes set aside", len(F))
    if len(F) == 0:
        return E, E
    for _ in range(max_passes):
        best = cost(sp, F)
        while True:
            inner = cost(sp, F)
            G, prime = reduce(sp, F, D)
            F = expand(sp, G, off, prime)
            seen += [F, widest_outputs(sp, G, off)]
            F = irredundant(sp, F, D)
            note("reduce/expand/irredundant", len(F))
            if cost(sp, F)[0] >= inner[0]:
                break
        F = last_gasp(sp, F, D, off)
        seen.append(F)
        note("last gasp", len(F))
        if cost(sp, F) >= best:
            break
    return np.vstack([E, F]), E


#: Other expansion orders for the pool run while the unravelled cover times the OFF cover has
#: at most this many cubes (their cost grows with that product).
POOL_EXPAND_WORK = 400_000


def _pool_pass(sp, F, D, off, best, E, seen, note) -> tuple[np.ndarray, bool] | None:
    """More candidate primes (the ON cubes with every output they may feed, other expansion
    orders where affordable), then the set-cover program over all of them for what the
    essential primes ``E`` (in every cover) leave: (a smaller cover, proven smallest over the
    pool) or None."""
    from .pool import pool_cover

    seen.append(widest_outputs(sp, F, off))
    start = unravel(sp, F)
    if len(start) * off.size <= POOL_EXPAND_WORK:
        rng = np.random.default_rng(0)
        for extra in (dict(outputs_first=True), dict(rng=rng), dict(rng=rng)):
            seen.append(expand(sp, start, off, **extra))
    pool = sp.drop_contained(np.vstack(seen))
    note("cover of the prime pool", len(pool))
    DE, rest = np.vstack([D, E]), len(best) - len(E)
    got = pool_cover(sp, F, DE, pool, beat=rest) if len(pool) > len(best) and rest > 1 else None
    if got is None or len(got[0]) >= rest:
        return None
    return np.vstack([E, irredundant(sp, got[0], DE)]), got[1]


def espresso(sp: CubeSpace, F: np.ndarray, D: np.ndarray, R: np.ndarray, **options) -> tuple[np.ndarray, str]:
    """A small prime, irredundant cover of ``F`` using the don't-cares ``D``, avoiding ``R``,
    and how it was found: the smallest of :func:`espresso_covers` (same ``options``)."""
    return espresso_covers(sp, F, D, R, **options)[-1]


def espresso_covers(
    sp: CubeSpace,
    F: np.ndarray,
    D: np.ndarray,
    R: np.ndarray,
    *,
    progress: Progress | None = None,
    max_passes: int = 20,
    pool: bool = False,
    both_starts: bool = False,
) -> list[tuple[np.ndarray, str]]:
    """Prime, irredundant covers of ``F`` using the don't-cares ``D``, avoiding ``R``, each
    with how it was found: the loop's, then the pool program's when it has fewer cubes.

    Like ESPRESSO it starts from the cubes split one output each (so that expand chooses the
    outputs), and falls back to the cubes as given when that ends larger (``both_starts``: runs
    both and keeps the better).  With ``pool`` an integer program then looks for a smaller
    cover among every prime the loop expanded (:mod:`.pool`).  Both are returned because fewer
    cubes do not always make fewer threshold neurons.
    """
    note = progress or (lambda stage, cubes: None)
    F = sp.drop_contained(merge_outputs(sp, F[~sp.is_empty(F)]))
    off = OffRows(sp, R)
    best, E, seen = None, None, []
    starts = [unravel(sp, F), F] if int(sp.output_bits(F).sum()) < 5000 and sp.m > 1 else [F]
    for start in starts:
        got, essentials = _loop(sp, sp.drop_contained(start), D, off, note, max_passes, seen)
        if best is None or cost(sp, got) < cost(sp, best):
            best, E = got, essentials
        if len(best) <= len(F) and not (both_starts or len(F) <= BOTH_STARTS_CUBES):
            break  # ESPRESSO's rule: the cubes as given only when the split start ended larger
    covers = [(best, "espresso loop on cube covers")]
    got = _pool_pass(sp, F, D, off, best, E, seen, note) if pool and len(best) > 1 else None
    if got is not None:
        proven = ", smallest over the pool" if got[1] else ""
        covers.append((got[0], f"espresso loop on cube covers + cover of the prime pool (HiGHS){proven}"))
    return covers
