"""logicnets vs ESPRESSO on PLA files, side by side in one run.

Per PLA: ESPRESSO's cube count and wall time (``espresso FILE``: multi-output, with
don't-cares; a subprocess, start-up included), and logicnets' network: hidden neurons, cover
cubes, the engine that ran (``net.stats``), compile seconds (read + minimize + merge), the
seconds and verdict of ``verify_function`` and the peak memory.

Each PLA runs in a worker subprocess of its own (``bench_pla.py --worker FILE``) under a wall
timeout and an address-space limit set with ``resource.setrlimit`` in the worker, so that one
PLA that parses badly, is refused, runs for minutes or exhausts memory is a row saying so and
not the end of the bench. The worker prints its row as JSON (once when it starts, once after
compiling, once at the end), so a timeout during verification still reports the network.

ESPRESSO is built from ``--espresso-src`` into a cache folder keyed by a digest of the
sources (outside the repository); when it cannot be built its columns are empty and the
reason is printed. ESPRESSO runs under the same limits.

Exit status: 1 if a network is verified wrong (with ``--strict`` also when any PLA was not
compiled and verified, or ESPRESSO failed on one); 2 for bad arguments; 130 on Ctrl-C.

    nice -n 10 .venv/bin/python scripts/bench/bench_pla.py [PLA files or folders] \\
        [--markdown docs/logicnets-pla.md] [--json rows.json] [--jobs 2] [--max-inputs 16]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import datetime
import glob
import hashlib
import itertools
import json
import os
import platform
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCRIPT = os.path.abspath(__file__)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(SCRIPT)))
# The shared PLAs and the ESPRESSO sources sit in ../shared beside the checkout.
SHARED = Path(ROOT).parent / "shared"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache"))) / "logicnets-espresso"

DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MEMORY_MB = 2048
#: Statuses of a row whose network exists (the other statuses say why there is none).
COMPILED = ("verified", "WRONG", "not verified", "compiled")
MARK_BEGIN = "<!-- bench_pla.py: begin (generated; edits here are overwritten) -->"
MARK_END = "<!-- bench_pla.py: end -->"


class UsageError(Exception):
    """Bad arguments: one line for the user, exit 2."""


# ----------------------------------------------------------------------------- the worker


def limit_memory(megabytes: int) -> None:
    """Cap this process' address space, so that a blow-up is a MemoryError, not a swapping machine."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = megabytes << 20
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def peak_mb() -> float:
    """Peak resident memory of this process in MiB (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1 << 20 if sys.platform == "darwin" else 1 << 10), 1)


def header_counts(path: str) -> tuple[int | None, int | None]:
    """``.i`` and ``.o`` of a PLA by a token scan (no parsing), for rows whose read failed."""
    found: dict[str, int | None] = {".i": None, ".o": None}
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                tokens = line.split("#", 1)[0].split()
                for key, value in itertools.pairwise(tokens):
                    if key in found and found[key] is None and value.isdigit():
                        found[key] = int(value)
                if None not in found.values():
                    break
    except OSError:
        pass
    return found[".i"], found[".o"]


def engine_label(stats: dict) -> str:
    """The engine/method that ran, from ``net.stats`` (whatever keys the compiler sets)."""
    parts = [str(stats[k]) for k in ("engine", "method") if stats.get(k) not in (None, "")]
    return "; ".join(dict.fromkeys(parts)) or "?"


def emit(row: dict, out) -> None:
    """One JSON line to the parent (a later line supersedes an earlier one)."""
    out.write(json.dumps(row, sort_keys=True) + "\n")
    out.flush()


def jsonable(stats: dict) -> dict:
    """``net.stats`` with values JSON can carry (others as text)."""
    return {str(k): v if isinstance(v, (int, float, str, bool, type(None))) else str(v) for k, v in stats.items()}


#: A small multi-output PLA with don't-cares, compiled once before the clock starts.
WARM_UP_PLA = ".i 4\n.o 2\n11-- 10\n1-1- 11\n-11- 01\n0001 -1\n---1 -0\n.e\n"
#: Libraries the compiler and the verifier import on first use (those installed are loaded before timing).
LAZY_IMPORTS = ("scipy.optimize", "scipy.sparse", "pysat.solvers", "pysat.card", "pysat.formula")


def warm_up() -> float:
    """Load the lazily imported libraries and run one tiny compile + verify; return the seconds.

    The bench measures the engine as a long-running process would see it (as an in-process
    bench would after its first PLA): a fresh worker per PLA would otherwise charge every PLA
    the ~0.7 s of importing scipy.optimize. Start-up time is a separate concern of the CLI.
    """
    import importlib

    from logicnets.construct.placompile import compile_function
    from logicnets.pla.format import read_pla
    from logicnets.prove.function_check import verify_function

    t0 = time.perf_counter()
    for name in LAZY_IMPORTS:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "warm_up.pla")
        Path(path).write_text(WARM_UP_PLA, encoding="utf-8")
        f = read_pla(path).function()
        verify_function(compile_function(f), f)
    return round(time.perf_counter() - t0, 4)


def compile_and_verify(path: str, threshold: bool, row: dict, out) -> None:
    """Read, compile and verify one PLA, filling ``row`` stage by stage (exceptions go up)."""
    from logicnets.construct.placompile import compile_function
    from logicnets.pla.format import read_pla
    from logicnets.prove.function_check import verify_function

    row["stage"] = "warm-up"
    row["warmup_s"] = warm_up()
    row["stage"] = "read"
    t0 = time.perf_counter()
    pla = read_pla(path)
    row.update(inputs=pla.n_inputs, outputs=pla.n_outputs, stage="compile")
    f = pla.function()
    net = compile_function(f) if threshold else compile_function(f, threshold=False)
    stats = jsonable(dict(getattr(net, "stats", {}) or {}))
    row.update(
        compile_s=round(time.perf_counter() - t0, 4),
        hidden=int(net.hidden_size),
        cubes=stats.get("cubes"),
        engine=engine_label(stats),
        stats=stats,
        status="compiled",
        stage="verify",
    )
    emit(row, out)
    t1 = time.perf_counter()
    check = verify_function(net, f)
    row["verify_s"] = round(time.perf_counter() - t1, 4)
    row["verdict"] = bool(check)
    row["status"] = "verified" if check else "WRONG"
    if not check:
        row["message"] = " | ".join(str(check.summary()).splitlines()[:5])
    row["stage"] = "done"


def failure_status(exc: BaseException, stage: str) -> str:
    """The row status for an exception raised at ``stage`` of the worker."""
    if isinstance(exc, MemoryError):
        return "out of memory"
    try:
        from logicnets.errors import LogicError, PlaError
    except Exception:  # logicnets itself failed to import: the exception says why
        return "error"
    if isinstance(exc, PlaError) and stage == "read":
        return "parse error"
    if isinstance(exc, LogicError):
        return "not verified" if stage == "verify" else "refused"
    return "error"


def worker(path: str, memory_mb: int, threshold: bool) -> int:
    """Run one PLA under the memory limit and print its row as JSON lines on stdout."""
    limit_memory(memory_mb)
    sys.path.insert(0, ROOT)
    out, sys.stdout = sys.stdout, sys.stderr  # only rows on the real stdout
    inputs, outputs = header_counts(path)
    row: dict = {"file": path, "name": os.path.basename(path), "inputs": inputs, "outputs": outputs}
    row.update(status="started", stage="import", memory_mb=memory_mb)
    emit(row, out)
    try:
        compile_and_verify(path, threshold, row, out)
    except Exception as exc:  # MemoryError included: a row that says what went wrong, never a crash
        row["status"] = failure_status(exc, row["stage"])
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        row["message"] = f"{type(exc).__name__} during {row['stage']}" + (f": {text}" if text else "")
    row["peak_mb"] = peak_mb()
    emit(row, out)
    return 0


# ----------------------------------------------------------------------------- ESPRESSO


def source_digest(src: Path) -> str:
    """A digest of every file of the ESPRESSO sources: a changed source means a new build."""
    h = hashlib.sha256()
    for p in sorted(q for q in src.rglob("*") if q.is_file()):
        h.update(str(p.relative_to(src)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:12]


def _shown(path: Path) -> str:
    """A path as the report shows it: under the home folder as ~, beside the checkout relative."""
    path = Path(path).resolve()
    for base, name in ((Path(ROOT).parent, ".."), (Path.home(), "~")):
        if path.is_relative_to(base):
            return str(Path(name) / path.relative_to(base))
    return str(path)


def build_espresso(src: Path, cache: Path, rebuild: bool = False) -> tuple[str | None, str]:
    """Path of an espresso binary built from ``src`` (cached by digest) or None, and how/why."""
    if not src.is_dir():
        return None, f"ESPRESSO source {src} not found (give --espresso-src)"
    if shutil.which("make") is None or shutil.which(os.environ.get("CC", "cc")) is None:
        return None, "make or a C compiler (cc) is missing"
    digest = source_digest(src)
    target = cache / f"espresso-{digest}"
    binary = target / "bin" / "espresso"
    if binary.exists() and not rebuild:
        return str(binary), f"cached build {_shown(binary)} of {_shown(src)} (sources {digest})"
    cache.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=cache, prefix=".build-"))
    try:
        shutil.copytree(src, tmp / "src")
        proc = subprocess.run(["make", "-C", str(tmp / "src"), "-j2"], capture_output=True, text=True)
        if proc.returncode != 0 or not (tmp / "bin" / "espresso").exists():
            return None, "make failed: " + ((proc.stderr or proc.stdout).strip().splitlines() or ["?"])[-1]
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)  # whole build or none under the final name
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return str(binary), f"built {binary} from {src} (sources {digest})"


def run_espresso(binary: str, path: str, timeout: float, memory_mb: int) -> dict:
    """``espresso FILE``: its ``.p`` (cube count) and wall time, or a status saying why not."""
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            [binary, path],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            preexec_fn=lambda: limit_memory(memory_mb),  # called before any thread exists
        )
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "seconds": round(time.perf_counter() - t0, 4), "cubes": None}
    seconds = round(time.perf_counter() - t0, 4)
    for line in proc.stdout.splitlines():
        if proc.returncode == 0 and line.startswith(".p "):
            return {"status": "ok", "seconds": seconds, "cubes": int(line.split()[1])}
    last = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}, no .p line"])[-1]
    return {"status": f"failed: {last}", "seconds": seconds, "cubes": None}


# ----------------------------------------------------------------------------- the parent


def last_row(stdout: bytes | str | None) -> dict | None:
    """The last JSON row a worker printed (None if it printed none)."""
    text = stdout.decode(errors="replace") if isinstance(stdout, bytes) else stdout or ""
    for line in reversed(text.splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
    return None


def worker_command(path: str, memory_mb: int, threshold: bool) -> list[str]:
    cmd = [sys.executable, SCRIPT, "--worker", path, "--memory-mb", str(memory_mb)]
    return cmd + ([] if threshold else ["--no-threshold"])


def run_worker(path: str, timeout: float, memory_mb: int, threshold: bool) -> dict:
    """One PLA in its own subprocess; its row, with a timeout or a crash said in the row."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(worker_command(path, memory_mb, threshold), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        timed_out = True
    row = last_row(out) or {"file": path, "name": os.path.basename(path), "stage": "start"}
    row["process_s"] = round(time.perf_counter() - t0, 3)
    if timed_out:
        row.update(status="timeout", message=f"over {timeout:g} s (killed during {row.get('stage', '?')})")
    elif row.get("stage") != "done" and row.get("status") in (None, "started", "compiled"):
        row.update(status="crashed", message=crash_message(proc.returncode, err, row.get("stage", "?")))
    if row.get("inputs") is None:
        row["inputs"], row["outputs"] = header_counts(path)
    return row


