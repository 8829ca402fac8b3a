"""Incompletely specified multi-output functions (PLA files) to multi-output networks.

``compile_function`` minimizes the cover, merges cubes into threshold neurons
(:mod:`.thresholdcover`) and wires each output as an OR of its neurons;
:func:`logicnets.prove.function_check.verify_function` checks the result.

Two minimizers: ESPRESSO's loop on covers of cubes (:mod:`logicnets.cover.espresso`), which
works at any width, and for small functions the row-bitset loop with its integer program over
the primes seen (:mod:`.twolevel`), which often finds fewer cubes there.  ``engine="auto"`` runs
the cube engine always and the row engine too up to ``ROW_ENGINE_INPUTS`` inputs, and keeps the
smaller cover; ``stats["engine"]`` says which one it kept.

>>> from logicnets.pla.format import parse_pla
>>> f = parse_pla(".i 3\\n.o 1\\n11- 1\\n1-1 1\\n-11 1\\n.e").function()
>>> net = compile_function(f, engine="cubes")
>>> net.hidden_size, net.stats["engine"]
(1, 'cubes')
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from ..cover.espresso import espresso_covers
from ..errors import LogicError
from ..network.multinet import MultiOutputNetwork
from ..network.network import Layer
from ..pla.function import MAX_INPUTS, IncompleteFunction
from .thresholdcover import Cube, Neuron, cube_neuron, merge_cubes

if TYPE_CHECKING:
    from ..progress import Progress

__all__ = ["ENGINES", "ROW_ENGINE_INPUTS", "compile_function", "network_from_neurons"]

ENGINES = ("auto", "cubes", "rows")
#: Up to this many inputs ``engine="auto"`` also runs the row-bitset engine (2^n rows per set).
ROW_ENGINE_INPUTS = 10

Step = Callable[[str, int], None]


def _silent(stage: str, cubes: int) -> None:
    """The progress hook when nobody listens."""


def network_from_neurons(neurons: list[Neuron], f: IncompleteFunction, stats: dict | None = None) -> MultiOutputNetwork:
    """Hidden neuron ``[w·x >= t]`` per entry; each output ORs the neurons that feed it."""
    n, m = f.n_inputs, f.n_outputs
    W1 = np.array([w for w, _, _ in neurons], dtype=np.float64).reshape(len(neurons), n)
    b1 = np.array([-t + 0.5 for _, t, _ in neurons], dtype=np.float64)
    W2 = np.zeros((m, len(neurons)))
    for j, (_, _, outs) in enumerate(neurons):
        for k in range(m):
            if outs >> k & 1:
                W2[k, j] = 1.0
    return MultiOutputNetwork(f.inputs, f.outputs, Layer(W1, b1), Layer(W2, np.full(m, -0.5)), stats or {})


def _cube_covers(f: IncompleteFunction, step: Step, pool: bool) -> list[tuple[list[Cube], str]]:
    sp = f.space
    covers = espresso_covers(sp, f.on_cover, f.free_cover, f.off_cover, progress=step, pool=pool)
    return [([c for c in sp.to_triples(cover) if c[2]], method) for cover, method in covers]


def _row_cover(f: IncompleteFunction, pool_ilp: bool) -> tuple[list[Cube], str]:
    from .twolevel import minimize_cover

    res = minimize_cover(f, pool_ilp=pool_ilp)
    return [(c.pos, c.neg, c.outs) for c in res.cubes], res.method


def _minimize(f: IncompleteFunction, engine: str, pool_ilp: bool, step: Step) -> list[tuple[str, list[Cube], str]]:
    """The covers the engines found, as (engine, cubes, method), fewest cubes first (the row
    engine first among equals)."""
    if engine not in ENGINES:
        raise LogicError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if engine == "rows" and f.n_inputs > MAX_INPUTS:
        raise LogicError(f"engine 'rows' stops at {MAX_INPUTS} inputs; use engine='cubes'")
    found = []
    if engine == "rows" or (engine == "auto" and f.n_inputs <= ROW_ENGINE_INPUTS):
        found.append(("rows", *_row_cover(f, pool_ilp)))
    if engine in ("auto", "cubes"):
        found += [("cubes", cubes, method) for cubes, method in _cube_covers(f, step, pool_ilp)]
    return sorted(found, key=lambda got: len(got[1]))


def cover_forbidden(f: IncompleteFunction) -> Callable[[int, int], int]:
    """``forbidden(pos, neg)``: the outputs (bitmask) whose OFF cover the cube with those
    literals meets, by one pass over the OFF cover."""
    sp, off = f.space, f.off_cover
    off_outputs = [int.from_bytes(row.astype("<u8").tobytes(), "little") for row in off[:, sp.wi :]]

    @functools.cache  # the covers of one function share most of their cubes
    def forbidden(pos: int, neg: int) -> int:
        mask = 0
        for r in np.flatnonzero(sp.intersects(sp.from_triples([(pos, neg, (1 << sp.m) - 1)])[0], off)).tolist():
            mask |= off_outputs[r]
        return mask

    return forbidden


def compile_function(
    f: IncompleteFunction,
    *,
    threshold: bool = True,
    pool_ilp: bool = True,
    engine: str = "auto",
    progress: Progress | None = None,
) -> MultiOutputNetwork:
    """A multi-output network for ``f`` with few hidden neurons (uses the don't-cares).

    ``progress`` (a :class:`logicnets.progress.Progress`) hears of every pass of the minimizer
    with the cubes it holds, so a long compile shows signs of life on stderr.
    """
    step = progress.step if progress is not None else _silent
    t0 = time.perf_counter()
    step("minimize", len(f.on_cover))
    found = _minimize(f, engine, pool_ilp, step)
    step("merge into threshold neurons" if threshold else "one neuron per cube", len(found[0][1]))
    if threshold:  # fewer cubes need not merge into fewer neurons: merge each, keep the fewest
        forbidden = cover_forbidden(f)
        answers: dict = {}
        merged = [(merge_cubes(got[1], f.n_inputs, forbidden, answers=answers), got) for got in found]
        neurons, (name, cubes, method) = min(merged, key=lambda pair: len(pair[0]))
    else:
        name, cubes, method = found[0]
        neurons = [cube_neuron(c, f.n_inputs) for c in cubes]
    step("wire the outputs", len(neurons))
    stats = {
        "engine": name,
        "method": method + (" + threshold merging" if threshold else ""),
        "cubes": len(cubes),
        "hidden": len(neurons),
        "seconds": round(time.perf_counter() - t0, 4),
    }
    return network_from_neurons(neurons, f, stats)
