"""The templates' self-check runs once per set of templates (and version of bulk): a set that
passed it is remembered in the user's cache folder by its hash, and any change checks again."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bulk.errors import TemplateError
from bulk.infra import cache
from bulk.rules import messages
from bulk.rules.messages import load_templates

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The locales the self-check went through, in order."""
    seen: list[str] = []
    real = messages._check_locale

    def counted(templates: messages.Templates, locale: str) -> None:
        seen.append(locale)
        real(templates, locale)

    monkeypatch.setattr(messages, "_check_locale", counted)
    return seen


def test_a_set_that_passed_is_not_checked_again(checks: list[str]) -> None:
    first = load_templates(None, "en_US")
    assert sorted(checks) == sorted(first.locales)
    assert len(list((cache.cache_dir() / "templates-checked").iterdir())) == 1
    checks.clear()
    load_templates(None, "en_US")
    assert checks == []
    load_templates(None, "de_DE")  # another default locale: another set to prove
    assert sorted(checks) == sorted(first.locales)


def test_a_changed_template_is_checked_again_and_a_broken_one_still_stops(
    tmp_path: Path, checks: list[str]
) -> None:
    folder = tmp_path / "templates"
    shutil.copytree(ROOT / "templates" / "en_US", folder / "en_US")
    load_templates(folder, "en_US")
    checks.clear()
    load_templates(folder, "en_US")
    assert checks == []
    broken = folder / "en_US" / "cancel" / "NoInventory.j2"
    broken.write_text("Hello {{ order_number }}", encoding="utf-8")
    with pytest.raises(TemplateError, match="order_number"):
        load_templates(folder, "en_US")
    assert checks  # checked afresh, and the failure is not remembered
    with pytest.raises(TemplateError, match="order_number"):
        load_templates(folder, "en_US")


def test_no_cache_folder_is_no_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    load_templates(None, "en_US")
    load_templates(None, "en_US")
