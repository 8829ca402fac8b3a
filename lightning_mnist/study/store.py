"""``ResultStore(out, profile)``: the one owner of a results folder.

Everything a reproduction keeps lives under ``out``, and only this class names paths there::

    points/<sweep>/<key>.json    one run's result, with the settings it was computed with
    results/<name>.json          a stage's result, or a sweep's rows (collect)
    results/record.json          the record of every ``reproduce`` invocation on the folder
    reference/                   the reference profile's points (a store of its own)
    figures/<name>.png, checkpoints/<key>.ckpt, runs/<sweep>/<key>/   pictures, weights, logs
    report.md, report.html, claims.csv
    .lock, .locks/<sweep>/<key>.lock   held by whoever works on the folder, on a point

A store is built for one profile (``None``: whatever the folder holds): a file computed with
other settings is stale, so it is rerun (with a warning) and never reported as this profile's.
The store is passed as an argument; nothing is kept in module state, so two stores (a profile
and its reference, or two tests) never see each other's choices.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import re
import statistics
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lightning_mnist.errors import ConfigError, MissingResultsError
from lightning_mnist.study import locks
from lightning_mnist.study.points import (
    OPTIONAL_SETTINGS,
    PROFILES,
    Point,
    Profile,
    point_file,
    point_settings,
    settings_mismatch,
    sweep_points,
)
from logicnets.files import atomic_write

__all__ = ["OPTIONAL_SETTINGS", "ResultFileError", "ResultStore", "settings_mismatch"]

# atomic_write's temporary files: ".<name>.<8 random characters of mkstemp>.tmp" beside the target.
TEMP_NAME = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")


class ResultFileError(ConfigError):
    """A result file parses but holds a value of the wrong kind (edited by hand, or not ours)."""


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# The fields of a point file that the study computes with, and what each must be.
POINT_FIELDS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "test_acc": ("a number or null", lambda v: v is None or _number(v)),
    "train_seconds": ("a number", _number),
    "cpu_seconds": ("a number or null", lambda v: v is None or _number(v)),
    "x": ("a number or null", lambda v: v is None or _number(v)),
    "epochs": ("a whole number", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "seed": ("a whole number", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "test": ("an object of numbers", lambda v: isinstance(v, dict) and all(map(_number, v.values()))),
    "settings": ("an object", lambda v: isinstance(v, dict)),
}


def check_point_file(path: Path, result: Any) -> dict:
    """``result`` if every field the study reads has the right kind; else ResultFileError."""
    if not isinstance(result, dict):
        raise ResultFileError(f"{path}: a point file holds one JSON object, not {type(result).__name__}")
    for name, (kind, ok) in POINT_FIELDS.items():
        if name in result and not ok(result[name]):
            raise ResultFileError(
                f"{path}: {name} is {result[name]!r}, not {kind}; delete the file to rerun the point, or restore it"
            )
    return result


class ResultStore:
    """The results folder ``out`` as seen by ``profile`` (None: every file counts)."""

    def __init__(self, out: str | os.PathLike, profile: Profile | None = None, snapshot: bool = False) -> None:
        self.out = Path(out)
        self.profile = profile
        # A snapshot reads each JSON file once (a report: many claims read the same results);
        # a working store always reads the disk, where runs in other stores keep writing.
        self._read: dict[Path, Any] | None = {} if snapshot else None

    def snapshot(self) -> ResultStore:
        """A store of the same folder and profile that reads each JSON file at most once."""
        return ResultStore(self.out, self.profile, snapshot=True)

    def __repr__(self) -> str:
        return f"ResultStore({str(self.out)!r}, {getattr(self.profile, 'name', None)!r})"

    # -- paths -----------------------------------------------------------------------------
    def point_path(self, point: Point) -> Path:
        return point_file(self.out, point.sweep, point.key)

    def points_folder(self, sweep: str) -> Path:
        return self.out / "points" / sweep

    def results_path(self, name: str) -> Path:
        return self.out / "results" / f"{name}.json"

    @property
    def record_path(self) -> Path:
        return self.results_path("record")

    def figure_path(self, name: str) -> Path:
        return self.out / "figures" / f"{name}.png"

    def checkpoint_path(self, key: str) -> Path:
        return self.out / "checkpoints" / f"{key}.ckpt"

    @property
    def runs_folder(self) -> Path:
        return self.out / "runs"

    def report_path(self, name: str = "report.md") -> Path:
        return self.out / name

    def expand(self, arg: str) -> str:
        """A point's override with ``{out}`` (the results folder) filled in."""
        return arg.replace("{out}", str(self.out))

    def reference(self) -> ResultStore:
        """The store of this profile's reference points (``Profile.reference``), in ``reference/``."""
        if self.profile is None or self.profile.reference is None:
            raise ConfigError(f"{self}: the profile has no reference points")
        if self.profile.reference not in PROFILES:
            raise ConfigError(
                f"profile {self.profile.name!r}: reference profile {self.profile.reference!r} "
                f"is not one of {sorted(PROFILES)}"
            )
        return ResultStore(self.out / "reference", PROFILES[self.profile.reference])

    # -- reading and writing ---------------------------------------------------------------
    def write_json(self, path: Path, data: Any) -> Path:
        """Write ``data`` as JSON, atomically (never half a file)."""
        if self._read is not None:
            self._read.pop(path, None)
        return atomic_write(path, json.dumps(data, indent=1))

    def read_json(self, path: Path) -> Any:
        if self._read is None:
            return json.loads(path.read_text())
        if path not in self._read:
            self._read[path] = json.loads(path.read_text())
        return copy.deepcopy(self._read[path])  # the caller may change what it got

    def load_results(self, name: str) -> Any:
        """``results/<name>.json``, or None when absent or recorded by another profile."""
        path = self.results_path(name)
        if not path.exists():
            return None
        data = self.read_json(path)
        records = data if isinstance(data, list) else [data]
        recorded = {r.get("profile") for r in records if isinstance(r, dict)} - {None}
        if self.profile is not None and recorded and recorded != {self.profile.name}:
            return None
        return data

    def load(self, point: Point, warn: bool = True) -> dict | None:
        """``point``'s result if it was computed with this profile's settings; else None (and a
        warning naming the file and the difference when one is there)."""
        path = self.point_path(point)
        if not path.exists():
            return None
        try:
            result = self.read_json(path)
        except (OSError, ValueError) as err:
            if warn:
                warnings.warn(f"{path}: unreadable result ({err}); rerunning the point", stacklevel=2)
            return None
        if isinstance(result, dict):
            check_point_file(path, result)
        recorded = result.get("settings") if isinstance(result, dict) else None
        why = settings_mismatch(recorded, point_settings(point, self.profile))
        if why is None:
            return result
        if warn:
            warnings.warn(f"{path} is stale ({why}); rerunning the point", stacklevel=2)
        return None

    def save(self, point: Point, result: dict) -> Path:
        return self.write_json(self.point_path(point), result)

    def runs(self, name: str) -> list[dict]:
        """The per-seed results of sweep ``name`` that belong to this store's profile."""
        if self.profile is not None:
            found = [self.load(p, warn=False) for p in sweep_points(name, self.profile)]
            return [r for r in found if r is not None]
        results = []
        for f in sorted(self.points_folder(name).glob("*.json")):
            try:
                r = self.read_json(f)
            except (OSError, ValueError):
                continue
            if isinstance(r, dict):
                results.append(check_point_file(f, r))
        return results

    def collect(self, name: str) -> list[dict]:
        """Mean, standard deviation and count of test accuracy (and time) per sweep value,
        written to ``results/<name>.json``. With a profile only its points computed with its
        settings count; without, every result file of the sweep does."""
        results = self._collected_runs(name)
        groups: dict = {}
        for r in results:
            groups.setdefault(r["x"], []).append(r)
        rows = [_row(x, runs, self.profile) for x, runs in sorted(groups.items(), key=_value_order)]
        self.write_json(self.results_path(name), rows)
        return rows

    def _collected_runs(self, name: str) -> list[dict]:
        folder = self.points_folder(name)
        results = self.runs(name)
        total = len(sweep_points(name, self.profile)) if self.profile is not None else len(results)
        if results and len(results) < total:
            warnings.warn(
                f"sweep {name!r}: {len(results)} of {total} points of profile {self.profile.name!r} "
                f"are done in {folder}; collecting those",
                stacklevel=3,
            )
        if not results:
            which = f" for profile {self.profile.name!r}" if self.profile is not None else ""
            option = f" --profile {self.profile.name}" if self.profile is not None else ""
            raise MissingResultsError(
                f"no results for sweep {name!r}{which} in {folder}; run it first "
                f"(lightning-mnist sweep {name}{option} --out {self.out})"
            )
        return results

    # -- the stage cache -------------------------------------------------------------------
    def stage_settings(self) -> dict:
        """What determines a stage's result (recorded in its file)."""
        return {"profile": self.profile.name, "data": self.profile.data_kwargs()}

    def stage(self, name: str, fn: Callable[[Profile, ResultStore], dict]) -> dict:
        """Stage ``name``'s result: the file's if it records this profile's settings, else ``fn``'s
        (written)."""
        path, wanted = self.results_path(name), self.stage_settings()
        if path.exists():
            try:
                done = self.read_json(path)
            except (OSError, ValueError) as err:
                done, why = None, f"unreadable: {err}"
            else:
                why = settings_mismatch(done.get("settings") if isinstance(done, dict) else None, wanted)
            if why is None:
                return done
            warnings.warn(f"{path} is stale ({why}); rerunning stage {name!r}", stacklevel=2)
        result = {"stage": name, "profile": self.profile.name, **fn(self.profile, self), "settings": wanted}
        self.write_json(path, result)
        return result

    # -- the record of invocations ---------------------------------------------------------
    def sessions(self) -> list[dict]:
        """The recorded invocations (none when the record is missing or unreadable)."""
        try:
            record = self.read_json(self.record_path) if self.record_path.exists() else {}
        except (OSError, ValueError):
            return []
        sessions = record.get("sessions", []) if isinstance(record, dict) else []
        return [s for s in sessions if isinstance(s, dict)] if isinstance(sessions, list) else []

    def record(self, session: dict) -> dict:
        """Append ``session`` to the record. A record that cannot be read is not overwritten:
        it is moved aside (``record.json.corrupt-<time>``) with a warning naming both files."""
        path = self.record_path
        sessions = self.sessions()
        if not sessions and path.exists() and not self._record_is_empty():
            aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}")
            os.replace(path, aside)
            warnings.warn(
                f"{path} could not be read; moved it to {aside} (its earlier invocations are there) "
                "and started a new record",
                stacklevel=2,
            )
        record = {"sessions": [*sessions, session]}
        self.write_json(path, record)
        return record

    def _record_is_empty(self) -> bool:
        try:
            return self.read_json(self.record_path) in ({}, {"sessions": []})
        except (OSError, ValueError):
            return False

    # -- working on the folder -------------------------------------------------------------
    @contextmanager
    def working(self, wait: bool = False, shared: bool = False) -> Iterator[ResultStore]:
        """Hold the folder's lock (``.lock``) for the block. Exclusive (a reproduction): first
        clear the temporary files killed writers left (only atomic_write's, only those older than
        the lock: no writer is left then). ``shared`` (sweeps, each on its own points): beside
        other sweeps, never beside a reproduction. ``wait``: wait for the lock instead of
        refusing in one line."""
        self.check_folder()
        what = f"results folder {self.out}"
        with locks.hold(self.out / ".lock", wait=wait, what=what, shared=shared) as since:
            if not shared:
                self.clean_temporaries(since)
            yield self

    @contextmanager
    def working_on(self, points: list[Point]) -> Iterator[None]:
        """Hold each point's lock (waiting for another process on the same point)."""
        with locks.hold_all([self.out / ".locks" / p.sweep / f"{p.key}.lock" for p in points]):
            yield

    def check_folder(self) -> None:
        """Refuse, in one line, an ``out`` that exists and is not a folder (a link counts as what it names)."""
        if self.out.exists() and not self.out.is_dir():
            raise ConfigError(f"--out {self.out} is not a folder; choose a folder for the results")

    def clean_temporaries(self, before: float) -> list[Path]:
        """Delete atomic_write's temporary files older than ``before`` under the folder (no link followed)."""
        removed = []
        for root, _dirs, files in os.walk(self.out, followlinks=False):
            for name in files:
                path = Path(root) / name
                if TEMP_NAME.fullmatch(name) and _older_regular_file(path, before):
                    with contextlib.suppress(OSError):  # gone already, or not ours to remove: leave it
                        path.unlink()
                        removed.append(path)
        return removed


def _older_regular_file(path: Path, before: float) -> bool:
    import stat

    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and st.st_mtime < before


def _value_order(item: tuple) -> tuple:
    return (item[0] is None, item[0] or 0)


def _row(x: Any, runs: list[dict], profile: Profile | None) -> dict:
    """One sweep value's summary row."""
    accs = [r["test_acc"] for r in runs]
    secs = [r["train_seconds"] for r in runs]
    return {
        "x": x,
        "n": len(runs),
        "epochs": runs[0]["epochs"],
        "acc_mean": statistics.fmean(accs),
        "acc_std": statistics.stdev(accs) if len(accs) > 1 else 0.0,
        "seconds_mean": statistics.fmean(secs),
        **({"profile": profile.name} if profile is not None else {}),
    }
