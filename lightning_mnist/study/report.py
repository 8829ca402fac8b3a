"""The reproduction report: each of the notebook's claims next to what we measured.

Built only from the files a reproduction leaves in its directory, so it can be rebuilt at
any time (``lightning-mnist reproduce`` does it last). The document is a list of blocks
rendered twice, to Markdown and to a self-contained HTML page; a dozen lines of rendering
here spare a Markdown dependency.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import statistics
from pathlib import Path

from lightning_mnist.study.sweeps import Profile
from logicnets.files import atomic_write

NOTEBOOK = {"softmax_gd": 0.9096, "mlp_gain": 0.052, "dropout_gain": 0.0233}


# The profile whose report write_report is writing: results another profile left in the same
# folder are left out (as not run), not reported as this one's.
_PROFILE: str | None = None


def _load(out: Path, name: str):
    path = out / "results" / f"{name}.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    records = data if isinstance(data, list) else [data]
    recorded = {r.get("profile") for r in records if isinstance(r, dict)} - {None}
    if _PROFILE is not None and recorded and recorded != {_PROFILE}:
        return None
    return data


def _pct(v: float) -> str:
    return f"{100 * v:.2f} %"


def _pm(row: dict) -> str:
    return f"{100 * row['acc_mean']:.2f} ± {100 * row['acc_std']:.2f} % (n={row['n']})"


def _verdict(ok: bool | None) -> str:
    return {True: "holds", False: "does not hold", None: "not run"}[ok]


def claims(out: Path) -> list[list[str]]:
    """Rows of (cell, the notebook says, we measured, settings, verdict), for each finished part."""
    return [row for claim in CLAIMS for row in claim(out)]


def _softmax_claim(out: Path) -> list[list[str]]:
    gd = _load(out, "softmax_gd")
    if not gd:
        return []
    acc = gd[0]["acc_mean"]
    return [
        [
            "3-6",
            "softmax regression by GD: 90.96 %",
            _pct(acc),
            "W = 0, lr 1, 100 full-batch iterations",
            _verdict(round(acc, 4) == NOTEBOOK["softmax_gd"]),
        ]
    ]


def _grid_claim(out: Path) -> list[list[str]]:
    grid = _load(out, "grid")
    if not grid:
        return []
    acc = grid["acc"]
    base = acc[0][0]
    others = [v for i, r in enumerate(acc) for j, v in enumerate(r) if (i, j) != (0, 0)]
    return [
        [
            "7-9",
            "any non-zero L1/L2 penalty only lowers accuracy",
            f"l1 = l2 = 0: {_pct(base)}; best other cell: {_pct(max(others))}; "
            f"{sum(v >= base for v in others)} of {len(others)} cells reach l1 = l2 = 0",
            "20 x 20 grid, lr 1, 10 iterations",
            _verdict(max(others) < base),
        ]
    ]


def _mlp_gain_claim(out: Path) -> list[list[str]]:
    gd, mlp = _load(out, "softmax_gd"), _load(out, "seed_mlp")
    if not (gd and mlp):
        return []
    return [
        _gain_row(
            "11",
            "784-512-10 MLP: about +5.2 points over softmax regression",
            mlp[0],
            gd[0],
            NOTEBOOK["mlp_gain"],
            "SGD lr 0.01",
        )
    ]


def _dropout_gain_claim(out: Path) -> list[list[str]]:
    mlp, drop = _load(out, "seed_mlp"), _load(out, "seed_dropout")
    if not (mlp and drop):
        return []
    return [
        _gain_row(
            "18",
            "dropout network: +2.33 points over the cell-11 MLP",
            drop[0],
            mlp[0],
            NOTEBOOK["dropout_gain"],
            "Adadelta",
        )
    ]


def _width_claim(out: Path) -> list[list[str]]:
    width = _load(out, "width")
    if not width:
        return []
    by = {r["x"]: r for r in width}
    best = max(width, key=lambda r: r["acc_mean"])
    knee = by.get(128, best)
    flat = best["acc_mean"] - knee["acc_mean"]
    rises = knee["acc_mean"] - width[0]["acc_mean"]
    slower = width[-1]["seconds_mean"] > knee["seconds_mean"]
    return [
        [
            "12-13",
            "accuracy rises until about 2^7 units, then flat while time grows",
            f"{_pow2(width[0])}: {_pm(width[0])}; 2^7: {_pm(knee)}; best {_pow2(best)}: "
            f"{_pm(best)}; time 2^7 {knee['seconds_mean']:.1f} s vs {_pow2(width[-1])} "
            f"{width[-1]['seconds_mean']:.1f} s",
            _settings(width[0], "SGD"),
            _verdict(rises > 0 and flat <= 0.01 and slower),
        ]
    ]


def _depth_claims(out: Path) -> list[list[str]]:
    rows = []
    for name, opt, text in (
        ("depth_sgd", "SGD", "no clear trend; 7 layers best"),
        ("depth_rmsprop", "RMSprop", "accuracy falls with depth, worst at 10"),
    ):
        depth = _load(out, name)
        if not depth:
            continue
        best = max(depth, key=lambda r: r["acc_mean"])
        worst = min(depth, key=lambda r: r["acc_mean"])
        noise = statistics.fmean(r["acc_std"] for r in depth)
        rho = _spearman([r["x"] for r in depth], [r["acc_mean"] for r in depth])
        measured = (
            f"best {best['x']} layers {_pm(best)}, worst {worst['x']} layers {_pm(worst)}; "
            f"Spearman(depth, acc) = {rho:+.2f}; mean seed std {100 * noise:.2f} points"
        )
        if name == "depth_sgd":
            by = {r["x"]: r for r in depth}
            ok = best["x"] == 7 if 7 in by else None
            measured += f"; 7 layers {_pm(by[7])}" if 7 in by else ""
        else:
            ok = rho < 0 and worst["x"] == max(r["x"] for r in depth)
        rows.append(
            ["14-15" if opt == "SGD" else "16-17", f"{opt}: {text}", measured, _settings(depth[0], opt), _verdict(ok)]
        )
    return rows


def _autoencoder_claims(out: Path) -> list[list[str]]:
    ae = _load(out, "autoencoders")
    if not ae:
        return []
    base = ae.get("acc_original")  # the cell-18 classifier on the original images
    versus = f" vs {_pct(base)} on the original images" if base is not None else ""
    return [
        [
            "19-21",
            "autoencoder 784-32-784 reconstructs digits (pictures)",
            f"test MSE {ae['mse_sigmoid']:.4f}",
            f"{ae['epochs']} epochs, Adadelta",
            "see figure",
        ],
        [
            "22",
            "classifier trained on reconstructions: worse",
            f"{_pct(ae['acc_reconstructed'])}{versus}",
            f"{ae['epochs']} epochs, Adadelta",
            _verdict(None if base is None else ae["acc_reconstructed"] < base),
        ],
        [
            "33-34",
            "frozen pretrained encoder + cell-18 head: lower accuracy",
            f"{_pct(ae['acc_encoder'])}{versus}; linear-decoder MSE {ae['mse_linear']:.4f}",
            f"{ae['epochs']} epochs, Adadelta",
            _verdict(None if base is None else ae["acc_encoder"] < base),
        ],
    ]


def _logic_claim(out: Path) -> list[list[str]]:
    logic = _load(out, "logic")
    if not logic:
        return []
    ok = all(n["verified"] for n in logic["networks"])
    return [
        [
            "text",
            "and / or / not are one Heaviside neuron; xor needs two layers via DNF",
            ", ".join(
                f"{n['name']}: {n['hidden']} hidden, {'verified' if n['verified'] else 'FAILED'}"
                for n in logic["networks"]
            ),
            "exhaustive truth tables",
            _verdict(ok),
        ]
    ]


# In the notebook's order of cells.
CLAIMS = (
    _softmax_claim,
    _grid_claim,
    _mlp_gain_claim,
    _width_claim,
    _depth_claims,
    _dropout_gain_claim,
    _autoencoder_claims,
    _logic_claim,
)


def _gain_row(cell: str, claim: str, row: dict, base: dict, notebook_gain: float, optimizer: str) -> list[str]:
    """A claim of the form "+g points over <base>": holds within one point of the notebook's g."""
    gain = row["acc_mean"] - base["acc_mean"]
    return [
        cell,
        claim,
        f"{_pm(row)}: {100 * gain:+.2f} points",
        _settings(row, optimizer),
        _verdict(abs(gain - notebook_gain) <= 0.01),
    ]


