"""bulk starts and runs where POSIX-only parts of Python are missing (Windows has no `fcntl` and
no `os.getuid`): the CLI, in its own process, with both taken away before bulk is imported."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Loaded by Python at start-up from PYTHONPATH, before bulk: what Windows lacks, taken away.
NO_POSIX = """
import os
import sys

# platformdirs picks its Unix module on this system, which needs getuid; on Windows it picks
# its Windows module. Loaded first, it keeps the one it would have here.
import platformdirs

for name in ("getuid", "geteuid"):
    if hasattr(os, name):
        delattr(os, name)


class _NoFcntl:
    def find_spec(self, name, path=None, target=None):
        if name == "fcntl":
            raise ModuleNotFoundError("No module named 'fcntl'", name="fcntl")
        return None


sys.modules.pop("fcntl", None)
sys.meta_path.insert(0, _NoFcntl())
"""


def _env(tmp_path: Path) -> dict[str, str]:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(NO_POSIX, encoding="utf-8")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BULK_", "LWA_", "SP_API_")) and k != "PYTHONPATH"
    }
    # Its own temporary folder: the per-user lock folder is made there, as on Windows.
    temp = tmp_path / "temp"
    temp.mkdir()
    env.update(
        PYTHONPATH=str(site),
        TMPDIR=str(temp),
        HOME=str(tmp_path),
        XDG_CONFIG_HOME=str(tmp_path / "xdg"),
    )
    return env


def _check(work: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bulk", "check", "orders.xlsx"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _statuses(path: Path) -> list[str]:
    import openpyxl

    sheet = openpyxl.load_workbook(path)["Orders"]
    header = [c.value for c in sheet[1]]
    column = header.index("Status")
    return [str(row[column]) for row in sheet.iter_rows(min_row=2, values_only=True) if row[0]]


def test_the_cli_checks_the_sample_with_no_fcntl_and_no_getuid(tmp_path: Path) -> None:
    env = _env(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(ROOT / "samples" / "orders.xlsx", work / "orders.xlsx")
    # The stand-in works: neither is there for bulk's process.
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os\ntry:\n import fcntl\nexcept ImportError:\n print('no fcntl',"
            " hasattr(os, 'getuid'))",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.stdout.strip() == "no fcntl False", probe.stderr
    checked = _check(work, env)
    output = checked.stdout + checked.stderr
    assert checked.returncode == 1, output  # the sample has rows to fix: checked, not crashed
    assert output.startswith("target: sandbox"), output
    assert "Traceback" not in output and "Error" not in output, output
    statuses = _statuses(work / "orders.xlsx")
    assert "READY" in statuses and "REJECTED" in statuses, statuses
    # Its locks were taken and let go: a second run in the same folder is not refused.
    again = _check(work, env)
    assert again.returncode == 1, again.stdout + again.stderr
    assert (work / ".bulk" / "ledger.sqlite").is_file()
