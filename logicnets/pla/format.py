"""Berkeley PLA files (the ESPRESSO / MCNC format): read, check, write.

Why: real logic arrives as PLA files with several outputs and don't-cares.
Accepted: ``.i .o .ilb .ob .p .e/.end .type f|fd|fr|fdr``, ``#`` comments,
input characters ``0 1 -`` (``2`` also means ``-``), output characters
``1``/``4`` ON, ``0``/``3`` OFF, ``-``/``2`` don't-care and ``~`` nothing,
as ESPRESSO reads them (an ``0`` is an OFF row only in the ``r`` types, a ``-``
a don't-care only in the ``d`` types).  Anything else is a :class:`PlaError`
naming file and line.

>>> p = parse_pla(".i 2\\n.o 1\\n11 1\\n0- -\\n.e\\n")
>>> p.inputs, p.outputs, p.rows
(('x0', 'x1'), ('f0',), (('11', '1'), ('0-', '-')))
>>> print(format_pla(p), end="")
.i 2
.o 1
.ilb x0 x1
.ob f0
.type fd
.p 2
11 1
0- -
.e
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ..errors import LogicError, PlaError
from ..files import atomic_write, read_text
from .function import IncompleteFunction

__all__ = [
    "MAX_PLA_SIZE",
    "PLA_TYPES",
    "Pla",
    "cover_pla",
    "cover_rows",
    "format_pla",
    "parse_pla",
    "read_pla",
    "write_pla",
]

#: Most inputs, outputs or product terms a PLA file may declare (a count is memory to allocate).
MAX_PLA_SIZE = 1_000_000

PLA_TYPES = ("f", "fd", "fr", "fdr")
_IN_CHARS = {"0": "0", "1": "1", "-": "-", "2": "-"}
_OUT_CHARS = {"1": "1", "4": "1", "0": "0", "3": "0", "-": "-", "2": "-", "~": "~"}


@dataclass(frozen=True)
class Pla:
    """The content of a PLA file: names, type and product-term rows (input part, output part)."""

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    rows: tuple[tuple[str, str], ...]
    type: str = "fd"
    source: str = field(default="<pla>", compare=False)

    @property
    def n_inputs(self) -> int:
        return len(self.inputs)

    @property
    def n_outputs(self) -> int:
        return len(self.outputs)

    def function(self) -> IncompleteFunction:
        """The incompletely specified multi-output function (ON, DC, OFF per output)."""
        return IncompleteFunction.from_pla(self)


def _names(tokens: list[str], count: int | None, what: str, fname: str, line: int) -> tuple[str, ...]:
    if count is None:
        raise PlaError(f"{what} comes before {'.i' if what == '.ilb' else '.o'}", fname, line)
    if len(tokens) != count:
        raise PlaError(
            f"{what} lists {len(tokens)} names but {'.i' if what == '.ilb' else '.o'} says {count}", fname, line
        )
    if len(set(tokens)) != len(tokens):
        raise PlaError(f"{what} repeats a name", fname, line)
    return tuple(tokens)


def _count(tokens: list[str], what: str, fname: str, line: int) -> int:
    text = tokens[0] if len(tokens) == 1 else ""
    if not (text.isascii() and text.isdigit()) or len(text) > 9 or not 1 <= int(text) <= MAX_PLA_SIZE:
        shown = " ".join(tokens)[:40] or "nothing"
        raise PlaError(f"{what} needs one integer from 1 to {MAX_PLA_SIZE}, got {shown}", fname, line)
    return int(text)


def parse_pla(text: str, filename: str = "<pla>") -> Pla:
    """Parse PLA text; errors say ``FILE:LINE: what is wrong``."""
    n_in = n_out = None
    ilb = ob = None
    kind = "fd"
    rows: list[tuple[str, str]] = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("."):
            key, *tokens = line.split()
            if key == ".i":
                if rows or n_in is not None:
                    raise PlaError(".i must come once, before the product terms", filename, lineno)
                n_in = _count(tokens, ".i", filename, lineno)
            elif key == ".o":
                if rows or n_out is not None:
                    raise PlaError(".o must come once, before the product terms", filename, lineno)
                n_out = _count(tokens, ".o", filename, lineno)
            elif key == ".ilb":
                ilb = _names(tokens, n_in, ".ilb", filename, lineno)
            elif key == ".ob":
                ob = _names(tokens, n_out, ".ob", filename, lineno)
            elif key == ".type":
                if len(tokens) != 1 or tokens[0] not in PLA_TYPES:
                    raise PlaError(
                        f".type must be one of {', '.join(PLA_TYPES)}, got {' '.join(tokens) or 'nothing'}",
                        filename,
                        lineno,
                    )
                kind = tokens[0]
            elif key in (".e", ".end"):
                break
            elif key == ".p":
                if tokens != ["0"]:
                    _count(tokens, ".p", filename, lineno)  # the count itself is not checked
            else:
                raise PlaError(
                    f"unsupported directive {key} (this reader knows .i .o .ilb .ob .p .type .e)", filename, lineno
                )
            continue
        if n_in is None or n_out is None:
            raise PlaError("a product term comes before .i and .o", filename, lineno)
        chars = "".join(line.replace("|", " ").split())
        if len(chars) != n_in + n_out:
            raise PlaError(
                f"product term has {len(chars)} characters, expected {n_in} inputs + {n_out} outputs = {n_in + n_out}",
                filename,
                lineno,
            )
        ins, outs = chars[:n_in], chars[n_in:]
        for pos, c in enumerate(ins):
            if c not in _IN_CHARS:
                raise PlaError(f"input {pos + 1} is {c!r}; inputs must be 0, 1 or -", filename, lineno)
        for pos, c in enumerate(outs):
            if c not in _OUT_CHARS:
                raise PlaError(f"output {pos + 1} is {c!r}; outputs must be 1, 0, -, 2 or ~", filename, lineno)
        rows.append(("".join(_IN_CHARS[c] for c in ins), "".join(_OUT_CHARS[c] for c in outs)))
    if n_in is None or n_out is None:
        raise PlaError(
            f"missing {'.i' if n_in is None else '.o'} (number of {'inputs' if n_in is None else 'outputs'})",
            filename,
            0,
        )
    inputs = ilb if ilb is not None else tuple(f"x{i}" for i in range(n_in))
    outputs = ob if ob is not None else tuple(f"f{i}" for i in range(n_out))
    if set(inputs) & set(outputs):
        raise PlaError(f"names used as both input and output: {sorted(set(inputs) & set(outputs))}", filename, 0)
    return Pla(inputs, outputs, tuple(rows), kind, filename)


def read_pla(path: str | os.PathLike) -> Pla:
    """Read a PLA file; ``"-"`` reads standard input."""
    name = "<stdin>" if os.fspath(path) == "-" else os.fspath(path)
    try:
        text = read_text(path, "PLA file")
    except LogicError as exc:
        raise PlaError(str(exc).removeprefix(f"{name}: "), name, 0) from None
    return parse_pla(text, name)


def format_pla(pla: Pla) -> str:
    """PLA text with names, type and ``.p`` count."""
    lines = [
        f".i {pla.n_inputs}",
        f".o {pla.n_outputs}",
        ".ilb " + " ".join(pla.inputs),
        ".ob " + " ".join(pla.outputs),
        f".type {pla.type}",
        f".p {len(pla.rows)}",
    ]
    lines += [f"{i} {o}" for i, o in pla.rows]
    lines.append(".e")
    return "\n".join(lines) + "\n"


def write_pla(pla: Pla, path: str | os.PathLike) -> None:
    """Write atomically (see :func:`logicnets.files.atomic_write`)."""
    atomic_write(path, format_pla(pla))


def cover_rows(cubes: Iterable[tuple[int, int, int]], n_inputs: int, n_outputs: int) -> tuple[tuple[str, str], ...]:
    """PLA rows of a cover given as ``(positive mask, negative mask, output mask)`` cubes.

    >>> cover_rows([(0b01, 0b10, 0b1)], 2, 1)
    (('10', '1'),)
    """
    out = []
    for p, q, o in cubes:
        ins = "".join("1" if p >> i & 1 else "0" if q >> i & 1 else "-" for i in range(n_inputs))
        out.append((ins, "".join("1" if o >> k & 1 else "0" for k in range(n_outputs))))
    return tuple(out)


def cover_pla(cubes: Sequence[tuple[int, int, int]], inputs: Sequence[str], outputs: Sequence[str]) -> Pla:
    """A type-f PLA of a minimized cover (what ``espresso`` prints)."""
    return Pla(tuple(inputs), tuple(outputs), cover_rows(cubes, len(inputs), len(outputs)), "f")
