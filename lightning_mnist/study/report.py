"""The reproduction report: each of the notebook's claims next to what we measured.

Built only from the files a reproduction leaves in its directory, so it can be rebuilt at
any time (``lightning-mnist reproduce`` does it last). The document is a list of blocks
rendered twice, to Markdown and to a self-contained HTML page; a dozen lines of rendering
here spare a Markdown dependency.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import math
import os
import statistics
from collections import Counter
from pathlib import Path

from lightning_mnist.study import stats
from lightning_mnist.study.claims import FLAT_MARGIN, GAIN_MARGIN, by_x, claims, mean_pm, table_text
from lightning_mnist.study.points import SWEEPS, Profile, sweep_points
from lightning_mnist.study.registry import CURVE_SWEEPS, REGISTRY
from lightning_mnist.study.store import OPTIONAL_SETTINGS, ResultStore
from logicnets.files import atomic_write


def as_store(out: Path | ResultStore, profile: Profile | None = None) -> ResultStore:
    """``out`` itself if it is a store, else the store of folder ``out`` under ``profile``."""
    return out if isinstance(out, ResultStore) else ResultStore(out, profile)


def figures(store: ResultStore) -> dict[str, Path]:
    """Draw every figure whose data is present; return name -> PNG path."""
    from lightning_mnist.study.figures import depth_figure, plot_grid, width_figure

    figs: dict[str, Path] = {}
    grid = store.load_results("grid")
    if grid:
        figs["grid"] = plot_grid(grid["acc"], grid["l1"], grid["l2"], store.figure_path("grid"))
    if store.load_results("width"):
        figs["width"] = width_figure(store.load_results("width"), store.figure_path("width"))
    depth = [s for s in REGISTRY.values() if s.var == "depth"]
    curves = {s.optimizer: store.load_results(s.name) for s in depth}
    curves = {k: v for k, v in curves.items() if v}
    if curves:
        figs["depth"] = depth_figure(curves, store.figure_path("depth"))
    for name in ("reconstructions_sigmoid", "reconstructions_linear"):
        if store.figure_path(name).exists():
            figs[name] = store.figure_path(name)
    return figs


HEADER = ["cell", "the notebook says", "rule", "we measured", "settings", "verdict"]


def _sum(results, field: str) -> float:
    return math.fsum(r.get(field) or 0.0 for r in results)


def _interrupted(sessions: list[dict]) -> str:
    stops = [x.get("stopped_by", "unknown") for x in sessions if x.get("completed") is False]
    return f" ({len(stops)} stopped before the end: {', '.join(stops)})" if stops else ""


def _machines(sessions: list[dict]) -> str:
    """Each distinct machine the invocations ran on, with how many ran there."""

    def described(m: dict) -> str:
        what = [m.get("cpu") or "unknown CPU", f"{m.get('cpus_usable', '?')} CPUs"]
        if m.get("cpu_vector_isa"):
            what.append(m["cpu_vector_isa"] + (", native bf16" if m.get("native_bf16") else ", no native bf16"))
        return ", ".join([*what, ", ".join(m.get("gpus") or []) or "no GPU"])

    counts = Counter(described(x.get("machine") or {}) for x in sessions)
    return "; ".join(f"{key} ({n})" for key, n in counts.items()) or "unknown"


def record_blocks(out: Path | ResultStore, profile: Profile | None = None) -> list[tuple]:
    """How the results were made: command, commit, versions, machine, wall and CPU time."""
    store = as_store(out, profile)
    sessions = store.sessions()
    results = [r for name in SWEEPS for r in store.runs(name)]
    if store.profile is not None:
        results += [r for *_, slow in reference_results(store) for r in slow]
    train, cpu = _sum(results, "train_seconds"), _sum(results, "cpu_seconds")
    doc: list[tuple] = [("h2", "Record")]
    if not sessions:
        name = store.record_path.name
        doc.append(("p", f"No record of the command (no {name}): these results were not made by `reproduce`."))
    else:
        doc.append(("table", ["what", "value"], _record_rows(sessions)))
    doc.append(
        (
            "p",
            f"Training, summed over the {len(results)} per-run results (reference runs included): "
            f"{train:.1f} s wall, {cpu:.1f} s CPU (this process, all threads; runs from before CPU time "
            "was recorded count 0).",
        )
    )
    return doc


def _record_rows(sessions: list[dict]) -> list[list[str]]:
    """The record table: the last invocation in full, wall time over all of them."""
    last = sessions[-1]
    git = last.get("git")
    return [
        ["command", last.get("command", "?")],
        ["started", f"{last.get('started', '?')} (the last of {len(sessions)} invocation(s) on this folder)"],
        [
            "git commit",
            "not a git checkout"
            if not git
            else git["commit"] + (" (with uncommitted changes)" if git.get("modified") else ""),
        ],
        *[[f"version: {k}", str(v)] for k, v in (last.get("versions") or {}).items()],
        *[
            [f"machine: {k}", ", ".join(v) or "none" if isinstance(v, list) else str(v)]
            for k, v in (last.get("machine") or {}).items()
        ],
        ["machines, all invocations", _machines(sessions)],
        [
            "total wall time",
            f"{math.fsum(x.get('wall_seconds', 0.0) for x in sessions):.1f} s over {len(sessions)} invocation(s)"
            f"{_interrupted(sessions)}; "
            f"the last {last.get('wall_seconds', 0.0):.1f} s, {last.get('runs_trained', '?')} of "
            f"{last.get('runs', '?')} runs trained (the rest reused)",
        ],
    ]


REFERENCE_HEADER = [
    "sweep",
    "value",
    "this profile: test accuracy",
    "reference: test accuracy",
    "paired difference, 95 % interval",
    "verdict",
    "train s per run, wall (CPU): this / reference",
    "this profile ran as",
]


def ran_as(results: list[dict]) -> str:
    """The precisions (and compiled optimizer steps) these runs used, with counts."""

    def how(r: dict) -> str:
        settings = r.get("settings") or {}
        # Files from before the "precision" record ran what their settings asked for.
        ran = r.get("precision") or settings.get("precision", OPTIONAL_SETTINGS["precision"])
        return ran + (", compiled optimizer step" if settings.get("compile_optimizer") else "")

    counts = Counter(how(r) for r in results)
    return "; ".join(f"{ran} ({n})" if len(counts) > 1 else ran for ran, n in counts.items()) or "-"


def _point_results(name: str, value, store: ResultStore) -> list[dict]:
    found = (store.load(p, warn=False) for p in sweep_points(name, store.profile) if p.x == value)
    return [r for r in found if r is not None and r.get("test_acc") is not None]


def _acc_text(results: list[dict]) -> str:
    accs = [r["test_acc"] for r in results]
    if not accs:
        return "not run"
    spread = f" ± {100 * statistics.stdev(accs):.2f}" if len(accs) > 1 else ""
    return f"{100 * statistics.fmean(accs):.2f}{spread} % (n={len(accs)}): " + ", ".join(f"{100 * a:.2f}" for a in accs)


def reference_results(store: ResultStore) -> list[tuple[str, object, list[dict], list[dict]]]:
    """(sweep, value, this profile's runs, the reference runs) of each reference point."""
    if store.profile.reference is None:
        return []
    ref = store.reference()
    return [
        (name, value, _point_results(name, value, store), _point_results(name, value, ref))
        for name, value in store.profile.reference_points
    ]


def reference_blocks(out: Path | ResultStore, profile: Profile | None = None) -> list[tuple]:
    """The profile's reference points (``Profile.reference``) beside its own: do its
    speed-ups keep each result within the noise between seeds?

    Both sides run the same seeds, so the rule is on the per-seed differences (paired): their
    mean's 95 % t-interval against the reference runs' standard deviation over seeds."""
    store = as_store(out, profile)
    profile = store.profile
    if profile.reference is None:
        return []
    ref = store.reference().profile
    rows = [_reference_row(*found) for found in reference_results(store)]
    how = f"{ref.precision}, " + ("stacked seeds" if ref.stack_seeds else "one run per seed")
    return [
        ("h2", f"Speed-ups checked against profile `{ref.name}`"),
        ("p", _reference_text(profile, ref, how)),
        ("table", REFERENCE_HEADER, rows),
    ]


def _reference_row(name: str, value, fast: list[dict], slow: list[dict]) -> list[str]:
    """One reference point: this profile's runs beside the reference runs, and the verdict."""
    pairs = _paired(fast, slow)
    noise = statistics.stdev(r["test_acc"] for r in slow) if len(slow) > 1 else None
    iv = stats.diff_interval([a - b for a, b in pairs], [0.0]) if len(pairs) > 1 else None
    if iv is None or noise is None:
        verdict, diff = (stats.INCONCLUSIVE if fast and slow else stats.NOT_RUN), "n/a"
    else:
        verdict = {
            stats.HOLDS: "within seed noise",
            stats.FAILS: "differs",
            stats.INCONCLUSIVE: stats.INCONCLUSIVE,
        }[stats.equivalence_verdict(iv[1:], 0.0, noise)]
        diff = f"{100 * iv[0]:+.2f} [{100 * iv[1]:+.2f}, {100 * iv[2]:+.2f}] points (seed std {100 * noise:.2f})"
    time_text = f"{_seconds_text(fast)} / {_seconds_text(slow)}"
    value_text = "-" if value is None else str(value)
    return [name, value_text, _acc_text(fast), _acc_text(slow), diff, verdict, time_text, ran_as(fast)]


def _reference_text(profile: Profile, ref: Profile, how: str) -> str:
    return (
        f"This profile trains its MLP sweeps with {profile.precision} where the machine has it "
        "natively (else 32-true; the last column says what ran)"
        + (" and stacked seeds" if profile.stack_seeds else "")
        + (
            f", compiling the optimizer step of {', '.join(profile.compile_optimizer)}"
            if profile.compile_optimizer
            else ""
        )
        + f"; these points also ran as in `{ref.name}` ({how}), in `reference/`. Rule, on the "
        "per-seed differences (the same seeds on both sides): 'within seed noise' if the 95 % "
        "t-interval of their mean lies within ± the reference runs' standard deviation over seeds, "
        "'differs' if it lies wholly outside, else inconclusive. The seconds are each point's own, "
        "from whichever invocation ran it (see the machines in the record; wall time also counts "
        "pauses and other load): the speed-ups measured side by side are in docs/notebook-speed.md."
    )


def _seconds_text(results: list[dict]) -> str:
    """Mean training seconds per run, wall and (where recorded) CPU."""
    if not results:
        return "n/a"
    wall = f"{statistics.fmean(r['train_seconds'] for r in results):.0f}"
    cpu = [r["cpu_seconds"] for r in results if r.get("cpu_seconds") is not None]
    return wall + (f" ({statistics.fmean(cpu):.0f})" if len(cpu) == len(results) else "")


def _paired(fast: list[dict], slow: list[dict]) -> list[tuple[float, float]]:
    """(this, reference) test accuracy of each seed run on both sides."""
    ref = {r["seed"]: r["test_acc"] for r in slow if "seed" in r}
    return [(r["test_acc"], ref[r["seed"]]) for r in fast if r.get("seed") in ref]


def unfinished_blocks(store: ResultStore) -> list[tuple]:
    """Which stages have no results yet: an interrupted run's report says what its table lacks."""
    missing = [name for name in ("grid", "logic") if store.load_results(name) is None]
    for name in SWEEPS:
        if store.load_results(name) is None:
            done, total = len(store.runs(name)), len(sweep_points(name, store.profile))
            missing.append(f"{name} ({done} of {total} runs done)")
    if not missing:
        return []
    return [
        (
            "p",
            f"Not finished, so their claims are missing above: {', '.join(missing)}. "
            "The same `reproduce` command resumes from the finished runs.",
        )
    ]


CAPTIONS = {
    "grid": "Cells 7-9: test accuracy over (L1, L2), 10 GD iterations each.",
    "width": "Cells 12-13: width sweep (mean ± std over seeds) and training time.",
    "depth": "Cells 14-17: depth sweeps with SGD and RMSprop (mean ± std over seeds).",
    "reconstructions_sigmoid": "Cell 21: 10 training images (top) and their reconstructions.",
    "reconstructions_linear": "Cell 33: the same with the linear-decoder autoencoder of cell 34.",
}


def blocks(store: ResultStore, rows: list[list[str]] | None = None) -> list[tuple]:
    """The whole report as blocks; ``rows``: the claims table, if already judged."""
    rows = claims(store) if rows is None else rows
    doc = [
        *_intro_blocks(store.profile),
        ("h2", "The notebook's claims and our measurements"),
        ("table", HEADER, rows),
        *unfinished_blocks(store),
        *reference_blocks(store),
        *record_blocks(store),
    ]
    figs = figures(store)
    if figs:
        doc.append(("h2", "Figures"))
        for name, path in figs.items():
            doc += [("p", CAPTIONS.get(name, name)), ("img", os.path.relpath(path, store.out), name, path)]
    return doc + _sweep_blocks(store) + _grid_blocks(store) + _logic_blocks(store)


def _intro_blocks(profile: Profile) -> list[tuple]:
    depth_seeds = f" ({profile.seeds_for('depth_sgd')} for the depth sweeps)" if profile.depth_seeds else ""
    return [
        ("h1", "MNIST study notebook: reproduction report"),
        (
            "p",
            f"Profile `{profile.name}`: {profile.epochs} epochs per Keras model (the notebook: 50), "
            f"{profile.seeds} seed(s) per sweep point{depth_seeds}; softmax GD always 100 iterations and the "
            "grid 10 iterations, as in the notebook.",
        ),
        (
            "p",
            "Each claim is judged by the rule beside it, on the per-seed results: 'holds' or 'does not hold' "
            "only where the 95 % evidence says so, 'inconclusive' where the seeds' noise cannot tell; "
            "'not comparable' where the training differs from the notebook's (fewer epochs or batches: "
            "the verdict on these settings follows in brackets, and is no verdict on the notebook). "
            f"Margins: ± {100 * GAIN_MARGIN:.0f} point for '+g points', ± {100 * FLAT_MARGIN:.0f} point for "
            "'flat'. Welch's t-test and interval (scipy.stats); Spearman's rho with a 2000-resample bootstrap "
            "over seeds; the xor proof is a Farkas certificate checked in exact rational arithmetic.",
        ),
    ]


def _sweep_blocks(store: ResultStore) -> list[tuple]:
    """A table per swept sweep: each value's accuracy and times."""
    doc: list[tuple] = []
    for name in CURVE_SWEEPS:
        data = store.load_results(name)
        if data:
            cpu = {x: f"{statistics.fmean(v):.1f}" for x, v in by_x(store.runs(name), "cpu_seconds").items()}
            doc += [
                ("h2", f"Sweep `{name}`"),
                (
                    "table",
                    ["value", "runs", "test accuracy", "train time, s", "CPU time, s"],
                    [
                        [str(r["x"]), str(r["n"]), mean_pm(r), f"{r['seconds_mean']:.1f}", cpu.get(r["x"], "n/a")]
                        for r in data
                    ],
                ),
            ]
    return doc


def _grid_blocks(store: ResultStore) -> list[tuple]:
    grid = store.load_results("grid")
    if not grid:
        return []
    from lightning_mnist.study.grid import format_table

    return [
        ("h2", "Regularisation grid (rows l1, columns l2, accuracy in %)"),
        ("pre", format_table(grid["acc"], grid["l1"], grid["l2"])),
    ]


def _logic_blocks(store: ResultStore) -> list[tuple]:
    logic = store.load_results("logic")
    if not logic:
        return []
    doc: list[tuple] = [("h2", "Boolean functions as threshold networks")]
    for n in logic["neurons"]:
        doc.append(
            (
                "p",
                f"`{n['name']}` neuron: w = {n['weights']}, b = {n['bias']}; "
                f"truth table (inputs, output): {n['truth_table']}",
            )
        )
    for n in logic.get("single_neuron", []):
        proof = (
            f"one neuron computes it: w = {n['weights']}, b = {n['bias']} (checked exactly)"
            if n["separable"]
            else f"no single neuron computes it: Farkas certificate λ = {n['certificate']} (checked exactly)"
        )
        doc.append(("p", f"`{n['name']}` {table_text(n['table'])}: {proof}"))
    for n in logic["networks"]:
        doc += [
            ("p", f"`{n['formula']}` ({n['verification']}); truth table {n['truth_table']}:"),
            ("pre", n["network"]),
        ]
    return doc


def render_markdown(doc: list[tuple], base: Path | None = None) -> str:
    """``base``: the folder the file will live in, for image links (default: as in the blocks)."""
    out = []
    for kind, *rest in doc:
        if kind in ("h1", "h2"):
            out.append(("#" if kind == "h1" else "##") + " " + rest[0])
        elif kind == "p":
            out.append(rest[0])
        elif kind == "pre":
            out.append("```\n" + rest[0] + "\n```")
        elif kind == "img":
            link = rest[0] if base is None else os.path.relpath(rest[2], base)
            out.append(f"![{rest[1]}]({Path(link).as_posix()})")
        elif kind == "table":
            head, rows = rest
            out.append(
                "\n".join(
                    ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
                    + ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
                )
            )
    return "\n\n".join(out) + "\n"


def _data_uri(path: Path) -> str:
    """The image inlined (the page stands alone: no file beside it is needed)."""
    kind = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg"}.get(Path(path).suffix, "image/png")
    return f"data:{kind};base64,{base64.b64encode(Path(path).read_bytes()).decode('ascii')}"


def render_html(doc: list[tuple]) -> str:
    """A self-contained page: figures are embedded as base64 data URIs."""
    esc = html.escape
    body = []
    for kind, *rest in doc:
        if kind in ("h1", "h2"):
            body.append(f"<{kind}>{esc(rest[0])}</{kind}>")
        elif kind == "p":
            body.append(f"<p>{esc(rest[0])}</p>")
        elif kind == "pre":
            body.append(f"<pre>{esc(rest[0])}</pre>")
        elif kind == "img":
            body.append(f'<img src="{_data_uri(rest[2])}" alt="{esc(rest[1])}" style="max-width:100%">')
        elif kind == "table":
            head, rows = rest
            cells = "".join(f"<th>{esc(h)}</th>" for h in head)
            trs = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in rows)
            body.append(f"<table><tr>{cells}</tr>{trs}</table>")
    style = (
        "body{font-family:sans-serif;max-width:70em;margin:auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #999;padding:4px;vertical-align:top}pre{background:#f4f4f4;padding:8px}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>MNIST reproduction</title>"
        f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n"
    )


def write_report(out: Path | ResultStore, profile: Profile | None = None, copy: Path | None = None) -> Path:
    """Write report.md, report.html (self-contained) and claims.csv into the results folder; return
    report.md's path. ``copy``: also write the Markdown to this file, its figure links relative to it."""
    store = as_store(out, profile).snapshot()  # every results file read once
    rows = claims(store)  # judged once, for the table and claims.csv
    doc = blocks(store, rows)
    atomic_write(store.report_path("report.md"), render_markdown(doc))
    if copy is not None:
        atomic_write(copy, render_markdown(doc, base=copy.parent))
    atomic_write(store.report_path("report.html"), render_html(doc))
    table = io.StringIO(newline="")
    writer = csv.writer(table)
    writer.writerow(["cell", "claim", "rule", "measured", "settings", "verdict"])
    writer.writerows(rows)
    atomic_write(store.report_path("claims.csv"), table.getvalue())
    return store.report_path("report.md")
