"""Sweeps, resume and the report, on tiny fake data (no real MNIST needed)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from lightning_mnist.study import reproduce as rep
from lightning_mnist.study import sweeps
from lightning_mnist.study.report import claims, write_report
from lightning_mnist.study.sweeps import PROFILES, Point, collect, run_sweep, sweep_points, write_json


@pytest.fixture(scope="module")
def tiny_profile(helpers, tmp_path_factory):
    data = tmp_path_factory.mktemp("tiny")
    helpers.write_tiny(data, n_train=300, n_test=100)
    return replace(
        PROFILES["smoke"],
        name="tiny",
        data_dir=str(data),
        verify_checksums=False,
        limit_train_batches=2,
        widths=(2, 8),
        depths=(1, 2),
    )


def test_sweep_points_cover_values_times_seeds():
    profile = PROFILES["notebook"]
    width = sweep_points("width", profile)
    assert len(width) == 11 * 3
    assert sorted({p.x for p in width}) == [2**k for k in range(1, 12)]
    assert len({p.key for p in width}) == len(width)
    assert {p.seed for p in width} == {1337, 1338, 1339}
    depth = sweep_points("depth_rmsprop", profile)
    assert [p.x for p in depth[::3]] == list(range(1, 11))
    assert depth[0].overrides == ("--model.init_args.depth", "1")
    (gd,) = sweep_points("softmax_gd", profile)
    assert gd.epochs == 100  # GD iterations do not shrink with the profile


def test_unknown_sweep_and_bad_index_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown sweep 'heigth'"):
        sweep_points("heigth", PROFILES["quick"])
    with pytest.raises(ValueError, match=r"points 0\.\.21, got --index 22"):
        run_sweep("width", PROFILES["quick"], tmp_path, index=22)


def test_collect_gives_mean_and_std_per_value(tmp_path):
    for x, seed, acc in ((2, 1, 0.5), (2, 2, 0.7), (4, 1, 0.9)):
        point = Point("width", f"width={x}-seed={seed}", "width", (), seed, x)
        write_json(point.result_path(tmp_path), {"x": x, "test_acc": acc, "train_seconds": 1.0 * x, "epochs": 3})
    rows = collect("width", tmp_path)
    assert [r["x"] for r in rows] == [2, 4]
    assert rows[0]["acc_mean"] == pytest.approx(0.6)
    assert rows[0]["acc_std"] == pytest.approx(0.1414213, rel=1e-5)  # sample std of 0.5, 0.7
    assert (rows[1]["n"], rows[1]["acc_std"]) == (1, 0.0)
    assert json.loads((tmp_path / "results" / "width.json").read_text()) == rows


def test_collect_without_results_says_to_run_first(tmp_path):
    with pytest.raises(FileNotFoundError, match="run it first"):
        collect("width", tmp_path)


def test_one_point_per_job_then_collect(tiny_profile, tmp_path):
    """What a cluster array job does: each index runs one point; collect gathers them all."""
    n = len(sweep_points("width", tiny_profile))
    for i in range(n):
        (result,) = run_sweep("width", tiny_profile, tmp_path, index=i)
        assert 0 <= result["test_acc"] <= 1
    rows = collect("width", tmp_path)
    assert [(r["x"], r["n"]) for r in rows] == [(2, 2), (8, 2)]


class Interrupted(Exception):
    """Stands for ^C or a killed job (pytest reserves KeyboardInterrupt for itself)."""


def test_interrupted_sweep_resumes_without_rerunning_done_points(tiny_profile, tmp_path, monkeypatch):
    calls = []
    real = sweeps.run_point

    def counting(point, profile, out, **kw):
        calls.append(point.key)
        if calls == [first_key, point.key]:
            raise Interrupted  # the job dies during the second point of the first run
        return real(point, profile, out, **kw)

    first_key = sweep_points("depth_sgd", tiny_profile)[0].key

    monkeypatch.setattr(sweeps, "run_point", counting)
    with pytest.raises(Interrupted):
        run_sweep("depth_sgd", tiny_profile, tmp_path)
    first = calls[0]
    assert first == first_key
    calls.clear()
    results = run_sweep("depth_sgd", tiny_profile, tmp_path)
    assert len(results) == len(sweep_points("depth_sgd", tiny_profile))
    assert first not in calls and len(calls) == len(results) - 1


def fake_results(out):
    """Results files for every stage, as a finished reproduction leaves them."""

    def rows(xs, base):
        return [
            {"x": x, "n": 2, "epochs": 50, "acc_mean": base + 0.001 * i, "acc_std": 0.002, "seconds_mean": 1.0 + i}
            for i, x in enumerate(xs)
        ]

    coeffs = [round(0.05 * i, 2) for i in range(20)]
    acc = [[0.80 - 0.001 * (i + j) for j in range(20)] for i in range(20)]
    acc[0][0] = 0.87
    write_json(out / "results" / "grid.json", {"l1": coeffs, "l2": coeffs, "acc": acc})
    write_json(
        out / "results" / "softmax_gd.json",
        [{"x": None, "n": 1, "epochs": 100, "acc_mean": 0.9096, "acc_std": 0.0, "seconds_mean": 3.0}],
    )
    write_json(out / "results" / "seed_mlp.json", rows([None], 0.962))
    write_json(out / "results" / "seed_dropout.json", rows([None], 0.984))
    write_json(out / "results" / "width.json", rows([2**k for k in range(1, 12)], 0.90))
    write_json(out / "results" / "depth_sgd.json", rows(range(1, 11), 0.96))
    write_json(out / "results" / "depth_rmsprop.json", rows(range(10, 0, -1), 0.96)[::-1])
    write_json(
        out / "results" / "autoencoders.json",
        {
            "epochs": 50,
            "mse_sigmoid": 0.010,
            "mse_linear": 0.011,
            "acc_original": 0.984,
            "acc_reconstructed": 0.97,
            "acc_encoder": 0.96,
        },
    )
    write_json(out / "results" / "logic.json", rep.stage_logic(PROFILES["smoke"], out))


def test_report_covers_every_experiment_of_the_notebook(tmp_path):
    fake_results(tmp_path)
    report = write_report(tmp_path, PROFILES["notebook"]).read_text()
    rows = claims(tmp_path)
    assert [r[0] for r in rows] == ["3-6", "7-9", "11", "12-13", "14-15", "16-17", "18", "19-21", "22", "33-34", "text"]
    for cell in ("3-6", "7-9", "11", "12-13", "14-15", "16-17", "18", "19-21", "22", "33-34"):
        assert f"| {cell} |" in report
    assert "not run" not in report
    for fig in ("grid", "width", "depth"):
        assert (tmp_path / "figures" / f"{fig}.png").stat().st_size > 1000
        assert f"figures/{fig}.png" in report
    html = (tmp_path / "report.html").read_text()
    assert html.count("<img") == 3 and "7-9" in html
    assert (tmp_path / "claims.csv").read_text().count("\n") == len(rows) + 1


def test_claim_verdicts_follow_the_numbers(tmp_path):
    fake_results(tmp_path)
    verdicts = {r[0]: r[-1] for r in claims(tmp_path)}
    assert verdicts["3-6"] == "holds"  # 0.9096 exactly
    assert verdicts["7-9"] == "holds"  # (0, 0) is the best cell
    assert verdicts["16-17"] == "holds"  # falls with depth, worst at 10
    assert verdicts["22"] == "holds" and verdicts["33-34"] == "holds"
    grid = json.loads((tmp_path / "results" / "grid.json").read_text())
    grid["acc"][3][4] = 0.9
    write_json(tmp_path / "results" / "grid.json", grid)
    assert {r[0]: r[-1] for r in claims(tmp_path)}["7-9"] == "does not hold"


def test_logic_stage_verifies_the_notebooks_networks(tmp_path):
    logic = rep.stage_logic(PROFILES["smoke"], tmp_path)
    tables = {n["name"]: n["truth_table"] for n in logic["networks"]}
    assert tables["xor"] == [[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 0]]
    assert tables["not"] == [[0, 1], [1, 0]]
    assert all(n["verified"] for n in logic["networks"])
    neurons = {n["name"]: n for n in logic["neurons"]}
    assert neurons["and"]["bias"] == -1.5 and neurons["or"]["bias"] == -0.5
    assert neurons["not"]["weights"] == [-1.0]


def test_reproduce_end_to_end_is_resumable(tiny_profile, tmp_path, monkeypatch):
    out = tmp_path / "out"
    only = ["softmax_gd", "seed_mlp", "seed_dropout", "autoencoders", "logic", "grid"]
    report = rep.reproduce(tiny_profile, out, only).read_text()
    for cell in ("3-6", "7-9", "11", "18", "19-21", "22", "33-34", "text"):
        assert f"| {cell} |" in report
    for fig in ("grid", "reconstructions_sigmoid", "reconstructions_linear"):
        assert f"figures/{fig}.png" in report and (out / "figures" / f"{fig}.png").is_file()
    monkeypatch.setattr(sweeps, "run_point", lambda *a, **k: pytest.fail("re-ran a finished point"))
    monkeypatch.setattr(
        rep, "EXTRA_STAGES", {k: (lambda p, o: pytest.fail("re-ran a stage")) for k in rep.EXTRA_STAGES}
    )
    assert rep.reproduce(tiny_profile, out, only).read_text() == report