def crash_message(returncode: int, stderr: bytes, stage: str) -> str:
    """Why a worker ended without its final row: a signal (the kernel's OOM killer: SIGKILL) or an exit."""
    if returncode < 0:
        try:
            how = signal.Signals(-returncode).name
        except ValueError:
            how = f"signal {-returncode}"
    else:
        how = f"exit status {returncode}"
    tail = (stderr.decode(errors="replace").strip().splitlines() or [""])[-1][:200]
    return f"worker ended by {how} during {stage}" + (f": {tail}" if tail else "")


def collect_files(paths: list[str], default_dir: str, max_inputs: int | None) -> list[str]:
    """PLA files from files and folders (a folder: its *.pla), in order; ``.i`` above max_inputs dropped."""
    files: list[str] = []
    for p in paths or [default_dir]:
        if os.path.isdir(p):
            found = sorted(glob.glob(os.path.join(p, "*.pla")))
            if not found:
                raise UsageError(f"{p}: no *.pla files in this folder; give PLA files or a folder of them")
            files += found
        elif os.path.isfile(p):
            files.append(p)
        else:
            raise UsageError(f"{p}: no such file or folder; give PLA files or folders of *.pla files")
    if max_inputs is not None:
        files = [f for f in files if (header_counts(f)[0] or 0) <= max_inputs]
        if not files:
            raise UsageError(f"no PLA has at most {max_inputs} inputs; raise --max-inputs")
    return list(dict.fromkeys(files))


