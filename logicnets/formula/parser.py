"""The formula parser: a tokenizer and an operator-precedence (shunting-yard) loop.

Why not sympify/parse_expr: they call ``eval`` (a string can run code) and read
``a ^ b`` as a power.  This parser only ever builds tuples, in one pass without
recursion: time is linear in the text, and nesting costs no stack.

Grammar, loosest binding first (binary operators are infix)::

    a <-> b     equivalence (left-assoc)
    a -> b      implication (right-assoc)
    a | b       or          also: or, ||
    a ^ b       xor         also: xor
    a & b       and         also: and, &&
    a >> b      implication, a << b is b -> a   (Python's precedence: tighter than &)
    ~a          not         also: !, not
    ( ... )  identifiers  0 1 true false       (keywords are case-insensitive)
    "any name"  a quoted name: any characters, with \\" for " and \\\\ for \\

and sympy's printed forms, so ``parse(str(expr))`` reads any sympy boolean expression:
``And(...)``, ``Or(...)``, ``Xor(...)``, ``Not(a)``, ``Nand(...)``, ``Nor(...)``,
``Xnor(...)``, ``Implies(a, b)``, ``Equivalent(a, b, ...)``, ``ITE(c, t, e)``, ``True``, ``False``.

Quoted names are how a formula names a variable that is not an identifier (a PLA's
``busA<31>``, a name with spaces, a keyword such as ``and``); the text writer
(:mod:`logicnets.formula.text`) quotes exactly those, so printed formulas parse back.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass

from ..errors import ParseError
from .nodes import MAX_DEPTH, TRUE, Node, const, not_, var

__all__ = ["FUNCTIONS", "MAX_DEPTH", "MAX_LENGTH", "parse_node", "tokenize"]

#: Longest formula string accepted.
MAX_LENGTH = 100_000

# symbol: (node kind, precedence, associativity); "<<" builds an implication with swapped sides
_BINARY = {
    "<->": ("eq", 1, "left"),
    "->": ("implies", 2, "right"),
    "|": ("or", 3, "left"),
    "^": ("xor", 4, "left"),
    "&": ("and", 5, "left"),
    ">>": ("implies", 6, "left"),
    "<<": ("implies", 6, "left"),
}
_NOT_PREC = 7
_NARY = ("and", "or", "xor")
_ALIASES = {"||": "|", "or": "|", "xor": "^", "&&": "&", "and": "&", "!": "~", "not": "~"}
_TOKEN = re.compile(
    r'\s*(?:(<->|->|>>|<<|&&|\|\||[~!&|^(),])|([A-Za-z_][A-Za-z0-9_]*)|([0-9]+)|"((?:[^"\\]|\\.)*)")', re.S
)
_ESCAPE = re.compile(r"\\(.)", re.S)
_OPERAND_HINT = "a variable, 0, 1, true, false, '~'/'not' or '('"
_OPERATOR_HINT = "an operator (& | ^ -> <->), ')' or the end of the formula"

#: sympy's function forms: lower-case name -> (node kind, fewest arguments, most arguments).
FUNCTIONS = {
    "and": ("and", 1, None),
    "or": ("or", 1, None),
    "xor": ("xor", 1, None),
    "not": ("not", 1, 1),
    "nand": ("nand", 1, None),
    "nor": ("nor", 1, None),
    "xnor": ("xnor", 1, None),
    "implies": ("implies", 2, 2),
    "equivalent": ("eq", 1, None),
    "ite": ("ite", 3, 3),
}

Token = tuple[str, str, int, str]  # kind, value, position, text as written


def tokenize(text: str) -> list[Token]:
    """Split into ``(kind, value, position, raw)`` tokens; kinds: op, name, const, lpar, rpar, comma.

    >>> [t[:3] for t in tokenize("x1 & !y")]
    [('name', 'x1', 0), ('op', '&', 3), ('op', '~', 5), ('name', 'y', 6)]
    >>> [t[:3] for t in tokenize("a -> TRUE")]
    [('name', 'a', 0), ('op', '->', 2), ('const', '1', 5)]
    """
    tokens: list[Token] = []
    pos, n = 0, len(text)
    while pos < n:
        m = _TOKEN.match(text, pos)
        if m is None:
            start = n - len(text[pos:].lstrip())
            if start >= n:
                break
            ch = text[start]
            if ch == '"':
                raise ParseError(
                    'quoted name is never closed; end it with " (write \\" and \\\\ for " and \\ inside)',
                    text,
                    start,
                    "a closing quote",
                    "the end of the formula",
                )
            raise ParseError(
                f"unexpected character {ch!r}; expected {_OPERAND_HINT} or an operator",
                text,
                start,
                "a token",
                repr(ch),
            )
        tokens.append(_token(m, text))
        pos = m.end()
    return tokens


def _token(m: re.Match, text: str) -> Token:
    sym, word, digits, quoted = m.groups()
    start = m.start(m.lastindex)
    if quoted is not None:
        return "name", _ESCAPE.sub(r"\1", quoted), start - 1, m.group().lstrip()
    if sym is not None:
        kind = {"(": "lpar", ")": "rpar", ",": "comma"}.get(sym, "op")
        return kind, _ALIASES.get(sym, sym), start, sym
    if word is not None:
        low = word.lower()
        if low in ("true", "false"):
            return "const", "1" if low == "true" else "0", start, word
        if low in _ALIASES:
            return "op", _ALIASES[low], start, word
        return "name", word, start, word
    if digits not in ("0", "1"):
        raise ParseError(
            f"number {digits[:20]!r} is not a boolean constant; expected 0 or 1", text, start, "0 or 1", digits[:20]
        )
    return "const", digits, start, digits


@dataclass
class _Group:
    """An n-ary and/or/xor still being parsed: children gather in a deque (linear time)."""

    kind: str
    items: deque
    depth: int


Operand = tuple[object, int]  # (Node or _Group, depth)


def _node(entry: Operand) -> Node:
    value = entry[0]
    if isinstance(value, _Group):
        return value.items[0] if len(value.items) == 1 else (value.kind, tuple(value.items))
    return value


def _children(kind: str, entry: Operand) -> tuple[deque, int]:
    """The entry's children when flattened into a ``kind`` group, and their depth bound."""
    value, depth = entry
    if isinstance(value, _Group) and value.kind == kind:
        return value.items, value.depth
    node = _node(entry)
    if node[0] == kind:
        return deque(node[1]), depth
    return deque([node]), depth + 1


