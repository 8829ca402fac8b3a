"""sympy in and out: printed forms parse back, distinct symbols are never merged."""

from __future__ import annotations

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy.logic import boolalg as ba

from logicnets import Formula, LogicError, compile, parse

SYMS = sympy.symbols("a b c d")


def exprs():
    leaf = st.sampled_from([*SYMS, sympy.true, sympy.false])
    ops = [
        lambda xs: ba.And(*xs),
        lambda xs: ba.Or(*xs),
        lambda xs: ba.Xor(*xs),
        lambda xs: ba.Not(xs[0]),
        lambda xs: ba.Implies(xs[0], xs[1]),
        lambda xs: ba.Equivalent(*xs),
        lambda xs: ba.ITE(*xs[:3]),
        lambda xs: ba.Nand(*xs),
        lambda xs: ba.Nor(*xs),
        lambda xs: ba.Xnor(*xs),
    ]

    def extend(children):
        return st.tuples(st.sampled_from(ops), st.lists(children, min_size=3, max_size=4)).map(lambda t: t[0](t[1]))

    return st.recursive(leaf, extend, max_leaves=12)


@settings(max_examples=150, deadline=None)
@given(exprs())
def test_parse_reads_what_sympy_prints(sympy_table, expr):
    assert (sympy_table(parse(str(expr)), SYMS) == sympy_table(expr, SYMS)).all(), str(expr)


@pytest.mark.parametrize(
    "text",
    [
        "Implies(a, b)",
        "Equivalent(a, b, c)",
        "ITE(a, b, ~c)",
        "Xor(a, b, c)",
        "And(a, Or(b, c))",
        "Not(a)",
        "Nand(a, b)",
        "Nor(a, b)",
        "Xnor(a, b, c)",
        "~(Implies(a, b))",
        "True & a",
        "False | a",
        "a >> b",
        "a << b",
        "a & b >> c",
    ],
)
def test_sympy_function_syntax(sympy_table, text):
    a, b, c = SYMS[:3]
    namespace = {
        "a": a,
        "b": b,
        "c": c,
        "Implies": ba.Implies,
        "Equivalent": ba.Equivalent,
        "ITE": ba.ITE,
        "Xor": ba.Xor,
        "And": ba.And,
        "Or": ba.Or,
        "Not": ba.Not,
        "Nand": ba.Nand,
        "Nor": ba.Nor,
        "Xnor": ba.Xnor,
        "True": sympy.true,
        "False": sympy.false,
    }
    expected = eval(text, namespace)  # the test's own oracle: Python's reading of the same text
    assert (sympy_table(parse(text), SYMS) == sympy_table(expected, SYMS)).all()


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("Implies(a)", "takes 2 argument"),
        ("ITE(a, b)", "takes 3"),
        ("And()", "expected a variable"),
        ("(a, b)", "outside a function call"),
        ("Foo(a)", "expected an operator"),
        ("And(a,)", "expected a variable"),
    ],
)
def test_bad_function_calls_are_parse_errors(text, fragment):
    with pytest.raises(LogicError, match=fragment):
        parse(text)


@pytest.mark.parametrize(
    "expr",
    [
        sympy.Symbol("x") & ~sympy.Dummy("x"),
        sympy.Symbol("x", real=True) & ~sympy.Symbol("x"),  # (sympy itself reads positive=True as true)
        sympy.Symbol("x", integer=True) ^ sympy.Symbol("x", finite=True),
    ],
)
def test_distinct_symbols_with_one_name_are_refused(expr):
    with pytest.raises(LogicError, match="two different sympy symbols are both named 'x'"):
        compile(expr)


def test_variables_given_as_symbols_must_be_the_expressions_symbols():
    x = sympy.Symbol("x")
    with pytest.raises(LogicError, match="both named 'x'"):
        Formula.from_sympy(x & sympy.Symbol("y"), [sympy.Symbol("x", real=True), "y"])
    assert Formula.from_sympy(x & sympy.Symbol("y"), [x, "y", "z"]).variables == ("x", "y", "z")