def run_all(files: list[str], args: argparse.Namespace, esp: dict[str, dict]) -> list[dict]:
    """Every PLA through a worker, ``args.jobs`` at a time; rows printed as they come, returned in file order."""
    rows: dict[str, dict] = {}
    print(TABLE_HEAD + "\n" + TABLE_RULE, flush=True)
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(run_worker, f, args.timeout, args.memory_mb, not args.no_threshold): f for f in files}
        try:
            for fut in concurrent.futures.as_completed(futures):
                path = futures[fut]
                rows[path] = fut.result() | {"espresso": esp.get(path)}
                print(table_row(rows[path]), flush=True)
        except KeyboardInterrupt:
            pool.shutdown(wait=True, cancel_futures=True)  # the workers got the same SIGINT
            raise
    return [rows[f] for f in files]


# ----------------------------------------------------------------------------- report

TABLE_HEAD = (
    "| PLA | in | out | neurons | ESPRESSO cubes | ratio | logicnets s | ESPRESSO s | verify s, verdict "
    "| peak MB | engine |"
)
TABLE_RULE = "|---|--:|--:|--:|--:|--:|--:|--:|---|--:|---|"


def fmt(x, spec: str = "", none: str = "-") -> str:
    return none if x is None else format(x, spec)


def table_row(r: dict) -> str:
    """One markdown row; a PLA without a network shows its status in the neurons column."""
    e = r.get("espresso") or {}
    ecubes = e.get("cubes")
    has_net = r.get("status") in COMPILED
    neurons = str(r["hidden"]) if has_net else f"**{r.get('status')}**"
    ratio = f"{r['hidden'] / ecubes:.2f}" if has_net and ecubes else "-"
    if has_net and ecubes and r["hidden"] > ecubes:
        ratio = f"**{ratio}**"
    verdict = {"verified": "ok", "WRONG": "**WRONG**"}.get(r.get("status"), r.get("status") if has_net else "")
    verify = f"{fmt(r.get('verify_s'), '.3f')} {verdict}".strip()
    espresso_s = fmt(e.get("seconds"), ".3f") + ("" if e.get("status", "ok") == "ok" else f" ({e['status']})")
    cells = [
        r.get("name"),
        fmt(r.get("inputs")),
        fmt(r.get("outputs")),
        neurons,
        fmt(ecubes),
        ratio,
        fmt(r.get("compile_s"), ".3f"),
        espresso_s if e else "-",
        verify if has_net else "-",
        fmt(r.get("peak_mb"), ".0f"),
        r.get("engine", "-") if has_net else "-",
    ]
    return "| " + " | ".join(str(c) for c in cells) + " |"


