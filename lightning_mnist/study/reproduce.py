"""``lightning-mnist reproduce``: the whole notebook, one result directory, one report.

Every experiment is a *stage* that writes ``<out>/results/<stage>.json``; sweeps also keep
one file per point (``lightning_mnist.study.sweeps``). A stage or point whose file exists, and
records the settings this run would use, is not run again, so an interrupted reproduction
resumes where it stopped; one whose file records other settings (another profile's results in
the same ``--out``) is rerun, with a warning. The report is then rebuilt from the files alone
(``lightning_mnist.study.report``), leaving out results of another profile.

This module only orders the work: the stages are in ``study.stages``, the record of how the
results were made in ``study.provenance``, the results folder (and its lock) in ``study.store``.
"""

from __future__ import annotations

import functools
import shlex
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from lightning_mnist.errors import ConfigError
from lightning_mnist.study import provenance, stages
from lightning_mnist.study.points import Profile, quiet_lightning, sweep_points
from lightning_mnist.study.registry import SWEEPS_IN_ORDER
from lightning_mnist.study.runs import run_sweep
from lightning_mnist.study.stages import REFERENCE, STAGES, check_only, reference_points, stage_logic  # noqa: F401
from lightning_mnist.study.store import ResultStore


def _result_line(name: str, point, result: dict, ran: bool) -> str:
    if result.get("test_acc") is not None:
        what = f"test accuracy {100 * result['test_acc']:.2f} %"
    else:
        what = ", ".join(f"{k} {v:.4f}" for k, v in result.get("test", {}).items()) or "done"
    secs = f"{result.get('train_seconds', 0.0):.1f} s"
    if result.get("cpu_seconds") is not None:
        secs += f" ({result['cpu_seconds']:.1f} s CPU)"
    return f"{name}/{point.key}: {what}, {secs}" + ("" if ran else " [done before]")


@dataclass
class Plan:
    """What one invocation runs: the extra stages, the sweeps, the reference points."""

    extras: dict
    sweeps: list[str]
    references: list[tuple[str, Profile, set]]
    total: int = 0


def plan(profile: Profile, only: list[str] | None) -> Plan:
    """The work ``--only`` selects (everything without it), and how many runs it counts."""
    check_only(only)
    if only and REFERENCE in only and profile.reference is None:
        raise ConfigError(f"--only {REFERENCE}: profile {profile.name!r} has no reference points")
    work = Plan(
        extras={k: v for k, v in stages.EXTRA_STAGES.items() if not only or k in only},
        sweeps=[s for s in SWEEPS_IN_ORDER if not only or s in only],
        references=reference_points(profile) if not only or REFERENCE in only else [],
    )
    work.total = sum(len(sweep_points(s, profile)) for s in work.sweeps) + len(work.extras)
    work.total += sum(len([p for p in sweep_points(s, ref) if p.x in values]) for s, ref, values in work.references)
    return work


@dataclass
class Progress:
    """The outer bar (one step per run) and one printed line per run; counts the runs trained."""

    bar: tqdm
    trained: int = 0
    stopped_by: str | None = field(default="unknown")

    def advance(self, label: str, point) -> None:
        self.bar.set_postfix_str(f"{label} {point.key}")

    def finished(self, label: str, point, result: dict, ran: bool) -> None:
        self.trained += ran
        self.bar.update()
        tqdm.write(_result_line(label, point, result, ran))

    def callbacks(self, label: str) -> dict:
        return {
            "on_point": functools.partial(self.advance, label),
            "on_result": functools.partial(self.finished, label),
        }


def run_plan(work: Plan, store: ResultStore, progress: Progress, per_epoch_bars: bool) -> None:
    """Every stage and point of ``work`` not done yet: the extra stages, the reference points
    (first, so each comparison is there as soon as its fast side is), then the sweeps."""
    for name, fn in work.extras.items():
        progress.bar.set_postfix_str(name)
        t0 = time.perf_counter()
        store.stage(name, fn)
        progress.bar.update()
        tqdm.write(f"{name}: done, {time.perf_counter() - t0:.1f} s")
    for name, ref, values in work.references:
        label = f"{REFERENCE}/{name}"
        reference = store.reference()
        run_sweep(name, ref, reference.out, values=values, progress=per_epoch_bars, **progress.callbacks(label))
    for name in work.sweeps:
        results = run_sweep(name, store.profile, store.out, progress=per_epoch_bars, **progress.callbacks(name))
        if name == "autoencoders":
            stages.summarize_autoencoders(results, store)
        else:
            store.collect(name)


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
    write the Markdown report there (links relative to it). The results folder is locked for
    the whole invocation: a second ``reproduce`` on it is refused in one line."""
    from lightning_mnist.study.report import write_report

    work = plan(profile, only)
    store = ResultStore(out, profile)
    with store.working():
        clock = {"started": time.time(), "wall0": time.perf_counter(), "git": provenance.git_commit()}
        with quiet_lightning(), tqdm(total=work.total, desc="reproduction", unit="run", position=0) as bar:
            state = Progress(bar)
            try:
                run_plan(work, store, state, progress)
                state.stopped_by = None
            except BaseException as err:
                state.stopped_by = type(err).__name__
                raise
            finally:  # an interrupted or failed invocation is recorded too: its time and runs count
                _record(store, work, state, clock, command, only)
        return write_report(store, copy=report_copy)


def _record(store: ResultStore, work: Plan, state: Progress, clock: dict, command: str | None, only) -> None:
    clock = {**clock, "wall_seconds": time.perf_counter() - clock["wall0"]}
    counts = {"runs": work.total, "runs_trained": state.trained, "stopped_by": state.stopped_by}
    line = command or " ".join(shlex.quote(a) for a in sys.argv)
    try:
        store.record(provenance.session_record(line, only, store.profile.name, clock, counts))
    except OSError as err:
        if state.stopped_by is None:
            raise
        # Already failing (a full disk, say): the first error is the one to report, not this one.
        warnings.warn(f"this invocation was not recorded: {err}", stacklevel=2)


def run_stage(name: str, fn, profile: Profile, out: Path) -> dict:
    """Stage ``name`` of results folder ``out`` (``ResultStore.stage``; ``fn(profile, store)``)."""
    return ResultStore(out, profile).stage(name, fn)
