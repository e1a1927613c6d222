"""The code cites facts only from inside the repository: docs/amazon.md sections that exist,
never files outside it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = [
    *sorted((ROOT / "bulk").rglob("*.py")),
    *sorted((ROOT / "templates").rglob("*.md")),
    ROOT / "README.md",
    ROOT / "pyproject.toml",
]
OUTSIDE = re.compile(r"reference/|FIELD-NOTES|DESIGN\.md|shared/|field notes")
CITATION = re.compile(r'docs/(\w+\.md),\s+"([^"]+)"')


def test_nothing_points_outside_the_repository() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in PRODUCT
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if OUTSIDE.search(line)
    ]
    assert found == []


def test_every_cited_section_exists() -> None:
    cited = set()
    for path in PRODUCT:
        text = " ".join(path.read_text(encoding="utf-8").split())  # citations may wrap lines
        cited.update(CITATION.findall(text))
    assert len(cited) >= 8
    for doc, section in sorted(cited):
        headings = (ROOT / "docs" / doc).read_text(encoding="utf-8").splitlines()
        assert f"## {section}" in headings, f"docs/{doc} has no section '{section}'"
