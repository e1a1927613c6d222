"""The PostgreSQL tests skip only outside CI when no server can be started; under CI they fail."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _run(tmp_path: Path, ci: bool) -> subprocess.CompletedProcess[str]:
    test = tmp_path / "test_needs_pg.py"
    test.write_text("def test_it(pg_url):\n    assert pg_url\n", encoding="utf-8")
    (tmp_path / "conftest.py").write_text(
        (HERE / "conftest.py").read_text(encoding="utf-8"), encoding="utf-8"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("BULK_TEST_PG_URL", "CI")}
    env.update(BULK_TEST_PG_BINDIR=str(tmp_path / "no-postgres"), PYTHONPATH=str(HERE))
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-ra", "-p", "no:cacheprovider", str(test)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_without_a_server_the_postgresql_tests_skip_outside_ci(tmp_path: Path) -> None:
    ran = _run(tmp_path, ci=False)
    assert ran.returncode == 0 and "1 skipped" in ran.stdout, ran.stdout + ran.stderr
    assert "no PostgreSQL server binaries" in ran.stdout


def test_without_a_server_the_postgresql_tests_fail_under_ci(tmp_path: Path) -> None:
    ran = _run(tmp_path, ci=True)
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "PostgreSQL is needed under CI" in ran.stdout
    assert "1 error" in ran.stdout and " skipped" not in ran.stdout.splitlines()[-1]
