"""logicnets vs ESPRESSO on PLA files, side by side in one run.

Per PLA: logicnets' hidden neurons (one multi-output network using the
don't-cares), its cover's cube count, its compile time (read + minimize +
threshold merging) and the time of its exact ON/OFF verification; ESPRESSO's
cube count (``espresso FILE``: multi-output, with don't-cares) and wall time
(a subprocess: includes its start-up of a few ms).  Every network is verified;
the script exits 1 if one is wrong.

ESPRESSO is built from ``--espresso-src`` into ``--build-dir`` (default: a
cache folder outside the repository); when it cannot be built its columns are
skipped with a message.

    nice -n 19 .venv/bin/python scripts/bench/bench_pla.py [--markdown docs/table.md]
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
# The MCNC PLAs and the ESPRESSO sources sit in ../shared beside the checkout.
SHARED = Path(ROOT).parent / "shared"

from logicnets.construct.placompile import compile_function  # noqa: E402
from logicnets.files import atomic_write  # noqa: E402
from logicnets.pla.format import read_pla  # noqa: E402
from logicnets.prove.function_check import verify_function  # noqa: E402


def build_espresso(src: str, build_dir: str) -> tuple[str | None, str]:
    """Path of the espresso binary (built once into build_dir) or None and why."""
    binary = os.path.join(build_dir, "bin", "espresso")
    if os.path.exists(binary):
        return binary, "cached build"
    if not os.path.isdir(src):
        return None, f"ESPRESSO source {src} not found"
    if shutil.which("make") is None or shutil.which("cc") is None:
        return None, "make or cc is missing"
    os.makedirs(build_dir, exist_ok=True)
    tree = os.path.join(build_dir, "src")
    if os.path.exists(tree):
        shutil.rmtree(tree)
    shutil.copytree(src, tree)
    proc = subprocess.run(["make", "-C", tree], capture_output=True, text=True)
    if proc.returncode != 0 or not os.path.exists(binary):
        return None, "make failed: " + (proc.stderr.strip().splitlines() or ["?"])[-1]
    return binary, "built"


def run_espresso(binary: str, path: str) -> tuple[int, float]:
    t0 = time.perf_counter()
    proc = subprocess.run([binary, path], capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - t0
    for line in proc.stdout.splitlines():
        if line.startswith(".p "):
            return int(line.split()[1]), seconds
    return 0, seconds


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pla-dir", default=str(SHARED / "logic-bench" / "pla"))
    p.add_argument("--espresso-src", default=str(SHARED / "tools" / "espresso-src"))
    p.add_argument(
        "--build-dir",
        default=os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "logicnets-espresso"),
    )
    p.add_argument("--no-threshold", action="store_true", help="AND neurons only (one per cube)")
    p.add_argument("--markdown", help="also write the table to this file (atomically)")
    p.add_argument("files", nargs="*", help="PLA files (default: every *.pla in --pla-dir)")
    args = p.parse_args(argv)
    files = args.files or sorted(glob.glob(os.path.join(args.pla_dir, "*.pla")))
    binary, why = build_espresso(args.espresso_src, args.build_dir)
    if binary is None:
        print(f"ESPRESSO skipped: {why}", file=sys.stderr)
    head = "| PLA | in | out | logicnets hidden | its cubes | logicnets s | verify s | ESPRESSO cubes | ESPRESSO s |"
    lines = [head, "|" + "---|" * 9]
    print(head, flush=True)
    tot = {"hidden": 0, "cubes": 0, "t": 0.0, "v": 0.0, "ecubes": 0, "et": 0.0}
    bad = []
    for path in files:
        t0 = time.perf_counter()
        f = read_pla(path).function()
        net = compile_function(f, threshold=not args.no_threshold)
        t1 = time.perf_counter()
        check = verify_function(net, f)
        t2 = time.perf_counter()
        if not check.ok:
            bad.append(path)
        ecubes, et = run_espresso(binary, path) if binary else (None, None)
        name = os.path.basename(path)
        row = (
            f"| {name} | {f.n_inputs} | {f.n_outputs} | {net.hidden_size}"
            f"{'' if check.ok else ' WRONG'} | {net.stats['cubes']} | {t1 - t0:.3f} | {t2 - t1:.3f} | "
            + (f"{ecubes} | {et:.3f} |" if binary else "- | - |")
        )
        print(row, flush=True)
        lines.append(row)
        tot["hidden"] += net.hidden_size
        tot["cubes"] += net.stats["cubes"]
        tot["t"] += t1 - t0
        tot["v"] += t2 - t1
        if binary:
            tot["ecubes"] += ecubes
            tot["et"] += et
    total = (
        f"| **total** ({len(files)}) | | | **{tot['hidden']}** | {tot['cubes']} | {tot['t']:.2f} | "
        f"{tot['v']:.2f} | " + (f"**{tot['ecubes']}** | {tot['et']:.2f} |" if binary else "- | - |")
    )
    print(total)
    lines.append(total)
    if binary:
        print(
            f"hidden neurons / ESPRESSO cubes: {tot['hidden']}/{tot['ecubes']} = "
            f"{tot['hidden'] / max(1, tot['ecubes']):.3f}; time ratio (compile) "
            f"{tot['t'] / max(1e-9, tot['et']):.1f}x, with verification "
            f"{(tot['t'] + tot['v']) / max(1e-9, tot['et']):.1f}x"
        )
    print("all networks verified against ON and OFF sets" if not bad else f"WRONG networks: {bad}")
    if args.markdown:
        atomic_write(args.markdown, "\n".join(lines) + "\n")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
