"""Benchmark: writing result columns into a 100k-row workbook with openpyxl versus xlsx_xml.

    .venv/bin/python bench/xlsx_writeback.py [--rows 100000]

Makes a workbook with openpyxl's write-only mode in a temporary folder, then runs each case in
its own Python process and reports the time of the operation (measured inside that process)
and the process's peak resident memory (ru_maxrss), which is the honest figure: tracemalloc
sees only Python's allocations, not lxml's or calamine's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

SHEET = "Orders"
HEADERS = ["Order ID", "Reason", "Quantity", "Order Date", "Notes", "Price"]
RESULTS = ["Status", "Result", "Scheduled For", "Feed ID", "Updated At"]


def make_workbook(path: Path, rows: int) -> None:
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet(SHEET)
    ws.append(HEADERS)
    start = dt.date(2024, 1, 1)
    for i in range(rows):
        ws.append(
            [
                f"{100 + i % 900:03d}-{i:07d}-{i * 7919 % 10_000_000:07d}",
                "NoInventory" if i % 3 else "BuyerCanceled",
                i % 5 + 1,
                start + dt.timedelta(days=i % 365),
                f"customer asked on the phone, ticket {i % 997}",
                round(i % 1000 / 7, 2),
            ]
        )
    wb.save(path)


def result_values(row: int) -> list[str]:
    """What `bulk submit` writes into one row."""
    status = ("SUBMITTED", "DONE", "ERROR")[row % 3]
    return [
        status,
        ""
        if status != "ERROR"
        else f"Amazon refused the feed message {row}: order already shipped",
        "2024-06-01",
        f"{50_000_000_000 + row // 500}",
        "2024-06-01 14:05",
    ]


def cells_to_write(rows: int) -> dict[tuple[int, int], str]:
    cells = {(1, len(HEADERS) + i): name for i, name in enumerate(RESULTS)}
    for row in range(2, rows + 2):
        for i, value in enumerate(result_values(row)):
            cells[(row, len(HEADERS) + i)] = value
    return cells


# ---------------------------------------------------------------------------------------------
# The cases, each run in a child process.


def openpyxl_writeback(src: Path, dst: Path, rows: int) -> None:
    import openpyxl

    wb = openpyxl.load_workbook(src)
    ws = wb[SHEET]
    for (row, col), value in cells_to_write(rows).items():
        ws.cell(row, col + 1, value)
    wb.save(dst)


def xlsx_xml_writeback(src: Path, dst: Path, rows: int) -> None:
    from bulk.sheets.xlsx import write_cells

    write_cells(src, dst, SHEET, cells_to_write(rows))


def xlsx_xml_read(src: Path, dst: Path, rows: int) -> None:
    from bulk.sheets.xlsx import read_grid

    grid = read_grid(src, SHEET)
    assert len(grid.rows) == rows + 1, len(grid.rows)


def xlsx_xml_read_written(src: Path, dst: Path, rows: int) -> None:
    """read_grid of the file write_cells made: 11 columns, 5 of them inline strings."""
    from bulk.sheets.xlsx import read_grid

    grid = read_grid(dst, SHEET)
    assert grid.rows[-1].cells[len(HEADERS)].text == result_values(rows + 1)[0]


def calamine_read(src: Path, dst: Path, rows: int) -> None:
    from python_calamine import CalamineWorkbook

    values = CalamineWorkbook.from_path(str(src)).get_sheet_by_name(SHEET).to_python()
    assert len(values) == rows + 1


CASES: dict[str, tuple[str, Callable[[Path, Path, int], None]]] = {
    "openpyxl": ("(a) openpyxl load + write 5 columns + save", openpyxl_writeback),
    "write_cells": ("(b) xlsx_xml.write_cells, same 5 columns", xlsx_xml_writeback),
    "read_grid": ("(c) xlsx_xml.read_grid, 6 columns", xlsx_xml_read),
    "read_written": ("    xlsx_xml.read_grid of (b)'s file, 11 columns", xlsx_xml_read_written),
    "calamine": ("    python-calamine values only (for scale)", calamine_read),
}


def available_cases() -> list[str]:
    """python-calamine is not a dependency of bulk: its figure is shown when it is installed."""
    import importlib.util

    return [c for c in CASES if c != "calamine" or importlib.util.find_spec("python_calamine")]


def child(case: str, src: Path, dst: Path, rows: int) -> None:
    run = CASES[case][1]
    start = time.perf_counter()
    run(src, dst, rows)
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    print(json.dumps({"seconds": seconds, "peak_mb": peak_kb / 1024}))


def measure(case: str, src: Path, dst: Path, rows: int) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", case, str(src), str(dst), "--rows", str(rows)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{case} failed:\n{done.stderr}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--child", nargs=3, metavar=("CASE", "SRC", "DST"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        case, src, dst = args.child
        child(case, Path(src), Path(dst), args.rows)
        return
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "orders.xlsx"
        start = time.perf_counter()
        make_workbook(src, args.rows)
        size = src.stat().st_size / 1e6
        print(f"{args.rows} rows x {len(HEADERS)} columns, {size:.1f} MB", end="")
        print(f" (made in {time.perf_counter() - start:.1f} s)\n")
        # openpyxl saves to its own file; the other cases write or read write_cells' output.
        written = Path(tmp) / "written.xlsx"
        outputs = {"openpyxl": Path(tmp) / "openpyxl.xlsx"}
        results = {
            case: measure(case, src, outputs.get(case, written), args.rows)
            for case in available_cases()
        }
        print(f"{'case':<52} {'time':>8} {'peak RSS':>10}")
        for case, (label, _) in CASES.items():
            if case not in results:
                continue
            r = results[case]
            print(f"{label:<52} {r['seconds']:>7.2f}s {r['peak_mb']:>7.0f} MB")
        a, b = results["openpyxl"], results["write_cells"]
        print(f"\nwrite_cells is {a['seconds'] / b['seconds']:.1f}x faster than openpyxl", end="")
        print(f" and peaks at {b['peak_mb']:.0f} MB (openpyxl: {a['peak_mb']:.0f} MB)")


if __name__ == "__main__":
    main()
