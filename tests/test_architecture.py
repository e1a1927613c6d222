"""Tests for the shape of the package: imports run one way, the Amazon adapter stands without its
test double, the command line starts without the heavy libraries, no module grows past 700 lines."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Collection
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "bulk"
MAX_LINES = 700
HEAVY = ("openpyxl", "gspread", "sp_api")


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = [package.name, *path.relative_to(package).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(package: Path = PACKAGE) -> dict[str, Path]:
    return {module_name(path, package): path for path in sorted(package.rglob("*.py"))}


def imported(path: Path, name: str, known: Collection[str] = ()) -> set[str]:
    """Every module `path` names in an import, wherever the import stands (module level, inside
    a function, under TYPE_CHECKING): each is a dependency a reader of the module must know."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            # `from bulk.sheets import xlsx` imports the module bulk.sheets.xlsx;
            # `from bulk.sheets import Sheet` imports a name of bulk.sheets.
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                found.add(submodule if submodule in known else source)
    return found


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the modules of the package it imports (a package's __init__ stands for the
    package; the parent package Python runs first is not counted, as every submodule has it)."""
    known = modules(package)
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        graph[name] = {t for t in imported(path, name, known) if t in known and t != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as the path that closes it (a -> b -> a), or None."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(node: str) -> list[str] | None:
        path.append(node)
        on_path.add(node)
        for target in sorted(graph[node]):
            if target in on_path:
                return [*path[path.index(target) :], target]
            if target not in done:
                cycle = visit(target)
                if cycle:
                    return cycle
        path.pop()
        on_path.discard(node)
        done.add(node)
        return None

    for start in sorted(graph):
        if start not in done:
            cycle = visit(start)
            if cycle:
                return cycle
    return None


def test_the_graph_sees_every_kind_of_import(tmp_path: Path) -> None:
    # A package built to hold each form the scan must follow, and a cycle through a function.
    pkg = tmp_path / "bulk"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from bulk import other\n")
    (pkg / "sub" / "__init__.py").write_text("from bulk.sub.leaf import VALUE\n")
    (pkg / "sub" / "leaf.py").write_text("def f():\n    from bulk import top\n")
    (pkg / "top.py").write_text(
        "from typing import TYPE_CHECKING\nimport bulk.plain\nif TYPE_CHECKING:\n"
        "    from bulk.sub import leaf\n"
    )
    (pkg / "other.py").write_text("from . import plain\nfrom .sub import VALUE\n")
    (pkg / "plain.py").write_text("import json\n")
    graph = import_graph(pkg)
    assert graph == {
        "bulk": {"bulk.other"},
        "bulk.sub": {"bulk.sub.leaf"},
        "bulk.sub.leaf": {"bulk.top"},
        "bulk.top": {"bulk.plain", "bulk.sub.leaf"},
        "bulk.other": {"bulk.plain", "bulk.sub"},
        "bulk.plain": set(),
    }
    assert find_cycle(graph) == ["bulk.sub.leaf", "bulk.top", "bulk.sub.leaf"]
    graph["bulk.sub.leaf"] = set()
    assert find_cycle(graph) is None


def test_no_module_imports_a_module_that_imports_it_back() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_amazon_adapter_does_not_import_the_sandbox() -> None:
    graph = import_graph()
    offending = {
        name: sorted(t for t in targets if t == "bulk.sandbox" or t.startswith("bulk.sandbox."))
        for name, targets in graph.items()
        if name.startswith("bulk.amazon")
    }
    assert {name: found for name, found in offending.items() if found} == {}


def test_the_command_line_does_not_name_the_heavy_libraries() -> None:
    cli = PACKAGE / "cli.py"
    named = {n.split(".")[0] for n in imported(cli, "bulk.cli")}
    assert named.isdisjoint(HEAVY), sorted(named & set(HEAVY))


def test_importing_the_command_line_loads_none_of_the_heavy_libraries() -> None:
    # Every command starts by importing bulk.cli: `bulk --help` must not wait for these.
    code = (
        "import sys, bulk.cli\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", sorted(modules()))
def test_no_module_is_over_700_lines(name: str) -> None:
    lines = len(modules()[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines; split it by concern"
