"""``logicnets export NET.json --pla OUT --blif OUT --verilog OUT``: the command line of the writers.

Why every text is made before any file is written: a refusal (a threshold neuron for
``--pla``, a cover too large for ``--blif``) or a bad output path leaves no file at all, not
some formats written and others missing. Each file is then written atomically.
"""

from __future__ import annotations

import argparse
import os
import re
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import LogicError
from ..files import atomic_write
from ..network.multinet import load_network
from .blif import DEFAULT_MAX_CUBES, to_blif
from .circuit import ExportError
from .pla import to_pla
from .verilog import KEYWORDS, to_verilog

__all__ = ["add_export_parser", "default_module_name", "run_export"]

FORMATS = ("pla", "blif", "verilog")


def add_export_parser(sub: Any) -> argparse.ArgumentParser:
    """The ``export`` subcommand on the ``logicnets`` parser's subparsers."""
    e = sub.add_parser(
        "export",
        help="write a saved network as a PLA, BLIF or Verilog file",
        description="Write a saved network in the formats of logic tools (several at once; - is stdout).",
    )
    e.add_argument("network", help="network JSON file written by compile --json")
    e.add_argument("--pla", metavar="OUT", help="Berkeley PLA cover (hidden neurons must be cubes, outputs ORs)")
    e.add_argument(
        "--blif", metavar="OUT", help="BLIF, one .names cover per neuron (a threshold neuron's minimal cover)"
    )
    e.add_argument("--verilog", metavar="OUT", help="Verilog-2001 module, one weighted-sum assign per neuron")
    e.add_argument("--module", metavar="NAME", help="Verilog module / BLIF model name (default: from the file name)")
    e.add_argument(
        "--blif-max-cubes",
        type=int,
        default=DEFAULT_MAX_CUBES,
        metavar="N",
        help=f"largest cover written for one neuron in --blif (default {DEFAULT_MAX_CUBES})",
    )
    return e


def default_module_name(path: str) -> str:
    """A plain identifier from a file name: ``my-net.json`` -> ``my_net``, ``3x.json`` -> ``n_3x``.

    >>> default_module_name("nets/my-net.json"), default_module_name("3x.json"), default_module_name("-")
    ('my_net', 'n_3x', 'network')
    """
    stem = "network" if path == "-" else Path(path).stem
    name = re.sub(r"[^A-Za-z0-9_]", "_", stem) or "network"
    return f"n_{name}" if name[0].isdigit() or name in KEYWORDS else name


def _check_folder(fmt: str, path: str) -> None:
    """The nearest existing folder above ``path`` must be a folder (not a file in the way)."""
    above = Path(path).parent
    while not above.exists() and above != above.parent:
        above = above.parent
    if above.exists() and not above.is_dir():
        raise LogicError(f"--{fmt} {path}: {above} is not a folder; choose another output path")


def _check_outputs(paths: dict[str, str]) -> None:
    """Refuse the same file twice, and targets that are folders or special files, before writing."""
    seen: dict[str, str] = {}
    for fmt, path in paths.items():
        key = "-" if path == "-" else os.path.realpath(path)
        if key in seen:
            raise LogicError(f"--{seen[key]} and --{fmt} both write {path}; give each format its own file")
        seen[key] = fmt
        if path == "-":
            continue
        _check_folder(fmt, path)
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            continue  # absent (or unreadable): the writer says why if it cannot write
        if not stat.S_ISREG(mode):
            kind = "a folder" if stat.S_ISDIR(mode) else "a symbolic link" if stat.S_ISLNK(mode) else "a special file"
            raise LogicError(f"--{fmt} {path} is {kind}: refusing to replace it; choose another output path")


def _texts(args: argparse.Namespace, net: Any, paths: dict[str, str]) -> dict[str, str]:
    """The text of every requested format; a refusal names the network file."""
    module = args.module if args.module is not None else default_module_name(args.network)
    writers: dict[str, Callable[[], str]] = {
        "pla": lambda: to_pla(net),
        "blif": lambda: to_blif(net, model=module, max_cubes=args.blif_max_cubes),
        "verilog": lambda: to_verilog(net, module=module),
    }
    try:
        return {fmt: writers[fmt]() for fmt in paths}
    except ExportError as exc:
        raise ExportError(f"{args.network}: {exc}") from None


def run_export(args: argparse.Namespace) -> int:
    """``export``: 0 when every requested file was written; refusals are ``LogicError`` (exit 2)."""
    paths = {fmt: getattr(args, fmt) for fmt in FORMATS if getattr(args, fmt) is not None}
    if not paths:
        raise LogicError("give at least one of --pla OUT, --blif OUT, --verilog OUT")
    if args.blif_max_cubes < 1:
        raise LogicError(f"--blif-max-cubes must be at least 1, got {args.blif_max_cubes}")
    _check_outputs(paths)
    net = load_network(args.network)
    texts = _texts(args, net, paths)
    for fmt, path in paths.items():
        if path == "-":
            sys.stdout.write(texts[fmt])
            continue
        atomic_write(path, texts[fmt])
        args.wrote = path
        print(f"wrote {path} ({fmt})", file=sys.stderr if "-" in paths.values() else sys.stdout)
    return 0
