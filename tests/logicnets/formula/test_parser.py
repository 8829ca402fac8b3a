"""The formula grammar: precedence, aliases, errors, limits, and that nothing is executed."""

from __future__ import annotations

import os
import sys

import pytest
import sympy
from sympy.logic.boolalg import ITE, Equivalent, Implies, Xor

from logicnets import Formula, LogicError, ParseError, compile, parse
from logicnets.formula.parser import MAX_DEPTH, MAX_LENGTH, parse_node

x, y, z, a, b, c = sympy.symbols("x y z a b c")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("x ^ y", Xor(x, y)),
        ("x xor y", Xor(x, y)),
        ("x & y | z", (x & y) | z),
        ("x | y & z", x | (y & z)),
        ("x and y or not z", (x & y) | ~z),
        ("!x && y || z", (~x & y) | z),
        ("~x ^ y & z", Xor(~x, y & z)),  # & binds tighter than ^
        ("x | y ^ z", x | Xor(y, z)),  # ^ binds tighter than |
        ("x -> y | z", Implies(x, y | z)),
        ("a -> b -> c", Implies(a, Implies(b, c))),  # right-associative
        ("a <-> b -> c", Equivalent(a, Implies(b, c))),
        ("(a <-> b) <-> c", Equivalent(Equivalent(a, b), c)),
        ("x & (y | z)", x & (y | z)),
        ("not not x", x),
        ("TRUE & x", x),
        ("x | false", x),
        ("1 ^ x", ~x),
        ("0", sympy.false),
        ("  x1_b   &\ty\n", sympy.Symbol("x1_b") & y),
    ],
)
def test_parse_matches_sympy_semantics(text, expected):
    got = parse(text)
    # compare as functions (sympy may print them differently)
    assert sympy.simplify_logic(Xor(got, expected)) == sympy.false, (got, expected)


def test_keywords_are_case_insensitive_and_not_variables():
    assert parse("x AND y Or NOT z") == (x & y) | ~z
    with pytest.raises(ParseError):
        parse("and & x")


def test_xor_is_xor_not_power():
    # sympify("a ^ b") would give a power; our parser gives Xor
    assert isinstance(parse("a ^ b"), Xor)


def test_variables_keep_order_and_extras():
    f = Formula.parse("x10 & x2 | x1", ["x1", "x2", "x10", "unused"])
    assert f.variables == ("x1", "x2", "x10", "unused")
    assert Formula.parse("x10 & x2 | x1").variables == ("x1", "x2", "x10")  # natural order


def test_contradiction_keeps_its_variable():
    # sympy would collapse x & ~x to false; our tree keeps x as an input
    assert Formula.parse("x & ~x").variables == ("x",)
    assert compile("x & ~x").inputs == ("x",)


@pytest.mark.parametrize(
    "text, position, fragment",
    [
        ("x & & y", 4, "expected a variable"),
        ("x &", 3, "end of the formula"),
        ("(x | y", 0, "never closed"),
        ("x | y)", 5, "unmatched ')'"),
        ("x y", 2, "expected an operator"),
        ("x @ y", 2, "unexpected character '@'"),
        ("x + y", 2, "unexpected character '+'"),
        ("2 & x", 0, "not a boolean constant"),
        ("", 0, "empty formula"),
        ("()", 1, "expected a variable"),
        ("x -> ", 5, "end of the formula"),
        ("x <- y", 2, "unexpected character '<'"),
        ("~", 1, "end of the formula"),
    ],
)
def test_syntax_errors_name_position_and_expectation(text, position, fragment):
    with pytest.raises(ParseError) as info:
        parse(text)
    err = info.value
    assert err.position == position
    assert fragment in str(err)
    assert isinstance(err, ValueError) and isinstance(err, LogicError)
    assert "^" in str(err) or text == ""


MALICIOUS = [
    "__import__('os').system('echo pwned > /tmp/logicnets_pwned')",
    '__import__("os").getpid()',
    "exec('import os')",
    "eval('1')",
    "lambda: 0",
    "x.__class__",
    "x; import os",
    "x if y else z",
    "[x for x in ()]",
    "x ** y",
    "open('/etc/passwd')",
    "globals()",
    "x & y # comment",
    "x\x00y",
    "x & \u202ey",
    "Symbol('x')",
    "x & 'y'",
    "{x}",
    "`x`",
    "x = 1",
]


@pytest.mark.parametrize("text", MALICIOUS)
def test_malicious_strings_are_rejected_and_never_executed(text, monkeypatch):
    import builtins

    def boom(*args, **kwargs):  # any eval/exec/import attempt fails the test
        raise AssertionError("logicnets tried to execute user input")

    monkeypatch.setattr(builtins, "eval", boom)
    monkeypatch.setattr(builtins, "exec", boom)
    monkeypatch.setattr(sympy, "sympify", boom)
    with pytest.raises(ParseError):
        parse_node(text)
    with pytest.raises(ParseError):
        compile(text)
    assert not os.path.exists("/tmp/logicnets_pwned")