def _pow2(row: dict) -> str:
    return f"2^{int(row['x']).bit_length() - 1}"


def _settings(row: dict, optimizer: str) -> str:
    return f"{optimizer}, batch 128, {row['epochs']} epochs, {row['n']} seed(s)"


def _spearman(xs, ys) -> float:
    def ranks(v):
        order = sorted(range(len(v)), key=v.__getitem__)
        r = [0.0] * len(v)
        for rank, i in enumerate(order):
            r[i] = float(rank)
        return r

    rx, ry = ranks(xs), ranks(ys)
    if len(xs) < 2 or len(set(ry)) == 1:
        return 0.0
    return statistics.correlation(rx, ry)


def figures(out: Path) -> dict[str, Path]:
    """Draw every figure whose data is present; return name -> PNG path."""
    from lightning_mnist.study.figures import depth_figure, width_figure

    figs: dict[str, Path] = {}
    fig_dir = out / "figures"
    grid = _load(out, "grid")
    if grid:
        from lightning_mnist.study.figures import plot_grid

        figs["grid"] = plot_grid(grid["acc"], grid["l1"], grid["l2"], fig_dir / "grid.png")
    if _load(out, "width"):
        figs["width"] = width_figure(_load(out, "width"), fig_dir / "width.png")
    curves = {label: _load(out, name) for name, label in (("depth_sgd", "SGD"), ("depth_rmsprop", "RMSprop"))}
    curves = {k: v for k, v in curves.items() if v}
    if curves:
        figs["depth"] = depth_figure(curves, fig_dir / "depth.png")
    for name in ("reconstructions_sigmoid", "reconstructions_linear"):
        if (fig_dir / f"{name}.png").exists():
            figs[name] = fig_dir / f"{name}.png"
    return figs


