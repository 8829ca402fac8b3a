"""Network files and decompile: the nesting scan is exact and linear, and a decompiled
formula's size is bounded before sympy or the text writer unfold it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from logicnets.errors import LogicError
from logicnets.formula.nodes import and_, not_, or_, var
from logicnets.network import decompile
from logicnets.network.jsonio import _max_depth, loads
from logicnets.network.network import Layer, ThresholdNetwork


def reference_depth(text: str) -> int | None:
    """Deepest bracket nesting outside strings, one character at a time (the definition);
    ``None`` where a backslash stands outside a string (invalid JSON: ``json`` stops there)."""
    depth = best = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == "\\":
            return None
        elif ch in "[{":
            depth += 1
            best = max(best, depth)
        elif ch in "]}":
            depth -= 1
    return best


@pytest.mark.parametrize("seed", range(5))
def test_nesting_scan_matches_the_definition_on_strings_with_escapes(seed):
    rng = np.random.default_rng(seed)
    checked = 0
    for _ in range(1000):
        text = "".join(rng.choice(list('[]{}""\\\\a'), rng.integers(0, 40)))
        if (expected := reference_depth(text)) is not None:
            assert _max_depth(text) == expected, text
            checked += 1
    assert checked > 200


def test_nesting_scan_agrees_with_json_on_real_documents():
    doc = {"a": ['x"[[', {"b": [[1, 2], "\\]"]}], "c": '\\"{'}
    text = json.dumps(doc)
    assert _max_depth(text) == reference_depth(text) == 5
    assert loads(text) == doc


def test_unterminated_string_is_one_line():
    with pytest.raises(LogicError) as err:
        loads('{"a": "' + '\\"' * 1000, "net.json")
    assert str(err.value).startswith("net.json: not valid JSON") and "\n" not in str(err.value)


def test_unfolded_size_counts_each_use_of_a_shared_subtree():
    shared = and_(var("x"), var("y"))
    node = or_(shared, not_(shared))
    assert decompile.unfolded_size(node) == 8
    chain = var("x")
    for _ in range(40):
        chain = or_(and_(chain, var("y")), and_(var("z"), chain))
    assert decompile.unfolded_size(chain) > 2**40  # computed on the DAG, never unfolded


def test_decompile_refuses_past_its_size_bound_and_names_it(monkeypatch):
    monkeypatch.setattr(decompile, "MAX_DECOMPILE_SIZE", 50)
    layers = [Layer([[1, 1], [1, 1]], [-1.5, -0.5]) for _ in range(6)]
    net = ThresholdNetwork(("a", "b"), (*layers, Layer([[1, 1]], [-0.5])))
    with pytest.raises(LogicError, match="limit of 50"):
        decompile.decompile(net)
    assert str(decompile.decompile(net, simplify=True)) == "a | b"


def test_decompile_within_its_bound_is_unchanged():
    net = ThresholdNetwork(("a", "b", "c"), (Layer([[1, 1, 1]], [-1.5]),))
    assert str(decompile.decompile_formula(net)) == "a & b | a & c | b & c"
