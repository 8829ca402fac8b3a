"""study.stages: the stages besides the sweeps, and which of them --only may name."""

from __future__ import annotations

import pytest

from lightning_mnist.errors import ConfigError
from lightning_mnist.study import stages
from lightning_mnist.study.registry import SWEEPS_IN_ORDER
from lightning_mnist.study.sweeps import PROFILES


def test_only_names_stages():
    assert ("grid", "logic", *SWEEPS_IN_ORDER, "reference") == stages.STAGES
    stages.check_only(None)
    stages.check_only(["logic", "width"])
    with pytest.raises(ConfigError, match="unknown stage"):
        stages.check_only(["widht"])
    with pytest.raises(ConfigError, match="at least one stage"):
        stages.check_only([])


def test_reference_points_are_points_of_the_reference_profile():
    fast = PROFILES["notebook-fast"]
    found = {name: (ref.name, values) for name, ref, values in stages.reference_points(fast)}
    assert found["width"] == ("notebook", {128}) and found["seed_mlp"] == ("notebook", {None})
    assert stages.reference_points(PROFILES["quick"]) == []


def test_the_logic_tables_list_rows_in_logicnets_order():
    assert stages._rows(2) == [[0, 0], [0, 1], [1, 0], [1, 1]]
    logic = stages.stage_logic()
    assert [s["name"] for s in logic["single_neuron"]] == ["and", "or", "not", "xor"]
    assert [n["formula"] for n in logic["networks"]] == ["x & y", "x | y", "~x", "x ^ y"]