def blocks(out: Path, profile: Profile) -> list[tuple]:
    rows = claims(out)
    figs = figures(out)
    doc: list[tuple] = [
        ("h1", "MNIST study notebook: reproduction report"),
        (
            "p",
            f"Profile `{profile.name}`: {profile.epochs} epochs per Keras model (the notebook: 50), "
            f"{profile.seeds} seed(s) per sweep point; softmax GD always 100 iterations and the "
            "grid 10 iterations, as in the notebook. 'holds' judges the claim on these settings.",
        ),
        ("h2", "The notebook's claims and our measurements"),
        ("table", ["cell", "the notebook says", "we measured", "settings", "verdict"], rows),
    ]
    captions = {
        "grid": "Cells 7-9: test accuracy over (L1, L2), 10 GD iterations each.",
        "width": "Cells 12-13: width sweep (mean ± std over seeds) and training time.",
        "depth": "Cells 14-17: depth sweeps with SGD and RMSprop (mean ± std over seeds).",
        "reconstructions_sigmoid": "Cell 21: 10 training images (top) and their reconstructions.",
        "reconstructions_linear": "Cell 33: the same with the linear-decoder autoencoder of cell 34.",
    }
    if figs:
        doc.append(("h2", "Figures"))
        for name, path in figs.items():
            doc += [("p", captions.get(name, name)), ("img", os.path.relpath(path, out), name)]
    for name in ("width", "depth_sgd", "depth_rmsprop"):
        data = _load(out, name)
        if data:
            doc += [
                ("h2", f"Sweep `{name}`"),
                (
                    "table",
                    ["value", "runs", "test accuracy", "train time, s"],
                    [[str(r["x"]), str(r["n"]), _pm(r), f"{r['seconds_mean']:.1f}"] for r in data],
                ),
            ]
    grid = _load(out, "grid")
    if grid:
        from lightning_mnist.study.grid import format_table

        doc += [
            ("h2", "Regularisation grid (rows l1, columns l2, accuracy in %)"),
            ("pre", format_table(grid["acc"], grid["l1"], grid["l2"])),
        ]
    logic = _load(out, "logic")
    if logic:
        doc.append(("h2", "Boolean functions as threshold networks"))
        for n in logic["neurons"]:
            doc.append(
                (
                    "p",
                    f"`{n['name']}` neuron: w = {n['weights']}, b = {n['bias']}; "
                    f"truth table (inputs, output): {n['truth_table']}",
                )
            )
        for n in logic["networks"]:
            doc += [
                ("p", f"`{n['formula']}` ({n['verification']}); truth table {n['truth_table']}:"),
                ("pre", n["network"]),
            ]
    return doc


def render_markdown(doc: list[tuple]) -> str:
    out = []
    for kind, *rest in doc:
        if kind in ("h1", "h2"):
            out.append(("#" if kind == "h1" else "##") + " " + rest[0])
        elif kind == "p":
            out.append(rest[0])
        elif kind == "pre":
            out.append("```\n" + rest[0] + "\n```")
        elif kind == "img":
            out.append(f"![{rest[1]}]({rest[0]})")
        elif kind == "table":
            head, rows = rest
            out.append(
                "\n".join(
                    ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
                    + ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
                )
            )
    return "\n\n".join(out) + "\n"


def render_html(doc: list[tuple]) -> str:
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
            body.append(f'<img src="{esc(rest[0])}" alt="{esc(rest[1])}" style="max-width:100%">')
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


def write_report(out: Path, profile: Profile) -> Path:
    """Write report.md, report.html and results.csv into ``out``; return report.md's path."""
    global _PROFILE
    _PROFILE, previous = profile.name, _PROFILE
    try:
        return _write_report(out, profile)
    finally:
        _PROFILE = previous


def _write_report(out: Path, profile: Profile) -> Path:
    doc = blocks(out, profile)
    atomic_write(out / "report.md", render_markdown(doc))
    atomic_write(out / "report.html", render_html(doc))
    table = io.StringIO(newline="")
    writer = csv.writer(table)
    writer.writerow(["cell", "claim", "measured", "settings", "verdict"])
    writer.writerows(claims(out))
    atomic_write(out / "claims.csv", table.getvalue())
    return out / "report.md"
