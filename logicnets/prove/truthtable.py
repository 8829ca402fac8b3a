"""Truth tables, and the normal form of every input: Formula, TruthTable or network.

Rows follow :mod:`logicnets.rows` (first variable most significant).  A table of a
formula or network is computed bit-sliced (:func:`evaluator_for`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import LogicError
from ..formula.formula import Formula
from ..formula.nodes import natural_key
from ..network.network import ThresholdNetwork
from ..rows import MAX_TABLE_VARS, all_rows
from .bitslice import Layout, TableBits, unpack
from .formula_bits import FormulaBits
from .network_bits import NetworkBits

__all__ = ["MAX_TABLE_VARS", "TruthTable", "all_rows", "as_spec", "evaluator_for", "spec_variables"]


def _default_names(n: int) -> tuple[str, ...]:
    return tuple(f"x{i}" for i in range(n))


@dataclass(frozen=True, eq=False)
class TruthTable:
    """A function given by its output on every row.

    >>> t = TruthTable.from_minterms([1, 2], ["x", "y"])
    >>> t.outputs.astype(int).tolist(), t.minterms
    ([0, 1, 1, 0], [1, 2])
    """

    variables: tuple[str, ...]
    outputs: np.ndarray

    def __post_init__(self) -> None:
        vs = tuple(str(v) for v in self.variables)
        if len(set(vs)) != len(vs):
            raise LogicError(f"truth table variables must be distinct, got {list(vs)}")
        if len(vs) > MAX_TABLE_VARS:
            raise LogicError(f"a truth table of {len(vs)} variables is too big; at most {MAX_TABLE_VARS}")
        out = np.asarray(self.outputs)
        if out.ndim != 1 or out.size != 1 << len(vs):
            raise LogicError(
                f"a truth table over {len(vs)} variables needs {1 << len(vs)} outputs, got shape {out.shape}"
            )
        if out.dtype != np.bool_:
            if out.size and not np.isin(out, (0, 1)).all():
                raise LogicError("truth table outputs must be 0/1 or booleans")
            out = out.astype(bool)
        out = out.copy()
        out.setflags(write=False)
        object.__setattr__(self, "variables", vs)
        object.__setattr__(self, "outputs", out)

    @classmethod
    def from_outputs(cls, outputs: Any, variables: Sequence[str] | None = None) -> TruthTable:
        """From a list/array of 2^n outputs (or a string such as ``"0110"``).

        >>> TruthTable.from_outputs("0110").variables
        ('x0', 'x1')
        """
        if isinstance(outputs, str):
            text = outputs.replace(" ", "").replace("_", "")
            if not text or set(text) - {"0", "1"}:
                raise LogicError(f"output string must contain only 0 and 1, got {outputs!r}")
            outputs = [c == "1" for c in text]
        out = np.asarray(outputs)
        size = out.size
        n = size.bit_length() - 1
        if out.ndim != 1 or size == 0 or 1 << n != size:
            raise LogicError(f"a truth table needs 2^n outputs (1, 2, 4, 8, ...), got {size}")
        return cls(tuple(variables) if variables is not None else _default_names(n), out)

    @classmethod
    def from_minterms(cls, minterms: Iterable[int], variables: Sequence[str] | int) -> TruthTable:
        """From the row numbers where the function is 1 (``variables`` may be a count)."""
        if isinstance(variables, (int, np.integer)) and not 0 <= variables <= MAX_TABLE_VARS:
            raise LogicError(f"a truth table has 0 to {MAX_TABLE_VARS} variables, got {variables}")
        names = _default_names(variables) if isinstance(variables, (int, np.integer)) else tuple(variables)
        n = len(names)
        if n > MAX_TABLE_VARS:
            raise LogicError(f"at most {MAX_TABLE_VARS} variables for a truth table, got {n}")
        out = np.zeros(1 << n, dtype=bool)
        for m in minterms:
            if not isinstance(m, (int, np.integer)) or not 0 <= m < 1 << n:
                raise LogicError(f"minterm {m!r} is not a row number in 0..{(1 << n) - 1}")
            out[int(m)] = True
        return cls(names, out)

    @classmethod
    def from_source(cls, source: Any, variables: Sequence[str] | None = None) -> TruthTable:
        """Tabulate a formula string, sympy expression, Formula or ThresholdNetwork (bit-sliced)."""
        spec = as_spec(source, variables)
        if isinstance(spec, TruthTable):
            return spec
        names = spec_variables(spec)
        n = len(names)
        if n > MAX_TABLE_VARS:
            raise LogicError(f"{n} variables: too many to tabulate (at most {MAX_TABLE_VARS})")
        layout = Layout(n)
        ev = evaluator_for(spec, names, layout)
        words = np.empty(layout.n_chunks * layout.words, dtype=np.uint64)
        for c in range(layout.n_chunks):
            words[c * layout.words : (c + 1) * layout.words] = layout.full(ev.chunk(layout.planes(c), c))
        return cls(names, unpack(words, 1 << n))

    @property
    def n(self) -> int:
        return len(self.variables)

    @property
    def minterms(self) -> list[int]:
        return np.flatnonzero(self.outputs).tolist()

    def rows(self) -> np.ndarray:
        return all_rows(self.n)

    def cube_array(self) -> np.ndarray:
        """Outputs reshaped to (2,)*n: axis i is variable i."""
        return self.outputs.reshape((2,) * self.n)

    def reorder(self, names: Sequence[str]) -> TruthTable:
        """The same function with the variables listed in another order.

        >>> TruthTable.from_outputs("0010", ["x", "y"]).reorder(["y", "x"]).minterms
        [1]
        """
        if sorted(names) != sorted(self.variables):
            raise LogicError(f"{list(names)} is not a reordering of {list(self.variables)}")
        perm = [self.variables.index(v) for v in names]
        return TruthTable(tuple(names), np.transpose(self.cube_array(), perm).reshape(-1))

    def __len__(self) -> int:
        return self.outputs.size

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TruthTable):
            return NotImplemented
        return self.variables == other.variables and np.array_equal(self.outputs, other.outputs)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        bits = "".join("1" if b else "0" for b in self.outputs[:64])
        more = "..." if self.outputs.size > 64 else ""
        return f"TruthTable(variables={list(self.variables)!r}, outputs='{bits}{more}')"

    def render(self, output_name: str = "out", max_rows: int = 64) -> str:
        """Text table, one row per assignment.

        >>> print(TruthTable.from_outputs("0110", ["x", "y"]).render())
        x y | out
        0 0 | 0
        0 1 | 1
        1 0 | 1
        1 1 | 0
        """
        widths = [max(1, len(v)) for v in self.variables]
        head = " ".join(v.rjust(w) for v, w in zip(self.variables, widths, strict=True))
        lines = [f"{head} | {output_name}".lstrip()]
        rows = all_rows(self.n) if self.n <= 16 else None
        for r in range(min(len(self), max_rows)):
            vals = rows[r] if rows is not None else [(r >> (self.n - 1 - i)) & 1 for i in range(self.n)]
            cells = " ".join(str(int(b)).rjust(w) for b, w in zip(vals, widths, strict=True))
            lines.append(f"{cells} | {int(self.outputs[r])}".lstrip())
        if len(self) > max_rows:
            lines.append(f"... {len(self) - max_rows} more rows")
        return "\n".join(lines)


def spec_variables(spec: Any) -> tuple[str, ...]:
    """The input order of a Formula, TruthTable or network."""
    if isinstance(spec, ThresholdNetwork):
        return spec.inputs
    return spec.variables


def as_spec(source: Any, variables: Sequence[Any] | None = None) -> Any:
    """Normalise user input to a Formula, TruthTable or ThresholdNetwork.

    Strings go through the package's parser; sympy objects are converted
    structurally; ``variables`` (names or Symbols) fixes the order and may add
    variables the function ignores.
    """
    names = tuple(getattr(v, "name", v) for v in variables) if variables is not None else None
    if isinstance(source, Formula):
        return Formula(source.node, names) if names else source
    if isinstance(source, str):
        return Formula.parse(source, names)
    if isinstance(source, TruthTable):
        if names and names != source.variables:
            if sorted(names, key=natural_key) == sorted(source.variables, key=natural_key):
                return source.reorder(names)
            raise LogicError(f"variables {list(names)} do not match the truth table's {list(source.variables)}")
        return source
    if isinstance(source, (list, tuple, np.ndarray)) and not isinstance(source, str):
        try:
            return TruthTable.from_outputs(np.asarray(source), names)
        except LogicError as exc:
            raise LogicError(
                f"{exc}; a list or array is read as the 2^n outputs of a truth table "
                "(for row numbers use TruthTable.from_minterms)"
            ) from None
    if isinstance(source, ThresholdNetwork):
        if names and names != source.inputs:
            raise LogicError(f"variables {list(names)} do not match the network inputs {list(source.inputs)}")
        return source
    return Formula.from_sympy(source, variables)


def evaluator_for(spec: Any, variables: Sequence[str], layout: Layout) -> Any:
    """Bit-sliced evaluator for a Formula, ThresholdNetwork or TruthTable over ``variables``."""
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
