#!/usr/bin/env bash
# Create a venv (default .venv) and install the project with its test extras.
# torch==2.13.0 is named explicitly: on this project's CPU machines pip finds a CPU wheel on
# disk (seconds), while on an ordinary Linux GPU machine the same pin resolves to PyPI's CUDA
# build. If a torch is already installed in the venv (say a CUDA build you chose), it is kept.
#   VENV=.venv-lightning EXTRA="lightning" bash scripts/setup.sh   # a venv with `lightning` too
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${VENV:-.venv}
# pip notes every missing entry of this machine's local package mirrors: keep the log readable.
quiet() { "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2); }
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
if ! "$VENV/bin/python" -c "import torch" >/dev/null 2>&1; then
  quiet "$VENV/bin/python" -m pip install -q "${TORCH_SPEC:-torch==2.13.0}"
fi
quiet "$VENV/bin/python" -m pip install -q -e ".[dev]" ${EXTRA:-}
