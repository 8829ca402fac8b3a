"""The notebook's claims as stated rules, each judged on the per-seed results a reproduction
leaves in its directory: one function per claim (``CLAIMS``, in the notebook's order), each
returning its rows (cell, the notebook says, rule, we measured, settings, verdict)."""

from __future__ import annotations

import statistics
from pathlib import Path

from lightning_mnist.study import stats
from lightning_mnist.study.points import Profile
from lightning_mnist.study.registry import REGISTRY
from lightning_mnist.study.store import ResultStore

NOTEBOOK = {"softmax_gd": 0.9096, "mlp_gain": 0.052, "dropout_gain": 0.0233}


NOTEBOOK_EPOCHS = 50
GAIN_MARGIN = 0.01  # "+g points" holds if the gain's 95 % interval lies within g ± 1 point
FLAT_MARGIN = 0.01  # "flat": every wider layer within ± 1 point of 2^7 (95 % interval)
KNEE = 128


def _pct(v: float) -> str:
    return f"{100 * v:.2f} %"


def mean_pm(row: dict) -> str:
    return f"{100 * row['acc_mean']:.2f} ± {100 * row['acc_std']:.2f} % (n={row['n']})"


def _verdict(ok: bool | None) -> str:
    return {True: stats.HOLDS, False: stats.FAILS, None: stats.NOT_RUN}[ok]


def _pts(d: float) -> str:
    return f"{100 * d:+.2f}"


def _interval(iv) -> str:
    return "no interval (fewer than 2 seeds)" if iv is None else f"{_pts(iv[0])} [{_pts(iv[1])}, {_pts(iv[2])}] points"


def claims(out: Path | ResultStore, profile: Profile | None = None) -> list[list[str]]:
    """Rows of (cell, the notebook says, rule, we measured, settings, verdict), for each finished part.

    Per-seed statistics come from the point files (with ``profile``: only those computed with
    its settings, as ``collect`` counts them). ``out`` may be a ``ResultStore`` (then ``profile``
    is the store's)."""
    store = out if isinstance(out, ResultStore) else ResultStore(out, profile)
    return [row for claim in CLAIMS for row in claim(store)]


def by_x(results: list[dict], field: str = "test_acc") -> dict:
    """Per-seed values of ``field`` grouped by the sweep value."""
    groups: dict = {}
    for r in results:
        if r.get(field) is not None:
            groups.setdefault(r.get("x"), []).append(float(r[field]))
    return groups


def not_comparable(results: list[dict]) -> str | None:
    """Why these runs' training differs from the notebook's (50 full epochs), or None."""
    if not results:
        return None
    epochs = {r.get("epochs") for r in results}
    batches = {(r.get("settings") or {}).get("limit_train_batches", 1.0) for r in results}
    why = []
    if epochs != {NOTEBOOK_EPOCHS}:
        why.append(f"{'/'.join(map(str, sorted(e for e in epochs if e is not None)))} epochs, the notebook 50")
    if batches - {1}:
        why.append(f"{'/'.join(map(str, sorted(batches, key=str)))} training batches per epoch, the notebook all")
    return "; ".join(why) or None


def _judge(verdict: str, why_not: str | None) -> str:
    """A training-length dependent verdict: "not comparable" when the settings differ."""
    return f"{stats.NOT_COMPARABLE} ({why_not}; on these settings: {verdict})" if why_not else verdict


def _softmax_claim(store: ResultStore) -> list[list[str]]:
    gd = by_x(store.runs("softmax_gd")).get(None)  # the point file, checked against the settings
    if not gd:
        return []
    acc = statistics.fmean(gd)
    return [
        [
            "3-6",
            "softmax regression by GD: 90.96 %",
            "deterministic (GD from W = 0, no seeds): holds if the test accuracy rounds to 90.96 %",
            _pct(acc),
            "W = 0, lr 1, 100 full-batch iterations",
            _verdict(round(acc, 4) == NOTEBOOK["softmax_gd"]),
        ]
    ]


