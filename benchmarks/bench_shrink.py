"""How short the default strategy's counterexamples get, and what shrinking them costs.

Run: `python benchmarks/bench_shrink.py [--steps N ...] [--variant V ...] [--scenario FILE]
[--check | --rows [--to-the-end] [--digest]] [--budget S] [--workers N] [--tree DIR]` (after `pip install
-e .`). For each FeastFlow variant it takes the counterexample the portfolio finds from the
initial state (one lane, seed 0, every property, shrinking off: the same unshrunk trace in every
tree whose search is the same), then shrinks it with `shrink.shrink_trace` within each step bound
(default: `shrink_clock.MAX_SHRINK_STEPS`, what `kubeprop check` allows, and none) and prints a
Markdown table of the lengths. Each cell is the length, the steps shrinking replayed and judged
(`shrink_clock.ShrinkClock`), the tests it judged, the seconds it took, and `bound` where the step
bound stopped it. Steps and lengths are the same on any machine; seconds are not. `--scenario
FILE` runs a user scenario instead of FeastFlow (`tests/model/data/catalogue/web.yaml`).

`--check` instead runs `kubeprop check --variant V --budget 10` (`--budget`) as a user does (the
default lanes and bounds) and prints the counterexample's length and whether the budget's clock
cut its shrinking. `--rows` does the same for every row of docs/catalogue.md (user scenarios,
users' own controllers, FeastFlow), with the steps shrinking spent and which bound stopped it;
`--to-the-end` with no bound on shrinking but the budget (plus ten minutes); `--digest` adds a
digest of each counterexample (its actions and message), to check that two trees shrink alike.

`--tree DIR` imports `kubeprop.model`, `kubeprop.properties` and `kubeprop.counterexamples` from
another checkout (`git archive <commit> | tar -x -C DIR`) for the before figures (a tree before
the step bound shrinks once, to the end, and counts tests only; its `--rows` shrinking was bounded
by time). The load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench_steps import _TreeFinder

VARIANTS = ("rs-no-expectations", "endpoints-terminating", "endpoints-liveness", "endpoints-stale-cache",
            "nodelifecycle-crash", "sts-split-brain", "watch-time-travel", "dual-scheduler",
            "scheduler-ignores-taints")
"""FeastFlow's catalogue variants that can occur there (docs/catalogue.md)."""


def lengths(variant: str, bounds: list[int | None], scenario: str | None = None, digest: bool = False
            ) -> tuple[str, int, list[str]]:
    """The property the unshrunk find violates, its length, and after each shrinking (at most
    that many steps; None: no bound) its length, the steps spent and tests judged, and `bound`
    where the step bound stopped it (and with `digest`, `trace_digest`). A tree that counts no steps
    is shrunk once, to the end."""
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
    counts = hasattr(ShrinkClock(None), "spent")
    out = []
    for bound in bounds if counts else [None]:
        clock = ShrinkClock(None, bound) if counts else ShrinkClock(None)
        tests, began = _TestCount(), time.perf_counter()
        with memoised(report.model), tests:
            shown, shrunk = shrink_trace(judge, report.trace, report.violation.property, known=report.violation,
                                         clock=clock)
        spent = f"{clock.spent:,} steps, " if counts else ""
        stopped = ", bound" if getattr(clock, "bounded", False) else ""
        mark = f", {trace_digest(shrunk, shown.message if shown is not None else '')}" if digest else ""
        out.append(f"{len(shrunk)} ({spent}{tests.count} tests, {time.perf_counter() - began:.1f} s{stopped}{mark})")
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


def rows() -> list[tuple[str, str, Path | None, Path | None]]:
    """The catalogue's rows (docs/catalogue.md) as (variant, scenario name, scenario file or None
    for FeastFlow, a folder to import the user's modules from): the user scenarios, the users' own
    controllers and FeastFlow's variants that can occur there."""
    from kubeprop.properties.explore.catalogue import MORE_USER_SCENARIOS, USER_SCENARIOS

    root = Path(__file__).resolve().parents[1]
    catalogue = root / "tests" / "model" / "data" / "catalogue"
    out: list[tuple[str, str, Path | None, Path | None]] = [
        (variant, scenario, catalogue / f"{scenario}.yaml", None) for variant, (scenario, _) in USER_SCENARIOS.items()]
    out += [(variant, scenario, catalogue / f"{scenario}.yaml", None) for variant, scenario, _ in MORE_USER_SCENARIOS]
    out += [("correct", f"{Path(folder).name}/{name}", root / folder / name, root / folder) for folder, name in (
        ("examples/migration_operator", "scenario.yaml"), ("examples/migration_operator", "scenario-recorded.yaml"),
        ("examples/ledger_operator", "scenario.yaml"), ("examples/restart_operator", "scenario.yaml"),
        ("tests/properties/explore/data/leader", "scenario.yaml"))]
    return out + [(variant, "feastflow", None, None) for variant in VARIANTS]


