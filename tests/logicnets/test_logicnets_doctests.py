"""Run the doctest examples of every logicnets module (pytest only collects tests/)."""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import logicnets

MODULES = sorted(m.name for m in pkgutil.iter_modules(logicnets.__path__, "logicnets."))


def test_every_module_is_listed():
    assert {"logicnets.parser", "logicnets.compiler", "logicnets.verify", "logicnets.cli"} <= set(MODULES)


@pytest.mark.parametrize("name", ["logicnets"] + MODULES)
def test_doctests(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} doctest(s) failed in {name}"
