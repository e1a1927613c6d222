"""`bulk check` of N valid rows against openpyxl's bare load + save of the same file, in turns.

Usage (from the repository root, with the project installed):

    python bench/check_vs_openpyxl.py --rows 100000 --repeat 3

Each run is a fresh process (wall time, CPU time, peak memory), openpyxl then bulk, `repeat`
times; `bulk check` runs with the production settings against a sandbox in a process of its
own, as in bench/bench.py. Prints every run's figures and their ratios as a Markdown table,
with the one-row check first (the fixed cost of a run): with an empty cache (the templates'
self-check runs), then as every later run, the large checks included.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench


def check(workdir: Path) -> bench.Measure:
    for state in (workdir / "sb", workdir / ".bulk"):
        shutil.rmtree(state, ignore_errors=True)
    (workdir / "orders.xlsx").write_bytes((workdir / "pristine.xlsx").read_bytes())
    with bench.external_sandbox(workdir) as settings:
        return bench.measure(workdir, "bulk", "check", "orders.xlsx", "-v", settings=settings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bulk-check-1-") as tmp:
        workdir = Path(tmp)
        bench.generate(workdir, 1)
        (workdir / "pristine.xlsx").write_bytes((workdir / "orders.xlsx").read_bytes())
        shutil.rmtree(bench.CACHE, ignore_errors=True)
        cold = check(workdir)
        warm = [check(workdir) for _ in range(args.repeat)]
    lines = [
        "| run | openpyxl load + save | `bulk check` | check / openpyxl (wall) | "
        "check / openpyxl (CPU) |",
        "|---:|---|---|---:|---:|",
    ]
    with tempfile.TemporaryDirectory(prefix="bulk-check-") as tmp:
        workdir = Path(tmp)
        bench.generate(workdir, args.rows)
        (workdir / "pristine.xlsx").write_bytes((workdir / "orders.xlsx").read_bytes())
        for i in range(args.repeat):
            (workdir / "plain.xlsx").write_bytes((workdir / "pristine.xlsx").read_bytes())
            plain = bench.measure(workdir, "openpyxl", "plain.xlsx")
            ran = check(workdir)
            line = (
                f"| {i + 1} | {plain.wall:.1f} s ({plain.cpu:.1f} s CPU), {plain.peak_mb:.0f} MB "
                f"| {ran.wall:.1f} s ({ran.cpu:.1f} s CPU), {ran.peak_mb:.0f} MB "
                f"| {ran.wall / plain.wall:.2f}× | {ran.cpu / plain.cpu:.2f}× |"
            )
            lines.append(line)
            print(line, flush=True)
    print()
    print(f"{args.rows:,} valid rows, load average {os.getloadavg()[0]:.1f} at the end:")
    print("\n".join(lines))
    print(
        f"one-row check: {cold.wall:.2f} s ({cold.cpu:.2f} s CPU) with the templates' "
        "self-check; then " + ", ".join(f"{m.wall:.2f} s ({m.cpu:.2f} s CPU)" for m in warm)
    )


if __name__ == "__main__":
    main()
