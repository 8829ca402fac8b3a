"""study.registry: one entry per sweep; every list of sweep names is derived from it."""

from __future__ import annotations

from lightning_mnist.study import registry
from lightning_mnist.study.registry import REGISTRY, Sweep
from lightning_mnist.study.sweeps import PROFILES, SWEEPS, sweep_points


def test_the_derived_lists_follow_the_entries():
    assert tuple(REGISTRY) == registry.SWEEPS_IN_ORDER and SWEEPS is REGISTRY
    assert tuple(n for n, s in REGISTRY.items() if s.kind == "mlp") == registry.MLP_SWEEPS
    assert registry.DEPTH_SWEEPS == ("depth_sgd", "depth_rmsprop")
    assert tuple(n for n in REGISTRY if n != "autoencoders") == registry.CLASSIFIER_SWEEPS
    assert registry.CURVE_SWEEPS == ("width", "depth_sgd", "depth_rmsprop")
    assert set(registry.STACKABLE_CONFIGS) == {REGISTRY[n].config for n in registry.MLP_SWEEPS}


def test_a_new_sweep_is_one_entry(monkeypatch):
    """Adding a sweep: one Sweep; its points, keys and overrides follow."""
    lr = Sweep("lr_sgd", "seed_mlp", "mlp", "new", "SGD", "lr", "--model.init_args.lr", lambda p: (0.1, 0.01))
    monkeypatch.setitem(REGISTRY, "lr_sgd", lr)
    points = sweep_points("lr_sgd", PROFILES["quick"])
    assert [(p.key, p.overrides) for p in points] == [
        ("lr=0.1-seed=1337", ("--model.init_args.lr", "0.1")),
        ("lr=0.1-seed=1338", ("--model.init_args.lr", "0.1")),
        ("lr=0.01-seed=1337", ("--model.init_args.lr", "0.01")),
        ("lr=0.01-seed=1338", ("--model.init_args.lr", "0.01")),
    ]
    assert {p.x for p in points} == {0.1, 0.01} and {p.config for p in points} == {"seed_mlp"}


def test_the_depth_sweeps_draw_more_seeds():
    notebook = PROFILES["notebook"]
    assert notebook.seeds_for("depth_sgd") == 5 and notebook.seeds_for("width") == 3
    assert len(sweep_points("depth_rmsprop", notebook)) == 10 * 5
