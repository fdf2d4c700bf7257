"""The fuzz campaign: Hypothesis draws hostile cases over every surface; the harness runs and classifies them.

Long run (documented in the README's Development section):

    .venv/bin/python tests/fuzz/fuzz_campaign.py --cases 10000 --report fuzz-report.json

It prints cases tried and outcomes per class for each surface, writes every bad outcome (with
the command line to reproduce it) to the report, and exits 1 if there was any. The quick run in
the test suite (`tests/fuzz/test_fuzz.py`) is the same campaign with a few hundred cases.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from fuzz_harness import Outcome, install_canary, run, summarise  # noqa: E402
from fuzz_surfaces import SURFACES  # noqa: E402
from fuzz_values import Sandbox  # noqa: E402
from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def run_surface(name: str, cases: int, root: Path, timeout: float, rng_seed: int,
                progress: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """`cases` Hypothesis-drawn cases of one surface, each in its own sandbox under `root`."""
    outcomes: list[Outcome] = []
    build = SURFACES[name]

    @seed(rng_seed)
    @settings(max_examples=cases, database=None, deadline=None, phases=[Phase.generate], derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def one(data: Any) -> None:
        box = Sandbox(root / f"{name}-{len(outcomes)}").make()
        try:
            case = build(data.draw, box)
            outcome = run(case, timeout)
        finally:
            shutil.rmtree(box.root, ignore_errors=True)
            for suffix in (".out", ".err"):
                (box.root.parent / f"{box.work.name}{suffix}").unlink(missing_ok=True)
        outcomes.append(outcome)
        if progress is not None:
            progress(outcome)

    one()
    return outcomes


def campaign(cases: int, timeout: float = 60.0, rng_seed: int = 0, surfaces: Sequence[str] = tuple(SURFACES),
             progress: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Split `cases` evenly over `surfaces` and run them all (in a temporary folder)."""
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="kubeprop-fuzz-") as tmp:
        root = Path(tmp)
        install_canary(root / "canary")
        for i, name in enumerate(surfaces):
            share = cases // len(surfaces) + (1 if i < cases % len(surfaces) else 0)
            outcomes += run_surface(name, share, root / "cases", timeout, rng_seed + i, progress)
    return outcomes


def report(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Cases and outcome classes per surface and in total, and every bad outcome described."""
    surfaces = sorted({o.case.surface for o in outcomes})
    return {
        "cases": len(outcomes),
        "classes": summarise(outcomes),
        "surfaces": {s: summarise([o for o in outcomes if o.case.surface == s]) for s in surfaces},
        "exit_codes": {c: sum(str(o.code) == c for o in outcomes) for c in sorted({str(o.code) for o in outcomes})},
        "hostile_imports": sum(o.case.note == "hostile import" or o.case.hostile_corpus for o in outcomes),
        "bad": [o.describe() for o in outcomes if o.bad],
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the campaign from the command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per case before it counts as a hang")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--surface", action="append", choices=sorted(SURFACES), help="only these surfaces")
    parser.add_argument("--report", type=Path, help="write the JSON report here")
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]  # case paths may not be UTF-8
    began = time.perf_counter()
    done = [0]

    def progress(outcome: Outcome) -> None:
        done[0] += 1
        if outcome.bad:
            print(outcome.describe(), flush=True)
        if done[0] % 250 == 0:
            print(f"... {done[0]} cases, {time.perf_counter() - began:.0f} s", flush=True)

    outcomes = campaign(args.cases, args.timeout, args.seed, args.surface or tuple(SURFACES), progress)
    summary = report(outcomes)
    summary["seconds"] = round(time.perf_counter() - began, 1)
    if args.report:
        args.report.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"{summary['cases']} cases in {summary['seconds']} s; exit codes {summary['exit_codes']}; "
          f"{summary['hostile_imports']} cases whose data named modules to import")
    for name, counts in [*summary["surfaces"].items(), ("total", summary["classes"])]:
        print(f"  {name:<16}" + "  ".join(f"{k} {v}" for k, v in counts.items()))
    return 1 if summary["bad"] else 0


if __name__ == "__main__":
    sys.exit(main())
