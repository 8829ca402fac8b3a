"""``verify``: prove a network computes a formula (or find where it does not).

Up to ``EXHAUSTIVE_VARS`` inputs every one of the 2^n rows is checked,
bit-sliced (64 rows per uint64 word, numpy-vectorised: ~10^8-10^9 rows/s).
Beyond that, a SAT solver decides the miter ``formula XOR network`` (see
:mod:`logicnets.sat`).  Either way a failure returns counterexample rows.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import LogicError
from ..formula.formula import Formula
from ..formula.nodes import natural_key
from ..network.network import Layer, ThresholdNetwork
from ..rows import row_bits
from .bitslice import Layout
from .sat import prove
from .truthtable import TruthTable, as_spec, evaluator_for

__all__ = ["EXHAUSTIVE_VARS", "Verification", "verify"]

#: Inputs up to which verification enumerates all rows (2^26 = 67M rows, ~1 s).
EXHAUSTIVE_VARS = 26


@dataclass(frozen=True, eq=False)
class Verification:
    """Result of :func:`verify`; truthy iff equivalent.

    ``counterexamples`` is an (k, n) uint8 array of rows where the two differ
    (columns in ``variables`` order), ``expected``/``got`` their outputs.
    ``mismatches`` counts all differing rows (exhaustive method only).
    """

    equivalent: bool
    method: str
    variables: tuple[str, ...]
    rows_checked: int
    seconds: float
    counterexamples: np.ndarray
    expected: np.ndarray
    got: np.ndarray
    mismatches: int | None = None
    details: dict = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.equivalent

    @property
    def rows_per_second(self) -> float:
        return self.rows_checked / self.seconds if self.seconds > 0 else float("inf")

    def summary(self) -> str:
        """One line (plus counterexample lines) for people."""
        if self.equivalent:
            if self.rows_checked:
                return (
                    f"verified: equivalent on all {self.rows_checked} rows ({self.method}, "
                    f"{self.seconds:.3f} s, {self.rows_per_second:.3g} rows/s)"
                )
            return f"verified: equivalent ({self.method}, {self.seconds:.3f} s)"
        head = f"FAILED: not equivalent ({self.method}"
        head += f", {self.mismatches} differing rows)" if self.mismatches is not None else ")"
        lines = [head]
        for row, e, g in zip(self.counterexamples, self.expected, self.got, strict=True):
            assign = " ".join(f"{v}={int(b)}" for v, b in zip(self.variables, row, strict=True))
            lines.append(f"  {assign}: expected {int(e)}, network gives {int(g)}")
        return "\n".join(lines)

    __str__ = summary


def _merge_variables(net: ThresholdNetwork, spec: Any) -> tuple[str, ...]:
    names = tuple(net.inputs)
    others = spec.inputs if isinstance(spec, ThresholdNetwork) else spec.variables
    extra = [v for v in others if v not in names]
    if extra:
        raise LogicError(
            f"the formula uses {sorted(extra, key=natural_key)} which are not inputs of the "
            f"network {list(names)}; compile with variables=... to include them"
        )
    return names


def _align(spec: Any, names: tuple[str, ...]) -> Any:
    if isinstance(spec, Formula):
        return spec if spec.variables == names else Formula(spec.node, names)
    if isinstance(spec, TruthTable):
        if spec.variables == names:
            return spec
        if set(spec.variables) == set(names):
            return spec.reorder(names)
        # the table ignores some network inputs: broadcast it over them
        arr = spec.cube_array()
        missing = [v for v in names if v not in spec.variables]
        arr = arr.reshape(arr.shape + (1,) * len(missing))
        order = list(spec.variables) + missing
        arr = np.transpose(arr, [order.index(v) for v in names])
        full = np.broadcast_to(arr, (2,) * len(names)).reshape(-1)
        return TruthTable(names, full)
    if isinstance(spec, ThresholdNetwork):
        if spec.inputs == names:
            return spec
        perm = [spec.inputs.index(v) if v in spec.inputs else None for v in names]
        first = spec.layers[0]
        W = np.zeros((first.size, len(names)))
        for j, p in enumerate(perm):
            if p is not None:
                W[:, j] = first.weights[:, p]
        return ThresholdNetwork(names, (Layer(W, first.biases), *spec.layers[1:]), spec.stats)
    raise LogicError(f"cannot verify against {type(spec).__name__}")


def _exhaustive(net: ThresholdNetwork, spec: Any, names: tuple[str, ...], limit: int):
    n = len(names)
    layout = Layout(n)
    a = evaluator_for(spec, names, layout)
    b = evaluator_for(net, names, layout)
    mismatches = 0
    bad_rows: list[int] = []
    for c in range(layout.n_chunks):
        planes = layout.planes(c)
        diff = np.bitwise_xor(a.chunk(planes, c), b.chunk(planes, c))
        if np.ndim(diff) == 0:
            diff = np.full(layout.words, diff, dtype=np.uint64)
        if n < 6:
            diff = diff & layout.valid
        if not diff.any():
            continue
        mismatches += int(np.bitwise_count(diff).sum())
        if len(bad_rows) < limit:
            for w in np.flatnonzero(diff):
                word = int(diff[w])
                while word and len(bad_rows) < limit:
                    bit = (word & -word).bit_length() - 1
                    bad_rows.append(c * layout.rows_per_chunk + int(w) * 64 + bit)
                    word &= word - 1
                if len(bad_rows) >= limit:
                    break
    return mismatches, row_bits(bad_rows, n)


def _outputs(spec: Any, rows: np.ndarray) -> np.ndarray:
    if len(rows) == 0:
        return np.zeros(0, dtype=np.uint8)
    if isinstance(spec, ThresholdNetwork):
        return spec(rows).astype(np.uint8)
    if isinstance(spec, Formula):
        return spec.evaluate(rows).astype(np.uint8)
    idx = (
        rows.astype(np.int64) @ (1 << np.arange(rows.shape[1] - 1, -1, -1, dtype=np.int64))
        if rows.shape[1]
        else np.zeros(len(rows), np.int64)
    )
    return spec.outputs[idx].astype(np.uint8)


def verify(
    network: ThresholdNetwork,
    spec: Any,
    variables: Sequence[Any] | None = None,
    *,
    method: str = "auto",
    max_counterexamples: int = 8,
    exhaustive_vars: int = EXHAUSTIVE_VARS,
) -> Verification:
    """Prove ``network`` computes ``spec`` (formula string, sympy expression, Formula,
    TruthTable or another network) on every input, or return counterexamples.

    ``method``: "auto" (exhaustive up to ``exhaustive_vars`` inputs, else SAT),
    "exhaustive", "sat" (python-sat, or sympy when it is missing) or "sympy"
    (sympy ``satisfiable`` on ``Xor(formula, decompiled network)``; slow).  Inputs of the
    network that the formula does not use are free: the formula must hold for every value of them.

    >>> from logicnets import compile
    >>> verify(compile("x ^ y"), "x ^ y").equivalent
    True
    >>> bad = verify(compile("x | y"), "x ^ y")
    >>> bad.equivalent, bad.counterexamples.tolist(), bad.expected.tolist(), bad.got.tolist()
    (False, [[1, 1]], [0], [1])
    """
    if not isinstance(network, ThresholdNetwork):
        raise LogicError(f"verify expects a ThresholdNetwork first, got {type(network).__name__}")
    if method not in ("auto", "exhaustive", "sat", "sympy"):
        raise LogicError(f"unknown method {method!r}; choose auto, exhaustive, sat or sympy")
    spec = as_spec(spec, variables)
    names = _merge_variables(network, spec)
    spec = _align(spec, names)
    n = len(names)
    t0 = time.perf_counter()
    use_sat = method in ("sat", "sympy") or (method == "auto" and n > exhaustive_vars)
    if isinstance(spec, TruthTable) and use_sat:
        if method in ("sat", "sympy"):
            raise LogicError("a truth table is checked row by row; use method='exhaustive' or 'auto'")
        use_sat = False  # a table is explicit anyway
    if use_sat:
        eq, rows, engine = prove(
            spec, network, names, max_counterexamples, engine="sympy" if method == "sympy" else "auto"
        )
        cex = np.array(rows, dtype=np.uint8).reshape(-1, n)
        mism = None
        checked = 0
        used = engine
    else:
        if n > 40:
            raise LogicError(f"{n} inputs are too many to enumerate; use method='sat'")
        mism, cex = _exhaustive(network, spec, names, max_counterexamples)
        eq = mism == 0
        checked = 1 << n
        used = "exhaustive, bit-sliced"
    seconds = time.perf_counter() - t0
    return Verification(eq, used, names, checked, seconds, cex, _outputs(spec, cex), _outputs(network, cex), mism)
