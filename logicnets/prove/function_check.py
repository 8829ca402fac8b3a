"""Exact check of a multi-output network against an incompletely specified function.

``verify_function`` evaluates the network on every row (as row bitsets, one per
output) and checks the ON and OFF rows of every output; DC rows are free and only counted.
Above ``EXHAUSTIVE_MAX_INPUTS`` inputs, :func:`verify_function_any_width` proves the same by
SAT on the cube covers (:mod:`logicnets.prove.cover_sat`), with no 2^n anywhere.

>>> from logicnets.construct.placompile import compile_function
>>> from logicnets.pla.format import parse_pla
>>> f = parse_pla(".i 3\\n.o 1\\n11- 1\\n1-1 1\\n-11 1\\n.e").function()
>>> verify_function(compile_function(f), f).ok
True
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from ..errors import LogicError
from ..network.multinet import MultiOutputNetwork
from ..network.neurons import integer_form
from ..pla.function import IncompleteFunction, cube_rows, neuron_rows
from ..rows import row_block
from .check_result import FunctionCheck

__all__ = ["EXHAUSTIVE_MAX_INPUTS", "FunctionCheck", "verify_function", "verify_function_any_width"]

#: Above this many inputs ``verify_function`` proves by SAT on cube covers (when it has them).
EXHAUSTIVE_MAX_INPUTS = 16


def _network_rows(net: MultiOutputNetwork, n: int) -> list[int]:
    """Row bitset of every output over all 2^n rows (numpy, chunked)."""
    m = net.n_outputs
    out = [0] * m
    chunk = 1 << min(n, 16)
    for start in range(0, 1 << n, chunk):
        y = net(row_block(start, chunk, n)).astype(bool)
        for k in range(m):
            out[k] |= int.from_bytes(np.packbits(y[:, k], bitorder="little").tobytes(), "little") << start
    return out


def _fast_rows(net: MultiOutputNetwork, n: int) -> list[int] | None:
    """Output bitsets without a pass over all rows when the neurons allow it: an AND neuron
    (exact integer form) is its cube's bitset, an output whose used weights are all 1 with a
    bias in (-1, 0) is the OR of its neurons; other hidden neurons are tabulated alone."""
    hidden = []
    for w, b in zip(net.hidden.weights, net.hidden.biases, strict=True):
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
        hidden.append(neuron_rows(ww, t, n))
    out = []
    for w, b in zip(net.output_layer.weights, net.output_layer.biases, strict=True):
        used = np.flatnonzero(w)
        if not (np.all(w[used] == 1.0) and -1.0 < b < 0.0):
            return None
        acc = 0
        for j in used.tolist():
            acc |= hidden[j]
        out.append(acc)
    return out


def verify_function(net: MultiOutputNetwork, f: IncompleteFunction, max_examples: int = 8) -> FunctionCheck:
    """Check ``net`` against the ON and OFF rows of ``f`` (by output name): when ``f`` carries cube
    covers (``on_cubes``, ``dc_cubes``, ``off_cubes``), through :func:`verify_function_any_width`
    (exhaustive up to ``EXHAUSTIVE_MAX_INPUTS`` inputs, SAT above); else on its row bitsets."""
    if tuple(net.inputs) != tuple(f.inputs):
        raise LogicError(f"network inputs {list(net.inputs)} differ from the function's {list(f.inputs)}")
    on_cubes = getattr(f, "on_cubes", None)
    if on_cubes is not None:
        return verify_function_any_width(
            net, f.inputs, f.outputs, on_cubes, f.dc_cubes, getattr(f, "off_cubes", None), max_examples
        )
    return _exhaustive(net, f.outputs, f.on, f.off, f.dc, f.n_inputs, max_examples)


def verify_function_any_width(
    net: MultiOutputNetwork,
    inputs: Sequence[str],
    outputs: Sequence[str],
    on: Sequence[tuple[int, int, int]],
    dc: Sequence[tuple[int, int, int]],
    off: Sequence[tuple[int, int, int]] | None = None,
    max_examples: int = 8,
) -> FunctionCheck:
    """Check ``net`` against covers of ``(pos, neg, outs)`` cubes (ESPRESSO's f/fd when ``off``
    is None, fr/fdr otherwise): all 2^n rows where that is cheap, else SAT (no 2^n anywhere)."""
    if tuple(net.inputs) != tuple(inputs):
        raise LogicError(f"network inputs {list(net.inputs)} differ from the function's {list(inputs)}")
    n = len(inputs)
    if n > EXHAUSTIVE_MAX_INPUTS:
        from .cover_sat import verify_cubes

        return verify_cubes(net, on, dc, off, outputs=outputs, max_examples=max_examples)
    ON, DC, OFF = _cover_rows(on, n, len(outputs)), _cover_rows(dc, n, len(outputs)), None
    ON = [a & ~d for a, d in zip(ON, DC, strict=True)]
    full = (1 << (1 << n)) - 1
    if off is None:
        OFF = [full & ~(a | d) for a, d in zip(ON, DC, strict=True)]
    else:
        OFF = [b & ~d for b, d in zip(_cover_rows(off, n, len(outputs)), DC, strict=True)]
        DC = [full & ~(a | b) for a, b in zip(ON, OFF, strict=True)]
    return _exhaustive(net, outputs, ON, OFF, DC, n, max_examples)


def _cover_rows(cubes: Sequence[tuple[int, int, int]], n: int, m: int) -> list[int]:
    """Row bitset per output of a cover (only for small n)."""
    out = [0] * m
    for pos, neg, outs in cubes:
        if pos & neg:
            continue
        rows = cube_rows(pos, neg, n)
        for k in range(m):
            if outs >> k & 1:
                out[k] |= rows
    return out


def _exhaustive(
    net: MultiOutputNetwork,
    outputs: Sequence[str],
    on: Sequence[int],
    off: Sequence[int],
    dc: Sequence[int],
    n: int,
    max_examples: int,
) -> FunctionCheck:
    """Evaluate ``net`` on all 2^n rows and compare with the ON and OFF row bitsets."""
    t0 = time.perf_counter()
    position = {name: k for k, name in enumerate(net.outputs)}  # a dict: no scan of the outputs per output
    missing = [o for o in outputs if o not in position]
    if missing:
        raise LogicError(f"the network has no output(s) {missing}")
    got = _fast_rows(net, n) if n > 12 else None
    if got is None:
        got = _network_rows(net, n)
    wrong_on, wrong_off, examples = [], [], []
    for k, name in enumerate(outputs):
        g = got[position[name]]
        bad_on = on[k] & ~g
        bad_off = off[k] & g
        wrong_on.append(bad_on.bit_count())
        wrong_off.append(bad_off.bit_count())
        for bad, e in ((bad_on, 1), (bad_off, 0)):
            while bad and len(examples) < max_examples:
                r = (bad & -bad).bit_length() - 1
                examples.append((name, r, e))
                bad &= bad - 1
    ok = not any(wrong_on) and not any(wrong_off)
    return FunctionCheck(
        ok,
        tuple(outputs),
        tuple(wrong_on),
        tuple(wrong_off),
        tuple(d.bit_count() for d in dc),
        1 << n,
        time.perf_counter() - t0,
        examples,
        n_inputs=n,
    )
