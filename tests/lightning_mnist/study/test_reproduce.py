"""Sweeps, resume and the report, on tiny fake data (no real MNIST needed)."""

from __future__ import annotations

import base64
import json
import re
import shutil
from dataclasses import replace

import pytest

from lightning_mnist.errors import ConfigError
from lightning_mnist.study import points, provenance, stages, sweeps
from lightning_mnist.study import report as rep_report
from lightning_mnist.study import reproduce as rep
from lightning_mnist.study.report import claims, reference_blocks, write_report
from lightning_mnist.study.runs import run_sweep
from lightning_mnist.study.store import ResultStore
from lightning_mnist.study.sweeps import PROFILES, Point, collect, sweep_points, write_json
from lightning_mnist.study.training import run_config


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
    depth = sweep_points("depth_rmsprop", profile)  # the depth claims rest on small gaps: 5 seeds
    assert [p.x for p in depth[::5]] == list(range(1, 11))
    assert {p.seed for p in depth} == set(range(1337, 1342))
    assert depth[0].overrides == ("--model.init_args.depth", "1")
    assert {p.seed for p in sweep_points("depth_sgd", PROFILES["quick"])} == {1337, 1338}
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


JITTER = (-0.001, 0.0, 0.001, -0.001, 0.001)  # per-seed offsets: a seed-to-seed std of 0.1 point (3 or 5 seeds)


def width_acc(x):
    k = x.bit_length() - 1
    return 0.97 - 0.03 * max(0, 7 - k)


DEPTH_SGD = dict(zip(range(1, 11), (0.958, 0.957, 0.956, 0.954, 0.956, 0.957, 0.962, 0.955, 0.955, 0.959), strict=True))
FAKE_ACC = {
    "softmax_gd": lambda x: 0.9096,
    "seed_mlp": lambda x: 0.962,
    "seed_dropout": lambda x: 0.985,
    "width": width_acc,
    "depth_sgd": DEPTH_SGD.get,
    "depth_rmsprop": lambda x: 0.97 - 0.005 * x,
}


def fake_points(out, name, acc=None, jitter=JITTER, profile=PROFILES["notebook"]):
    """Per-seed point files of sweep ``name`` (the notebook's settings), and their summary."""
    acc = acc or FAKE_ACC[name]
    for point in sweep_points(name, profile):
        s = point.seed - sweeps.BASE_SEED
        write_json(
            point.result_path(out),
            {
                "key": point.key,
                "x": point.x,
                "seed": point.seed,
                "profile": profile.name,
                "epochs": point.epochs or profile.epochs,
                "test_acc": acc(point.x) + (0.0 if name == "softmax_gd" else jitter[s]),
                "train_seconds": 1.0 + (point.x or 0).bit_length() + 0.01 * s,
                "cpu_seconds": 2.0,
                "settings": sweeps.point_settings(point, profile),
            },
        )
    return collect(name, out, profile)


def fake_results(out):
    """Results files for every stage, as a finished reproduction leaves them."""
    coeffs = [round(0.05 * i, 2) for i in range(20)]
    acc = [[0.80 - 0.001 * (i + j) for j in range(20)] for i in range(20)]
    acc[0][0] = 0.87
    write_json(out / "results" / "grid.json", {"l1": coeffs, "l2": coeffs, "acc": acc})
    for name in FAKE_ACC:
        fake_points(out, name)
    write_json(
        out / "results" / "autoencoders.json",
        {
            "epochs": 50,
            "mse_sigmoid": 0.010,
            "mse_linear": 0.011,
            "acc_original": 0.985,
            "acc_reconstructed": 0.97,
            "acc_encoder": 0.96,
        },
    )
    write_json(out / "results" / "logic.json", rep.stage_logic(PROFILES["smoke"], out))


CELLS = ["3-6", "7-9", "11", "12-13", "12-13", "12-13", "14-15", "14-15", "16-17", "16-17", "18"]
CELLS += ["19-21", "22", "33-34", "text", "text", "text", "text", "text"]


def verdicts(out):
    return {(r[0], r[1]): r[-1] for r in claims(out)}


