"""How short the default strategy's counterexamples get within a shrinking time, on FeastFlow.

Run: `python benchmarks/bench_shrink.py [--seconds 2 10] [--variant V ...] [--scenario FILE]
[--check] [--tree DIR]` (after `pip install -e .`). For each FeastFlow variant it takes the
counterexample the portfolio finds
from the initial state (one lane, seed 0, every property, shrinking off: the same unshrunk trace
in every tree whose search is the same), then shrinks it with `shrink.shrink_trace` for each of the
given seconds — 5 s is what `kubeprop check --budget 10` allows (`engine.default_shrink_seconds`;
2 s before the eleventh round), 12 s what the default budget of a minute allows — and prints a
Markdown table of the lengths.

Each cell is the length, then `cut` where the time bound stopped the shrinking (the result then
depends on the machine), or the number of tests it took to the end (the result is then the same on
any machine). `--scenario FILE` runs a user scenario instead of FeastFlow (`tests/model/data/
catalogue/web.yaml`). `--check` instead runs `kubeprop check --variant V --budget 10` as a user does
(the default lanes, shrinking bounded by `max_shrink_tests` and `shrink_seconds`) and prints the
counterexample's length and whether shrinking's time bound cut it.

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
from typing import Any

from bench_steps import _TreeFinder

VARIANTS = ("rs-no-expectations", "endpoints-terminating", "endpoints-liveness", "endpoints-stale-cache",
            "nodelifecycle-crash", "sts-split-brain", "watch-time-travel", "dual-scheduler",
            "scheduler-ignores-taints")
"""FeastFlow's catalogue variants that can occur there (docs/catalogue.md)."""


def lengths(variant: str, seconds: list[float], scenario: str | None = None) -> tuple[str, int, list[str]]:
    """The property the unshrunk find violates, its length, and after each shrinking its length
    with `cut` or the count of tests."""
    from kubeprop.counterexamples.api import check
    from kubeprop.model.cluster.compose import initial_state
    from kubeprop.model.cluster.incremental import memoised
    from kubeprop.properties.explore.engine import EngineConfig
    from kubeprop.properties.explore.shrink import Judge, shrink_trace
    from kubeprop.properties.explore.shrink_clock import ShrinkClock

    report = check(scenario, variant=variant, budget=60, config=EngineConfig(workers=1, shrink=False))
    if report.violation is None:
        return "not found", 0, []
    judge = Judge.for_config(report.model, initial_state(report.model), EngineConfig(properties=report.properties))
    out = []
    for cap in seconds:
        clock, tests = ShrinkClock(time.perf_counter() + cap), _TestCount()
        with memoised(report.model), tests:
            _, shrunk = shrink_trace(judge, report.trace, report.violation.property, 100_000,
                                     known=report.violation, clock=clock)
        out.append(f"{len(shrunk)} ({'cut' if clock.cut else f'{tests.count} tests'})")
    return report.violation.property, len(report.trace), out


class _TestCount:
    """Counts the candidates shrinking judged, by wrapping `Judge.judge_from` (every test's replay
    goes through it; a tree without a counter of its own is counted the same way)."""

    def __enter__(self) -> _TestCount:
        from kubeprop.properties.explore.shrink import Judge

        self.count, self.original = 0, Judge.judge_from

        def counted(judge: Judge, *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return self.original(judge, *args, **kwargs)

        Judge.judge_from = counted  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        from kubeprop.properties.explore.shrink import Judge

        Judge.judge_from = self.original  # type: ignore[method-assign]


def checked(variant: str, scenario: str | None, budget: float) -> str:
    """`kubeprop check --variant V --budget B` as a user runs it: the counterexample's length and
    whether shrinking's time bound cut it."""
    from kubeprop.counterexamples.api import check

    began = time.perf_counter()
    report = check(scenario, variant=variant, budget=budget)
    took = time.perf_counter() - began
    if report.violation is None:
        return f"| {variant} | not found | | {took:.1f} s |"
    found = report.found[0]
    cut = f"cut after {found.shrink_cut:.1f} s" if found.shrink_cut is not None else "to the end"
    return f"| {variant} | {report.violation.property} | {found.found_length} ({cut}) | {took:.1f} s |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, nargs="+", default=[2.0, 12.0], help="shrinking times (s)")
    parser.add_argument("--variant", action="append", choices=VARIANTS, help="only this variant (repeatable)")
    parser.add_argument("--tree", type=Path, help="another checkout's model, properties and counterexamples")
    parser.add_argument("--scenario", help="a user scenario file instead of FeastFlow")
    parser.add_argument("--check", action="store_true", help="run kubeprop check --budget 10 as a user does")
    parser.add_argument("--budget", type=float, default=10.0, help="the budget of --check (s)")
    args = parser.parse_args()
    if args.tree is not None:
        sys.meta_path.insert(0, _TreeFinder(args.tree.resolve()))
    print(f"load average at start: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.check:
        print("\n| variant | property | length | check took |\n|---|---|---|---|")
        for variant in args.variant or VARIANTS:
            print(checked(variant, args.scenario, args.budget), flush=True)
    else:
        head = " | ".join(f"after {s:g} s" for s in args.seconds)
        print(f"\n| variant | property | unshrunk | {head} |\n|---|---|---|{'---|' * len(args.seconds)}")
        for variant in args.variant or VARIANTS:
            prop, unshrunk, shrunk = lengths(variant, args.seconds, args.scenario)
            print(f"| {variant} | {prop} | {unshrunk} | {' | '.join(shrunk)} |", flush=True)
    print(f"\nload average at end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
