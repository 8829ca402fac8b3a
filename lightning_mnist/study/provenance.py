"""The provenance of a reproduction: which code (git commit), libraries and machine made its
results, and the record of each ``reproduce`` invocation (``ResultStore.record``), interrupted
ones included, so that the report can say how its numbers were made and how long they took.
"""

from __future__ import annotations

import importlib
import os
import platform
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import torch

from lightning_mnist.study.points import bf16_is_native

__all__ = ["git_commit", "machine", "session_record", "versions"]


def git_commit() -> dict | None:
    """The checkout's commit and whether its tracked files differ from it; None outside git."""
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": head, "modified": bool(dirty)} if head else None


def _version(dist: str, module: str | None = None) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        try:
            return getattr(importlib.import_module(module or dist), "__version__", None)
        except ImportError:
            return None


def versions() -> dict:
    """Versions of Python and the libraries the results depend on (None: not installed)."""
    from lightning_mnist import backend

    return {
        "python": platform.python_version(),
        "lightning_mnist": _version("lightning_mnist"),
        "torch": _version("torch"),
        f"{backend.BACKEND} (the backend)": getattr(backend.pl, "__version__", None),
        "torchmetrics": _version("torchmetrics"),
        "numpy": _version("numpy"),
        "scipy": _version("scipy"),
        "sympy": _version("sympy"),
        "matplotlib": _version("matplotlib"),
    }


def machine() -> dict:
    """The platform, CPU model and cores, and GPUs (by name) this process sees."""
    cpu = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count()
    gpus: list[str] = []
    native_bf16 = None
    try:
        if torch.cuda.is_available():
            gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        native_bf16 = bf16_is_native()
    except Exception:  # a broken driver must not stop the record
        gpus = []
    return {
        "platform": platform.platform(),
        "hostname": platform.node(),
        "cpu": cpu or platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "cpu_vector_isa": torch.backends.cpu.get_cpu_capability(),  # torch's kernels: AVX2, AVX512, ...
        "native_bf16": native_bf16,
        "gpus": gpus,
    }


def session_record(command: str, only: list[str] | None, profile: str, clock: dict, counts: dict) -> dict:
    """One invocation's entry: what ran, from which commit, where, for how long, how it ended.

    ``clock``: ``started`` (epoch seconds), ``wall_seconds``, ``git`` (read at the start: the tree
    may change before the end); ``counts``: ``runs``, ``runs_trained`` and ``stopped_by`` (None:
    completed)."""
    stopped_by = counts.get("stopped_by")
    return {
        "command": command,
        "profile": profile,
        "only": only,
        "started": datetime.fromtimestamp(clock["started"], timezone.utc).isoformat(timespec="seconds"),
        "wall_seconds": clock["wall_seconds"],
        "runs": counts["runs"],
        "runs_trained": counts["runs_trained"],
        "completed": stopped_by is None,
        **({"stopped_by": stopped_by} if stopped_by else {}),
        "git": clock["git"],
        "versions": versions(),
        "machine": machine(),
    }
