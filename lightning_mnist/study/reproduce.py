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
import functools
import importlib
import json
import os
import platform
import shlex
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import torch
from tqdm.auto import tqdm

from lightning_mnist.errors import ConfigError
from lightning_mnist.study.registry import SWEEPS_IN_ORDER
from lightning_mnist.study.runs import run_sweep
from lightning_mnist.study.sweeps import (
    MLP_SWEEPS,
    PROFILES,
    Profile,
    bf16_is_native,
    collect,
    quiet_lightning,
    settings_mismatch,
    sweep_points,
    write_json,
)


def stage_grid(profile: Profile, out: Path) -> dict:
    """Cells 7-9: 20 x 20 (l1, l2) grid, 10 GD iterations each, all 400 models in one program."""
    from lightning_mnist.data.datamodule import MNISTDataModule
    from lightning_mnist.study.grid import grid_accuracy, reg_coeffs

    dm = MNISTDataModule(batch_size=None, val_split="test", **profile.data_kwargs())  # the notebook's data
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


# The notebook's one-neuron weights (its text): θ(w·x + b), θ(z) = [z >= 0].
NOTEBOOK_NEURONS = {
    "and": ("x & y", (1, 1), -1.5),
    "or": ("x | y", (1, 1), -0.5),
    "not": ("~x", (-1,), 0.5),
}
SPECS = {"and": lambda x, y: x & y, "or": lambda x, y: x | y, "not": lambda x: 1 - x, "xor": lambda x, y: x ^ y}


def _rows(n: int) -> list[list[int]]:
    return [[(r >> (n - 1 - i)) & 1 for i in range(n)] for r in range(2**n)]


def stage_logic(profile: Profile, out: Path) -> dict:
    """The boolean part, each claim proven as stated.

    - ``neurons``: and / or / not are each one neuron with the notebook's weights: logicnets'
      neuron has them, and it and the exact rational evaluation agree with the function on
      every input;
    - ``single_neuron``: for and / or / not / xor, a proof that one threshold neuron computes
      the function (weights, checked exactly) or that none does (a Farkas certificate checked
      in rational arithmetic, :func:`lightning_mnist.study.stats.separability`);
    - ``networks``: each formula compiled to a two-layer network and ``verify``-ed.
    """
    from lightning_mnist.study.stats import neuron_computes, separability
    from logicnets import and_neuron, compile, not_neuron, or_neuron, verify

    neurons = []
    for name, neuron in (("and", and_neuron(2)), ("or", or_neuron(2)), ("not", not_neuron())):
        formula, w, b = NOTEBOOK_NEURONS[name]
        table = _rows(len(w))
        spec = [SPECS[name](*r) for r in table]
        outputs = [int(o) for o in neuron(table)]
        neurons.append(
            {
                "name": name,
                "formula": formula,
                "weights": [float(v) for v in neuron.weights],
                "bias": float(neuron.bias),
                "notebook_weights": [float(v) for v in w],
                "notebook_bias": float(b),
                "truth_table": [[*r, o] for r, o in zip(table, outputs, strict=True)],
                "spec": [[*r, o] for r, o in zip(table, spec, strict=True)],
                "is_notebook_neuron": [float(v) for v in neuron.weights] == list(map(float, w))
                and float(neuron.bias) == b,
                "computes": outputs == spec
                and neuron_computes(w, b, [(r, o) for r, o in zip(table, spec, strict=True)]),
            }
        )
    single = []
    for name, fn in SPECS.items():
        n = 1 if name == "not" else 2
        table = [(tuple(r), fn(*r)) for r in _rows(n)]
        single.append({"name": name, "table": [[*x, o] for x, o in table], **separability(table)})
    networks = []
    for name, formula in (("and", "x & y"), ("or", "x | y"), ("not", "~x"), ("xor", "x ^ y")):
        net = compile(formula)
        table = _rows(len(net.inputs))
        check = verify(net, formula)
        networks.append(
            {
                "name": name,
                "formula": formula,
                "inputs": list(net.inputs),
                "layers": len(net.layers),
                "hidden": net.hidden_size,
                "network": str(net),
                "truth_table": [[*r, int(o)] for r, o in zip(table, net(table), strict=True)],
                "verified": bool(check),
                "verification": str(check),
            }
        )
    return {"neurons": neurons, "single_neuron": single, "networks": networks}


