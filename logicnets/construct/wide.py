"""Threshold and symmetric functions recognised without a truth table (any width).

Above ``TABLE_VARS`` variables the compiler cannot tabulate, yet at-least-13-of-25
written as a sorting network is one neuron and its DNF has C(25, 13) = 5.2 million
terms.  The idea: a function that is symmetric in groups of interchangeable literals
is determined by how many literals of each group are true, so one evaluation of the
formula per count vector (26 evaluations for 25 symmetric inputs) gives all of it.

1. Relevant variables: random inputs where flipping x changes f are a witness; a
   variable never seen to matter is decided by SAT (f(x=0) == f(x=1) for all inputs).
2. Groups: a variable joins a group when swapping it with the group's first variable
   (or with its negation) never changes f on the random inputs.  Swaps generate every
   permutation of a group, so per-variable checks against one representative suffice.
3. The count grid: f at one input per count vector, when it has at most ``GRID_MAX`` cells.
4. Networks: a grid that is monotone in every count and separable by an integer
   program over its minimal true and maximal false cells is one neuron (equal weights
   within a group lose nothing: averaging a separator over the group's permutations
   is still a separator); one group is the symmetric construction.  With more than
   ``MAX_GROUPS`` groups (or a grid too large), a formula seen to be unate in every input
   gets a counterexample-guided search: integer weights separating the rows seen so far,
   a SAT proof, and each counterexample joins the rows.
5. Proof: every network is proven equal to the formula, by :func:`logicnets.verify`'s
   exhaustive check where 2^n rows are cheap, else by its SAT miter within the compile's
   ``time_limit``; a network that is wrong, or not proven in time, is dropped.

Steps 2-3 are a hypothesis from sampling; step 5 is what makes the result sound.  The
same analysis serves truth tables with more relevant variables than the table-based
threshold test takes (there relevance is read off the table).  The walk over the formula is the memoised fold,
so a DAG with shared subterms costs its number of distinct nodes, never its tree size.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import LogicError
from ..formula.formula import Formula
from ..formula.walk import evaluate_node, node_size, node_variables
from ..network.network import Layer, ThresholdNetwork
from ..prove.sat import cofactors_differ, prove_within
from ..prove.truthtable import TruthTable
from ..prove.verify import EXHAUSTIVE_VARS, verify
from .separable import separating_weights
from .symmetric import SymmetricProfile, symmetric_network

__all__ = ["GRID_MAX", "MAX_GROUPS", "SAMPLE_ROWS", "WideFunction", "analyse_wide", "evaluate_rows"]

#: Most cells of the count grid (product of group size + 1) evaluated.
GRID_MAX = 1 << 14
#: Most groups of interchangeable literals followed before giving up.
MAX_GROUPS = 14
#: Random inputs used to find relevant variables and interchangeable pairs.
SAMPLE_ROWS = 512

#: Up to this many inputs the sample also holds the one-hot and one-cold rows.
SPECIAL_MAX_VARS = 64
#: Most booleans (rows x inputs) in one batch of sampled rows.
MAX_BATCH_CELLS = 1 << 24

#: Most (rows x formula gates) for which a proof enumerates every input instead of using SAT.
EXHAUSTIVE_WORK = 1 << 35
#: Least time a proof gets, even when the analysis used up the compile's time limit.
MIN_PROOF_SECONDS = 2.0

#: Most rounds (integer program + SAT proof) of the search for a neuron without groups.
CEGIS_ROUNDS = 40
#: Counterexamples the SAT solver adds per round.
CEGIS_EXAMPLES = 16

#: What is analysed: a formula of any width, or a table too wide for the table-based test.
Spec = Formula | TruthTable
#: A literal: (input index, negated).
Literal = tuple[int, bool]


def evaluate_rows(formula: Spec, rows: np.ndarray) -> np.ndarray:
    """f on every row of a (batch, n) 0/1 array, eight rows per byte (bit-packed numpy).

    Why packed: the analysis evaluates tens of thousands of rows at once, and a DAG of
    a few hundred gates costs one numpy operation per gate whatever the batch size.

    >>> evaluate_rows(Formula.parse("a & b | c"), np.array([[1, 1, 0], [1, 0, 0], [0, 0, 1]])).tolist()
    [True, False, True]
    """
    x = np.asarray(rows, dtype=bool)
    if isinstance(formula, TruthTable):
        return formula.outputs[x.astype(np.int64) @ (1 << np.arange(formula.n - 1, -1, -1, dtype=np.int64))]
    packed = np.packbits(x.T, axis=1)
    env = {v: packed[i] for i, v in enumerate(formula.variables)}
    out = evaluate_node(formula.node, env, np.uint8(255), np.uint8(0))
    out = np.broadcast_to(np.asarray(out, dtype=np.uint8), (packed.shape[1],))
    return np.unpackbits(out)[: len(x)].astype(bool)


def _sample(n: int, rng: np.random.Generator) -> np.ndarray:
    """All-zero, all-one, one-hot and one-cold rows (up to ``SPECIAL_MAX_VARS`` inputs), then
    random rows of every density (so inputs near any threshold occur, where swapping
    unequal weights shows)."""
    eye = np.eye(n if n <= SPECIAL_MAX_VARS else 0, n, dtype=bool)
    special = np.vstack([np.zeros((1, n), bool), np.ones((1, n), bool), eye, ~eye])
    density = rng.random((SAMPLE_ROWS, 1))
    return np.vstack([special, rng.random((SAMPLE_ROWS, n)) < density])


def _directions(formula: Spec, sample: np.ndarray, base: np.ndarray) -> np.ndarray:
    """(n, 2) bools: [i, 0] some sampled input where raising x_i raises f, [i, 1] where it lowers f.

    Both seen is a proof that f is not unate in x_i, so not a threshold function."""
    n, m = formula.n, len(sample)
    step = max(1, MAX_BATCH_CELLS // (m * n))  # inputs flipped per evaluation, to bound memory
    flipped = np.empty((n, m), dtype=bool)
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        blocks = np.tile(sample, (hi - lo, 1))
        for i in range(lo, hi):
            blocks[(i - lo) * m : (i - lo + 1) * m, i] ^= True
        flipped[lo:hi] = evaluate_rows(formula, blocks).reshape(hi - lo, m)
    up = sample.T  # x_i was 1 before the flip: the flip lowered x_i
    rises = (flipped & ~base & ~up) | (~flipped & base & up)
    falls = (~flipped & base & ~up) | (flipped & ~base & up)
    return np.stack([rises.any(axis=1), falls.any(axis=1)], axis=1)


def _matters(formula: Spec, i: int) -> bool | None:
    """Does input i change f somewhere?  Exactly: by SAT for a formula, by the table for a table."""
    if isinstance(formula, TruthTable):
        arr = formula.cube_array()
        return not np.array_equal(np.take(arr, 0, axis=i), np.take(arr, 1, axis=i))
    v = formula.variables[i]
    return cofactors_differ(formula, {v: False}, {v: True})


def _relevant(formula: Spec, seen: np.ndarray) -> list[int] | None:
    """Input indices f depends on; None when the SAT solver is missing and sampling left doubt."""
    out = []
    used = node_variables(formula.node) if isinstance(formula, Formula) else set(formula.variables)
    for i, v in enumerate(formula.variables):
        if v not in used:
            continue
        if not seen[i].any():
            differs = _matters(formula, i)
            if differs is None:
                return None
            if not differs:
                continue
        out.append(i)
    return out


def _join(formula: Spec, sample: np.ndarray, base: np.ndarray, groups: list[list[Literal]], v: int) -> Literal | None:
    """The group index and polarity under which input ``v`` is interchangeable with a
    group's first literal on every sampled row, or None.  One evaluation for all groups."""
    m = len(sample)
    blocks = []
    for g in groups:
        r = g[0][0]
        for neg in (False, True):
            b = sample.copy()
            b[:, v], b[:, r] = sample[:, r] ^ neg, sample[:, v] ^ neg
            blocks.append(b)
    same = (evaluate_rows(formula, np.vstack(blocks)).reshape(len(blocks), m) == base).all(axis=1)
    hits = np.flatnonzero(same)
    if not len(hits):
        return None
    return int(hits[0]) // 2, bool(hits[0] % 2)


