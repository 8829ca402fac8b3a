"""Two sweep points at once (1 thread each) against one at a time (2 threads), on 2 cores.

Times one stacked bf16 seed-epoch (``bench_notebook_speed.stacked_epoch_seconds``) of a
member: ``--threads 2`` alone, or launched twice at once with ``--threads 1``; compare the
throughput, 2 / (time of each parallel one) against 1 / (time of the single one).

    PYTHONPATH=. .venv/bin/python scripts/bench/bench_parallel_points.py --member depth_sgd=7 --threads 2
"""

from __future__ import annotations

import argparse
import tempfile

import torch

from scripts.bench.bench_notebook_speed import MEMBERS, stacked_epoch_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--member", default="depth_sgd=7", choices=list(MEMBERS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--precision", default="bf16-mixed")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config, over = MEMBERS[args.member]
    with tempfile.TemporaryDirectory() as run_dir:
        t = stacked_epoch_seconds(run_dir, config, over, args.precision, 0.14, 3)
    print(f"RESULT {args.member} threads={args.threads}: {t:.2f} s per seed-epoch")


if __name__ == "__main__":
    main()
