"""The architecture as the code states it: first-party imports form a DAG, function-level
imports included, nothing in the repository names a path of one machine, and the test folders
collect together."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("lightning_mnist", "logicnets")


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def first_party_imports(path: Path, modules: set[str]) -> set[str]:
    """Every first-party module that ``path`` imports, at any depth of the file."""
    found = set()
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            for alias in node.names:  # `from pkg import submodule` imports the submodule
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
    return {name for name in found if name in modules}


def import_graph() -> dict[str, set[str]]:
    paths = [p for package in PACKAGES for p in (REPO / package).rglob("*.py")]
    modules = {module_name(p) for p in paths}
    return {module_name(p): first_party_imports(p, modules) - {module_name(p)} for p in paths}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_first_party_imports_form_a_dag():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_logicnets_does_not_import_lightning_mnist():
    graph = import_graph()
    offenders = {
        m: sorted(d)
        for m, d in graph.items()
        if m.startswith("logicnets") and any(x.startswith("lightning_mnist") for x in d)
    }
    assert not offenders


def test_the_cycle_finder_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.skipif(not (REPO / ".git").exists(), reason="needs the git checkout")
def test_no_absolute_machine_paths():
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    markers = ("/" + "work/", "/" + "home/", "/" + "Users/", "/" + "tmp/cisim")
    hits = []
    for name in tracked:
        path = REPO / name
        if path.suffix in {".py", ".md", ".yaml", ".toml", ".sh", ".sbatch", ".txt", ".cfg"} and path.is_file():
            for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                if any(marker in line for marker in markers):
                    hits.append(f"{name}:{number}: {line.strip()}")
    assert not hits, "\n".join(hits)


def test_folders_with_conftests_collect_together(tmp_path):
    """Every conftest.py outside a package has the module name "conftest"; collected by this
    project's ``--doctest-modules`` as a test module as well, the second one of a run clashed with
    the first (pytest 9: "import file mismatch"; tests/lightning_mnist/data with
    tests/logicnets/network). Two such folders under the project's pytest settings: both collect,
    and their conftests' fixtures still load."""
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        fixture = f"import pytest\n\n\n@pytest.fixture\ndef {name}():\n    return 1\n"
        (tmp_path / name / "conftest.py").write_text(fixture)
        (tmp_path / name / f"test_{name}.py").write_text(f"def test_{name}({name}):\n    assert {name} == 1\n")
    settings = ["-c", str(REPO / "pyproject.toml"), "--rootdir", str(tmp_path), "-p", "no:cacheprovider"]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", *settings, "a", "b"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0 and "2 passed" in result.stdout, result.stdout[-3000:]
