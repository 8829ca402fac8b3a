"""PLA / incompletely specified functions to multi-output networks, and their exact check.

Why: the pipeline of issue 14 in one place.  ``compile_function`` minimizes
the cover (:mod:`logicnets.twolevel`), merges cubes into threshold neurons
(:mod:`logicnets.thresholdcover`) and wires each output as an OR of its
neurons.  ``verify_function`` evaluates the network on every row and checks
the ON and OFF rows of every output; DC rows are free and only counted.

>>> from logicnets.pla import parse_pla
>>> f = parse_pla(".i 3\\n.o 1\\n11- 1\\n1-1 1\\n-11 1\\n.e").function()
>>> net = compile_function(f)
>>> net.hidden_size, verify_function(net, f).ok
(1, True)
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .errors import LogicError
from .incomplete import IncompleteFunction
from .multinet import MultiOutputNetwork
from .network import Layer

__all__ = ["compile_function", "verify_function", "FunctionCheck", "network_from_neurons"]


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


def compile_function(f: IncompleteFunction, *, threshold: bool = True, merge_budget: float = 2.0,
                     pool_ilp: bool = True) -> MultiOutputNetwork:
    """A multi-output network for ``f`` with few hidden neurons (uses the don't-cares)."""
    from .thresholdcover import cube_neuron, merge_cubes
    from .twolevel import _Space, minimize_cover
    t0 = time.perf_counter()
    res = minimize_cover(f, pool_ilp=pool_ilp)
    if threshold:
        sp = _Space(f)
        neurons = merge_cubes(res.cubes, f.n_inputs, sp.off_of, time_budget=merge_budget)
    else:
        neurons = [cube_neuron(c, f.n_inputs) for c in res.cubes]
    stats = {"method": res.method + (" + threshold merging" if threshold else ""),
             "cubes": len(res.cubes), "hidden": len(neurons),
             "seconds": round(time.perf_counter() - t0, 4)}
    return network_from_neurons(neurons, f, stats)


@dataclass(frozen=True)
class FunctionCheck:
    """Per output: ON rows that gave 0, OFF rows that gave 1, and DC rows (free)."""

    ok: bool
    outputs: tuple[str, ...]
    wrong_on: tuple[int, ...]
    wrong_off: tuple[int, ...]
    dc_rows: tuple[int, ...]
    rows_checked: int
    seconds: float
    examples: list = field(default_factory=list)

    def summary(self) -> str:
        dc = sum(self.dc_rows)
        if self.ok:
            return (f"verified: all ON and OFF rows right for {len(self.outputs)} output(s) over "
                    f"{self.rows_checked} rows ({dc} output rows were don't-cares, free); "
                    f"{self.seconds:.3f} s")
        lines = [f"FAILED: {sum(self.wrong_on)} ON rows give 0 and {sum(self.wrong_off)} OFF rows give 1"]
        lines += [f"  output {o}, row {r:0{0}b}: expected {e}" for o, r, e in self.examples]
        return "\n".join(lines)

    __str__ = summary

    def __bool__(self) -> bool:
        return self.ok


def _network_rows(net: MultiOutputNetwork, n: int) -> list[int]:
    """Row bitset of every output over all 2^n rows (numpy, chunked)."""
    m = net.n_outputs
    out = [0] * m
    chunk = 1 << min(n, 16)
    shifts = np.arange(n - 1, -1, -1, dtype=np.int64)
    W1, b1 = net.hidden.weights, net.hidden.biases
    W2, b2 = net.output_layer.weights, net.output_layer.biases
    for start in range(0, 1 << n, chunk):
        r = np.arange(start, start + chunk, dtype=np.int64)
        x = ((r[:, None] >> shifts) & 1).astype(np.float64)
        h = (x @ W1.T + b1 >= 0).astype(np.float64)
        y = h @ W2.T + b2 >= 0
        for k in range(m):
            out[k] |= int.from_bytes(np.packbits(y[:, k], bitorder="little").tobytes(), "little") << start
    return out


def _fast_rows(net: MultiOutputNetwork, n: int) -> list[int] | None:
    """Output bitsets without a pass over all rows when the neurons allow it: an AND neuron
    (exact integer form) is its cube's bitset, an output whose used weights are all 1 with a
    bias in (-1, 0) is the OR of its neurons; other hidden neurons are tabulated alone."""
    from .incomplete import cube_rows
    from .neurons import integer_form
    from .thresholdcover import _neuron_rows
    hidden = []
    for w, b in zip(net.hidden.weights, net.hidden.biases):
        form = integer_form(w, b)
        if form is not None and form.kind in ("and", "const0", "const1"):
            if form.kind == "const1":
                hidden.append((1 << (1 << n)) - 1)
            elif form.kind == "const0":
                hidden.append(0)
            else:
                pos = sum(1 << i for i, _, neg in form.literals if not neg)
                negm = sum(1 << i for i, _, neg in form.literals if neg)
                hidden.append(cube_rows(pos, negm, n))
            continue
        if form is None:
            return None
        # [sum a * literal >= T]: with negated literals 1 - x folded into the threshold
        ww = [0] * n
        t = form.threshold
        for i, a, neg in form.literals:
            ww[i] = -a if neg else a
            t -= a if neg else 0
        hidden.append(_neuron_rows(ww, t, n))
    out = []
    for w, b in zip(net.output_layer.weights, net.output_layer.biases):
        used = np.flatnonzero(w)
        if not (np.all(w[used] == 1.0) and -1.0 < b < 0.0):
            return None
        acc = 0
        for j in used.tolist():
            acc |= hidden[j]
        out.append(acc)
    return out


def verify_function(net: MultiOutputNetwork, f: IncompleteFunction, max_examples: int = 8) -> FunctionCheck:
    """Exhaustive check of ``net`` against the ON and OFF rows of ``f`` (by output name)."""
    t0 = time.perf_counter()
    if tuple(net.inputs) != tuple(f.inputs):
        raise LogicError(f"network inputs {list(net.inputs)} differ from the function's {list(f.inputs)}")
    missing = [o for o in f.outputs if o not in net.outputs]
    if missing:
        raise LogicError(f"the network has no output(s) {missing}")
    n = f.n_inputs
    got = _fast_rows(net, n) if n > 12 else None
    if got is None:
        got = _network_rows(net, n)
    wrong_on, wrong_off, examples = [], [], []
    for k, name in enumerate(f.outputs):
        g = got[net.outputs.index(name)]
        bad_on = f.on[k] & ~g
        bad_off = f.off[k] & g
        wrong_on.append(bad_on.bit_count())
        wrong_off.append(bad_off.bit_count())
        for bad, e in ((bad_on, 1), (bad_off, 0)):
            while bad and len(examples) < max_examples:
                r = (bad & -bad).bit_length() - 1
                examples.append((name, r, e))
                bad &= bad - 1
    ok = not any(wrong_on) and not any(wrong_off)
    return FunctionCheck(ok, tuple(f.outputs), tuple(wrong_on), tuple(wrong_off),
                         tuple(d.bit_count() for d in f.dc), 1 << n, time.perf_counter() - t0, examples)