def summarize_autoencoders(results: list[dict], profile: Profile, out: Path) -> dict:
    """One record of the autoencoder studies, and the cell-21 / cell-33 pictures."""
    from lightning_mnist.study.figures import autoencoder_grid

    by = {r["key"]: r for r in results}
    dropout = out / "results" / "seed_dropout.json"
    rows = json.loads(dropout.read_text()) if dropout.exists() else None
    original = rows[0]["acc_mean"] if rows and rows[0].get("profile", profile.name) == profile.name else None
    for key, figure in (("autoencoder", "reconstructions_sigmoid"), ("autoencoder_linear", "reconstructions_linear")):
        ckpt, picture = out / "checkpoints" / f"{key}.ckpt", out / "figures" / f"{figure}.png"
        # A clone has the committed pictures but not the (ignored) checkpoints: keep the pictures.
        if ckpt.exists() or not picture.exists():
            autoencoder_grid(ckpt, picture, data_dir=profile.data_dir, verify_checksums=profile.verify_checksums)
    summary = {
        "epochs": by["autoencoder"]["epochs"],
        "mse_sigmoid": by["autoencoder"]["test"]["test/mse"],
        "mse_linear": by["autoencoder_linear"]["test"]["test/mse"],
        "acc_reconstructed": by["reconstructed_dropout"]["test_acc"],
        "acc_encoder": by["encoder_classifier"]["test_acc"],
        "acc_original": original,
        "limit_train_batches": profile.limit_train_batches,
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


REFERENCE = "reference"  # the profile's reference points (Profile.reference), in <out>/reference
STAGES = (*EXTRA_STAGES, *SWEEPS_IN_ORDER, REFERENCE)


def reference_points(profile: Profile) -> list[tuple[str, Profile, set]]:
    """(sweep, reference profile, values) of each sweep with reference points."""
    if profile.reference is None:
        return []
    if profile.reference not in PROFILES:
        raise ConfigError(
            f"profile {profile.name!r}: reference profile {profile.reference!r} is not one of {sorted(PROFILES)}"
        )
    ref = PROFILES[profile.reference]
    wanted: dict[str, set] = {}
    for sweep, value in profile.reference_points:
        if not any(p.x == value for p in sweep_points(sweep, ref)):
            raise ConfigError(f"profile {profile.name!r}: reference point {sweep}={value} is no point of {ref.name!r}")
        wanted.setdefault(sweep, set()).add(value)
    return [(sweep, ref, values) for sweep, values in wanted.items()]


def check_only(only: list[str] | None) -> None:
    """Refuse ``--only`` names that are no stage (an empty report is no answer)."""
    if only is None:
        return
    if not only:
        raise ConfigError(f"--only needs at least one stage: {', '.join(STAGES)}")
    unknown = [name for name in only if name not in STAGES]
    if unknown:
        raise ConfigError(f"--only: unknown stage(s) {', '.join(unknown)}; choose from {', '.join(STAGES)}")


def _git_commit() -> dict | None:
    """The checkout's commit and whether its tracked files differ from it; None outside git."""
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": head, "modified": bool(dirty)} if head else None


def _version(dist: str, module: str | None = None) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        try:
            return getattr(importlib.import_module(module or dist), "__version__", None)
        except ImportError:
            return None


def versions() -> dict:
    """Versions of Python and the libraries the results depend on (None: not installed)."""
    from lightning_mnist import backend

    return {
        "python": platform.python_version(),
        "lightning_mnist": _version("lightning_mnist"),
        "torch": _version("torch"),
        f"{backend.BACKEND} (the backend)": getattr(backend.pl, "__version__", None),
        "torchmetrics": _version("torchmetrics"),
        "numpy": _version("numpy"),
        "scipy": _version("scipy"),
        "sympy": _version("sympy"),
        "matplotlib": _version("matplotlib"),
    }


def machine() -> dict:
    """The platform, CPU model and cores, and GPUs (by name) this process sees."""
    cpu = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count()
    gpus: list[str] = []
    native_bf16 = None
    try:
        if torch.cuda.is_available():
            gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        native_bf16 = bf16_is_native()
    except Exception:  # a broken driver must not stop the record
        gpus = []
    return {
        "platform": platform.platform(),
        "hostname": platform.node(),
        "cpu": cpu or platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "cpu_vector_isa": torch.backends.cpu.get_cpu_capability(),  # torch's kernels: AVX2, AVX512, ...
        "native_bf16": native_bf16,
        "gpus": gpus,
    }


def record_session(out: Path, session: dict) -> dict:
    """Append this invocation to ``<out>/results/record.json`` (one entry per reproduce run)."""
    path = out / "results" / "record.json"
    try:
        record = json.loads(path.read_text()) if path.exists() else {}
    except (OSError, ValueError):
        record = {}
    sessions = record.get("sessions", []) if isinstance(record, dict) else []
    record = {"sessions": [*sessions, session]}
    write_json(path, record)
    return record


def _result_line(name: str, point, result: dict, ran: bool) -> str:
    if result.get("test_acc") is not None:
        what = f"test accuracy {100 * result['test_acc']:.2f} %"
    else:
        what = ", ".join(f"{k} {v:.4f}" for k, v in result.get("test", {}).items()) or "done"
    secs = f"{result.get('train_seconds', 0.0):.1f} s"
    if result.get("cpu_seconds") is not None:
        secs += f" ({result['cpu_seconds']:.1f} s CPU)"
    return f"{name}/{point.key}: {what}, {secs}" + ("" if ran else " [done before]")


def reproduce(
    profile: Profile,
    out: Path,
    only: list[str] | None = None,
    command: str | None = None,
    progress: bool = False,
    report_copy: Path | None = None,
) -> Path:
    """Run every stage not yet done, then write the report; returns the report's path.

    The outer bar moves once per run (a stage or a sweep point), and each run prints one line
    (its key, accuracy and seconds); ``progress``: also each run's per-epoch bar. ``command``:
    the command line recorded in the report (default: this process's); ``report_copy``: also
    write the Markdown report there (links relative to it)."""
    from lightning_mnist.study.report import write_report

    check_only(only)
    if only and REFERENCE in only and profile.reference is None:
        raise ConfigError(f"--only {REFERENCE}: profile {profile.name!r} has no reference points")
    started, wall0 = time.time(), time.perf_counter()
    code = _git_commit()  # the code that runs, read now: the tree may change before the end
    sweeps = [s for s in SWEEPS_IN_ORDER if not only or s in only]
    extras = {k: v for k, v in EXTRA_STAGES.items() if not only or k in only}
    references = reference_points(profile) if not only or REFERENCE in only else []
    total = sum(len(sweep_points(s, profile)) for s in sweeps) + len(extras)
    total += sum(len([p for p in sweep_points(s, ref) if p.x in values]) for s, ref, values in references)
    trained, stopped_by = 0, "unknown"
    try:
        with quiet_lightning(), tqdm(total=total, desc="reproduction", unit="run", position=0) as bar:
            for name, fn in extras.items():
                bar.set_postfix_str(name)
                t0 = time.perf_counter()
                run_stage(name, fn, profile, out)
                bar.update()
                tqdm.write(f"{name}: done, {time.perf_counter() - t0:.1f} s")

            def advance(name: str, point) -> None:
                bar.set_postfix_str(f"{name} {point.key}")

            def finished(name: str, point, result: dict, ran: bool) -> None:
                nonlocal trained
                trained += ran
                bar.update()
                tqdm.write(_result_line(name, point, result, ran))

            # The reference points first: each comparison is there as soon as its fast side is.
            for name, ref, values in references:
                label = f"{REFERENCE}/{name}"
                run_sweep(
                    name,
                    ref,
                    out / REFERENCE,
                    values=values,
                    on_point=functools.partial(advance, label),
                    on_result=functools.partial(finished, label),
                    progress=progress,
                )
            for name in sweeps:
                results = run_sweep(
                    name,
                    profile,
                    out,
                    on_point=functools.partial(advance, name),
                    on_result=functools.partial(finished, name),
                    progress=progress,
                )
                if name == "autoencoders":
                    summarize_autoencoders(results, profile, out)
                else:
                    collect(name, out, profile)
        stopped_by = None
    except BaseException as err:
        stopped_by = type(err).__name__
        raise
    finally:  # an interrupted or failed invocation is recorded too: its time and runs count
        record_session(
            out,
            {
                "command": command or " ".join(shlex.quote(a) for a in sys.argv),
                "profile": profile.name,
                "only": only,
                "started": datetime.fromtimestamp(started, timezone.utc).isoformat(timespec="seconds"),
                "wall_seconds": time.perf_counter() - wall0,
                "runs": total,
                "runs_trained": trained,
                "completed": stopped_by is None,
                **({"stopped_by": stopped_by} if stopped_by else {}),
                "git": code,
                "versions": versions(),
                "machine": machine(),
            },
        )
    return write_report(out, profile, report_copy)


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
        help="quick: about 16 min on a 2-core CPU; notebook: the notebook's settings, about 9.5 h on "
        "2 CPU cores; notebook-fast: the same with stacked seeds, bf16 where the CPU has it natively "
        "(0.66x the time there) and compiled RMSprop and Adadelta steps, plus reference points run "
        "the notebook way; smoke: a minute, to try the pipeline",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="result directory (default reports/<profile>); results there that record other settings "
        "(another profile's) are rerun, with a warning, and left out of the report",
    )
    parser.add_argument("--only", nargs="*", default=None, help=f"run only these stages: {', '.join(STAGES)}")
    parser.add_argument(
        "--report",
        type=Path,
        default=None,
        help="also write the Markdown report to this file, its figure links relative to it "
        "(e.g. docs/notebook-report.md)",
    )
    parser.add_argument(
        "--progress", action="store_true", help="also show each run's per-epoch progress bar (default: none)"
    )
    args = parser.parse_args(argv)
    check_only(args.only)
    profile = PROFILES[args.profile]
    if profile.precision != (ran := profile.run_precision(MLP_SWEEPS[0])):
        print(f"{profile.name}: no native bf16 on this machine (sweeps.bf16_is_native); its MLP sweeps run {ran}")
    out = args.out or Path("reports") / args.profile
    command = " ".join(
        shlex.quote(a) for a in ["lightning-mnist", "reproduce", *(sys.argv[1:] if argv is None else argv)]
    )
    report = reproduce(profile, out, args.only, command=command, progress=args.progress, report_copy=args.report)
    print(f"report: {report}")
