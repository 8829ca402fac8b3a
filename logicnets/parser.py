"""Our own formula parser: a tokenizer and an operator-precedence (shunting-yard) loop.

Why not sympify/parse_expr: they call ``eval`` (a string can run code) and read
``a ^ b`` as a power.  This parser only ever builds tuples; it uses no recursion,
so hostile nesting ends in a ``ParseError`` rather than a ``RecursionError``.

Grammar, loosest binding first (all binary operators are infix)::

    a <-> b     equivalence (left-assoc)      also: nothing else
    a -> b      implication (right-assoc)
    a | b       or          also: or, ||
    a ^ b       xor         also: xor
    a & b       and         also: and, &&
    ~a          not         also: !, not
    ( ... )  identifiers  0 1 true false       (keywords are case-insensitive)
"""
from __future__ import annotations

import re
from typing import Any, Sequence

from .errors import ParseError
from .formula import MAX_DEPTH, Formula, Node, const, not_, var

__all__ = ["parse", "parse_node", "tokenize", "MAX_LENGTH", "MAX_DEPTH"]

#: Longest formula string accepted.
MAX_LENGTH = 100_000

_BINARY = {"<->": ("eq", 1, "left"), "->": ("implies", 2, "right"), "|": ("or", 3, "left"),
           "^": ("xor", 4, "left"), "&": ("and", 5, "left")}
_ALIASES = {"||": "|", "or": "|", "xor": "^", "&&": "&", "and": "&", "!": "~", "not": "~"}
_TOKEN = re.compile(r"\s*(?:(<->|->|&&|\|\||[~!&|^()])|([A-Za-z_][A-Za-z0-9_]*)|([0-9]+))")
_OPERAND_HINT = "a variable, 0, 1, true, false, '~'/'not' or '('"
_OPERATOR_HINT = "an operator (& | ^ -> <->), ')' or the end of the formula"


def tokenize(text: str) -> list[tuple[str, str, int]]:
    """Split into ``(kind, value, position)`` tokens; kinds: op, name, const, lpar, rpar.

    >>> tokenize("x1 & !y")
    [('name', 'x1', 0), ('op', '&', 3), ('op', '~', 5), ('name', 'y', 6)]
    >>> tokenize("a -> TRUE")
    [('name', 'a', 0), ('op', '->', 2), ('const', '1', 5)]
    """
    tokens: list[tuple[str, str, int]] = []
    pos = 0
    n = len(text)
    while pos < n:
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            stripped = len(text) - len(text[pos:].lstrip())
            if stripped >= n:
                break
            ch = text[stripped]
            raise ParseError(f"unexpected character {ch!r}; expected {_OPERAND_HINT} or an operator",
                             text, stripped, "a token", repr(ch))
        sym, word, digits = m.groups()
        start = m.start(m.lastindex)
        if sym is not None:
            if sym == "(":
                tokens.append(("lpar", sym, start))
            elif sym == ")":
                tokens.append(("rpar", sym, start))
            else:
                tokens.append(("op", _ALIASES.get(sym, sym), start))
        elif word is not None:
            low = word.lower()
            if low in ("true", "false"):
                tokens.append(("const", "1" if low == "true" else "0", start))
            elif low in _ALIASES:
                tokens.append(("op", _ALIASES[low], start))
            else:
                tokens.append(("name", word, start))
        else:
            if digits not in ("0", "1"):
                raise ParseError(f"number {digits!r} is not a boolean constant; expected 0 or 1",
                                 text, start, "0 or 1", digits)
            tokens.append(("const", digits, start))
        pos = m.end()
    return tokens


def _describe(tok: tuple[str, str, int] | None, text: str = "") -> str:
    """The token as the user wrote it (``and``, not its alias ``&``)."""
    if tok is None:
        return "the end of the formula"
    m = _TOKEN.match(text, tok[2]) if text else None
    raw = m.group(0).strip() if m else tok[1]
    return f"{raw!r}"