def test_report_covers_every_experiment_of_the_notebook(tmp_path):
    fake_results(tmp_path)
    report = write_report(tmp_path, PROFILES["notebook"]).read_text()
    rows = claims(tmp_path)
    assert [r[0] for r in rows] == CELLS
    assert all(len(r) == 6 and r[2] for r in rows)  # every claim states its rule
    for cell in ("3-6", "7-9", "11", "12-13", "14-15", "16-17", "18", "19-21", "22", "33-34"):
        assert f"| {cell} |" in report
    assert "not run" not in report and "| rule |" in report and "Not finished" not in report
    for fig in ("grid", "width", "depth"):
        assert (tmp_path / "figures" / f"{fig}.png").stat().st_size > 1000
        assert f"figures/{fig}.png" in report
    html = (tmp_path / "report.html").read_text()
    assert html.count("<img") == 3 and "7-9" in html
    assert (tmp_path / "claims.csv").read_text().count("\n") == len(rows) + 1


def test_an_unfinished_reproduction_says_what_its_report_lacks(tmp_path):
    fake_results(tmp_path)
    (tmp_path / "results" / "depth_rmsprop.json").unlink()  # stopped inside that sweep
    for point in sweep_points("depth_rmsprop", PROFILES["notebook"])[3:]:
        point.result_path(tmp_path).unlink()
    report = write_report(tmp_path, PROFILES["notebook"]).read_text()
    assert "| 16-17 |" not in report and "| 14-15 |" in report
    total = len(sweep_points("depth_rmsprop", PROFILES["notebook"]))
    assert f"Not finished, so their claims are missing above: depth_rmsprop (3 of {total} runs done)." in report


def test_html_report_embeds_its_figures(tmp_path):
    fake_results(tmp_path)
    write_report(tmp_path, PROFILES["notebook"])
    html = (tmp_path / "report.html").read_text()
    sources = re.findall(r'<img[^>]*\ssrc="([^"]*)"', html)
    assert len(sources) == 3
    assert all(src.startswith("data:image/png;base64,") for src in sources)
    assert not re.search(r'(src|href)="(?!data:)', html)  # nothing outside the page
    png = base64.b64decode(sources[0].split(",", 1)[1])
    assert png.startswith(b"\x89PNG")


def test_claim_verdicts_follow_the_numbers(tmp_path):
    fake_results(tmp_path)
    got = verdicts(tmp_path)
    assert got["3-6", "softmax regression by GD: 90.96 %"] == "holds"  # 0.9096 exactly
    assert got["7-9", "any non-zero L1/L2 penalty only lowers accuracy"] == "holds"
    assert [v for (c, _), v in got.items() if c in ("11", "12-13", "14-15", "16-17", "18", "22", "33-34")] == [
        "holds"
    ] * 11
    grid = json.loads((tmp_path / "results" / "grid.json").read_text())
    grid["acc"][3][4] = 0.9
    write_json(tmp_path / "results" / "grid.json", grid)
    assert verdicts(tmp_path)["7-9", "any non-zero L1/L2 penalty only lowers accuracy"] == "does not hold"


def test_significance_decides_best_depth_and_gains(tmp_path):
    fake_results(tmp_path)
    fake_points(tmp_path, "depth_sgd", {**DEPTH_SGD, 6: 0.966}.get)  # 6 layers: +0.4 points over 7, 4 std
    fake_points(tmp_path, "seed_mlp", lambda x: 0.93)  # +2.0 points, the notebook +5.2
    got = verdicts(tmp_path)
    assert got["14-15", "SGD: 7 layers best"] == "does not hold"
    assert got["11", "784-512-10 MLP: about +5.2 points over softmax regression"] == "does not hold"
    # The same means, seeds 2 points apart: the 95 % intervals say nothing either way.
    fake_points(tmp_path, "seed_mlp", lambda x: 0.962, jitter=(-0.02, 0.0, 0.02))
    assert verdicts(tmp_path)["11", "784-512-10 MLP: about +5.2 points over softmax regression"] == "inconclusive"
    fake_points(tmp_path, "depth_rmsprop", lambda x: 0.96 + 0.001 * (x % 2), jitter=(-0.01, 0.0, 0.01, -0.01, 0.01))
    assert verdicts(tmp_path)["16-17", "RMSprop: accuracy falls with depth"] == "inconclusive"


def test_neuron_claims_state_what_was_proven(tmp_path):
    fake_results(tmp_path)
    rows = {r[1]: r for r in claims(tmp_path) if r[0] == "text"}
    assert list(rows) == [
        "and is one Heaviside neuron θ(w·x + b)",
        "or is one Heaviside neuron θ(w·x + b)",
        "not is one Heaviside neuron θ(w·x + b)",
        "xor is not computable by any single threshold neuron",
        "xor is computed by two layers (via DNF)",
    ]
    assert all(r[-1] == "holds" for r in rows.values())
    assert "w = (1, 1), b = -0.5: 00→0, 01→1, 10→1, 11→1" in rows["or is one Heaviside neuron θ(w·x + b)"][3]
    assert "hidden" not in rows["or is one Heaviside neuron θ(w·x + b)"][3]
    assert "λ = (1, 1, 1, 1)" in rows["xor is not computable by any single threshold neuron"][3]
    assert rows["xor is computed by two layers (via DNF)"][3].startswith("2 layers, 2 hidden")


