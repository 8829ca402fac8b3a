"""Incompletely specified multi-output functions (PLA files) to multi-output networks.

``compile_function`` minimizes the cover (:mod:`.twolevel`), merges cubes into
threshold neurons (:mod:`.thresholdcover`) and wires each output as an OR of its
neurons; :func:`logicnets.prove.function_check.verify_function` checks the result.

>>> from logicnets.pla.format import parse_pla
>>> f = parse_pla(".i 3\\n.o 1\\n11- 1\\n1-1 1\\n-11 1\\n.e").function()
>>> compile_function(f).hidden_size
1
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np

from ..network.multinet import MultiOutputNetwork
from ..network.network import Layer
from ..pla.function import IncompleteFunction
from .thresholdcover import cube_neuron, merge_cubes
from .twolevel import Space, minimize_cover

if TYPE_CHECKING:
    from ..progress import Progress

__all__ = ["compile_function", "network_from_neurons"]


def network_from_neurons(neurons, f: IncompleteFunction, stats: dict | None = None) -> MultiOutputNetwork:
    """Hidden neuron ``[w·x >= t]`` per entry; each output ORs the neurons that feed it."""
    n, m = f.n_inputs, f.n_outputs
    W1 = np.array([w for w, _, _, _ in neurons], dtype=np.float64).reshape(len(neurons), n)
    b1 = np.array([-t + 0.5 for _, t, _, _ in neurons], dtype=np.float64)
    W2 = np.zeros((m, len(neurons)))
    for j, (_, _, outs, _) in enumerate(neurons):
        for k in range(m):
            if outs >> k & 1:
                W2[k, j] = 1.0
    return MultiOutputNetwork(f.inputs, f.outputs, Layer(W1, b1), Layer(W2, np.full(m, -0.5)), stats or {})


def _silent(stage: str, cubes: int) -> None:
    """The progress hook when nobody listens."""


def compile_function(
    f: IncompleteFunction,
    *,
    threshold: bool = True,
    merge_budget: float = 2.0,
    pool_ilp: bool = True,
    progress: Progress | None = None,
) -> MultiOutputNetwork:
    """A multi-output network for ``f`` with few hidden neurons (uses the don't-cares).

    ``progress`` (a :class:`logicnets.progress.Progress`) hears of every stage with the
    cubes it holds, so a long compile shows signs of life on stderr.
    """
    step = progress.step if progress is not None else _silent
    t0 = time.perf_counter()
    step("minimize", len(f.cubes))
    res = minimize_cover(f, pool_ilp=pool_ilp)
    step("merge into threshold neurons" if threshold else "one neuron per cube", len(res.cubes))
    if threshold:
        sp = Space(f)
        neurons = merge_cubes(res.cubes, f.n_inputs, sp.off_of, time_budget=merge_budget)
    else:
        neurons = [cube_neuron(c, f.n_inputs) for c in res.cubes]
    step("wire the outputs", len(neurons))
    stats = {
        "method": res.method + (" + threshold merging" if threshold else ""),
        "cubes": len(res.cubes),
        "hidden": len(neurons),
        "seconds": round(time.perf_counter() - t0, 4),
    }
    return network_from_neurons(neurons, f, stats)
