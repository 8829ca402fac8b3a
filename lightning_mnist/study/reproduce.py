"""``lightning-mnist reproduce``: the whole notebook, one result directory, one report.

Every experiment is a *stage* that writes ``<out>/results/<stage>.json``; sweeps also keep
one file per point (``lightning_mnist.study.sweeps``). A stage or point whose file exists, and
records the settings this run would use, is not run again, so an interrupted reproduction
resumes where it stopped; one whose file records other settings (another profile's results in
the same ``--out``) is rerun, with a warning. The report is then rebuilt from the files alone
(``lightning_mnist.study.report``), leaving out results of another profile.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from tqdm.auto import tqdm

from lightning_mnist.errors import ConfigError
from lightning_mnist.study.sweeps import (
    PROFILES,
    Profile,
    collect,
    run_sweep,
    settings_mismatch,
    sweep_points,
    write_json,
)

CLASSIFIER_SWEEPS = ("softmax_gd", "seed_mlp", "width", "depth_sgd", "depth_rmsprop", "seed_dropout")
SWEEPS_IN_ORDER = (*CLASSIFIER_SWEEPS, "autoencoders")


def stage_grid(profile: Profile, out: Path) -> dict:
    """Cells 7-9: 20 x 20 (l1, l2) grid, 10 GD iterations each, all 400 models in one program."""
    from lightning_mnist.data.datamodule import MNISTDataModule
    from lightning_mnist.study.grid import grid_accuracy, reg_coeffs

    dm = MNISTDataModule(batch_size=None, **profile.data_kwargs())
    dm.setup()
    coeffs = reg_coeffs()
    start = time.perf_counter()
    acc = grid_accuracy(dm.train_set.x, dm.train_set.y, dm.test_set.x, dm.test_set.y, coeffs, coeffs)
    return {
        "l1": coeffs.tolist(),
        "l2": coeffs.tolist(),
        "acc": acc.tolist(),
        "lr": 1.0,
        "iterations": 10,
        "seconds": time.perf_counter() - start,
    }


def stage_logic(profile: Profile, out: Path) -> dict:
    """The boolean part: and / or / not as one neuron, any formula (xor) as two layers."""
    from logicnets import and_neuron, compile, not_neuron, or_neuron, verify

    def rows(n: int) -> list[list[int]]:
        return [[(r >> (n - 1 - i)) & 1 for i in range(n)] for r in range(2**n)]

    neurons = []
    for name, neuron, n in (("and", and_neuron(2), 2), ("or", or_neuron(2), 2), ("not", not_neuron(), 1)):
        table = rows(n)
        neurons.append(
            {
                "name": name,
                "weights": [float(w) for w in neuron.weights],
                "bias": float(neuron.bias),
                "truth_table": [[*r, int(o)] for r, o in zip(table, neuron(table), strict=True)],
            }
        )
    networks = []
    for name, formula in (("and", "x & y"), ("or", "x | y"), ("not", "~x"), ("xor", "x ^ y")):
        net = compile(formula)
        table = rows(len(net.inputs))
        check = verify(net, formula)
        networks.append(
            {
                "name": name,
                "formula": formula,
                "inputs": list(net.inputs),
                "hidden": net.hidden_size,
                "network": str(net),
                "truth_table": [[*r, int(o)] for r, o in zip(table, net(table), strict=True)],
                "verified": bool(check),
                "verification": str(check),
            }
        )
    return {"neurons": neurons, "networks": networks}


def summarize_autoencoders(results: list[dict], profile: Profile, out: Path) -> dict:
    """One record of the autoencoder studies, and the cell-21 / cell-33 pictures."""
    from lightning_mnist.study.figures import autoencoder_grid

    by = {r["key"]: r for r in results}
    dropout = out / "results" / "seed_dropout.json"
    rows = json.loads(dropout.read_text()) if dropout.exists() else None
    original = rows[0]["acc_mean"] if rows and rows[0].get("profile", profile.name) == profile.name else None
    for key, figure in (("autoencoder", "reconstructions_sigmoid"), ("autoencoder_linear", "reconstructions_linear")):
        autoencoder_grid(
            out / "checkpoints" / f"{key}.ckpt",
            out / "figures" / f"{figure}.png",
            data_dir=profile.data_dir,
            verify_checksums=profile.verify_checksums,
        )
    summary = {
        "epochs": by["autoencoder"]["epochs"],
        "mse_sigmoid": by["autoencoder"]["test"]["test/mse"],
        "mse_linear": by["autoencoder_linear"]["test"]["test/mse"],
        "acc_reconstructed": by["reconstructed_dropout"]["test_acc"],
        "acc_encoder": by["encoder_classifier"]["test_acc"],
        "acc_original": original,
        "profile": profile.name,
    }
    write_json(out / "results" / "autoencoders.json", summary)
    return summary


EXTRA_STAGES: dict[str, Callable[[Profile, Path], dict]] = {
    "grid": stage_grid,
    "logic": stage_logic,
}


def stage_settings(profile: Profile) -> dict:
    """What determines a stage's result (recorded in its file)."""
    return {"profile": profile.name, "data": profile.data_kwargs()}


