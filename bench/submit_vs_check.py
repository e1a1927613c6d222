"""`bulk submit --yes` beside `bulk check` of the same N rows: each one's own time, in turns.

Usage (from the repository root, with the project installed):

    python bench/submit_vs_check.py --rows 10000 --repeat 3

A submit reads every order it sends one by one with getOrder (the order item ids and the buyer's
request, which no report gives without restricted roles), so at Amazon's published rates its
length is set by those calls: hours for thousands of orders, whatever bulk's own speed. This
script measures the part that is bulk's: both commands run against the sandbox target, which
answers at once and does not pace calls, and each one's own time is its wall time less the time
it waited for the sandbox's answers (`bulk -v` reports it; the sandbox runs in the same process,
so its work is in that wait). Every run's figures are printed, with the API calls and what they
would take at Amazon's published rates.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench


def run(workdir: Path, *args: str) -> bench.Measure:
    (workdir / "orders.xlsx").write_bytes((workdir / "pristine.xlsx").read_bytes())
    shutil.rmtree(workdir / ".bulk", ignore_errors=True)
    return bench.measure(workdir, "bulk", *args, "orders.xlsx", "-v")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    lines = [
        "| run | `bulk check`: wall, waited, own | `bulk submit --yes`: wall, waited, own "
        "| submit / check (own) | submit's API calls | at Amazon's rates |",
        "|---:|---|---|---:|---|---:|",
    ]
    with tempfile.TemporaryDirectory(prefix="bulk-submit-") as tmp:
        workdir = Path(tmp)
        bench.generate(workdir, args.rows)
        (workdir / "pristine.xlsx").write_bytes((workdir / "orders.xlsx").read_bytes())
        (workdir / "bulk.toml").write_text(
            '[amazon]\ntarget = "sandbox"\n\n[sandbox]\norders = "marketplace.json"\n',
            encoding="utf-8",
        )
        run(workdir, "check")  # not counted: fills the templates' self-check cache, as on a machine
        for i in range(args.repeat):
            check = run(workdir, "check")
            submit = run(workdir, "submit", "--yes")
            if f"sent: {args.rows:,} orders".replace(",", "") not in submit.output.replace(",", ""):
                raise SystemExit(f"submit did not send all {args.rows} orders:\n{submit.output}")
            calls = sum(submit.calls.values())
            line = (
                f"| {i + 1} | {check.wall:.1f} s, {check.amazon:.1f} s, {check.own:.1f} s "
                f"| {submit.wall:.1f} s, {submit.amazon:.1f} s, {submit.own:.1f} s "
                f"| {submit.own / check.own:.2f}× | {calls:,} "
                f"| {bench.fmt_s(submit.rate_limited)} |"
            )
            lines.append(line)
            print(line, flush=True)
    print()
    print(f"{args.rows:,} rows, sandbox target:")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
