"""Tests for the shape of the package: imports run one way, down the layers, and into an adapter
only through its face; the command line starts without the heavy libraries; a production run
never loads the sandbox; no module grows past 700 lines; few modules sit at the top."""

from __future__ import annotations

import ast
import json
import os
import shutil
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


# The layers, top to bottom. A module may import from its own unit (module or package) and from
# the layers below; units of one layer stay apart (the Amazon adapter, the sheets and the
# sandbox never import one another), except in the open layers, whose units may share.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("bulk.__main__", "bulk.cli"),
    ("bulk.commands",),
    ("bulk.output",),
    ("bulk.pipeline",),
    ("bulk.targets",),
    ("bulk.amazon", "bulk.sheets", "bulk.sandbox"),
    ("bulk.rules",),
    ("bulk.infra",),
    (
        "bulk.config",
        "bulk.models",
        "bulk.marketplaces",
        "bulk.errors",
        "bulk.grid",
        "bulk.columns",
        "bulk.formats",
        "bulk.access",
    ),
)
OPEN_LAYERS = {0, len(LAYERS) - 1}
# What the layers above an adapter may import of it: its face. The wiring (bulk.targets) builds
# the Amazon adapter and may reach all of it.
FACES = {
    "bulk.amazon": {"bulk.amazon.protocol"},
    "bulk.sheets": {"bulk.sheets", "bulk.sheets.base"},
    "bulk.sandbox": {"bulk.sandbox"},
}
WIRING = {"bulk.targets": {"bulk.amazon"}}


def unit_of(name: str) -> tuple[int, str]:
    for level, units in enumerate(LAYERS):
        for unit in units:
            if name == unit or name.startswith(unit + "."):
                return level, unit
    raise AssertionError(f"{name} is in no layer: add it to LAYERS")


def _inside(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def wrong_imports(graph: dict[str, set[str]]) -> list[str]:
    """Every import that goes up a layer, sideways between units, past an adapter's face, or
    into a private module (`_name`) from outside its package, as "importer -> imported: why"."""
    wrong = []
    for name, targets in sorted(graph.items()):
        if name == "bulk":
            continue
        level, unit = unit_of(name)
        for target in sorted(targets):
            if target == "bulk":
                continue
            their_level, their_unit = unit_of(target)
            leaf = target.rpartition(".")[2]
            if their_level < level:
                wrong.append(f"{name} -> {target}: imports upward")
            elif their_level == level and their_unit != unit and level not in OPEN_LAYERS:
                wrong.append(f"{name} -> {target}: imports sideways")
            elif (
                their_unit != unit
                and their_unit in FACES
                and target not in FACES[their_unit]
                and their_unit not in WIRING.get(name, set())
            ):
                wrong.append(f"{name} -> {target}: past the face of {their_unit}")
            elif leaf.startswith("_") and not _inside(name, target.rpartition(".")[0]):
                wrong.append(f"{name} -> {target}: a private module of another package")
    return wrong


def test_imports_run_down_the_layers_and_into_adapters_through_their_faces() -> None:
    assert wrong_imports(import_graph()) == []


def test_the_layer_check_sees_each_kind_of_wrong_import() -> None:
    graph = {
        "bulk.config": {"bulk.sheets.base"},  # core reaching up to an adapter
        "bulk.amazon.feed": {"bulk.sandbox.book"},  # an adapter reaching its test double
        "bulk.pipeline.run": {"bulk.amazon.feed", "bulk.amazon.protocol"},  # past the face
        "bulk.sheets.excel": {"bulk.sheets.xlsx._read", "bulk.sheets.xlsx"},  # private module
        "bulk.sheets.xlsx": {"bulk.sheets.xlsx._read"},
        "bulk.targets": {"bulk.amazon.clients", "bulk.sandbox"},
        "bulk.rules.rows": {"bulk.grid", "bulk.columns", "bulk.rules.rates"},
    }
    assert wrong_imports(graph) == [
        "bulk.amazon.feed -> bulk.sandbox.book: imports sideways",
        "bulk.config -> bulk.sheets.base: imports upward",
        "bulk.pipeline.run -> bulk.amazon.feed: past the face of bulk.amazon",
        "bulk.sheets.excel -> bulk.sheets.xlsx._read: a private module of another package",
    ]
    # and the real graph, with one import upward added, fails
    graph = import_graph()
    graph["bulk.rules.rows"].add("bulk.pipeline.context")
    assert wrong_imports(graph) == ["bulk.rules.rows -> bulk.pipeline.context: imports upward"]


def test_few_modules_sit_at_the_top_of_the_package() -> None:
    top = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__"))
    assert len(top) <= 12, f"{len(top)} modules in bulk/: {top}; move some into a layer's package"


def test_a_production_run_imports_no_sandbox_module(tmp_path: Path) -> None:
    """`bulk check` with production settings, pointed at a sandbox this test runs, goes the whole
    way (look-ups, report, sheet write); Python's own import log (-X importtime) and the modules
    loaded at exit name nothing of bulk.sandbox; nor, with no webhook set, the webhook's module
    and the asyncio it needs (a start-up cost every run would pay)."""
    from bulk.sandbox import start_sandbox
    from bulk.targets import sandbox_credentials

    root = PACKAGE.parent
    shutil.copytree(root / "samples", tmp_path / "samples")
    shutil.copytree(root / "templates", tmp_path / "templates")
    (tmp_path / "bulk.toml").write_text(
        '[amazon]\ntarget = "production"\nseller_id = "A1SANDBOXSELLER"\n', encoding="utf-8"
    )
    book = json.loads((root / "samples" / "marketplace.json").read_text(encoding="utf-8"))
    book["report_polls"] = 0  # production polls in real time: the report is ready at once
    (tmp_path / "book.json").write_text(json.dumps(book), encoding="utf-8")
    loaded = tmp_path / "loaded.txt"
    code = (
        "import atexit, sys\n"
        "def _loaded():\n"
        f"    with open({str(loaded)!r}, 'w') as f:\n"
        "        f.write('\\n'.join(sorted(sys.modules)))\n"
        "atexit.register(_loaded)\n"
        "sys.argv = ['bulk', 'check', 'samples/orders.xlsx']\n"
        "from bulk.cli import main\n"
        "main()\n"
    )
    credentials = sandbox_credentials()
    with start_sandbox(tmp_path / "book.json", tmp_path / "sandbox-state") as sb:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("BULK_", "SP_API", "LWA"))},
            "HOME": str(tmp_path),
            "BULK_SP_API_ENDPOINT": sb.url,
            "BULK_LWA_ENDPOINT": sb.url,
            "LWA_APP_ID": credentials["lwa_app_id"],
            "LWA_CLIENT_SECRET": credentials["lwa_client_secret"],
            "SP_API_REFRESH_TOKEN": credentials["refresh_token"],
        }
        run = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", code],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert run.stdout.startswith("target: PRODUCTION Amazon"), run.stdout + run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    imported = [line.rpartition("|")[2].strip() for line in run.stderr.splitlines()]
    assert "bulk.pipeline.run" in imported and "sp_api" in imported  # the log is complete
    at_exit = loaded.read_text(encoding="utf-8").split()
    assert "bulk.amazon.account" in at_exit
    for names in (imported, at_exit):
        assert [n for n in names if n.split(".")[:2] == ["bulk", "sandbox"]] == []
        assert "bulk.output.webhook" not in names and "asyncio" not in names


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