def run_stage(name: str, fn: Callable[[Profile, Path], dict], profile: Profile, out: Path) -> dict:
    path = out / "results" / f"{name}.json"
    wanted = stage_settings(profile)
    if path.exists():
        try:
            done = json.loads(path.read_text())
        except (OSError, ValueError) as err:
            done, why = None, f"unreadable: {err}"
        else:
            why = settings_mismatch(done.get("settings") if isinstance(done, dict) else None, wanted)
        if why is None:
            return done
        warnings.warn(f"{path} is stale ({why}); rerunning stage {name!r}", stacklevel=2)
    result = {"stage": name, "profile": profile.name, **fn(profile, out), "settings": wanted}
    write_json(path, result)
    return result


STAGES = (*EXTRA_STAGES, *SWEEPS_IN_ORDER)


def check_only(only: list[str] | None) -> None:
    """Refuse ``--only`` names that are no stage (an empty report is no answer)."""
    if only is None:
        return
    if not only:
        raise ConfigError(f"--only needs at least one stage: {', '.join(STAGES)}")
    unknown = [name for name in only if name not in STAGES]
    if unknown:
        raise ConfigError(f"--only: unknown stage(s) {', '.join(unknown)}; choose from {', '.join(STAGES)}")


def reproduce(profile: Profile, out: Path, only: list[str] | None = None) -> Path:
    """Run every stage not yet done, then write the report; returns the report's path."""
    from lightning_mnist.study.report import write_report

    check_only(only)
    sweeps = [s for s in SWEEPS_IN_ORDER if not only or s in only]
    extras = {k: v for k, v in EXTRA_STAGES.items() if not only or k in only}
    total = sum(len(sweep_points(s, profile)) for s in sweeps) + len(extras)
    with tqdm(total=total, desc="reproduction", unit="run", position=0) as bar:
        for name, fn in extras.items():
            bar.set_postfix_str(name)
            run_stage(name, fn, profile, out)
            bar.update()
        for name in sweeps:

            def advance(point, _name=name):
                bar.set_postfix_str(f"{_name} {point.key}")

            results = run_sweep(name, profile, out, on_point=advance)
            bar.update(len(sweep_points(name, profile)))
            if name == "autoencoders":
                summarize_autoencoders(results, profile, out)
            else:
                collect(name, out, profile)
    return write_report(out, profile)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="lightning-mnist reproduce",
        description="Run the whole notebook and write report.md / report.html with every figure. "
        "SIGTERM (a preempted job) keeps the finished points, abandons the current one and exits 143; "
        "the same command resumes.",
    )
    parser.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        default="quick",
        help="quick: about 16 min on a 2-core CPU; notebook: the exact settings (GPU); "
        "smoke: a minute, to try the pipeline",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="result directory (default reports/<profile>); results there that record other settings "
        "(another profile's) are rerun, with a warning, and left out of the report",
    )
    parser.add_argument("--only", nargs="*", default=None, help=f"run only these stages: {', '.join(STAGES)}")
    args = parser.parse_args(argv)
    check_only(args.only)
    out = args.out or Path("reports") / args.profile
    report = reproduce(PROFILES[args.profile], out, args.only)
    print(f"report: {report}")