def test_logic_stage_verifies_the_notebooks_networks(tmp_path):
    logic = rep.stage_logic(PROFILES["smoke"], tmp_path)
    tables = {n["name"]: n["truth_table"] for n in logic["networks"]}
    assert tables["xor"] == [[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 0]]
    assert tables["not"] == [[0, 1], [1, 0]]
    assert all(n["verified"] for n in logic["networks"])
    neurons = {n["name"]: n for n in logic["neurons"]}
    assert neurons["and"]["bias"] == -1.5 and neurons["or"]["bias"] == -0.5
    assert neurons["not"]["weights"] == [-1.0]
    assert all(n["computes"] and n["is_notebook_neuron"] for n in neurons.values())
    single = {n["name"]: n for n in logic["single_neuron"]}
    assert [single[k]["separable"] for k in ("and", "or", "not", "xor")] == [True, True, True, False]
    assert single["xor"]["certificate"] == [1, 1, 1, 1] and single["xor"]["checked"]


def test_reproduce_end_to_end_is_resumable(tiny_profile, tmp_path, monkeypatch, capsys, caplog):
    out = tmp_path / "out"
    only = ["softmax_gd", "seed_mlp", "seed_dropout", "autoencoders", "logic", "grid"]
    report = rep.reproduce(tiny_profile, out, only, command="lightning-mnist reproduce --test").read_text()
    for cell in ("3-6", "7-9", "11", "18", "19-21", "22", "33-34", "text"):
        assert f"| {cell} |" in report
    for fig in ("grid", "reconstructions_sigmoid", "reconstructions_linear"):
        assert f"figures/{fig}.png" in report and (out / "figures" / f"{fig}.png").is_file()
    # One result line per run, no Lightning banner between them.
    captured = capsys.readouterr()
    lines = [ln for ln in captured.out.splitlines() if ": " in ln]
    points = [f"{s}/{p.key}:" for s in only[:4] for p in sweep_points(s, tiny_profile)]
    assert [ln.split(" ", 1)[0] for ln in lines] == ["grid:", "logic:", *points]
    assert all(
        re.search(r"(test accuracy [\d.]+ %|test/mse [\d.]+), [\d.]+ s \([\d.]+ s CPU\)$", ln) for ln in lines[2:]
    )
    noise = captured.out + captured.err + caplog.text
    for banner in ("GPU available", "TPU available", "LOCAL_RANK", "You are using a CUDA device", "Seed set"):
        assert banner not in noise
    # The record of how it was made.
    (session,) = json.loads((out / "results" / "record.json").read_text())["sessions"]
    assert session["command"] == "lightning-mnist reproduce --test"
    assert {"torch", "numpy", "sympy", "torchmetrics"} <= set(session["versions"])
    assert any("lightning" in k and v for k, v in session["versions"].items())
    assert {"platform", "cpu", "cpu_count", "gpus"} <= set(session["machine"])
    assert session["wall_seconds"] > 0 and session["runs_trained"] == session["runs"] - 2
    assert session["completed"] is True and "stopped_by" not in session
    assert "git" in session
    for text in ("## Record", "lightning-mnist reproduce --test", "version: torch", "total wall time"):
        assert text in report
    point = sweep_points("seed_mlp", tiny_profile)[0]
    assert json.loads(point.result_path(out).read_text())["cpu_seconds"] > 0
    # Training-length claims under a 1-epoch profile: never "does not hold".
    got = {r[0]: r[-1] for r in claims(out, tiny_profile)}
    for cell in ("11", "18", "22", "33-34"):
        assert got[cell].startswith("not comparable (1 epochs, the notebook 50")
    monkeypatch.setattr(sweeps, "run_point", lambda *a, **k: pytest.fail("re-ran a finished point"))
    monkeypatch.setattr(
        stages, "EXTRA_STAGES", {k: (lambda p, o: pytest.fail("re-ran a stage")) for k in stages.EXTRA_STAGES}
    )
    shutil.rmtree(out / "checkpoints")  # as in a clone: the checkpoints are not committed
    pictures = {k: (out / "figures" / f"reconstructions_{k}.png").read_bytes() for k in ("sigmoid", "linear")}
    again = rep.reproduce(tiny_profile, out, only, command="lightning-mnist reproduce --test").read_text()
    assert pictures == {k: (out / "figures" / f"reconstructions_{k}.png").read_bytes() for k in pictures}
    record = re.compile(r"## Record.*?(?=\n## )", flags=re.S)
    assert record.sub("", again) == record.sub("", report)
    assert "[done before]" in capsys.readouterr().out
    assert len(json.loads((out / "results" / "record.json").read_text())["sessions"]) == 2