def _grid_claim(store: ResultStore) -> list[list[str]]:
    grid = store.load_results("grid")
    if not grid:
        return []
    acc = grid["acc"]
    base = acc[0][0]
    others = [v for i, r in enumerate(acc) for j, v in enumerate(r) if (i, j) != (0, 0)]
    return [
        [
            "7-9",
            "any non-zero L1/L2 penalty only lowers accuracy",
            "deterministic (GD from W = 0): holds if every cell with l1 > 0 or l2 > 0 scores below l1 = l2 = 0",
            f"l1 = l2 = 0: {_pct(base)}; best other cell: {_pct(max(others))}; "
            f"{sum(v >= base for v in others)} of {len(others)} cells reach l1 = l2 = 0",
            "20 x 20 grid, lr 1, 10 iterations",
            _verdict(max(others) < base),
        ]
    ]


def _gain_claim(store: ResultStore, cell: str, text: str, name: str, base_name: str, gain: float, optimizer: str):
    new, base = store.runs(name), store.runs(base_name)
    row = store.load_results(name)
    if not (new and base and row):
        return []
    a, b = by_x(new).get(None, []), by_x(base).get(None, [])
    iv = stats.diff_interval(a, b)
    verdict = stats.equivalence_verdict(None if iv is None else iv[1:], gain, GAIN_MARGIN)
    return [
        [
            cell,
            text,
            f"holds if the 95 % Welch interval of the gain (over seeds) lies within {_pts(gain)} ± "
            f"{100 * GAIN_MARGIN:.0f} point, does not hold if it lies wholly outside, else inconclusive",
            f"{mean_pm(row[0])}; gain {_interval(iv)}",
            _settings(row[0], optimizer),
            _judge(verdict, not_comparable(new + (base if base_name != "softmax_gd" else []))),
        ]
    ]


def _mlp_gain_claim(store: ResultStore) -> list[list[str]]:
    sweep = REGISTRY["seed_mlp"]
    return _gain_claim(
        store, sweep.cells, "784-512-10 MLP: about +5.2 points over softmax regression", sweep.name, "softmax_gd",
        NOTEBOOK["mlp_gain"], sweep.optimizer,
    )  # fmt: skip


def _dropout_gain_claim(store: ResultStore) -> list[list[str]]:
    sweep = REGISTRY["seed_dropout"]
    return _gain_claim(
        store, sweep.cells, "dropout network: +2.33 points over the cell-11 MLP", sweep.name, "seed_mlp",
        NOTEBOOK["dropout_gain"], sweep.optimizer,
    )  # fmt: skip


def _greater_verdict(a, b) -> str:
    """mean(a) > mean(b) significantly: holds; significantly smaller: does not hold."""
    if stats.welch(a, b) is None:
        return stats.INCONCLUSIVE
    if stats.significantly_greater(a, b):
        return stats.HOLDS
    return stats.FAILS if stats.significantly_greater(b, a) else stats.INCONCLUSIVE


def _pvalue(a, b) -> str:
    test = stats.welch(a, b)
    return "p n/a" if test is None else f"p = {test[2]:.3g}"


def _width_claim(store: ResultStore) -> list[list[str]]:
    sweep = REGISTRY["width"]
    width, results = store.load_results(sweep.name), store.runs(sweep.name)
    if not (width and results):
        return []
    acc, secs = by_x(results), by_x(results, "train_seconds")
    row = [sweep.cells, _settings(width[0], sweep.optimizer), not_comparable(results), {r["x"]: r for r in width}]
    rows = [*_rises_row(acc, *row), *_flat_row(acc, width, *row), *_time_row(secs, *row)]
    if not rows:
        cells, settings, _, by = row
        rows.append(
            [
                cells,
                "rises until about 2^7 units, then flat while time grows",
                "needs 2^7 and widths on both sides of it",
                ", ".join(_pow2(by[x]) for x in sorted(acc)),
                settings,
                f"{stats.NOT_COMPARABLE} (the sweep lacks the widths the claim is about)",
            ]
        )
    return rows


