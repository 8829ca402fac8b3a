"""study.sweeps: a sweep's points and the settings each records (what determines its result)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from lightning_mnist.errors import ConfigError
from lightning_mnist.study.stacked_runs import same_but_seed, stackable
from lightning_mnist.study.sweeps import PROFILES, config_path, point_settings, sweep_points


def test_points_differ_only_where_their_sweep_says():
    width = sweep_points("width", PROFILES["quick"])
    assert same_but_seed(width[0], width[1]) and not same_but_seed(width[0], width[2])
    assert not same_but_seed(width[0], replace(width[1], epochs=3))
    assert all(stackable(p) for p in width)
    assert not any(stackable(p) for p in sweep_points("autoencoders", PROFILES["quick"]))


def test_the_autoencoder_points_load_the_checkpoints_their_upstream_points_write():
    points = sweep_points("autoencoders", PROFILES["notebook"])
    assert [p.key for p in points] == [
        "autoencoder",
        "autoencoder_linear",
        "reconstructed_dropout",
        "encoder_classifier",
    ]
    assert [p.checkpoint for p in points] == [True, True, False, False]
    assert points[2].overrides[1] == "{out}/checkpoints/autoencoder.ckpt"


def test_settings_name_the_config_by_its_digest():
    quick = PROFILES["quick"]
    point = sweep_points("width", quick)[0]
    settings = point_settings(point, quick)
    assert settings["config"] == "width" and len(settings["config_sha256"]) == 64
    assert settings["overrides"] == ["--model.init_args.width", "2"]
    assert config_path("width").name == "width.yaml"
    other = replace(point, config="no-such-config")
    assert point_settings(other, quick)["config_sha256"] is None
    with pytest.raises(ConfigError, match="no-such-config"):
        config_path("no-such-config")