def _groups(
    formula: Spec, sample: np.ndarray, base: np.ndarray, rel: Sequence[int], deadline: float
) -> list[list[Literal]] | None:
    """Relevant inputs partitioned into groups of (apparently) interchangeable literals;
    None past ``MAX_GROUPS`` groups or the deadline."""
    groups: list[list[Literal]] = []
    for v in rel:
        if time.perf_counter() > deadline:
            return None
        hit = _join(formula, sample, base, groups, v) if groups else None
        if hit is None:
            if len(groups) == MAX_GROUPS:
                return None
            groups.append([(v, False)])
        else:
            groups[hit[0]].append((v, hit[1]))
    return groups


def _grid(formula: Spec, groups: list[list[Literal]]) -> np.ndarray | None:
    """f at one input per count vector: cell c has the first c[g] literals of group g true."""
    shape = tuple(len(g) + 1 for g in groups)
    cells = int(np.prod(shape, dtype=np.int64))
    if cells > GRID_MAX:
        return None
    counts = np.indices(shape).reshape(len(shape), -1).T
    rows = np.zeros((cells, formula.n), dtype=bool)
    for gi, g in enumerate(groups):
        for rank, (v, neg) in enumerate(g):
            rows[:, v] = (counts[:, gi] > rank) ^ neg
    return evaluate_rows(formula, rows).reshape(shape)