def _rises_row(acc: dict, cells: str, settings: str, why: str | None, by: dict) -> list[list[str]]:
    low = min(acc)
    if KNEE not in acc or low >= KNEE:
        return []
    return [
        [
            cells,
            "accuracy rises until about 2^7 units",
            "holds if 2^7 units score significantly above 2^1 (Welch, 95 %); does not hold if significantly below",
            f"{_pow2(by[low])}: {mean_pm(by[low])}; 2^7: {mean_pm(by[KNEE])}; {_pvalue(acc[KNEE], acc[low])}",
            settings,
            _judge(_greater_verdict(acc[KNEE], acc[low]), why),
        ]
    ]


def _flat_row(acc: dict, width: list[dict], cells: str, settings: str, why: str | None, by: dict) -> list[list[str]]:
    wider = [x for x in sorted(acc) if x > KNEE]
    if KNEE not in acc or not wider:
        return []
    ivs = {x: stats.diff_interval(acc[x], acc[KNEE]) for x in wider}
    verdict = stats.combine(
        *(stats.equivalence_verdict(None if iv is None else iv[1:], 0.0, FLAT_MARGIN) for iv in ivs.values())
    )
    worst = max(ivs, key=lambda x: -1 if ivs[x] is None else max(abs(ivs[x][1]), abs(ivs[x][2])))
    return [
        [
            cells,
            "then flat above 2^7 units",
            f"holds if for every wider layer the 95 % Welch interval of its gain over 2^7 lies "
            f"within ± {100 * FLAT_MARGIN:.0f} point; does not hold if one lies wholly outside",
            f"widest interval: {_pow2(by[worst])} {_interval(ivs[worst])}; best mean "
            f"{_pow2(max(width, key=lambda r: r['acc_mean']))}",
            settings,
            _judge(verdict, why),
        ]
    ]


def _time_row(secs: dict, cells: str, settings: str, why: str | None, by: dict) -> list[list[str]]:
    top = max(secs) if secs else None
    if KNEE not in secs or top is None or top <= KNEE:
        return []
    return [
        [
            cells,
            "while training time grows",
            f"holds if training at {_pow2(by[top])} units takes significantly longer than at 2^7 "
            "(Welch on per-seed seconds, 95 %)",
            f"2^7: {statistics.fmean(secs[KNEE]):.1f} s; {_pow2(by[top])}: {statistics.fmean(secs[top]):.1f} s; "
            f"{_pvalue(secs[top], secs[KNEE])}",
            settings,
            _greater_verdict(secs[top], secs[KNEE]),
        ]
    ]


def _extreme(acc: dict, k, better: bool) -> tuple[str, list]:
    """Does any value score significantly better (or worse) than ``k``?"""
    rivals = [
        x
        for x in acc
        if x != k
        and (stats.significantly_greater(acc[x], acc[k]) if better else stats.significantly_greater(acc[k], acc[x]))
    ]
    testable = any(stats.welch(acc[x], acc[k]) is not None for x in acc if x != k)
    return (stats.FAILS if rivals else stats.HOLDS if testable else stats.INCONCLUSIVE), rivals


# What the notebook says of each depth sweep: (the depth it singles out, whether as the best).
DEPTH_CLAIMS = {"depth_sgd": (7, True), "depth_rmsprop": (10, False)}