def test_identifier_that_looks_like_python_is_just_a_variable():
    f = Formula.parse("__import__ & os | system")
    assert f.variables == ("__import__", "os", "system")


def test_length_limit_is_a_clear_error():
    text = "x | " * (MAX_LENGTH // 4) + "x"
    with pytest.raises(ParseError, match="limit"):
        parse_node(text)


def test_redundant_parentheses_at_any_depth_parse_without_recursion():
    deep = "(" * 49_000 + "x" + ")" * 49_000
    assert parse_node(deep) == ("var", "x")
    assert parse_node("(" * 30_000 + "x & y" + ")" * 30_000) == ("and", (("var", "x"), ("var", "y")))
    with pytest.raises(ParseError, match="never closed"):
        parse_node("(" * 49_000 + "x")


def test_deep_operator_chains_give_parse_error():
    chain = " -> ".join(f"v{i}" for i in range(MAX_DEPTH + 5))
    with pytest.raises(ParseError, match="nests deeper"):
        parse_node(chain)
    nested = "x"
    for i in range(MAX_DEPTH + 5):
        nested = f"(v{i} & {nested}) | w{i}"
    with pytest.raises(ParseError, match="nests deeper"):
        parse_node(nested)


def test_long_flat_chains_and_many_negations_are_fine():
    f = Formula.parse(" & ".join(f"x{i}" for i in range(3000)))
    assert f.node[0] == "and" and len(f.node[1]) == 3000
    assert parse_node("~" * 20001 + "x") == ("not", (("var", "x"),))
    assert sys.getrecursionlimit() >= 1000


def test_non_string_input():
    with pytest.raises(ParseError, match="expected a formula string"):
        parse_node(123)  # type: ignore[arg-type]


def test_round_trip_text():
    for text in [
        "x & ~y | (a -> b)",
        "a <-> b <-> c",
        "a -> b -> c",
        "(a -> b) -> c",
        "~(x | y) ^ z",
        "x & (y ^ z)",
        "1 | x & 0",
    ]:
        f = Formula.parse(text)
        again = Formula.parse(str(f), f.variables)
        assert sympy.simplify_logic(Xor(f.to_sympy(), again.to_sympy())) == sympy.false, text


def test_sympy_input_conversion_rejects_non_boolean():
    with pytest.raises(LogicError, match="unsupported sympy object"):
        compile(x + 1)
    with pytest.raises(LogicError, match="expected a sympy boolean expression"):
        compile(3.5)
    f = Formula.from_sympy(ITE(x, y, z) | Equivalent(x, y, z) | sympy.Nand(x, y) | sympy.Nor(x, z))
    assert f.variables == ("x", "y", "z")


def test_errors_quote_what_the_user_wrote():
    with pytest.raises(ParseError, match="found 'and'"):
        parse("and & x")
    with pytest.raises(ParseError, match="found 'not'"):
        parse("x not y")


def test_deep_sympy_expressions_are_refused_clearly():
    expr = sympy.Symbol("v0")
    for i in range(1, MAX_DEPTH + 20):
        expr = Implies(sympy.Symbol(f"v{i}"), expr)
    with pytest.raises(LogicError, match="deeper than"):
        compile(expr)


# ------------------------------------------------------------------ quoted names


@pytest.mark.parametrize(
    "name", ["busA<31>", "(", "&", "a b", "", "and", "TRUE", "not", "0", 'say "hi"', "back\\slash", "\\", '"', "é x"]
)
def test_names_that_are_no_identifiers_are_written_quoted_and_read_back(name):
    from logicnets.formula.nodes import and_, not_, var
    from logicnets.formula.text import name_text, node_to_text

    assert parse_node(name_text(name)) == var(name)
    node = and_(var(name), not_(var("y")))
    assert parse_node(node_to_text(node)) == node


def test_identifiers_stay_bare_and_quoted_identifiers_are_the_same_variable():
    from logicnets.formula.text import name_text

    assert name_text("x1") == "x1" and name_text("ITE") == "ITE"
    assert parse_node('"x1" & x1') == parse_node("x1 & x1")


def test_unterminated_quoted_name_is_a_parse_error_at_its_quote():
    with pytest.raises(ParseError, match="quoted name is never closed") as err:
        parse_node('a & "b\\" | c')
    assert err.value.position == 4


def test_quoted_function_name_is_a_variable_not_a_call():
    with pytest.raises(ParseError):
        parse_node('"And"(a, b)')
    assert parse_node('"And" & a') == ("and", (("var", "And"), ("var", "a")))
