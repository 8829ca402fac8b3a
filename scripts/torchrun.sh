#!/usr/bin/env bash
# Several nodes without SLURM: run this on every node with the same MASTER_ADDR and its own
# NODE_RANK. torchrun starts one process per GPU; Lightning picks up torchrun's environment.
#   MASTER_ADDR=10.0.0.1 NNODES=2 NODE_RANK=0 GPUS=8 scripts/torchrun.sh seed_dropout
set -euo pipefail
config=${1:-seed_mlp}; shift || true
: "${MASTER_ADDR:?set MASTER_ADDR to the address of node 0}"
NNODES=${NNODES:-1}; NODE_RANK=${NODE_RANK:-0}; GPUS=${GPUS:-$(nvidia-smi -L | wc -l)}
exec torchrun --nnodes "$NNODES" --node_rank "$NODE_RANK" --nproc_per_node "$GPUS" \
  --master_addr "$MASTER_ADDR" --master_port "${MASTER_PORT:-29500}" \
  "$(dirname "$0")/train.py" fit --config "$config" \
  --trainer.accelerator gpu --trainer.devices "$GPUS" --trainer.num_nodes "$NNODES" \
  --trainer.strategy ddp "$@"