def _group(kind: str, entries: list[Operand]) -> Operand:
    items, depth = _children(kind, entries[0])
    for entry in entries[1:]:
        more, d = _children(kind, entry)
        if len(more) > len(items):  # merge the smaller into the larger: n log n at worst
            more.extendleft(reversed(items))
            items = more
        else:
            items.extend(more)
        depth = max(depth, d)
    return _Group(kind, items, depth), depth


def _negate(entry: Operand) -> Operand:
    node = _node(entry)
    new = not_(node)
    if new[0] == "not":
        return new, entry[1] + 1
    return new, max(0, entry[1] - 1) if node[0] == "not" else 0


def _combine(kind: str, entries: list[Operand]) -> Operand:
    """A node of ``kind`` (a binary operator or a sympy function name) over parsed operands."""
    if kind in _NARY:
        return _group(kind, entries)
    if kind in ("nand", "nor", "xnor"):
        return _negate(_group({"nand": "and", "nor": "or", "xnor": "xor"}[kind], entries))
    if kind == "not":
        return _negate(entries[0])
    if kind == "eq" and len(entries) == 1:
        return TRUE, 0
    depth = max(d for _, d in entries) + 1
    return (kind, tuple(_node(e) for e in entries)), depth


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.operands: list[Operand] = []
        self.operators: list[tuple] = []  # (symbol, position) or ("(", position, call name, height)
        self.call: str | None = None  # a function name whose "(" comes next

    def fail(self, message: str, pos: int, expected: str, found: str) -> None:
        raise ParseError(message, self.text, pos, expected, found)

    def found(self, tok: Token | None) -> str:
        return "the end of the formula" if tok is None else repr(tok[3])

    def push(self, entry: Operand, pos: int) -> None:
        if entry[1] > MAX_DEPTH:
            self.fail(
                f"formula nests deeper than {MAX_DEPTH} levels; flatten chains or split the formula",
                pos,
                f"at most {MAX_DEPTH} levels",
                "deeper nesting",
            )
        self.operands.append(entry)

    def apply(self, op: str, pos: int) -> None:
        if op == "~":
            self.push(_negate(self.operands.pop()), pos)
            return
        right = self.operands.pop()
        left = self.operands.pop()
        if op == "<<":
            left, right = right, left
        self.push(_combine(_BINARY[op][0], [left, right]), pos)

    def unwind(self) -> tuple | None:
        """Apply operators down to the innermost open parenthesis; return its marker."""
        while self.operators and self.operators[-1][0] != "(":
            self.apply(*self.operators.pop()[:2])
        return self.operators[-1] if self.operators else None

    def operand(self, tok: Token, nxt: Token | None) -> bool:
        """Handle a token where an operand is expected; True when an operand is complete."""
        kind, value, pos, raw = tok
        if kind == "lpar" and self.call is not None:  # the "(" of ``Name(``
            self.operators.append(("(", pos, self.call, len(self.operands)))
            self.call = None
            return False
        if kind in ("name", "op") and raw.lower() in FUNCTIONS and nxt is not None and nxt[0] == "lpar":
            self.call = raw
            return False
        if kind == "name":
            self.push((var(value), 0), pos)
            return True
        if kind == "const":
            self.push((const(value == "1"), 0), pos)
            return True
        if kind == "lpar":
            self.operators.append(("(", pos, None, len(self.operands)))
            return False
        if kind == "op" and value == "~":
            self.operators.append(("~", pos))
            return False
        self.fail(f"expected {_OPERAND_HINT} but found {self.found(tok)}", pos, _OPERAND_HINT, value)
        return False

    def binary(self, value: str, pos: int) -> None:
        _, prec, assoc = _BINARY[value]
        while self.operators and self.operators[-1][0] != "(":
            top = self.operators[-1][0]
            top_prec = _NOT_PREC if top == "~" else _BINARY[top][1]
            if top_prec > prec or (top_prec == prec and assoc == "left"):
                self.apply(*self.operators.pop())
            else:
                break
        self.operators.append((value, pos))

    def close(self, pos: int, comma: bool) -> None:
        marker = self.unwind()
        if marker is None or (comma and marker[2] is None):
            if comma:
                self.fail("',' outside a function call such as And(a, b)", pos, _OPERATOR_HINT, ",")
            self.fail("unmatched ')': there is no '(' before it; remove it or add a '('", pos, _OPERATOR_HINT, ")")
        if comma:
            return
        self.operators.pop()
        _, open_pos, name, height = marker
        if name is None:
            return
        args = self.operands[height:]
        del self.operands[height:]
        kind, least, most = FUNCTIONS[name.lower()]
        if len(args) < least or (most is not None and len(args) > most):
            want = f"{least}" if least == most else f"at least {least}"
            self.fail(
                f"{name}(...) takes {want} argument(s), got {len(args)}",
                open_pos,
                f"{want} argument(s)",
                str(len(args)),
            )
        self.push(_combine(kind, args), pos)

    def run(self, tokens: list[Token]) -> Node:
        expect_operand = True
        for i, tok in enumerate(tokens):
            kind, value, pos, _ = tok
            if expect_operand:
                expect_operand = not self.operand(tok, tokens[i + 1] if i + 1 < len(tokens) else None)
            elif kind == "op" and value in _BINARY:
                self.binary(value, pos)
                expect_operand = True
            elif kind in ("rpar", "comma"):
                self.close(pos, kind == "comma")
                expect_operand = kind == "comma"
            else:
                self.fail(f"expected {_OPERATOR_HINT} but found {self.found(tok)}", pos, _OPERATOR_HINT, value)
        if expect_operand:
            self.fail(
                f"expected {_OPERAND_HINT} but found the end of the formula",
                len(self.text),
                _OPERAND_HINT,
                "the end of the formula",
            )
        while self.operators:
            op = self.operators.pop()
            if op[0] == "(":
                self.fail("'(' is never closed; add a ')'", op[1], "')'", "the end of the formula")
            self.apply(*op)
        return _node(self.operands[0])


def parse_node(text: str) -> Node:
    """Parse to a formula tree (see :mod:`logicnets.formula.nodes`).

    >>> parse_node("~a | b")
    ('or', (('not', (('var', 'a'),)), ('var', 'b')))
    >>> parse_node("Implies(a, ITE(b, c, False))")
    ('implies', (('var', 'a'), ('ite', (('var', 'b'), ('var', 'c'), ('const', False)))))
    """
    if not isinstance(text, str):
        raise ParseError(f"expected a formula string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ParseError(
            f"formula is {len(text)} characters long, more than the limit of {MAX_LENGTH}; "
            "split it or build it as a sympy expression",
            "",
            MAX_LENGTH,
            f"at most {MAX_LENGTH} characters",
            "more",
        )
    tokens = tokenize(text)
    if not tokens:
        raise ParseError(f"empty formula; expected {_OPERAND_HINT}", text, 0, _OPERAND_HINT, "the end of the formula")
    return _Parser(text).run(tokens)
