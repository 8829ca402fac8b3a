#!/usr/bin/env bash
# Create .venv and install the project with its test extras.
# torch==2.13.0 is named explicitly: on this project's CPU machines pip finds a CPU wheel on
# disk (seconds), while on an ordinary Linux GPU machine the same pin resolves to PyPI's CUDA
# build. If a torch is already installed in the venv (say a CUDA build you chose), it is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
if ! .venv/bin/python -c "import torch" >/dev/null 2>&1; then
  .venv/bin/python -m pip install -q "${TORCH_SPEC:-torch==2.13.0}"
fi
.venv/bin/python -m pip install -q -e ".[dev]"
