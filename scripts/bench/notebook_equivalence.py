"""Test accuracy of sweep points four ways: float32 / bf16-mixed, separate / stacked seeds.

Each side runs the real sweep machinery (``sweeps.run_sweep`` with a ``Profile`` whose
``precision`` and ``stack_seeds`` differ) into its own folder, then prints per-seed test
accuracy and the mean and standard deviation over seeds, as a markdown table.

    PYTHONPATH=. .venv/bin/python scripts/bench/notebook_equivalence.py --epochs 5 [--sweeps seed_mlp depth_sgd]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from lightning_mnist.study.runs import run_sweep
from lightning_mnist.study.sweeps import Profile

SIDES = {
    "float32 separate": ("32-true", False),
    "bf16 separate": ("bf16-mixed", False),
    "float32 stacked": ("32-true", True),
    "bf16 stacked": ("bf16-mixed", True),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--depth", type=int, default=3, help="the depth sweeps' one member")
    parser.add_argument("--sweeps", nargs="*", default=["seed_mlp", "depth_sgd"])
    parser.add_argument("--sides", nargs="*", default=list(SIDES), choices=list(SIDES))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for sweep in args.sweeps:
            for side in args.sides:
                precision, stacked = SIDES[side]
                profile = Profile(
                    "equivalence",
                    epochs=args.epochs,
                    seeds=args.seeds,
                    depths=(args.depth,),
                    precision=precision,
                    stack_seeds=stacked,
                )
                start = time.perf_counter()
                results = run_sweep(sweep, profile, Path(tmp) / side.replace(" ", "_"))
                seconds = time.perf_counter() - start
                accs = [r["test_acc"] for r in results]
                rows.append((sweep, side, accs, seconds))
                print(f"{sweep} {side}: {accs} in {seconds:.0f} s", flush=True)
    print(f"\n{args.epochs} epochs, seeds 1337..{1336 + args.seeds}; depth sweeps at depth {args.depth}\n")
    print("| sweep | side | test acc per seed | mean | std | wall s |")
    print("|---|---|---|---|---|---|")
    for sweep, side, accs, seconds in rows:
        per = ", ".join(f"{a:.4f}" for a in accs)
        mean, std = statistics.fmean(accs), statistics.stdev(accs)
        print(f"| {sweep} | {side} | {per} | {mean:.4f} | {std:.4f} | {seconds:.0f} |")


if __name__ == "__main__":
    main()