def test_record_without_git_or_gpu(monkeypatch):
    def no_git(*a, **k):
        raise FileNotFoundError("git")

    monkeypatch.setattr(provenance.subprocess, "run", no_git)
    assert provenance.git_commit() is None
    assert provenance.machine()["cpu_count"] >= 1


def test_reference_points_run_the_reference_way_and_are_compared(tiny_profile, tmp_path, monkeypatch):
    monkeypatch.setitem(PROFILES, "tiny", tiny_profile)
    fast = replace(
        tiny_profile, name="tiny-fast", stack_seeds=True, reference="tiny", reference_points=(("seed_mlp", None),)
    )
    report = rep.reproduce(fast, tmp_path, ["seed_mlp", "reference"], command="test").read_text()
    for point in sweep_points("seed_mlp", tiny_profile):
        result = json.loads(point.result_path(tmp_path / "reference").read_text())
        assert result["profile"] == "tiny" and "stacked_seeds" not in result  # one run per seed
        assert "stacked_seeds" in json.loads(point.result_path(tmp_path).read_text())
    assert "## Speed-ups checked against profile `tiny`" in report
    (row,) = [ln for ln in report.splitlines() if ln.startswith("| seed_mlp |")]
    assert "within seed noise" in row  # stacked float32 follows its separate runs


def test_reference_verdict_follows_the_numbers(tmp_path):
    fast = PROFILES["notebook-fast"]
    ref = PROFILES[fast.reference]
    fake_points(tmp_path, "seed_mlp", lambda x: 0.962, profile=fast)
    fake_points(tmp_path / "reference", "seed_mlp", lambda x: 0.9625, profile=ref)
    fake_points(tmp_path, "depth_sgd", lambda x: 0.950, profile=fast)
    fake_points(tmp_path / "reference", "depth_sgd", lambda x: 0.960, profile=ref)  # 10 std apart
    rows = {r[0]: r for r in reference_blocks(tmp_path, fast)[-1][2]}
    assert rows["seed_mlp"][5] == "within seed noise"  # -0.05 points on every seed, seed std 0.1
    assert rows["depth_sgd"][5] == "differs" and rows["depth_sgd"][4].startswith("-1.00 [")
    assert rows["depth_rmsprop"][5] == "not run" and rows["depth_rmsprop"][2] == "not run"
    assert "(n=5)" in rows["depth_sgd"][2] and "(n=3)" in rows["seed_mlp"][3]
    assert rows["depth_sgd"][6] == "3 (2) / 3 (2)" and rows["depth_rmsprop"][6] == "n/a / n/a"  # wall (CPU)
    assert reference_blocks(tmp_path, PROFILES["notebook"]) == []


