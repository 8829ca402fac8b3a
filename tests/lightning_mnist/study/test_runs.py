"""study.runs: a sweep's points run once each, in order, reusing what is done."""

from __future__ import annotations

from lightning_mnist.study import sweeps
from lightning_mnist.study.runs import run_sweep
from lightning_mnist.study.store import ResultStore
from lightning_mnist.study.sweeps import PROFILES, point_settings, sweep_points


def fake_runner(ran: list):
    def run(point, profile, out, **kw):
        ran.append(point.key)
        result = {"key": point.key, "x": point.x, "test_acc": 0.5, "train_seconds": 1.0, "epochs": 1,
                  "test": {"test/acc": 0.5}, "settings": point_settings(point, profile)}  # fmt: skip
        ResultStore(out, profile).save(point, result)
        return result

    return run


def test_a_rerun_checkpointing_point_reruns_the_points_after_it(tmp_path, monkeypatch):
    """The autoencoder points load the checkpoints of those before them: one retrained means
    the ones after it are retrained too, even though their files are fresh."""
    smoke, ran = PROFILES["smoke"], []
    monkeypatch.setattr(sweeps, "run_point", fake_runner(ran))
    run_sweep("autoencoders", smoke, tmp_path)
    assert len(ran) == 4
    ran.clear()
    run_sweep("autoencoders", smoke, tmp_path)
    assert ran == []
    ResultStore(tmp_path, smoke).point_path(sweep_points("autoencoders", smoke)[1]).unlink()
    run_sweep("autoencoders", smoke, tmp_path)
    assert ran == ["autoencoder_linear", "reconstructed_dropout", "encoder_classifier"]


def test_callbacks_see_every_point_and_whether_it_ran(tmp_path, monkeypatch):
    smoke, ran, seen = PROFILES["smoke"], [], []
    monkeypatch.setattr(sweeps, "run_point", fake_runner(ran))
    run_sweep("width", smoke, tmp_path, index=1)
    run_sweep("width", smoke, tmp_path, on_result=lambda p, r, did: seen.append((p.key, did)))
    keys = [p.key for p in sweep_points("width", smoke)]
    assert seen == [(k, k != keys[1]) for k in keys]