def _monotone_signs(grid: np.ndarray) -> list[int] | None:
    """Per axis +1 (non-decreasing in that count) or -1 (non-increasing); None if neither."""
    signs = []
    for axis in range(grid.ndim):
        d = np.diff(grid.astype(np.int8), axis=axis)
        if (d >= 0).all():
            signs.append(1)
        elif (d <= 0).all():
            signs.append(-1)
        else:
            return None
    return signs


def _extreme_cells(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimal true and maximal false cells of a monotone (non-decreasing) grid."""
    minimal, maximal = g.copy(), ~g
    for axis in range(g.ndim):
        lo = [slice(None)] * g.ndim
        hi = [slice(None)] * g.ndim
        lo[axis], hi[axis] = slice(0, -1), slice(1, None)
        minimal[tuple(hi)] &= ~g[tuple(lo)]
        maximal[tuple(lo)] &= g[tuple(hi)]
    return np.argwhere(minimal).astype(float), np.argwhere(maximal).astype(float)


def _grid_weights(grid: np.ndarray, time_limit: float) -> tuple[list[int], list[int], int] | None:
    """(signs, weights >= 1, threshold t) with sum_g w_g c'_g >= t exactly on the true cells,
    c'_g the count flipped where the sign is -1; None if no integer weights do it."""
    signs = _monotone_signs(grid)
    if signs is None:
        return None
    g = grid
    for axis, s in enumerate(signs):
        if s < 0:
            g = np.flip(g, axis=axis)
    ones, zeros = _extreme_cells(g)
    found = separating_weights(np.vstack([ones, zeros]), np.arange(len(ones) + len(zeros)) < len(ones), time_limit)
    if found is None:
        return None
    w, t = found
    if not np.array_equal(np.tensordot(w, np.indices(g.shape), axes=1) >= t, g):  # pragma: no cover - safety net
        return None
    return signs, w.tolist(), t


@dataclass
class WideFunction:
    """What the sampling found about a formula too wide to tabulate; builds proven networks."""

    formula: Spec
    groups: list[list[Literal]] | None
    grid: np.ndarray | None
    #: sampled rows, f on them, and per relevant input +1/-1 where only rises/falls were seen, else 0
    sample: tuple[np.ndarray, np.ndarray, dict[int, int]]
    #: time.perf_counter() value after which proofs and searches give up (undecided = dropped)
    deadline: float = float("inf")
    stats: dict[str, Any] = field(default_factory=dict)
    _cache: dict[str, ThresholdNetwork | None] = field(default_factory=dict)

    def threshold_network(self) -> ThresholdNetwork | None:
        """One neuron, proven equal to the formula; None if the counts are not separable."""
        if "threshold" not in self._cache:
            self._cache["threshold"] = self._proven(self._neuron())
        return self._cache["threshold"]

    def symmetric_network(self) -> ThresholdNetwork | None:
        """The symmetric construction (one group only), proven equal to the formula."""
        if "symmetric" not in self._cache:
            net = None
            if self.groups is not None and len(self.groups) == 1:
                net = symmetric_network(self.profile())
            self._cache["symmetric"] = self._proven(net)
        return self._cache["symmetric"]

    def profile(self) -> SymmetricProfile:
        """The symmetric profile when all relevant inputs form one group."""
        assert self.groups is not None and self.grid is not None
        (g,) = self.groups
        lits = sorted(g)
        return SymmetricProfile(
            tuple(self.formula.variables),
            tuple(v for v, _ in lits),
            tuple(neg for _, neg in lits),
            tuple(int(b) for b in self.grid),
        )

    def _neuron(self) -> ThresholdNetwork | None:
        if self.groups is None or self.grid is None:
            left = max(MIN_PROOF_SECONDS, self.deadline - time.perf_counter())
            return _cegis_neuron(self.formula, *self.sample, left, self.stats)
        found = _grid_weights(self.grid, max(1.0, self.deadline - time.perf_counter()))
        if found is None:
            return None
        signs, w, t = found
        weights = np.zeros(self.formula.n)
        neg_total = 0
        for g, s, wg in zip(self.groups, signs, w, strict=True):
            for v, neg in g:
                flipped = neg != (s < 0)  # the literal counted is ~x_v
                weights[v] = -wg if flipped else wg
                neg_total += wg if flipped else 0
        bias = float(-(t - neg_total) + 0.5)
        return ThresholdNetwork(tuple(self.formula.variables), (Layer(weights[None, :], [bias]),), {})

    def _proven(self, net: ThresholdNetwork | None) -> ThresholdNetwork | None:
        if net is None or net.stats.get("proven"):
            return net
        t0 = time.perf_counter()
        equal, _, method = prove_network(net, self.formula, max(MIN_PROOF_SECONDS, self.deadline - t0))
        self.stats.setdefault("proofs", []).append(
            {"method": method, "equivalent": equal, "seconds": round(time.perf_counter() - t0, 6)}
        )
        return net if equal else None


def prove_network(
    net: ThresholdNetwork, formula: Spec, time_limit: float, max_counterexamples: int = 8
) -> tuple[bool | None, np.ndarray, str]:
    """(equal, counterexample rows, method): ``verify``'s exhaustive check where it is cheap
    (a table, or 2^n rows x formula gates within ``EXHAUSTIVE_WORK``), else its SAT miter
    with a time budget; ``equal`` is None when the solver did not finish in time."""
    n = formula.n
    if isinstance(formula, TruthTable) or (n <= EXHAUSTIVE_VARS and node_size(formula.node) << n <= EXHAUSTIVE_WORK):
        check = verify(net, formula, method="exhaustive", max_counterexamples=max_counterexamples)
        return check.equivalent, check.counterexamples.astype(bool), check.method
    equal, rows, method = prove_within(formula, net, formula.variables, time_limit, max_counterexamples)
    return equal, np.array(rows, dtype=bool).reshape(-1, n), method


def _cegis_neuron(
    formula: Spec, sample: np.ndarray, base: np.ndarray, signs: dict[int, int], time_limit: float, stats: dict
) -> ThresholdNetwork | None:
    """One neuron by counterexample-guided search, for a unate formula without usable groups:
    integer weights separating the rows seen so far, then a SAT proof; each counterexample
    joins the rows.  Rows no neuron separates prove the formula is no threshold function."""
    rel = sorted(signs)
    if not rel or not all(signs.values()):
        return None  # an input seen to both raise and lower f, or one whose direction is unknown
    flip = np.array([signs[i] < 0 for i in rel])
    rows, labels = sample, base
    deadline = time.perf_counter() + time_limit
    for rounds in range(1, CEGIS_ROUNDS + 1):
        found = separating_weights(rows[:, rel] ^ flip, labels, max(0.1, deadline - time.perf_counter()))
        if found is None:
            return None
        w, t = found
        weights = np.zeros(formula.n)
        weights[rel] = np.where(flip, -w, w)
        net = ThresholdNetwork(
            tuple(formula.variables), (Layer(weights[None, :], [float(-(t - w[flip].sum()) + 0.5)]),)
        )
        try:
            equal, bad, method = prove_network(net, formula, max(0.5, deadline - time.perf_counter()), CEGIS_EXAMPLES)
        except LogicError:  # weights too large for the SAT counter encoding
            return None
        stats["cegis_rounds"] = rounds
        if equal:
            return ThresholdNetwork(net.inputs, net.layers, {"proven": method})
        if equal is None or time.perf_counter() > deadline:
            return None
        rows = np.vstack([rows, bad])
        labels = np.concatenate([labels, evaluate_rows(formula, bad)])
    return None


def analyse_wide(formula: Spec, time_limit: float = 10.0, seed: int = 0) -> WideFunction | None:
    """Groups of interchangeable literals and the count grid of ``formula`` (both None when
    there are more than ``MAX_GROUPS`` groups or ``GRID_MAX`` cells); None without a relevant input."""
    t0 = time.perf_counter()
    deadline = t0 + time_limit
    rng = np.random.default_rng(seed)
    sample = _sample(formula.n, rng)
    base = evaluate_rows(formula, sample)
    seen = _directions(formula, sample, base)
    rel = _relevant(formula, seen)
    if not rel:
        return None
    groups = _groups(formula, sample, base, rel, deadline)
    grid = _grid(formula, groups) if groups is not None else None
    stats = {
        "relevant": len(rel),
        "groups": [len(g) for g in groups] if grid is not None else None,
        "analysis_seconds": round(time.perf_counter() - t0, 6),
    }
    signs = {i: 0 if seen[i, 0] == seen[i, 1] else 1 if seen[i, 0] else -1 for i in rel}
    return WideFunction(formula, groups if grid is not None else None, grid, (sample, base, signs), deadline, stats)