def _depth_claims(store: ResultStore) -> list[list[str]]:
    rows = []
    for name, (k, best) in DEPTH_CLAIMS.items():
        sweep = REGISTRY[name]
        depth, results = store.load_results(name), store.runs(name)
        if depth and results:
            acc = by_x(results)
            settings, why = _settings(depth[0], sweep.optimizer), not_comparable(results)
            rows.append([sweep.cells, *_extreme_row(sweep.optimizer, depth, acc, k, best, why), settings])
            rows.append([sweep.cells, *_trend_row(sweep.optimizer, acc, best, why), settings])
    return [[*r[:4], r[5], r[4]] for r in rows]  # settings before the verdict


def _extreme_row(opt: str, depth: list[dict], acc: dict, k: int, best: bool, why: str | None) -> list[str]:
    """(claim, rule, measured, verdict): no depth significantly better (worse) than ``k`` layers."""
    by = {r["x"]: r for r in depth}
    top, bottom = max(depth, key=lambda r: r["acc_mean"]), min(depth, key=lambda r: r["acc_mean"])
    if k in acc:
        verdict, rivals = _extreme(acc, k, better=best)
        side = "better" if best else "worse"
        measured = (
            f"{k} layers {mean_pm(by[k])}; best {top['x']} layers {mean_pm(top)}, "
            f"worst {bottom['x']} layers {mean_pm(bottom)}; "
            + (
                f"significantly {side}: {', '.join(map(str, sorted(rivals)))}"
                if rivals
                else f"none significantly {side}"
            )
        )
        verdict = _judge(verdict, why)
    else:
        measured = f"depths {', '.join(map(str, sorted(acc)))}"
        verdict = f"{stats.NOT_COMPARABLE} ({k} layers not in this sweep)"
    claim = f"{opt}: {f'{k} layers best' if best else f'worst at {k} layers'}"
    rule = f"holds if no depth scores significantly {'above' if best else 'below'} {k} layers (Welch, 95 %)"
    return [claim, rule, measured, verdict]


def _trend_row(opt: str, acc: dict, best: bool, why: str | None) -> list[str]:
    """(claim, rule, measured, verdict) on Spearman's rho of depth and accuracy: none (SGD), falling (RMSprop)."""
    rho = stats.bootstrap_spearman(acc)
    means = [statistics.fmean(acc[x]) for x in sorted(acc)]
    rho_text = f"Spearman(depth, mean acc) = {stats.spearman(sorted(acc), means):+.2f}" + (
        "" if rho is None else f", 95 % bootstrap interval [{rho[1]:+.2f}, {rho[2]:+.2f}]"
    )
    resampled = "holds if the 95 % bootstrap interval (seeds resampled per depth) of Spearman's rho"
    if best:
        trend = stats.INCONCLUSIVE if rho is None else stats.HOLDS if rho[1] <= 0 <= rho[2] else stats.FAILS
        return [f"{opt}: no clear trend with depth", f"{resampled} contains 0", rho_text, _judge(trend, why)]
    trend = stats.sign_verdict(None if rho is None else rho[1:], -1)
    return [f"{opt}: accuracy falls with depth", f"{resampled} lies below 0", rho_text, _judge(trend, why)]


def _autoencoder_claims(store: ResultStore) -> list[list[str]]:
    ae = store.load_results("autoencoders")
    if not ae:
        return []
    base = ae.get("acc_original")  # the cell-18 classifier on the original images
    versus = f" vs {_pct(base)} on the original images" if base is not None else ""
    originals = by_x(store.runs("seed_dropout")).get(None, [])
    why = not_comparable(
        [{"epochs": ae["epochs"], "settings": {"limit_train_batches": ae.get("limit_train_batches", 1.0)}}]
    )
    rule = (
        "holds if the one run lies below the 95 % prediction interval of the cell-18 runs over seeds; "
        "does not hold if above it"
    )

    def lower(acc: float) -> str:
        if base is None:
            return stats.NOT_RUN
        return _judge(stats.below_prediction(acc, originals), why)

    settings = f"{ae['epochs']} epochs, Adadelta"
    return [
        [
            "19-21",
            "autoencoder 784-32-784 reconstructs digits (pictures)",
            "a picture: judged by eye",
            f"test MSE {ae['mse_sigmoid']:.4f}",
            settings,
            "see figure",
        ],
        [
            "22",
            "classifier trained on reconstructions: worse",
            rule,
            f"{_pct(ae['acc_reconstructed'])}{versus}",
            settings,
            lower(ae["acc_reconstructed"]),
        ],
        [
            "33-34",
            "frozen pretrained encoder + cell-18 head: lower accuracy",
            rule,
            f"{_pct(ae['acc_encoder'])}{versus}; linear-decoder MSE {ae['mse_linear']:.4f}",
            settings,
            lower(ae["acc_encoder"]),
        ],
    ]