def row_length(variant: str, scenario: Path | None, imports: Path | None, budget: float,
               workers: int | None, to_the_end: bool = False, digest: bool = False) -> str:
    """`kubeprop check` on one catalogue row as a user runs it (seed 0): the property, the
    counterexample's length, and how shrinking ended — the steps it replayed and judged (a tree
    that counts them), and whether its step bound or the clock stopped it. `to_the_end`: shrinking
    bounded by nothing but the budget (then 10 minutes more), in either tree. `digest`: also a
    digest of the counterexample (`trace_digest`), to compare two trees' results."""
    import attrs

    from kubeprop.counterexamples.api import check
    from kubeprop.properties.explore.engine import EngineConfig

    if imports is not None and str(imports) not in sys.path:
        sys.path.insert(0, str(imports))
    bounds: dict[str, Any] = {}
    if to_the_end:
        budget += 600.0
        names = {f.name for f in attrs.fields(EngineConfig)}
        bounds = {"max_shrink_steps": None} if "max_shrink_steps" in names else {"shrink_seconds": 600.0,
                                                                                 "max_shrink_tests": 10**9}
    began = time.perf_counter()
    report = check(scenario, variant=variant, budget=budget, config=EngineConfig(workers=workers, **bounds))
    took = time.perf_counter() - began
    if report.violation is None:
        return f"not found | | | {took:.1f} s"
    found = report.found[0]
    spent = getattr(found, "shrink_steps", None)
    ended = [] if spent is None else [f"{spent:,} steps"]
    if getattr(found, "shrink_bound", None) is not None:
        ended.append("stopped at the step bound")
    if found.shrink_cut is not None:
        ended.append(f"cut by the clock after {found.shrink_cut:.1f} s")
    shown = f" | {trace_digest(found.trace, report.violation.message)}" if digest else ""
    return (f"{report.violation.property} | {found.found_length} | {', '.join(ended) or 'to the end'} | "
            f"{took:.1f} s{shown}")


def trace_digest(trace: Sequence[object], message: str) -> str:
    """The first 12 hex digits of the SHA-256 of a counterexample's actions (their `repr`: class
    and fields, the same in any process) and its violation's message: two shrinkings gave the
    same result if and only if (but for collisions) their digests are equal."""
    return hashlib.sha256(repr((tuple(trace), message)).encode()).hexdigest()[:12]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, nargs="+", help="step bounds of shrinking (default: the default bound "
                        "and none)")
    parser.add_argument("--variant", action="append", choices=VARIANTS, help="only this variant (repeatable)")
    parser.add_argument("--tree", type=Path, help="another checkout's model, properties and counterexamples")
    parser.add_argument("--scenario", help="a user scenario file instead of FeastFlow")
    parser.add_argument("--check", action="store_true", help="run kubeprop check --budget 10 as a user does")
    parser.add_argument("--budget", type=float, default=10.0, help="the budget of --check and --rows (s)")
    parser.add_argument("--rows", action="store_true", help="kubeprop check on every row of docs/catalogue.md")
    parser.add_argument("--to-the-end", action="store_true", help="--rows with no bound on shrinking but the budget")
    parser.add_argument("--digest", action="store_true", help="also a digest of each counterexample")
    parser.add_argument("--workers", type=int, help="the portfolio's lanes in --rows (default: as kubeprop check)")
    args = parser.parse_args()
    if args.tree is not None:
        sys.meta_path.insert(0, _TreeFinder(args.tree.resolve()))
    print(f"load average at start: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.rows:
        digest = " digest |" if args.digest else ""
        print(f"\n| variant | scenario | property | length | shrinking | check took |{digest}\n"
              f"|---|---|---|---|---|---|{'---|' if args.digest else ''}")
        for variant, name, scenario, imports in rows():
            if not args.variant or variant in args.variant:
                line = row_length(variant, scenario, imports, args.budget, args.workers, args.to_the_end,
                                  args.digest)
                print(f"| {variant} | {name} | {line} |", flush=True)
    elif args.check:
        print("\n| variant | property | length | check took |\n|---|---|---|---|")
        for variant in args.variant or VARIANTS:
            print(checked(variant, args.scenario, args.budget), flush=True)
    else:
        from kubeprop.properties.explore import shrink_clock

        bounds: list[int | None] = list(args.steps or [getattr(shrink_clock, "MAX_SHRINK_STEPS", 0), None])
        head = " | ".join("no bound" if b is None else f"at most {b:,} steps" for b in bounds)
        print(f"\n| variant | property | unshrunk | {head} |\n|---|---|---|{'---|' * len(bounds)}")
        for variant in args.variant or VARIANTS:
            prop, unshrunk, shrunk = lengths(variant, bounds, args.scenario, args.digest)
            print(f"| {variant} | {prop} | {unshrunk} | {' | '.join(shrunk)} |", flush=True)
    print(f"\nload average at end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