def summarize(rows: list[dict]) -> dict:
    """Totals over the PLAs where both sides have a result, and the lists the issue asks for."""
    both = [r for r in rows if r.get("status") in COMPILED and (r.get("espresso") or {}).get("cubes") is not None]
    hidden = sum(r["hidden"] for r in both)
    ecubes = sum(r["espresso"]["cubes"] for r in both)
    ln_s = sum(r.get("compile_s") or 0.0 for r in both)
    es_s = sum(r["espresso"]["seconds"] for r in both)
    compiled = [r for r in rows if r.get("status") in COMPILED]
    timed = [r for r in rows if r.get("compile_s") is not None]
    return {
        "files": len(rows),
        "both": len(both),
        "hidden": hidden,
        "espresso_cubes": ecubes,
        "ratio": hidden / ecubes if ecubes else None,
        "logicnets_s": ln_s,
        "espresso_s": es_s,
        "time_ratio": ln_s / es_s if es_s else None,
        "networks": len(compiled),
        "all_logicnets_s": sum(r["compile_s"] for r in compiled if r.get("compile_s") is not None),
        "espresso_results": sum((r.get("espresso") or {}).get("cubes") is not None for r in rows),
        "all_espresso_s": sum(
            r["espresso"]["seconds"] for r in rows if (r.get("espresso") or {}).get("cubes") is not None
        ),
        "verify_s": sum(r.get("verify_s") or 0.0 for r in rows),
        "verified": sum(r.get("status") == "verified" for r in rows),
        "over": [
            (r["name"], r["hidden"], r["espresso"]["cubes"]) for r in both if r["hidden"] > r["espresso"]["cubes"]
        ],
        "slowest": max(timed, key=lambda r: r["compile_s"], default=None),
        "slowest_verify": max(compiled, key=lambda r: r.get("verify_s") or 0.0, default=None),
        "max_peak": max(rows, key=lambda r: r.get("peak_mb") or 0.0, default=None),
        "wrong": [r["name"] for r in rows if r.get("status") == "WRONG"],
        "failures": [(r["name"], r.get("status"), r.get("message", "")) for r in rows if r.get("status") != "verified"],
        "espresso_failures": [
            (r["name"], r["espresso"]["status"]) for r in rows if (r.get("espresso") or {}).get("status", "ok") != "ok"
        ],
    }


