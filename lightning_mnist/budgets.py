"""Bounds on what reading an input may cost, checked before the work that would cost it.

A small file can describe a large amount of work: a checkpoint whose zip entries inflate to
gigabytes, a pickle whose memo references make a few bytes stand for a tree of millions of
nodes (cheap to unpickle, ruinous to copy or print), a YAML config whose aliases expand a
500-byte file into billions of nodes ("billion laughs"). Each reader here states its bound and
answers with what is wrong (one line) or None; the callers raise their own error (a
``ResumeError`` for checkpoints, a ``ConfigError`` for configs), which the CLI prints as one
line with exit 2. The bounds:

* checkpoint decompression: the sizes the zip's directory declares for its entries add up to
  at most ``CKPT_EXPANSION`` times the file's size plus ``CKPT_SLACK`` bytes (``torch.save``
  stores entries uncompressed, so a real checkpoint inflates to about its own size), and to at
  most ``MAX_CKPT_BYTES`` in all. Read from the zip's central directory: nothing is inflated.
* unpickled structure (hyperparameters, loop and optimizer states): at most ``MAX_NODES``
  containers and leaves when shared references are counted each time they are reached (what
  copying or printing it costs; a tensor counts as one leaf, text one per ``TEXT_CHUNK``
  characters), nested at most ``MAX_DEPTH`` deep. Counting stops at the bound, so refusing costs
  at most ``MAX_NODES`` steps.
* YAML (``--config`` files and inline values): at most ``MAX_YAML_NODES`` nodes once every
  alias is expanded, counted on the composed graph (linear in the file) before anything is built.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
import yaml

CKPT_EXPANSION = 4
CKPT_SLACK = 1 << 20  # 1 MiB
MAX_CKPT_BYTES = 64 << 30  # 64 GiB
MAX_NODES = 1 << 18
MAX_DEPTH = 64
TEXT_CHUNK = 64
MAX_YAML_NODES = 100_000

__all__ = [
    "CKPT_EXPANSION",
    "CKPT_SLACK",
    "MAX_CKPT_BYTES",
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_YAML_NODES",
    "bounded_yaml_loader",
    "checkpoint_size_problem",
    "structure_problem",
    "yaml_problem",
]


def _gib(n: float) -> str:
    return f"{n / (1 << 30):.2f} GiB" if n >= 1 << 30 else f"{n / (1 << 20):.1f} MiB"


def checkpoint_size_problem(path: Path) -> str | None:
    """What is wrong with the sizes ``path``'s zip entries declare (None: within the bound, or
    not a zip, which ``torch.load`` then judges). Only the central directory is read."""
    size = os.path.getsize(path)
    try:
        with zipfile.ZipFile(path) as archive:
            declared = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    bound = min(CKPT_EXPANSION * size + CKPT_SLACK, MAX_CKPT_BYTES)
    if declared <= bound:
        return None
    return (
        f"its entries declare {_gib(declared)} uncompressed in a {_gib(size)} file, more than the "
        f"{_gib(bound)} a checkpoint of that size may hold ({CKPT_EXPANSION}x its size + {_gib(CKPT_SLACK)}, "
        f"at most {_gib(MAX_CKPT_BYTES)}); refusing to inflate it (a decompression bomb?)"
    )


def _children(obj: Any) -> list:
    if isinstance(obj, Mapping):
        return [*obj.keys(), *obj.values()]
    if isinstance(obj, (list, tuple, set, frozenset)):
        return list(obj)
    return []


def _cost(obj: Any) -> int:
    if isinstance(obj, (str, bytes, bytearray)):
        return 1 + len(obj) // TEXT_CHUNK
    return 1


def structure_problem(obj: Any, max_nodes: int = MAX_NODES, max_depth: int = MAX_DEPTH) -> str | None:
    """What is wrong with the size of ``obj`` as a tree (None: within the bounds). Shared
    references count each time they are reached, as a copy would make them; tensors are leaves.
    Iterative; children are counted before they are visited, so it stops at the bound."""
    stack = [(obj, 1)]
    nodes = _cost(obj)
    while stack and nodes <= max_nodes:
        item, depth = stack.pop()
        children = [] if isinstance(item, torch.Tensor) else _children(item)
        if children and depth >= max_depth:
            return f"it is nested more than {max_depth} levels deep"
        nodes += sum(_cost(child) for child in children)
        stack.extend((child, depth + 1) for child in children)
    if nodes > max_nodes:
        return f"it expands to more than {max_nodes} objects once shared references are followed (a pickle memo bomb?)"
    return None


def _yaml_children(node: yaml.Node) -> list:
    if isinstance(node, yaml.MappingNode):
        return [child for pair in node.value for child in pair]
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def _yaml_nodes(root: yaml.Node, limit: int) -> int:
    """Nodes of the composed graph ``root`` with every alias expanded, memoized per node (an
    alias is the same node object in the graph), so the count is linear in the graph."""
    sizes: dict[int, int] = {}
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in sizes:
            continue
        children = _yaml_children(node)
        if not done:
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in sizes)
            continue
        sizes[id(node)] = min(limit + 1, 1 + sum(sizes[id(c)] for c in children))
    return sizes[id(root)]


def yaml_problem(text: str, max_nodes: int = MAX_YAML_NODES) -> str | None:
    """What is wrong with the size of the YAML ``text`` once its aliases are expanded (None:
    within the bound, or not YAML at all, which the loader then reports)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        root = yaml.compose(text, Loader=loader)
    except (yaml.YAMLError, RecursionError, ValueError):
        return None
    if root is None:
        return None
    nodes = _yaml_nodes(root, max_nodes)
    if nodes <= max_nodes:
        return None
    return (
        f"its aliases expand it to more than {max_nodes} nodes (a {len(text)}-character document; "
        'a "billion laughs"?); write the values out or use fewer nested aliases'
    )


def bounded_yaml_loader(load: Callable[[str], Any], error: type[Exception]) -> Callable[[str], Any]:
    """``load`` (a YAML loader taking a string) preceded by the alias bound: ``error`` (one
    line) beyond it. Marked, so that wrapping twice is a no-op."""
    if getattr(load, "bounded", False):
        return load

    def bounded(stream: str) -> Any:
        problem = yaml_problem(stream) if isinstance(stream, str) else None
        if problem is not None:
            first = stream.strip().splitlines()[0][:60] if stream.strip() else ""
            raise error(f"YAML {first!r}...: {problem}")
        return load(stream)

    bounded.bounded = True
    return bounded
