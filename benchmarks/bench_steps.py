"""Transitions per second of the default check, member by member, and the time spent judging convergence.

Run: `python benchmarks/bench_steps.py [--seconds 20] [--steps N] [--tree DIR] [--cpu N] [--member NAME]` (after
`pip install -e .`).
For FeastFlow (the built-in scenario) and tests/model/data/catalogue/web.yaml, it runs what
`kubeprop check --budget SECONDS` runs — the portfolio, seed 0, every property, the default depth,
one process (every member runs in this one: `workers=1`) — and prints a Markdown table:

- each member's transitions (the steps it counts: explored transitions, never the steps of the fair
  continuations that judge convergence), its seconds and its transitions/s, and the portfolio's;
- seconds spent judging convergence (`kubeprop.properties.convergence.settled_violation`, and
  `settled_judgement` where a module asks for it by name, as the walks' judge does: the fair,
  fault-free continuations), in all and per member, and how many judgements that was.

`--tree DIR` measures another checkout of the project (e.g. `git archive <commit> | tar -x -C DIR`):
its `model`, `properties` and `counterexamples` are imported instead of the installed ones, so the
same script gives the before and after figures. `--cpu N` pins the process to that CPU (one
core); the machine's load average is printed with the figures, since other processes on the
machine slow the run down. The portfolio runs in turns counted in steps, so both trees do the same
work in the same order; only how far they get in the budget differs. `--steps N` makes the work
itself the same: the portfolio stops after its first N steps (turns are whole, so a little more)
whatever the time, and the figure to compare is transitions per CPU second — on a shared machine
the steadiest of all. `--member NAME` (repeatable) runs only those members of the portfolio, in
their turns as in the whole portfolio: with `--steps`, a fixed-step workload of one engine (`--member
walk`, `--member bfs`).
"""

from __future__ import annotations

import argparse
import importlib.abc
import importlib.machinery
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).parents[1]
SCENARIOS = (("FeastFlow", None), ("web.yaml", ROOT / "tests" / "model" / "data" / "catalogue" / "web.yaml"))
SUBPACKAGES = ("model", "properties", "counterexamples")


class _TreeFinder(importlib.abc.MetaPathFinder):
    """Imports `kubeprop.model`, `kubeprop.properties` and `kubeprop.counterexamples` from `tree`."""

    def __init__(self, tree: Path) -> None:
        self.tree = tree

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        parts = fullname.split(".")
        if parts[0] != "kubeprop" or len(parts) < 2 or parts[1] not in SUBPACKAGES:
            return None
        if len(parts) == 2:
            init = self.tree / parts[1] / "__init__.py"
            return importlib.util.spec_from_file_location(fullname, init,
                                                          submodule_search_locations=[str(init.parent)])
        return importlib.machinery.PathFinder.find_spec(fullname, path)


