"""How short the default strategy's counterexamples get within a shrinking time, on FeastFlow.

Run: `python benchmarks/bench_shrink.py [--seconds 2 10] [--variant V ...] [--tree DIR]` (after
`pip install -e .`). For each FeastFlow variant it takes the counterexample the portfolio finds
from the initial state (one lane, seed 0, every property, shrinking off: the same unshrunk trace
in every tree whose search is the same), then shrinks it with `shrink.shrink_trace` for each of the
given seconds — 5 s is what `kubeprop check --budget 10` allows (`engine.default_shrink_seconds`;
2 s before the eleventh round), 12 s what the default budget of a minute allows — and prints a
Markdown table of the lengths.

`--tree DIR` imports `kubeprop.model`, `kubeprop.properties` and `kubeprop.counterexamples` from
another checkout (`git archive <commit> | tar -x -C DIR`) for the before figures. Shrinking within
a deadline depends on the machine's speed: the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from bench_steps import _TreeFinder

VARIANTS = ("rs-no-expectations", "endpoints-terminating", "endpoints-liveness", "endpoints-stale-cache",
            "nodelifecycle-crash", "sts-split-brain", "watch-time-travel", "dual-scheduler",
            "scheduler-ignores-taints")
"""FeastFlow's catalogue variants that can occur there (docs/catalogue.md)."""


def lengths(variant: str, seconds: list[float]) -> tuple[str, int, list[int]]:
    """The property the unshrunk find violates, its length, and its length after each shrinking."""
    from kubeprop.counterexamples.api import check
    from kubeprop.model.cluster.compose import initial_state
    from kubeprop.model.cluster.incremental import memoised
    from kubeprop.properties.explore.engine import EngineConfig
    from kubeprop.properties.explore.shrink import Judge, shrink_trace

    report = check(None, variant=variant, budget=60, config=EngineConfig(workers=1, shrink=False))
    if report.violation is None:
        return "not found", 0, []
    judge = Judge.for_config(report.model, initial_state(report.model), EngineConfig(properties=report.properties))
    out = []
    for cap in seconds:
        with memoised(report.model):
            _, shrunk = shrink_trace(judge, report.trace, report.violation.property, 100_000,
                                     time.perf_counter() + cap, known=report.violation)
        out.append(len(shrunk))
    return report.violation.property, len(report.trace), out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, nargs="+", default=[2.0, 12.0], help="shrinking times (s)")
    parser.add_argument("--variant", action="append", choices=VARIANTS, help="only this variant (repeatable)")
    parser.add_argument("--tree", type=Path, help="another checkout's model, properties and counterexamples")
    args = parser.parse_args()
    if args.tree is not None:
        sys.meta_path.insert(0, _TreeFinder(args.tree.resolve()))
    print(f"load average at start: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    head = " | ".join(f"after {s:g} s" for s in args.seconds)
    print(f"\n| variant | property | unshrunk | {head} |\n|---|---|---|{'---|' * len(args.seconds)}")
    for variant in args.variant or VARIANTS:
        prop, unshrunk, shrunk = lengths(variant, args.seconds)
        print(f"| {variant} | {prop} | {unshrunk} | {' | '.join(str(n) for n in shrunk)} |", flush=True)
    print(f"\nload average at end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
