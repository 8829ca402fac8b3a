#!/usr/bin/env python
"""Trainer entry point for launchers that want a script path (torchrun, srun, mpirun).

Identical to the ``lightning-mnist`` command: ``python scripts/train.py fit --config seed_mlp``.
Lightning reads the launcher's environment (torchrun's RANK/WORLD_SIZE, SLURM_*) itself.
"""

from lightning_mnist.cli import main

if __name__ == "__main__":
    main()