class Judging:
    """Seconds and calls of `settled_violation`, per portfolio member, measured by wrapping it
    wherever it was imported (so a tree without any counter of its own is measured the same way)."""

    def __init__(self) -> None:
        self.member = "-"
        self.seconds: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()

    def install(self) -> None:
        from kubeprop.properties import convergence
        from kubeprop.properties.explore import portfolio

        original = convergence.settled_violation

        def timed(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[self.member] += time.perf_counter() - began
                self.calls[self.member] += 1

        for module in list(sys.modules.values()):
            if module is not None and module.__name__.startswith("kubeprop.") and getattr(
                    module, "settled_violation", None) is original:
                module.settled_violation = timed  # type: ignore[attr-defined]
        judgement = getattr(convergence, "settled_judgement", None)  # (a tree from before it has none)

        def timed_judgement(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return judgement(*args, **kwargs)  # type: ignore[misc]
            finally:
                self.seconds[self.member] += time.perf_counter() - began
                self.calls[self.member] += 1

        for module in list(sys.modules.values()):  # the walks' judge (`shrink.Judge`) asks for the steps too;
            # not in `convergence` itself, whose `settled_violation` (timed above) calls it
            if module is not None and module.__name__.startswith("kubeprop.") and module is not convergence and (
                    judgement is not None and getattr(module, "settled_judgement", None) is judgement):
                module.settled_judgement = timed_judgement  # type: ignore[attr-defined]
        owner = _turn_owner()
        turn: Callable[..., Any] = owner._turn
        lane = owner is not portfolio  # a lane's method (self first), or the older module function

        def member_turn(*args: Any) -> Any:
            self.member = args[1 if lane else 0].name
            try:
                return turn(*args)
            finally:
                self.member = "-"

        owner._turn = member_turn


def stop_after(steps: int) -> None:
    """Make the portfolio stop once its members have taken `steps` steps (fixed work)."""
    owner = _turn_owner()
    loop: Any = sys.modules[owner.__module__] if isinstance(owner, type) else owner  # where the turn loop is
    taken = [0]
    turn: Callable[..., Any] = owner._turn
    timed_out: Callable[[float | None], bool] = loop.out_of_time

    def counted(*args: Any) -> Any:
        try:
            return turn(*args)
        finally:
            taken[0] += args[-1].used  # the turn's Limit comes last

    def done(deadline: float | None) -> bool:
        return taken[0] >= steps or timed_out(deadline)

    def reset() -> None:
        taken[0] = 0

    owner._turn = counted
    loop.out_of_time = done
    STOP_RESETS.append(reset)


def _turn_owner() -> Any:
    """What runs one member's turn (`_turn`): the portfolio's `Lane` class (a one-lane run, as
    here, runs in this process), or in trees from before the lanes the portfolio module itself."""
    from kubeprop.properties.explore import portfolio

    if hasattr(portfolio, "_turn"):
        return portfolio
    from kubeprop.properties.explore.lanes import Lane

    return Lane


STOP_RESETS: list[Callable[[], None]] = []
"""Called before each scenario: the step count of `stop_after` starts again."""


def _import_engines() -> None:
    """Import every engine module now, so `Judging.install` finds their `settled_violation`."""
    import kubeprop.properties.explore.around
    import kubeprop.properties.explore.bfs
    import kubeprop.properties.explore.pct
    import kubeprop.properties.explore.por
    import kubeprop.properties.explore.shrink
    import kubeprop.properties.explore.stateful
    import kubeprop.properties.explore.walk  # noqa: F401


def bench(name: str, path: Path | None, seconds: float, judging: Judging,
          only: Sequence[str] = ()) -> list[str]:
    """Markdown rows for one scenario: the portfolio's members (only those named in `only`, if
    any), then the portfolio."""
    from kubeprop.model.cluster.compose import build_model, initial_state
    from kubeprop.model.scenario.load import feastflow_path, load_scenario
    from kubeprop.properties.explore.discoveries import discover
    from kubeprop.properties.explore.engine import EngineConfig
    from kubeprop.properties.explore.portfolio import MEMBERS, run_portfolio
    from kubeprop.properties.registry import select

    model = build_model(load_scenario(path or feastflow_path()))
    start = initial_state(model)
    judging.seconds.clear()
    judging.calls.clear()
    for reset in STOP_RESETS:
        reset()
    config = EngineConfig(seed=0, budget_seconds=seconds, properties=tuple(select()), workers=1)
    from kubeprop.properties import convergence as judged

    hits_before = getattr(getattr(judged, "VERDICTS", None), "hits", 0)
    began, cpu = time.perf_counter(), time.process_time()
    members = tuple(m for m in MEMBERS if not only or m.name in only)
    results = discover(lambda c: run_portfolio(model, start, c, members), config)
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    steps: Counter[str] = Counter()
    spent: Counter[str] = Counter()
    for result in results:
        for part in result.stats.parts:
            steps[part.engine] += part.stats.steps
            spent[part.engine] += part.stats.seconds
    found = ", ".join(r.violation.property for r in results if r.violation is not None) or "none"
    from kubeprop.properties import convergence

    memo = getattr(convergence, "VERDICTS", None)  # (a tree from before the memo has none)
    remembered = f"{memo.hits - hits_before} from the memo" if memo is not None else "no memo"
    rows = []
    for member in steps:
        rate = steps[member] / spent[member] if spent[member] else 0.0
        rows.append(f"| {name} | {member} | {steps[member]:,} | {spent[member]:.1f} | {rate:,.0f} | "
                    f"{judging.seconds[member]:.1f} | {judging.calls[member]} |")
    total = sum(steps.values())
    rows.append(f"| {name} | **portfolio** | {total:,} | {wall:.1f} | **{total / wall:,.0f}** "
                f"({total / cpu:,.0f} per CPU s) | {sum(judging.seconds.values()):.1f} | "
                f"{sum(judging.calls.values())} |")
    rows.append(f"| {name} | violations found: {found}; judgements answered {remembered} | | | | | |")
    return rows


def count_flag(text: str) -> int:
    """An argparse `type=` for a whole number from 1 (kept local: importing kubeprop's own flag types
    before `--tree` is set up would load the installed package instead of the measured one)."""
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1, got {text!r}")
    return int(text)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="the portfolio's budget per scenario")
    parser.add_argument("--tree", type=Path, help="measure this checkout of the project instead of the installed one")
    parser.add_argument("--cpu", type=int, help="pin the process to this CPU")
    parser.add_argument("--steps", type=count_flag, help="stop the portfolio after this many steps (fixed work; the "
                        "budget then only bounds the time, make it large)")
    parser.add_argument("--member", action="append", default=[],
                        help="run only this member of the portfolio, in its turns (repeatable; default: all) — "
                        "with --steps, a fixed-step workload of one engine, e.g. --member walk")
    parser.add_argument("--scenario", choices=[n for n, _ in SCENARIOS], action="append",
                        help="only this scenario (repeatable; default: both)")
    args = parser.parse_args(argv)
    if args.tree is not None:
        sys.meta_path.insert(0, _TreeFinder(args.tree.resolve()))
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    _import_engines()
    judging = Judging()
    judging.install()
    if args.steps is not None:
        stop_after(args.steps)
    import kubeprop.model

    tree = Path(kubeprop.model.__file__).parents[1]
    work = f"; the first {args.steps:,} steps" if args.steps is not None else ""
    work += f"; members {', '.join(args.member)}" if args.member else ""
    print(f"tree {tree}; budget {args.seconds:g} s per scenario{work}; load average before "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print("| scenario | member | transitions | seconds | transitions/s | judging convergence (s) | judgements |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, path in SCENARIOS:
        if args.scenario and name not in args.scenario:
            continue
        for row in bench(name, path, args.seconds, judging, args.member):
            print(row, flush=True)
    print(f"\nload average after {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
