"""Fixtures of the export tests: networks compiled from the suite's PLAs, and the real
readers, iverilog and ESPRESSO, each skipping with a message where it is absent."""

from __future__ import annotations

import importlib.util
import shutil

import pytest
from export_cases import BENCH, suite_pla

from logicnets.construct.placompile import compile_function
from logicnets.pla.format import read_pla


@pytest.fixture(scope="session")
def pla_network():
    """pla_network(name, threshold) -> (path, network compiled from the suite's PLA), cached."""
    cache: dict = {}

    def get(name: str, threshold: bool):
        if (name, threshold) not in cache:
            path = suite_pla(name)
            cache[name, threshold] = path, compile_function(read_pla(path).function(), threshold=threshold)
        return cache[name, threshold]

    return get


@pytest.fixture(scope="session")
def iverilog() -> tuple[str, str]:
    """Paths of iverilog and vvp (skips with a message where Icarus Verilog is absent)."""
    tools = shutil.which("iverilog"), shutil.which("vvp")
    if None in tools:
        pytest.skip("Icarus Verilog (iverilog, vvp) is not installed: apt-get install iverilog (.ci/run does)")
    return tools


@pytest.fixture(scope="session")
def espresso() -> str:
    """An ESPRESSO binary built from ../shared/tools/espresso-src by the PLA bench's cached
    builder (skips, saying why, where it cannot be built)."""
    spec = importlib.util.spec_from_file_location("bench_pla_for_export", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    binary, why = bench.build_espresso(bench.SHARED / "tools" / "espresso-src", bench.CACHE)
    if binary is None:
        pytest.skip(f"ESPRESSO is not available: {why}")
    return binary
