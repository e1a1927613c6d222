"""`--json` on every exit path: exactly one document on stdout, valid against its JSON Schema in
docs/schemas/, with the lines for people on stderr."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource
from sample import as_a_new_user
from typer.testing import CliRunner

from bulk.cli import INTERRUPTED, app
from bulk.output import documents

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "docs" / "schemas"
BULK = Path(sys.executable).parent / "bulk"
runner = CliRunner()


def _schemas() -> dict[str, dict[str, Any]]:
    return {
        p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(SCHEMAS.glob("*.json"))
    }


SCHEMA_FILES = _schemas()
REGISTRY: Registry[Any] = Registry().with_resources(
    (s["$id"], Resource.from_contents(s)) for s in SCHEMA_FILES.values()
)
BY_ID = {
    documents.SUMMARY: "summary",
    documents.DUE: "due",
    documents.HISTORY: "history",
    documents.PULL: "pull",
    documents.DOCTOR: "doctor",
    documents.ERROR: "error",
}


def validate(doc: dict[str, Any]) -> None:
    schema = SCHEMA_FILES[BY_ID[doc["schema"]]]
    jsonschema.Draft202012Validator(schema, registry=REGISTRY).validate(doc)


def one_document(stdout: str) -> dict[str, Any]:
    """stdout holds exactly one JSON document and nothing else."""
    doc, end = json.JSONDecoder().raw_decode(stdout.strip())
    assert stdout.strip()[end:] == "", "more than one document on stdout"
    assert isinstance(doc, dict)
    validate(doc)
    return doc


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    shutil.copy(ROOT / "samples" / "orders.xlsx", tmp_path / "orders.xlsx")
    as_a_new_user(monkeypatch, tmp_path)
    yield tmp_path


def bulk(*args: str) -> Any:
    return runner.invoke(app, list(args))


def run(folder: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BULK_", "XDG_"))}
    env.update(HOME=str(folder), XDG_CONFIG_HOME=str(folder / "xdg"), **extra)
    return subprocess.run(
        [str(BULK), *args], cwd=folder, env=env, capture_output=True, text=True, timeout=120
    )


def test_every_document_type_has_its_own_id_and_schema_file() -> None:
    ids = [
        documents.SUMMARY,
        documents.DUE,
        documents.HISTORY,
        documents.PULL,
        documents.DOCTOR,
        documents.ERROR,
    ]
    assert len(set(ids)) == len(ids)
    assert sorted(BY_ID.values()) == sorted(SCHEMA_FILES)
    for name, schema in SCHEMA_FILES.items():
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["properties"]["schema"]["const"] in BY_ID, name


def test_every_field_is_documented() -> None:
    text = (ROOT / "docs" / "json.md").read_text(encoding="utf-8")

    def fields(schema: dict[str, Any], prefix: str = "") -> Iterator[str]:
        for key, sub in schema.get("properties", {}).items():
            yield f"{prefix}{key}"
            for branch in [sub, *sub.get("oneOf", []), sub.get("items", {})]:
                if isinstance(branch, dict) and "properties" in branch:
                    yield from fields(branch, f"{prefix}{key}.")
                if isinstance(branch, dict) and "properties" in branch.get("items", {}):
                    yield from fields(branch["items"], f"{prefix}{key}.")

    missing = [
        f"{name}: {field}"
        for name, schema in SCHEMA_FILES.items()
        for field in dict.fromkeys(fields(schema))
        if f"`{field}`" not in text
    ]
    assert missing == []


@pytest.mark.parametrize("command", ["check", "submit", "status"])
def test_a_run_prints_its_summary(work: Path, command: str) -> None:
    extra = ["--yes"] if command == "submit" else []
    result = bulk(command, "orders.xlsx", "--json", *extra)
    doc = one_document(result.stdout)
    assert doc["schema"] == "bulk.summary/2" and doc["exit_code"] == result.exit_code
    assert "target: sandbox" in result.stderr
    if command != "status":
        assert doc["lookup"]["method"] == "getOrder"
        assert doc["lookup"]["orders"] == {"getOrder": 13}


def test_pull_prints_its_own_document(work: Path) -> None:
    result = bulk("pull", "orders.xlsx", "--json")
    doc = one_document(result.stdout)
    assert doc["schema"] == "bulk.pull/1" and doc["exit_code"] == result.exit_code == 0
    assert doc["api"]["calls"] == {"searchOrders": 1}
    assert "target: sandbox" in result.stderr


def test_due_and_history_print_their_own_documents(work: Path) -> None:
    bulk("submit", "orders.xlsx", "--yes")
    due = bulk("due", "--json")
    assert one_document(due.stdout)["schema"] == "bulk.due/1"
    history = bulk("history", "--json")
    doc = one_document(history.stdout)
    assert doc["schema"] == "bulk.history/1" and len(doc["submissions"]) == 1


def test_a_missing_sheet_is_an_error_document(work: Path) -> None:
    result = bulk("check", "nothere.xlsx", "--json")
    assert result.exit_code == 2
    doc = one_document(result.stdout)
    assert doc == {
        **doc,
        "schema": "bulk.error/1",
        "command": "check",
        "exit_code": 2,
        "kind": "sheet",
        "error": "nothere.xlsx does not exist",
        "log": None,
    }
    assert result.stderr.strip().splitlines()[-1] == "error: nothere.xlsx does not exist"


@pytest.mark.parametrize("command", ["check", "submit", "status", "due", "history"])
def test_a_bad_config_is_an_error_document(work: Path, command: str) -> None:
    (work / "bulk.toml").write_text("[amazon]\ntarget = 'nowhere'\n", encoding="utf-8")
    args = [] if command in ("due", "history") else ["orders.xlsx"]
    result = bulk(command, *args, "--json")
    assert result.exit_code == 2, result.output
    doc = one_document(result.stdout)
    assert doc["kind"] == "config" and doc["command"] == command
    assert "target" in doc["error"]


def test_a_usage_error_is_an_error_document(work: Path) -> None:
    result = bulk("check", "--json")
    assert result.exit_code == 2
    doc = one_document(result.stdout)
    assert doc["kind"] == "usage" and "SHEET" in doc["error"]


def test_a_crash_is_an_error_document_naming_the_log(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bulk.pipeline import run as pipeline_run

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(pipeline_run, "check", broken)
    monkeypatch.setenv("BULK_HOME", str(work / "state"))
    result = bulk("check", "orders.xlsx", "--json")
    assert result.exit_code == 3
    doc = one_document(result.stdout)
    assert doc["kind"] == "internal" and doc["log"] and Path(doc["log"]).is_file()
    assert doc["log"] in doc["error"]


def test_a_held_lock_is_an_error_document(work: Path) -> None:
    from bulk.infra.state import StateDir, run_lock

    with run_lock(StateDir(work / ".bulk")):
        done = run(work, "check", "orders.xlsx", "--json")
        due = run(work, "due", "--json")
    assert done.returncode == 2, done.stderr
    doc = one_document(done.stdout)
    assert doc["kind"] == "lock" and "another bulk run" in doc["error"]
    # `bulk due` takes a held lock as this hour's nothing to do: exit 0, its own document.
    assert due.returncode == 0
    assert one_document(due.stdout)["note"]


def test_ctrl_c_is_an_error_document(work: Path) -> None:
    done = run(work, "submit", "orders.xlsx", "--yes", "--json", BULK_INTERRUPT_AT="before-message")
    assert done.returncode == 130, done.stderr
    doc = one_document(done.stdout)
    assert doc["kind"] == "interrupted" and doc["error"] == INTERRUPTED
    assert "Traceback" not in done.stderr


def test_history_that_cannot_read_its_state_folder_is_an_error_document(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (work / "not-a-folder").write_text("x", encoding="utf-8")
    monkeypatch.setenv("BULK_HOME", str(work / "not-a-folder"))
    result = bulk("history", "--json")
    assert result.exit_code == 2
    doc = one_document(result.stdout)
    assert doc["command"] == "history" and doc["kind"] == "config"


def test_an_unconfirmed_submit_prints_its_summary_with_declined(work: Path) -> None:
    result = bulk("submit", "orders.xlsx", "--json")  # no terminal to answer, no --yes
    doc = one_document(result.stdout)
    assert doc["declined"] is True and doc["sent"]["feeds"] == []
    assert doc["exit_code"] == result.exit_code
