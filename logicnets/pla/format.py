"""Berkeley PLA files (the ESPRESSO / MCNC format): read, check, write.

Why: real logic arrives as PLA files with several outputs and don't-cares, written by
many tools over decades.  The reader takes a PLA as ESPRESSO's ``read_pla`` does (cvrin.c),
as a stream of words rather than of lines:

* a product term is its next ``.i + .o`` characters, spaces and ``|`` ignored, so it may wrap
  over several lines (cps.pla, opa.pla) and several may share a line;
* several directives may share a line, and ``.ilb``/``.ob`` take the next ``.i``/``.o`` words
  wherever they are (when those words look like directives or product terms, as in
  newxcpla1.pla, the PLA keeps ESPRESSO's reading and :attr:`Pla.warnings` says so);
* before ``.i`` and ``.o`` a line that is not a directive is a name or a title and is skipped
  (test2.pla starts with one); one that looks like a product term is an error.

Accepted directives: ``.i .o .ilb .ob .p .e/.end .type f|fd|fr|fdr``, ``#`` comments.
Input characters ``0 1 -`` (``2`` also means ``-``); output characters ``1``/``4`` ON,
``0``/``3`` OFF, ``-``/``2`` don't-care and ``~`` nothing, read as ESPRESSO reads them (an
``0`` is an OFF row only in the ``r`` types, a ``-`` a don't-care only in the ``d`` types).
Anything else is a :class:`PlaError` naming file and line.  Counts and sizes are bounded by
:class:`PlaLimits`, checked while reading, before anything big is built.

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
>>> parse_pla("title\\n.i 3 .o 1\\n1 1 0\\n 1\\n").rows  # a name line; a term over two lines
(('110', '1'),)
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace

from ..errors import LogicError, PlaError
from ..files import atomic_write, read_text
from .function import IncompleteFunction

__all__ = [
    "PLA_LIMITS_ENV",
    "PLA_TYPES",
    "Pla",
    "PlaLimits",
    "cover_pla",
    "cover_rows",
    "format_pla",
    "parse_pla",
    "read_pla",
    "write_pla",
]

PLA_TYPES = ("f", "fd", "fr", "fdr")
_IN_TABLE = str.maketrans({"2": "-"})
_OUT_TABLE = str.maketrans({"4": "1", "3": "0", "2": "-"})
_IN_OK = frozenset("01-2")
_OUT_OK = frozenset("1403-2~")
_TERM_CHARS = frozenset("01234-~|?")  # what a product term may be made of, as ESPRESSO reads one
_WORD = re.compile(r"[^\s#]+|#")

#: Environment variable with limits for every PLA read, e.g. ``inputs=2048,terms=1000000``.
PLA_LIMITS_ENV = "LOGICNETS_PLA_LIMITS"


@dataclass(frozen=True)
class PlaLimits:
    """The most a PLA file may declare or hold, checked while it is read.

    Why: every count in a file is memory to allocate and time to spend.  A file that says
    ``.o 1000000``, or holds a million product terms of 1000 inputs, stops with one line
    ``FILE: what limit, how to raise it`` before anything big is built, not with a
    MemoryError minutes later.  The defaults hold every PLA of the MCNC/ESPRESSO suite (at
    most 130 inputs, 110 outputs, a few thousand product terms) with room to spare.  Raise
    them with ``logicnets --pla-limits``, the ``LOGICNETS_PLA_LIMITS`` environment variable
    (both ``inputs=2048,terms=1000000``) or ``limits=`` in Python.

    >>> PlaLimits.parse("inputs=2048, terms=1_000_000").terms
    1000000
    """

    inputs: int = 1024
    outputs: int = 1024
    terms: int = 100_000
    cells: int = 1 << 24  # product terms x (inputs + outputs): the characters the rows keep
    bytes: int = 64 << 20  # size of the file
    complement: int = 200_000  # cubes of one output's OFF cover when the PLA gives none (5 steps per cube)

    @classmethod
    def parse(cls, text: str, base: PlaLimits | None = None, source: str = "--pla-limits") -> PlaLimits:
        """``base`` (default: the defaults) changed by ``"key=N,key=N"``; keys are the field names."""
        keys = [f.name for f in fields(cls)]
        changes = {}
        for item in filter(None, (s.strip() for s in text.split(","))):
            key, sep, value = (s.strip() for s in item.partition("="))
            value = value.replace("_", "")
            if not (sep and key in keys and value.isascii() and value.isdigit() and 0 < len(value) <= 18):
                raise LogicError(
                    f"{source}: expected KEY=N[,KEY=N...] with KEY one of {', '.join(keys)} "
                    f"and N a positive integer, got {item[:60]!r}"
                )
            changes[key] = max(1, int(value))
        return replace(base or cls(), **changes)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PlaLimits:
        """The defaults, changed by ``$LOGICNETS_PLA_LIMITS`` where it is set."""
        text = (os.environ if environ is None else environ).get(PLA_LIMITS_ENV, "")
        return cls.parse(text, source=PLA_LIMITS_ENV) if text.strip() else cls()


_LIMIT_NOUNS = {
    "inputs": "inputs",
    "outputs": "outputs",
    "terms": "product terms",
    "cells": "characters of product terms",
    "bytes": "bytes",
}


def _over_limit(filename: str, what: str, key: str, limits: PlaLimits) -> PlaError:
    """``FILE: what (the limit is N things); raise it with ...``: one line, no line number."""
    return PlaError(
        f"{what} (the limit is {getattr(limits, key)} {_LIMIT_NOUNS[key]}); "
        f"raise it with --pla-limits {key}=N or {PLA_LIMITS_ENV}={key}=N",
        filename,
        0,
    )


@dataclass(frozen=True)
class Pla:
    """The content of a PLA file: names, type and product-term rows (input part, output part).

    ``warnings`` are lines about readings that ESPRESSO accepts but that may not be what
    the author meant (the command line prints them on stderr).
    """

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    rows: tuple[tuple[str, str], ...]
    type: str = "fd"
    source: str = field(default="<pla>", compare=False)
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @property
    def n_inputs(self) -> int:
        return len(self.inputs)

    @property
    def n_outputs(self) -> int:
        return len(self.outputs)

    def function(self, cover_limit: int = 200_000) -> IncompleteFunction:
        """The incompletely specified multi-output function (ON, DC, OFF per output); an OFF
        cover computed from it stops past ``cover_limit`` cubes or steps (``CoverLimitError``)."""
        return IncompleteFunction.from_pla(self, cover_limit)


class _Words:
    """The words of PLA text one at a time with their line numbers; ``#`` starts a comment.

    Why a scanner: a file of one long line is never split into all its words at once, so the
    limits stop a huge file after the words they allow.
    """

    def __init__(self, text: str) -> None:
        self._text = text
        self._pos = 0  # where scanning goes on
        self._pos_line = 1  # line number at _pos
        self._peeked: tuple[str, int] | None = None
        self.line = 0  # line of the word taken last

    def _scan(self) -> tuple[str, int] | None:
        text = self._text
        while (m := _WORD.search(text, self._pos)) is not None:
            self._pos_line += text.count("\n", self._pos, m.start())
            self._pos = m.end()
            if m.group() != "#":
                return m.group(), self._pos_line
            end = text.find("\n", self._pos)
            self._pos = len(text) if end < 0 else end
        return None

    def peek(self) -> str | None:
        """The next word, wherever it is, without taking it."""
        if self._peeked is None:
            self._peeked = self._scan() or ("", -1)
        return self._peeked[0] if self._peeked[1] >= 0 else None

    def take(self) -> str | None:
        """The next word (``None`` at the end of the text); sets :attr:`line`."""
        word = self.peek()
        if word is not None:
            self.line = self._peeked[1]
            self._peeked = None
        return word

    def skip_line(self) -> None:
        """Drop the rest of the line of the word taken last."""
        if self._peeked is not None and self._peeked[1] != self.line:
            return  # the next word is on a later line already
        self._peeked = None
        end = self._text.find("\n", self._pos)
        self._pos = len(self._text) if end < 0 else end


@dataclass
class _Reader:
    """What has been read so far, and the checks on it."""

    filename: str
    limits: PlaLimits
    n_in: int | None = None
    n_out: int | None = None
    labels: dict[str, tuple[str, ...]] = field(default_factory=dict)
    kind: str = "fd"
    rows: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    term_end_line: int = 0  # line where the last product term ended

    def error(self, message: str, line: int) -> PlaError:
        return PlaError(message, self.filename, line)

    def result(self) -> Pla:
        if self.n_in is None or self.n_out is None:
            what = ".i (number of inputs)" if self.n_in is None else ".o (number of outputs)"
            raise self.error(f"missing {what}", 0)
        inputs = self.labels.get(".ilb") or tuple(f"x{i}" for i in range(self.n_in))
        outputs = self.labels.get(".ob") or tuple(f"f{i}" for i in range(self.n_out))
        both = set(inputs) & set(outputs)
        if both:
            raise self.error(f"names used as both input and output: {sorted(both)[:10]}", 0)
        return Pla(inputs, outputs, tuple(self.rows), self.kind, self.filename, tuple(self.warnings))


def parse_pla(text: str, filename: str = "<pla>", limits: PlaLimits | None = None) -> Pla:
    """Parse PLA text as ESPRESSO reads it (see the module's docstring).

    Errors are one line ``FILE:LINE: what is wrong``; a file past ``limits`` (default:
    :meth:`PlaLimits.from_env`) stops with ``FILE: what limit, how to raise it`` as soon
    as the count is read.
    """
    st = _Reader(filename, limits or PlaLimits.from_env())
    words = _Words(text)
    while (word := words.take()) is not None:
        if word.startswith("."):
            if not _directive(st, word, words):
                break
        elif st.n_in is None or st.n_out is None:
            if set(word) <= _TERM_CHARS:
                raise st.error("a product term comes before .i and .o", words.line)
            words.skip_line()  # a name or title line: ESPRESSO skips it too
        else:
            _product_term(st, word, words)
    return st.result()


def _directive(st: _Reader, key: str, words: _Words) -> bool:
    """Read one directive and its words; ``False`` at ``.e``/``.end``."""
    line = words.line
    if key in (".e", ".end"):
        return False
    if key in (".i", ".o"):
        _size(st, key, words)
    elif key in (".ilb", ".ob"):
        _labels(st, key, words)
    elif key == ".type":
        if st.rows:  # ESPRESSO would read the terms before it by the old type, those after by the new
            raise st.error(".type must come before the product terms", line)
        word = words.take() or ""
        if word not in PLA_TYPES:
            raise st.error(f".type must be one of {', '.join(PLA_TYPES)}, got {word[:40] or 'nothing'}", line)
        st.kind = word
    elif key == ".p":
        _declared_terms(st, words)
    else:
        raise st.error(f"unsupported directive {key[:40]} (this reader knows .i .o .ilb .ob .p .type .e)", line)
    return True


def _number(st: _Reader, key: str, words: _Words, lowest: int, limit_key: str) -> int:
    """The count after ``key``; past its limit a limit error, before any allocation."""
    line = words.line
    word = words.take() or ""
    limit = getattr(st.limits, limit_key)
    if not (word.isascii() and word.isdigit()) or (len(word) <= 18 and int(word) < lowest):
        raise st.error(f"{key} needs one integer from {lowest} to {limit}, got {word[:40] or 'nothing'}", line)
    if len(word) > 18 or int(word) > limit:
        shown = word if len(word) <= 20 else word[:20] + "..."
        raise _over_limit(st.filename, f"{key} declares {shown} {_LIMIT_NOUNS[limit_key]}", limit_key, st.limits)
    return int(word)


def _size(st: _Reader, key: str, words: _Words) -> None:
    """``.i N`` or ``.o N``: once, before the product terms, within the limits."""
    attr = "n_in" if key == ".i" else "n_out"
    if st.rows or getattr(st, attr) is not None:
        raise st.error(f"{key} must come once, before the product terms", words.line)
    setattr(st, attr, _number(st, key, words, 1, "inputs" if key == ".i" else "outputs"))


def _declared_terms(st: _Reader, words: _Words) -> None:
    """``.p N``: ESPRESSO ignores the count; here it stops a file that declares too many early."""
    n = _number(st, ".p", words, 0, "terms")
    if st.n_in is not None and st.n_out is not None and n * (st.n_in + st.n_out) > st.limits.cells:
        what = f".p declares {n} product terms of {st.n_in} + {st.n_out} characters, {n * (st.n_in + st.n_out)} in all"
        raise _over_limit(st.filename, what, "cells", st.limits)


def _labels(st: _Reader, key: str, words: _Words) -> None:
    """``.ilb``/``.ob``: the next ``.i``/``.o`` words, wherever they are, as ESPRESSO takes them."""
    line = words.line
    size_key = ".i" if key == ".ilb" else ".o"
    count = st.n_in if key == ".ilb" else st.n_out
    if count is None:
        raise st.error(f"{key} comes before {size_key}", line)
    names: list[str] = []
    odd: list[str] = []  # words on later lines that look like directives or product terms
    while len(names) < count and (word := words.take()) is not None:
        names.append(word)
        if words.line != line and (word.startswith(".") or set(word) <= _TERM_CHARS):
            odd.append(word)
    if len(names) != count:
        raise st.error(f"{key} lists {len(names)} names but {size_key} says {count}", line)
    if len(set(names)) != len(names):
        raise st.error(f"{key} repeats a name", line)
    bad = next((w for w in names if not w.isprintable()), None)
    if bad is not None:
        raise st.error(f"{key} name {bad[:40]!r} holds a control character; rename it", line)
    if odd:
        shown = " ".join(w[:24] for w in odd[:4]) + (" ..." if len(odd) > 4 else "")
        st.warnings.append(
            f"{st.filename}:{line}: {key} has fewer than {count} names on its line; as ESPRESSO does, "
            f"the next words are names too, {len(odd)} of them look like directives or product terms: {shown}"
        )
    st.labels[key] = tuple(names)


def _product_term(st: _Reader, first: str, words: _Words) -> None:
    """The next ``.i + .o`` characters from ``first`` on, over as many lines as they take."""
    need = st.n_in + st.n_out
    start = words.line
    parts = [first.replace("|", "")]
    have = on_first_line = len(parts[0])
    while have < need and (word := words.peek()) is not None and not word.startswith("."):
        words.take()
        parts.append(word.replace("|", ""))
        have += len(parts[-1])
        on_first_line += len(parts[-1]) if words.line == start else 0
    if have != need:
        raise _length_error(st, start, on_first_line, have, words.line)
    chars = "".join(parts)
    ins, outs = chars[: st.n_in], chars[st.n_in :]
    if not set(ins) <= _IN_OK:
        pos, c = next((i, c) for i, c in enumerate(ins) if c not in _IN_OK)
        raise st.error(f"input {pos + 1} is {c!r}; inputs must be 0, 1 or -", start)
    if not set(outs) <= _OUT_OK:
        pos, c = next((i, c) for i, c in enumerate(outs) if c not in _OUT_OK)
        raise st.error(f"output {pos + 1} is {c!r}; outputs must be 1, 0, -, 2 or ~", start)
    _count_term(st, need, start)
    st.rows.append((ins.translate(_IN_TABLE), outs.translate(_OUT_TABLE)))
    st.term_end_line = words.line


def _count_term(st: _Reader, width: int, line: int) -> None:
    """Stop at the first product term past the limits (the rows read so far are small)."""
    k = len(st.rows) + 1
    if k > st.limits.terms:
        what = f"product term {k} (line {line}) is one too many"
        raise _over_limit(st.filename, what, "terms", st.limits)
    if k * width > st.limits.cells:
        what = f"the product terms up to line {line} hold {k * width} characters"
        raise _over_limit(st.filename, what, "cells", st.limits)


def _length_error(st: _Reader, start: int, on_first_line: int, total: int, end: int) -> PlaError:
    expected = f"expected {st.n_in} inputs + {st.n_out} outputs = {st.n_in + st.n_out}"
    if start == st.term_end_line:
        msg = f"{on_first_line} characters left on the line after a product term; {expected} per product term"
    elif end == start:
        msg = f"product term has {total} characters, {expected}"
    else:
        more = f"line {end}" if end == start + 1 else f"lines {start + 1}-{end}"
        msg = f"product term has {on_first_line} characters, {expected} (with {more}: {total})"
    return st.error(msg, start)


def read_pla(path: str | os.PathLike, limits: PlaLimits | None = None) -> Pla:
    """Read a PLA file; ``"-"`` reads standard input.  ``limits`` as in :func:`parse_pla`."""
    limits = limits or PlaLimits.from_env()
    name = "<stdin>" if os.fspath(path) == "-" else os.fspath(path)
    try:
        text = read_text(path, "PLA file", max_bytes=limits.bytes)
    except LogicError as exc:
        message = str(exc).removeprefix(f"{name}: ")
        if message.endswith(f"is larger than {limits.bytes} bytes"):
            raise _over_limit(name, "the PLA file is too large", "bytes", limits) from None
        raise PlaError(message, name, 0) from None
    return parse_pla(text, name, limits)


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
