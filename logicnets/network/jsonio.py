"""Network JSON: bounded parsing of untrusted files, and plain-data conversion for writing.

``json.loads`` recurses once per nesting level and turns a 5000-digit number into a
``ValueError`` (or an ``OverflowError`` later, in numpy); a network file nests three
levels, so the reader checks depth and number sizes first and names the file in every error.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import numpy as np

from ..errors import LogicError
from ..files import read_text

__all__ = ["MAX_JSON_DEPTH", "jsonable", "loads", "read_json"]

#: Deepest nesting accepted in a network file (a network needs 4: object, layers, layer, rows).
MAX_JSON_DEPTH = 32
#: Longest number literal accepted (digits).
MAX_NUMBER_DIGITS = 400

_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)


def _max_depth(text: str) -> int:
    """Deepest ``[``/``{`` nesting outside string literals, without recursion."""
    data = _STRINGS.sub(b'""', text.encode("utf-8", "surrogatepass"))
    codes = np.frombuffer(data, dtype=np.uint8)
    step = np.zeros(256, dtype=np.int64)
    step[list(b"[{")] = 1
    step[list(b"]}")] = -1
    depth = np.cumsum(step[codes])
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
