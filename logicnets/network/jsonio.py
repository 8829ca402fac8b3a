"""Network JSON: bounded parsing of untrusted files, and plain-data conversion for writing.

``json.loads`` recurses once per nesting level and turns a 5000-digit number into a
``ValueError`` (or an ``OverflowError`` later, in numpy); a network file nests three
levels, so the reader checks depth and number sizes first and names the file in every error.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from ..errors import LogicError
from ..files import read_text

__all__ = ["MAX_JSON_DEPTH", "check_names", "jsonable", "loads", "read_json"]

#: Deepest nesting accepted in a network file (a network needs 4: object, layers, layer, rows).
MAX_JSON_DEPTH = 32
#: Longest number literal accepted (digits).
MAX_NUMBER_DIGITS = 400


def _max_depth(text: str) -> int:
    """Deepest ``[``/``{`` nesting outside string literals: linear time, no recursion, no regex.

    Why not a regex for string literals: on an unterminated string (a long run of ``\\"``)
    a regex retries from every quote, which is quadratic (64 KB took 20 s).  Here a quote
    opens or closes a string unless an odd run of backslashes precedes it, and a bracket
    counts only where an even number of such quotes comes before it, all in numpy passes.
    """
    codes = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    if codes.size == 0:
        return 0
    index = np.arange(codes.size)
    backslash = codes == ord("\\")
    last_other = np.maximum.accumulate(np.where(backslash, -1, index))  # last non-backslash at or before i
    run_before = np.zeros(codes.size, dtype=np.int64)  # backslashes right before i
    run_before[1:] = index[:-1] - last_other[:-1]
    quote = (codes == ord('"')) & (run_before % 2 == 0)
    outside = np.cumsum(quote) % 2 == 0  # a closing quote counts as outside: it is not a bracket anyway
    step = np.zeros(256, dtype=np.int64)
    step[list(b"[{")] = 1
    step[list(b"]}")] = -1
    depth = np.cumsum(np.where(outside, step[codes], 0))
    return int(depth.max(initial=0))


def _number(kind: str):
    def parse(s: str) -> Any:
        if len(s) > MAX_NUMBER_DIGITS:
            raise ValueError(f"a number of {len(s)} characters (at most {MAX_NUMBER_DIGITS})")
        return int(s) if kind == "int" else float(s)

    return parse


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a network can use")


def loads(text: str, source: str = "<json>") -> Any:
    """Parse untrusted JSON text; errors are one-line ``LogicError``s starting with ``source``.

    >>> loads('{"a": [1, 2.5]}')
    {'a': [1, 2.5]}
    >>> loads("[" * 1000 + "]" * 1000, "net.json")
    Traceback (most recent call last):
    ...
    logicnets.errors.LogicError: net.json: JSON nests 1000 levels deep, more than 32: not a network file
    """
    depth = _max_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise LogicError(f"{source}: JSON nests {depth} levels deep, more than {MAX_JSON_DEPTH}: not a network file")
    try:
        return json.loads(text, parse_int=_number("int"), parse_float=_number("float"), parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise LogicError(f"{source}: not valid JSON: {exc}") from None
    except (ValueError, RecursionError) as exc:
        raise LogicError(f"{source}: unusable JSON: {exc}") from None


def read_json(path: str | os.PathLike, what: str = "network file") -> Any:
    """Read and parse a user's JSON file (bounded size, strict UTF-8, bounded nesting)."""
    name = "<stdin>" if os.fspath(path) == "-" else os.fspath(path)
    return loads(read_text(path, what), name)


def check_names(names: Any, key: str) -> list[str]:
    """A network file's ``inputs``/``outputs``: a list of distinct printable strings.

    Why printable: ``decompile`` prints one formula per line, names quoted where they are not
    identifiers (see :func:`logicnets.formula.text.name_text`); a newline or other control
    character in a name would break that line.  Any other name is kept and quoted.
    """
    if not isinstance(names, list) or not all(isinstance(v, str) for v in names):
        raise LogicError(f"network JSON {key!r} must be a list of names")
    bad = next((v for v in names if not v.isprintable()), None)
    if bad is not None:
        raise LogicError(f"network JSON {key!r} holds the name {bad[:40]!r} with a control character; rename it")
    return names


def jsonable(obj: Any) -> Any:
    """Plain JSON data from stats dictionaries that may hold numpy scalars or tuples."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return str(obj)