def test_an_interrupted_reproduction_is_recorded(tiny_profile, tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise Interrupted("SIGTERM")

    monkeypatch.setattr(rep, "run_sweep", interrupted)
    with pytest.raises(Interrupted):
        rep.reproduce(tiny_profile, tmp_path, ["logic", "seed_mlp"], command="test")
    (session,) = json.loads((tmp_path / "results" / "record.json").read_text())["sessions"]
    assert session["completed"] is False and session["stopped_by"] == "Interrupted" and session["runs_trained"] == 0
    record = rep_report.render_markdown(rep_report.record_blocks(tmp_path))
    assert "1 invocation(s) (1 stopped before the end: Interrupted)" in record
    cpus = f"{provenance.machine()['cpus_usable']} CPUs"
    (machines,) = [ln for ln in record.splitlines() if ln.startswith("| machines, all invocations |")]
    assert cpus in machines and machines.endswith(" (1) |")  # one invocation, on this machine


def test_fast_precision_only_where_it_speeds_up_and_changes_no_exact_figure(tmp_path, monkeypatch):
    monkeypatch.setattr(points, "bf16_is_native", lambda: True)
    fast = PROFILES["notebook-fast"]
    settings = {s: sweeps.point_settings(sweep_points(s, fast)[0], fast) for s in sweeps.SWEEPS}
    assert {s for s, v in settings.items() if v.get("precision") == "bf16-mixed"} == set(sweeps.MLP_SWEEPS)
    assert "precision" not in settings["softmax_gd"] and "precision" not in settings["autoencoders"]
    (gd,) = sweep_points("softmax_gd", fast)
    assert (
        "precision"
        not in run_config(sweeps.point_settings(gd, fast), ResultStore(tmp_path, fast), "gd", False)["trainer"]
    )
    depth = sweep_points("depth_sgd", fast)[0]
    config = run_config(sweeps.point_settings(depth, fast), ResultStore(tmp_path, fast), "d", False)
    assert config["trainer"]["precision"] == "bf16-mixed"


def test_without_native_bf16_the_runs_use_float32_and_record_it(tiny_profile, tmp_path, monkeypatch):
    monkeypatch.setattr(points, "bf16_is_native", lambda: False)
    fast = PROFILES["notebook-fast"]
    depth = sweep_points("depth_sgd", fast)[0]
    assert (
        "precision"
        not in run_config(sweeps.point_settings(depth, fast), ResultStore(tmp_path, fast), "d", False)["trainer"]
    )
    assert sweeps.point_settings(depth, fast)["precision"] == "bf16-mixed"  # what the profile asks for
    bf16 = replace(tiny_profile, name="tiny-bf16", precision="bf16-mixed")
    point = sweep_points("seed_mlp", bf16)[0]
    result = sweeps.run_point(point, bf16, tmp_path, progress=False)
    assert result["precision"] == "32-true" and result["settings"]["precision"] == "bf16-mixed"
    monkeypatch.setattr(points, "bf16_is_native", lambda: True)
    assert sweeps.load_result(point, bf16, tmp_path) is not None  # the same point on either machine


def test_bad_reference_settings_are_clear_errors(tmp_path):
    with pytest.raises(ConfigError, match="has no reference points"):
        rep.reproduce(PROFILES["quick"], tmp_path, ["reference"])
    bad = replace(PROFILES["notebook-fast"], reference_points=(("depth_sgd", 30),))
    with pytest.raises(ConfigError, match="depth_sgd=30 is no point of 'notebook'"):
        rep.reproduce(bad, tmp_path, ["reference"])
    with pytest.raises(ConfigError, match="reference profile 'nope'"):
        rep.reproduce(replace(bad, reference="nope"), tmp_path, ["reference"])


def test_a_file_from_other_precision_is_stale_even_when_the_default_is_not_recorded(tmp_path):
    fast, quick = PROFILES["notebook-fast"], PROFILES["quick"]
    (gd,) = sweep_points("softmax_gd", fast)
    settings = {**sweeps.point_settings(gd, fast), "precision": "bf16-mixed"}  # as written before precision_for
    write_json(gd.result_path(tmp_path), {"test_acc": 0.9094, "settings": settings})
    with pytest.warns(UserWarning, match="precision: 'bf16-mixed' there, '32-true' now"):
        assert sweeps.load_result(gd, fast, tmp_path) is None
    # Files of profiles without the optional settings keep exactly the keys they always had.
    point = sweep_points("depth_sgd", quick)[0]
    assert set(sweeps.point_settings(point, quick)) == {
        "profile",
        "epochs",
        "limit_train_batches",
        "seeds",
        "seed",
        "data",
        "config",
        "config_sha256",
        "overrides",
        "checkpoint",
    }
    assert sweeps.point_settings(point, quick)["seeds"] == 2


def test_a_report_copy_links_its_figures_from_where_it_lives(tmp_path):
    out, copy = tmp_path / "docs" / "notebook", tmp_path / "docs" / "notebook-report.md"
    fake_results(out)
    write_report(out, PROFILES["notebook"], copy=copy)
    links = re.findall(r"!\[[^]]*\]\(([^)]+)\)", copy.read_text())
    assert links and all(link.startswith("notebook/figures/") for link in links)
    assert all((copy.parent / link).is_file() for link in links)
    assert copy.read_text().replace("](notebook/", "](") == (out / "report.md").read_text()


def test_the_record_names_the_commit_the_run_started_from(tiny_profile, tmp_path, monkeypatch):
    commits = iter([{"commit": "a" * 40, "modified": False}, {"commit": "b" * 40, "modified": False}])
    monkeypatch.setattr(provenance, "git_commit", lambda: next(commits))
    rep.reproduce(tiny_profile, tmp_path, ["logic"], command="test")
    (session,) = json.loads((tmp_path / "results" / "record.json").read_text())["sessions"]
    assert session["git"]["commit"] == "a" * 40
