#!/usr/bin/env bash
# All GPUs of one machine, one process per GPU (DDP over NCCL). Lightning launches the
# processes itself. Extra arguments go to the CLI, e.g.
#   scripts/multi_gpu.sh seed_dropout --trainer.max_epochs 10
#   scripts/multi_gpu.sh seed_mlp --data.batch_size 32     # keep the notebook's global batch on 4 GPUs
set -euo pipefail
config=${1:-seed_mlp}; shift || true
exec lightning-mnist fit --config "$config" \
  --trainer.accelerator gpu --trainer.devices -1 --trainer.strategy ddp "$@"
