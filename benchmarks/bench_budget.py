"""Is `--budget` honoured? `kubeprop check --budget B [--engine X]` timed from the user's shell.

Run: `python benchmarks/bench_budget.py [--budget 3] [--scenario PATH] [--engines portfolio,walk,...]`.

Each row runs the `kubeprop` command in a fresh process, as a user types it, and reports the wall
clock until it returned — interpreter start, imports, loading the scenario, the engines, shrinking,
recording every counterexample file and printing the report included. Issue 11's target: a 3 s
budget returns within 4 s, for every engine (Hypothesis and walks with worker processes
included). Walks and Hypothesis have no `--runs` here, so they keep going until the budget.
The exit code of each run is shown (0 clean, 1 violation found).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROWS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("portfolio (default)", ()),
    ("around", ("--engine", "around")),
    ("faults", ("--engine", "faults")),
    ("pct", ("--engine", "pct")),
    ("bfs", ("--engine", "bfs")),
    ("walk, 1 worker", ("--engine", "walk", "--workers", "1")),
    ("walk, 2 workers", ("--engine", "walk", "--workers", "2")),
    ("hypothesis", ("--engine", "hypothesis")),
    ("all", ("--engine", "all")),
)
"""(label, extra `kubeprop check` arguments) of each measured command."""


def kubeprop_command() -> list[str]:
    """The `kubeprop` console script next to this interpreter, else `python -m kubeprop`."""
    script = Path(sys.executable).with_name("kubeprop")
    return [str(script)] if script.exists() else [sys.executable, "-m", "kubeprop"]


def timed(args: list[str]) -> tuple[float, int]:
    """(wall seconds, exit code) of one `kubeprop check` in a fresh process and scratch folder."""
    out = tempfile.mkdtemp(prefix="kubeprop-budget-")
    try:
        began = time.perf_counter()
        done = subprocess.run([*args, "--out", out], capture_output=True, text=True, check=False)
        return time.perf_counter() - began, done.returncode
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", type=float, default=3.0, help="the --budget of every run (default 3)")
    parser.add_argument("--scenario", action="append", default=[],
                        help="scenario file (repeatable; default: FeastFlow and the catalogue's web.yaml)")
    parser.add_argument("--variant", default="correct", help="model variant (default correct)")
    parser.add_argument("--engines", help="comma-separated labels' first words to run (default: all rows)")
    args = parser.parse_args()
    web = Path(__file__).resolve().parents[1] / "tests" / "model" / "data" / "catalogue" / "web.yaml"
    scenarios = args.scenario or ["", str(web)]
    wanted = set(args.engines.split(",")) if args.engines else None
    base = kubeprop_command()
    print(f"load average {os.getloadavg()[0]:.1f}; --budget {args.budget:g}; limit {args.budget + 1:g} s\n")
    print("| scenario | engine | requested | wall | exit |\n|---|---|---|---|---|")
    worst = 0.0
    for scenario in scenarios:
        for label, extra in ROWS:
            if wanted is not None and label.split(",")[0].split(" ")[0] not in wanted:
                continue
            cmd = [*base, "check", *([scenario] if scenario else []), "--variant", args.variant,
                   "--budget", f"{args.budget:g}", *extra]
            seconds, code = timed(cmd)
            worst = max(worst, seconds)
            mark = "" if seconds <= args.budget + 1 else " **over**"
            print(f"| {Path(scenario).stem or 'feastflow'} | {label} | {args.budget:g} s | {seconds:.2f} s{mark} "
                  f"| {code} |", flush=True)
    print(f"\nworst {worst:.2f} s")
    return 0 if worst <= args.budget + 1 else 1


if __name__ == "__main__":
    sys.exit(main())
