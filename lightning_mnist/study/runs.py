"""Running a sweep: its points one by one, or each sweep value's seeds as one stacked run
(``Profile.stack_seeds``), skipping points whose result file is already there."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lightning_mnist.errors import ConfigError
from lightning_mnist.study import stacked_runs, sweeps
from lightning_mnist.study.stacked_runs import same_but_seed, stackable
from lightning_mnist.study.store import ResultStore
from lightning_mnist.study.sweeps import Point, Profile, quiet_lightning, sweep_points


def run_sweep(
    name: str,
    profile: Profile,
    out: Path,
    index: int | None = None,
    on_point: Callable[[Point], None] | None = None,
    on_result: Callable[[Point, dict, bool], None] | None = None,
    progress: bool = True,
    values: set | None = None,
) -> list[dict]:
    """Run every point of ``name`` (or only point ``index``, or only those whose sweep value
    is in ``values``), skipping those already done.

    ``on_point(point)`` before each point, ``on_result(point, result, ran)`` after it (``ran``:
    False for a point whose file was reused); ``progress``: each run's per-epoch bar."""
    points = sweep_points(name, profile)
    if index is not None:
        if not 0 <= index < len(points):
            raise ConfigError(f"sweep {name!r} has points 0..{len(points) - 1}, got --index {index}")
        points = [points[index]]
    if values is not None:
        points = [p for p in points if p.x in values]
    store = ResultStore(out, profile)
    results, upstream_rerun = [], False
    with quiet_lightning():
        for group in _groups(points, stack=profile.stack_seeds and index is None):
            for point in group:
                if on_point:
                    on_point(point)
            # Points after a rerun checkpointing point may load its checkpoint: rerun them too.
            done, ran = _run_group(group, store, progress, rerun=upstream_rerun)
            upstream_rerun = upstream_rerun or any(group[i].checkpoint for i in ran)
            for i, point in enumerate(group):
                results.append(done[i])
                if on_result:
                    on_result(point, done[i], i in ran)
    return results


def _run_group(group: list[Point], store: ResultStore, progress: bool, rerun: bool) -> tuple[dict, set]:
    """Each point's result in ``group``, and the indices trained now. A point found done (with
    this profile's settings) is reused; the others are trained under their point locks, after a
    second look (another process on the same point may have finished it while we waited)."""
    done = {} if rerun else {i: r for i, p in enumerate(group) if (r := store.load(p)) is not None}
    todo = [i for i in range(len(group)) if i not in done]
    if not todo:
        return done, set()
    with store.working_on([group[i] for i in todo]):
        if not rerun:
            done.update({i: r for i in todo if (r := store.load(group[i], warn=False)) is not None})
        todo = [i for i in todo if i not in done]
        profile, out = store.profile, store.out
        # A stacked profile's stackable points always train stacked, one seed alone included
        # (--index, a resumed group), so that every file records how it was made.
        if todo and profile.stack_seeds and stackable(group[todo[0]]):
            stacked = stacked_runs.run_stacked([group[i] for i in todo], profile, out, progress=progress)
            done.update(zip(todo, stacked, strict=True))
        elif todo:
            done[todo[0]] = sweeps.run_point(group[todo[0]], profile, out, progress=progress)
    return done, set(todo)


def _groups(points: list[Point], stack: bool) -> list[list[Point]]:
    """Consecutive points, one per group; with ``stack``, a stackable sweep value's seeds together."""
    groups: list[list[Point]] = []
    for point in points:
        if stack and groups and stackable(point) and same_but_seed(groups[-1][0], point):
            groups[-1].append(point)
        else:
            groups.append([point])
    return groups
