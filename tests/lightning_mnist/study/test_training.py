"""study.training: a point's run is built from its declared settings (a dict), and builds the
same run the command line used to build (the old argv path is kept here as the oracle)."""

from __future__ import annotations

import sys
from dataclasses import replace

import pytest

from lightning_mnist.study import points
from lightning_mnist.study.store import ResultStore
from lightning_mnist.study.sweeps import PROFILES, point_settings, sweep_points
from lightning_mnist.study.training import _set, build, run_config
from lightning_mnist.trainer_cli import build_cli


def legacy_args(point, profile, out, name, progress, position=1) -> list[str]:
    """What a run of ``point`` passed to the CLI before runs were built from their settings."""
    return [
        "--config", point.config, *(a.replace("{out}", str(out)) for a in point.overrides),
        "--seed_everything", str(point.seed),
        "--trainer.max_epochs", str(point.epochs or profile.epochs),
        "--trainer.limit_train_batches", str(profile.limit_train_batches),
        *(["--data.steps_per_execution", "1"] if isinstance(profile.limit_train_batches, int) else []),
        *profile.data_args(),
        *(["--trainer.precision", p] if (p := profile.run_precision(point.sweep)) != "32-true" else []),
        *(["--model.init_args.compile_optimizer", "true"] if profile.compiled_for(point.sweep) else []),
        *([] if point.checkpoint else ["--trainer.enable_checkpointing", "false"]),
        "--trainer.enable_model_summary", "false",
        "--trainer.logger.init_args.save_dir", str(out / "runs"),
        "--trainer.logger.init_args.name", name,
        "--trainer.logger.init_args.version", "0",
        *(["--trainer.callbacks+=TQDMProgressBar", "--trainer.callbacks.process_position", str(position),
           "--trainer.callbacks.refresh_rate", "1", "--trainer.callbacks.leave", "false"]
          if progress else ["--trainer.enable_progress_bar", "false"]),
    ]  # fmt: skip


def config_of(cli) -> dict:
    config = cli.config.as_dict()
    config.pop("config", None)  # the argv path records which file it read
    return config


POINTS = [("softmax_gd", 0), ("seed_mlp", 1), ("width", 2), ("depth_rmsprop", 0), ("seed_dropout", 0)]
POINTS += [("autoencoders", 0), ("autoencoders", 1)]


@pytest.mark.parametrize(("profile_name", "progress"), [("smoke", False), ("notebook-fast", True)])
def test_a_run_built_from_its_settings_is_the_run_the_command_line_built(tmp_path, monkeypatch, profile_name, progress):
    monkeypatch.setattr(points, "bf16_is_native", lambda: True)  # the fast profile's bf16 and compiled steps
    monkeypatch.setattr(sys, "argv", sys.argv[:1])
    profile = replace(PROFILES[profile_name], data_dir=str(tmp_path / "data"))
    store = ResultStore(tmp_path, profile)
    for name, i in POINTS:
        point = sweep_points(name, profile)[i]
        old = build_cli(legacy_args(point, profile, tmp_path, f"{name}/{point.key}", progress), run=False)
        new = build(run_config(point_settings(point, profile), store, f"{name}/{point.key}", progress))
        assert config_of(new) == config_of(old), point.key
        assert type(new.model) is type(old.model) and new.model.hparams == old.model.hparams


def test_options_in_a_list_of_classes_go_to_the_last_one():
    config = {"trainer": {"callbacks": [{"class_path": "A"}, {"class_path": "B", "init_args": {"x": 1}}]}}
    _set(config, "trainer.callbacks.dirpath", "out/checkpoints")
    _set(config, "model.init_args.width", 8)
    assert config["trainer"]["callbacks"] == [
        {"class_path": "A"},
        {"class_path": "B", "init_args": {"x": 1, "dirpath": "out/checkpoints"}},
    ]
    assert config["model"] == {"init_args": {"width": 8}}


def test_no_command_line_is_built_for_a_run(tmp_path, monkeypatch):
    """The run's config goes to the CLI as a dict: nothing is turned into argv strings and back."""
    seen = []
    real = build_cli

    def spy(args, **kwargs):
        seen.append(args)
        return real(args, **kwargs)

    monkeypatch.setattr("lightning_mnist.study.training.build_cli", spy)
    smoke = PROFILES["smoke"]
    point = sweep_points("width", smoke)[0]
    build(run_config(point_settings(point, smoke), ResultStore(tmp_path, smoke), "w", False))
    (args,) = seen
    assert isinstance(args, dict) and args["model"]["init_args"]["width"] == 2 and args["seed_everything"] == 1337
