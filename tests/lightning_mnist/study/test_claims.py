"""study.claims: each claim judged on a ResultStore, only on what that store's profile computed."""

from __future__ import annotations

from lightning_mnist.study import claims as claims_mod
from lightning_mnist.study.claims import DEPTH_CLAIMS, claims, not_comparable
from lightning_mnist.study.registry import REGISTRY
from lightning_mnist.study.store import ResultStore
from lightning_mnist.study.sweeps import PROFILES, collect, point_settings, sweep_points


def write_sweep(out, name, profile, acc):
    store = ResultStore(out, profile)
    for point in sweep_points(name, profile):
        s = point.seed - 1337
        store.save(point, {"key": point.key, "x": point.x, "seed": point.seed, "profile": profile.name,
                           "epochs": point.epochs or profile.epochs, "test_acc": acc(point.x) + 0.001 * (s % 2),
                           "train_seconds": 1.0, "settings": point_settings(point, profile)})  # fmt: skip
    collect(name, out, profile)


def test_a_store_judges_only_its_profiles_results(tmp_path):
    notebook = PROFILES["notebook"]
    write_sweep(tmp_path, "depth_sgd", notebook, lambda x: 0.95 + (0.01 if x == 7 else 0.0))
    rows = claims(ResultStore(tmp_path, notebook))
    assert [r[1] for r in rows] == ["SGD: 7 layers best", "SGD: no clear trend with depth"]
    assert rows[0][-1] == "holds" and rows[0][0] == REGISTRY["depth_sgd"].cells
    assert claims(ResultStore(tmp_path, PROFILES["quick"])) == []  # another profile's files: not this report's
    assert claims(tmp_path) == rows  # the folder as it is


def test_each_depth_claim_names_its_depth():
    assert DEPTH_CLAIMS == {"depth_sgd": (7, True), "depth_rmsprop": (10, False)}
    assert set(DEPTH_CLAIMS) <= set(REGISTRY) and all(REGISTRY[n].var == "depth" for n in DEPTH_CLAIMS)


def test_short_training_is_not_comparable_with_the_notebooks():
    assert not_comparable([{"epochs": 50, "settings": {"limit_train_batches": 1.0}}]) is None
    why = not_comparable([{"epochs": 5, "settings": {"limit_train_batches": 10}}])
    assert why == "5 epochs, the notebook 50; 10 training batches per epoch, the notebook all"


def test_every_claim_is_a_function_of_a_store():
    for claim in claims_mod.CLAIMS:
        assert claim.__code__.co_varnames[0] == "store", claim.__name__