def table_text(table) -> str:
    return ", ".join("".join(map(str, r[:-1])) + f"→{r[-1]}" for r in table)


def _logic_claim(store: ResultStore) -> list[list[str]]:
    logic = store.load_results("logic")
    if not logic:
        return []
    rows = []
    for n in logic.get("neurons", []):
        w = ", ".join(f"{v:g}" for v in n.get("notebook_weights", n["weights"]))
        b = n.get("notebook_bias", n["bias"])
        ok = n.get("computes") and n.get("is_notebook_neuron")
        rows.append(
            [
                "text",
                f"{n['name']} is one Heaviside neuron θ(w·x + b)",
                "holds if the neuron with the notebook's w, b gives the function's value on every input "
                "(exhaustive truth table, exact arithmetic)",
                f"w = ({w}), b = {b:g}: {table_text(n['truth_table'])} = {n.get('formula', n['name'])}",
                "θ(z) = 1 if z >= 0",
                _verdict(None if ok is None else bool(ok)),
            ]
        )
    single = {s["name"]: s for s in logic.get("single_neuron", [])}
    if "xor" in single:
        rows.append(_xor_neuron_row(single["xor"]))
    nets = {n["name"]: n for n in logic.get("networks", [])}
    if "xor" in nets:
        n = nets["xor"]
        rows.append(
            [
                "text",
                "xor is computed by two layers (via DNF)",
                "holds if logicnets.compile gives a network of two neuron layers that verify proves equal to x ^ y",
                f"{n.get('layers', 2)} layers, {n['hidden']} hidden: {table_text(n['truth_table'])}; "
                + n["verification"],
                "exhaustive truth table",
                _verdict(bool(n["verified"]) and n.get("layers", 2) == 2),
            ]
        )
    return rows


def _xor_neuron_row(s: dict) -> list[str]:
    """The single-neuron claim for xor: the Farkas certificate (or, were it separable, the weights)."""
    if s["separable"]:
        measured = f"a neuron computes it: w = {s['weights']}, b = {s['bias']}"
    else:
        lam = ", ".join(map(str, s["certificate"]))
        measured = (
            f"certificate λ = ({lam}) on rows {', '.join(''.join(map(str, r[:-1])) for r in s['table'])}: "
            "Σ λ_i s_i (x_i, 1) = 0 exactly, so the required signs s_i (w·x_i + b) >= 0 (> 0 on some row) "
            "add up to 0: no (w1, w2, b) exists"
        )
    return [
        "text",
        "xor is not computable by any single threshold neuron",
        "holds if a Farkas certificate (λ >= 0, λ != 0, Σ λ_i s_i (x_i, 1) = 0, s_i = ±1 the wanted "
        "sign) checks in exact rational arithmetic; does not hold if weights computing xor check",
        measured,
        "LP (scipy linprog) finds it, fractions check it",
        _verdict(bool(s["checked"]) and not s["separable"]) if s.get("checked") else stats.INCONCLUSIVE,
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


def _pow2(row: dict) -> str:
    return f"2^{int(row['x']).bit_length() - 1}"


def _settings(row: dict, optimizer: str) -> str:
    return f"{optimizer}, batch 128, {row['epochs']} epochs, {row['n']} seed(s)"
