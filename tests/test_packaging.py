"""The distribution: what pyproject.toml declares matches what the code imports and holds."""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import re
import sys
import tomllib
from pathlib import Path

import bulk

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
DISTRIBUTION = PROJECT["project"]["name"]


def _name(requirement: str) -> str:
    found = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert found, requirement
    return re.sub(r"[-_.]+", "-", found.group()).lower()


def imported_top_modules() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "bulk").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"bulk", "__future__"}


def test_every_third_party_import_is_a_declared_dependency() -> None:
    declared = {_name(r) for r in PROJECT["project"]["dependencies"]}
    owners = metadata.packages_distributions()
    missing = {}
    for module in sorted(imported_top_modules()):
        dists = {_name(d) for d in owners.get(module, [])}
        assert dists, f"{module} is imported but no installed distribution provides it"
        if not dists & declared:
            missing[module] = sorted(dists)
    assert missing == {}, f"imported but not in [project] dependencies: {missing}"


def test_the_version_is_written_once() -> None:
    assert "version" not in PROJECT["project"]
    assert PROJECT["project"]["dynamic"] == ["version"]
    assert PROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "bulk.__version__"}
    assert metadata.version(DISTRIBUTION) == bulk.__version__
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## {bulk.__version__}" in changelog


def test_license_is_an_spdx_string_with_its_file() -> None:
    assert PROJECT["project"]["license"] == "MIT"
    assert PROJECT["project"]["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    assert metadata.metadata(DISTRIBUTION)["License-Expression"] == "MIT"


def test_the_build_is_pyproject_only() -> None:
    assert not (ROOT / "setup.py").exists()
    assert not (ROOT / "setup.cfg").exists()


def test_the_package_list_names_every_package() -> None:
    folders = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "bulk").rglob("*.py")
        if "__pycache__" not in p.parts
    }
    listed = set(PROJECT["tool"]["setuptools"]["packages"])
    mapped = set(PROJECT["tool"]["setuptools"]["package-dir"])
    assert mapped == {"bulk.templates", "bulk.samples"}
    want = sorted(folders | mapped)
    assert sorted(listed) == want, f"[tool.setuptools] packages should be {want}"


def test_the_command_and_import_names_stay_bulk() -> None:
    assert PROJECT["project"]["scripts"] == {"bulk": "bulk.cli:main"}
    assert DISTRIBUTION != "bulk"  # another project's name on PyPI
