"""Imports run one way: the adapter never reaches the test double, and no module imports itself
back through others."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "bulk"


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def import_graph() -> dict[str, set[str]]:
    """Each bulk module and the bulk modules it imports, at any depth of its code (lazy imports
    inside functions count: they run too)."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                graph[name].update(a.name for a in node.names if a.name in modules)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, base] if base else up)
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    if full in modules:
                        graph[name].add(full)
                    elif base in modules:
                        graph[name].add(base)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), plus self-imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1 or v in graph[v]:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_adapter_never_imports_the_sandbox() -> None:
    graph = import_graph()
    adapter = [m for m in graph if m == "bulk.amazon" or m.startswith("bulk.amazon.")]
    assert adapter, "bulk/amazon/ not found"
    bad = {
        m: sorted(d for d in graph[m] if d == "bulk.sandbox" or d.startswith("bulk.sandbox."))
        for m in adapter
    }
    assert not {m: d for m, d in bad.items() if d}


def test_the_sandbox_never_imports_the_adapter() -> None:
    graph = import_graph()
    reaching = {
        m: sorted(d for d in deps if d.startswith("bulk.amazon"))
        for m, deps in graph.items()
        if m.startswith("bulk.sandbox")
    }
    assert {m: d for m, d in reaching.items() if d} == {}


def test_only_the_choice_of_target_knows_both() -> None:
    graph = import_graph()
    both = sorted(
        m
        for m, deps in graph.items()
        if any(d.startswith("bulk.amazon") for d in deps)
        and any(d.startswith("bulk.sandbox") for d in deps)
    )
    assert both == ["bulk.targets"]


def test_no_module_imports_itself_back() -> None:
    assert cycles(import_graph()) == []


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, [["a", "b", "c"]]),
        ({"a": {"a"}}, [["a"]]),
    ],
)
def test_the_cycle_finder_finds_cycles(
    graph: dict[str, set[str]], expected: list[list[str]]
) -> None:
    assert cycles(graph) == expected