def totals_lines(s: dict) -> list[str]:
    """The totals as markdown bullets."""
    ratio = "-" if s["ratio"] is None else f"{s['ratio']:.3f}"
    tratio = "-" if s["time_ratio"] is None else f"{s['time_ratio']:.1f}x"
    lines = [
        f"- PLAs: {s['files']}; networks verified: {s['verified']}; compared with ESPRESSO: {s['both']}",
        f"- hidden neurons vs ESPRESSO cubes (the {s['both']} compared): **{s['hidden']} vs {s['espresso_cubes']}**"
        f" (ratio {ratio})",
        f"- time (the {s['both']} compared): logicnets {s['logicnets_s']:.2f} s (read + minimize + merge) vs "
        f"ESPRESSO {s['espresso_s']:.2f} s: **{tratio}**; verification {s['verify_s']:.2f} s in all",
        f"- all PLAs: logicnets {s['all_logicnets_s']:.2f} s on its {s['networks']} networks, ESPRESSO "
        f"{s['all_espresso_s']:.2f} s on its {s['espresso_results']} results",
        f"- PLAs with more neurons than ESPRESSO cubes: {len(s['over'])}"
        + (": " + ", ".join(f"{n} ({h} vs {c})" for n, h, c in s["over"]) if s["over"] else ""),
    ]
    for key, what, field, unit in (
        ("slowest", "slowest compile", "compile_s", "s"),
        ("slowest_verify", "slowest verification", "verify_s", "s"),
        ("max_peak", "largest peak memory", "peak_mb", "MB"),
    ):
        r = s[key]
        if r is not None and r.get(field) is not None:
            lines.append(f"- {what}: {r['name']} ({r[field]:.{0 if unit == 'MB' else 2}f} {unit})")
    lines.append(f"- not compiled and verified: {len(s['failures'])}")
    lines += [f"  - {n}: {st}" + (f" — {m}" if m else "") for n, st, m in s["failures"]]
    if s["espresso_failures"]:
        lines.append(f"- ESPRESSO failed on {len(s['espresso_failures'])}:")
        lines += [f"  - {n}: {st}" for n, st in s["espresso_failures"]]
    return lines


def cpu_model() -> str:
    """The CPU model from /proc/cpuinfo (or platform's guess elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def report(rows: list[dict], s: dict, meta: dict) -> str:
    """The markdown section: how it was measured, the table, the totals."""
    head = [
        MARK_BEGIN,
        "## logicnets vs ESPRESSO, PLA by PLA",
        "",
        f"Measured {meta['date']} with `{meta['command']}`",
        f"on {meta['cpu']} ({os.cpu_count()} logical CPUs), Python {platform.python_version()}, "
        f"{meta['jobs']} worker(s) at a time.",
        f"ESPRESSO: {meta['espresso']}; `espresso FILE`, wall time of the process (start-up included).",
        f"logicnets: each PLA in its own worker process, limits {meta['timeout']:g} s wall and "
        f'{meta["memory_mb"]} MB address space; "logicnets s" is read + minimize + merge inside the worker '
        "(Python start-up, imports and one tiny warm-up compile excluded, as in a long-running process); "
        '"verify s" is `verify_function` on the network; '
        "peak MB is the worker's peak resident memory (imports included).",
        "",
        TABLE_HEAD,
        TABLE_RULE,
    ]
    return "\n".join([*head, *(table_row(r) for r in rows), "", *totals_lines(s), MARK_END]) + "\n"


def write_markdown(path: str, section: str) -> None:
    """Write the section atomically: in place of an earlier generated section, else the file's end."""
    sys.path.insert(0, ROOT)
    from logicnets.files import atomic_write

    old = Path(path).read_text(encoding="utf-8") if os.path.isfile(path) else ""
    if MARK_BEGIN in old and MARK_END in old:
        before, rest = old.split(MARK_BEGIN, 1)
        text = before + section.rstrip("\n") + rest.split(MARK_END, 1)[1]
    elif old:
        print(f"{path}: no generated section yet; appended one at the end", file=sys.stderr)
        text = old.rstrip("\n") + "\n\n" + section
    else:
        text = "# logicnets vs ESPRESSO on PLA files\n\n" + section
    atomic_write(path, text)