def parse_node(text: str) -> Node:
    """Parse to a formula tree (see :mod:`logicnets.formula`).

    >>> parse_node("~a | b")
    ('or', (('not', (('var', 'a'),)), ('var', 'b')))
    """
    if not isinstance(text, str):
        raise ParseError(f"expected a formula string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ParseError(f"formula is {len(text)} characters long, more than the limit of "
                         f"{MAX_LENGTH}; split it or build it as a sympy expression",
                         "", MAX_LENGTH, f"at most {MAX_LENGTH} characters", "more")
    tokens = tokenize(text)
    if not tokens:
        raise ParseError(f"empty formula; expected {_OPERAND_HINT}", text, 0, _OPERAND_HINT,
                         "the end of the formula")

    operands: list[tuple[Node, int]] = []          # (tree, depth)
    operators: list[tuple[str, int]] = []          # (token value, position)
    expect_operand = True
    open_parens = 0

    def fail_depth(pos: int) -> None:
        raise ParseError(f"formula nests deeper than {MAX_DEPTH} levels; flatten chains "
                         "or split the formula", text, pos, f"at most {MAX_DEPTH} levels",
                         "deeper nesting")

    def apply(op: str, pos: int) -> None:
        if op == "~":
            node, d = operands.pop()
            new = not_(node)
            if new[0] == "not":
                nd = d + 1
            elif node[0] == "not":
                nd = max(0, d - 1)
            else:
                nd = 0
            operands.append((new, nd))
            if nd > MAX_DEPTH:
                fail_depth(pos)
            return
        right, dr = operands.pop()
        left, dl = operands.pop()
        kind = _BINARY[op][0]
        if kind in ("and", "or", "xor"):
            kids = (left[1] if left[0] == kind else (left,)) + (right[1] if right[0] == kind else (right,))
            d = max(dl if left[0] == kind else dl + 1, dr if right[0] == kind else dr + 1)
            operands.append(((kind, kids), d))
        else:
            d = max(dl, dr) + 1
            operands.append(((kind, (left, right)), d))
        if d > MAX_DEPTH:
            fail_depth(pos)

    for i, tok in enumerate(tokens):
        kind, value, pos = tok
        if expect_operand:
            if kind == "name":
                operands.append((var(value), 0))
                expect_operand = False
            elif kind == "const":
                operands.append((const(value == "1"), 0))
                expect_operand = False
            elif kind == "lpar" or (kind == "op" and value == "~"):
                if kind == "lpar":
                    open_parens += 1
                    if open_parens > MAX_DEPTH:
                        fail_depth(pos)
                operators.append((value, pos))
            else:
                raise ParseError(f"expected {_OPERAND_HINT} but found {_describe(tok, text)}",
                                 text, pos, _OPERAND_HINT, value)
        else:
            if kind == "op" and value in _BINARY:
                _, prec, assoc = _BINARY[value]
                while operators and operators[-1][0] != "(":
                    top = operators[-1][0]
                    top_prec = 6 if top == "~" else _BINARY[top][1]
                    if top_prec > prec or (top_prec == prec and assoc == "left"):
                        apply(*operators.pop())
                    else:
                        break
                operators.append((value, pos))
                expect_operand = True
            elif kind == "rpar":
                while operators and operators[-1][0] != "(":
                    apply(*operators.pop())
                if not operators:
                    raise ParseError("unmatched ')': there is no '(' before it; remove it or add a '('",
                                     text, pos, _OPERATOR_HINT, ")")
                operators.pop()
                open_parens -= 1
            else:
                raise ParseError(f"expected {_OPERATOR_HINT} but found {_describe(tok, text)}",
                                 text, pos, _OPERATOR_HINT, value)
    if expect_operand:
        raise ParseError(f"expected {_OPERAND_HINT} but found the end of the formula",
                         text, len(text), _OPERAND_HINT, "the end of the formula")
    while operators:
        op, pos = operators.pop()
        if op == "(":
            raise ParseError("'(' is never closed; add a ')'", text, pos, "')'",
                             "the end of the formula")
        apply(op, pos)
    assert len(operands) == 1
    return operands[0][0]


def parse(text: str, variables: Sequence[str] | None = None) -> Any:
    """Parse a formula string into a sympy boolean expression, without ``eval``.

    >>> parse("x ^ y")
    x ^ y
    >>> parse("a -> b -> c")
    Implies(a, Implies(b, c))
    >>> parse("x & (y |")
    Traceback (most recent call last):
    ...
    logicnets.errors.ParseError: parse error at position 8: expected a variable, 0, 1, true, false, '~'/'not' or '(' but found the end of the formula
      x & (y |
              ^

    Note: sympy simplifies while building (``x & ~x`` is ``false``); use
    :class:`Formula.parse` or pass the string to ``compile`` to keep every variable.
    """
    return Formula.parse(text, variables).to_sympy()
