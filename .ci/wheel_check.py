"""CI: the installed wheel works from an empty folder with no configuration (issue 11).

Run with the Python of a fresh venv that holds only the wheel, from an empty temporary folder
outside the checkout. Exits non-zero on any failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import openpyxl

BULK = Path(sys.executable).parent / "bulk"
HERE = Path.cwd()


def bulk(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(BULK), *args], capture_output=True, text=True, env={**os.environ, **env}, check=False
    )
    print(f"$ bulk {' '.join(args)}  -> exit {done.returncode}")
    print("  " + (done.stdout + done.stderr).strip().replace("\n", "\n  "))
    assert "Traceback" not in done.stdout + done.stderr, "a traceback was printed"
    return done


def main() -> None:
    import bulk as package

    assert not Path(package.__file__).is_relative_to(HERE), "bulk must come from the venv"
    assert list(HERE.iterdir()) == [], "start from an empty folder"
    assert bulk("--version").returncode == 0
    assert bulk("new", "--sample", "orders.xlsx").returncode == 0
    assert bulk("new", "blank.xlsx").returncode == 0
    blank = bulk("check", "blank.xlsx")
    assert blank.returncode == 0
    assert "demo order book" in blank.stdout.splitlines()[0]
    assert "rows: none yet" in blank.stdout

    sent = bulk("submit", "orders.xlsx", "--yes")
    assert sent.returncode in (0, 1)
    ws = openpyxl.load_workbook("orders.xlsx")["Orders"]
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, r, strict=False)) for r in ws.iter_rows(min_row=2, values_only=True)]
    cancelled = [r for r in rows if r["Status"] == "CANCELLED"]
    assert len(cancelled) >= 1, "no CANCELLED rows"
    assert any(r["Feed ID"] for r in cancelled), "no feed id"
    assert any(str(r["Message Status"] or "").startswith("sent") for r in rows), "no message sent"

    history = bulk("history")
    assert history.returncode == 0 and "feed" in history.stdout

    (HERE / "not-a-folder").write_text("x", encoding="utf-8")
    refused = bulk("history", BULK_HOME=str(HERE / "not-a-folder"))
    assert refused.returncode == 2
    assert len((refused.stdout + refused.stderr).strip().splitlines()) == 1
    print(f"wheel check passed: {len(cancelled)} rows CANCELLED, feed {cancelled[0]['Feed ID']}")


if __name__ == "__main__":
    main()