# ----------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("files", nargs="*", help="PLA files or folders of *.pla (default: --pla-dir)")
    p.add_argument("--pla-dir", default=str(SHARED / "logic-bench" / "pla"))
    p.add_argument("--espresso-src", default=str(SHARED / "tools" / "espresso-src"))
    p.add_argument("--build-dir", default=str(CACHE), help="cache of ESPRESSO builds (default %(default)s)")
    p.add_argument("--rebuild", action="store_true", help="build ESPRESSO even if a cached build exists")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds per PLA (default %(default)s)")
    p.add_argument("--memory-mb", type=int, default=DEFAULT_MEMORY_MB, help="address space per PLA, MiB")
    p.add_argument("--jobs", type=int, default=1, choices=(1, 2), help="workers at once (default 1)")
    p.add_argument("--max-inputs", type=int, help="only the PLAs with at most this many inputs")
    p.add_argument("--no-threshold", action="store_true", help="AND neurons only (one per cube)")
    p.add_argument("--markdown", help="write the table to this file (atomically; replaces its generated section)")
    p.add_argument("--json", help="write every row as JSON to this file (atomically)")
    p.add_argument("--strict", action="store_true", help="exit 1 also on refusals, timeouts, errors")
    p.add_argument("--worker", metavar="FILE", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.timeout <= 0 or args.memory_mb < 64:
        raise UsageError("--timeout must be > 0 and --memory-mb at least 64")
    for out in (args.markdown, args.json):
        if out and os.path.isdir(out):
            raise UsageError(f"{out} is a folder; give a file path to write")
    return args


def bench(args: argparse.Namespace, argv: list[str]) -> int:
    """The whole run: ESPRESSO first (no threads yet), then the workers, then the report."""
    files = collect_files(args.files, args.pla_dir, args.max_inputs)
    binary, how = build_espresso(Path(args.espresso_src), Path(args.build_dir), args.rebuild)
    print(f"ESPRESSO: {how}" if binary else f"ESPRESSO skipped: {how}", file=sys.stderr, flush=True)
    esp = {f: run_espresso(binary, f, args.timeout, args.memory_mb) for f in files} if binary else {}
    rows = run_all(files, args, esp)
    s = summarize(rows)
    print("\n".join(totals_lines(s)), flush=True)
    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": shlex.join(["python", os.path.relpath(SCRIPT, ROOT), *argv]),
        "cpu": cpu_model(),
        "espresso": how if binary else f"not run ({how})",
        "jobs": args.jobs,
        "timeout": args.timeout,
        "memory_mb": args.memory_mb,
    }
    if args.markdown:
        write_markdown(args.markdown, report(rows, s, meta))
    if args.json:
        sys.path.insert(0, ROOT)
        from logicnets.files import atomic_write

        atomic_write(args.json, json.dumps({"meta": meta, "rows": rows}, indent=1, sort_keys=True) + "\n")
    return exit_code(s, strict=args.strict, espresso_ok=binary is not None)


def exit_code(s: dict, strict: bool, espresso_ok: bool = True) -> int:
    """1 on a wrong network; with ``strict`` also on any PLA not verified or any ESPRESSO failure."""
    if s["wrong"]:
        print(f"WRONG networks: {', '.join(s['wrong'])}", file=sys.stderr)
        return 1
    if strict and (s["failures"] or s["espresso_failures"] or not espresso_ok):
        print("--strict: some PLAs were not compiled and verified (listed above)", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = parse_args(argv)
        if args.worker:
            return worker(args.worker, args.memory_mb, not args.no_threshold)
        return bench(args, argv)
    except UsageError as err:
        print(f"bench_pla.py: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench_pla.py: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
