"""Oscillations found as lassos: time to find each one, and the lasso's length.

Run: `python benchmarks/bench_lasso.py [--strategy fair|exhaustive|both] [--seconds 600]` (after
`pip install -e .`). For each scenario of tests' data that oscillates — and for the controls that
do not — it runs the lasso search (`kubeprop.properties.explore.lasso.find_lasso`, settled stems,
every cycle property) from the scenario's initial state and prints a Markdown table: the property
found, the time, the stem and cycle lengths in actions, the cycle's length in model seconds, the
quiesced seeds analysed and the post-Quiesce steps taken (or cycle keys, exhaustive).

Scenarios (tests/model/data): `hpa/queueing.yaml` (an HPA flapping under CPU that grows faster
than the load's share), `descheduler/duplicates.yaml` (RemoveDuplicates evicting a pod that lands
back), `maintenance/blocked.yaml` (a drain blocked by a PodDisruptionBudget),
`livelock/fighting.yaml` (two syncers owning one field); controls: `hpa/linear.yaml`,
`descheduler/duplicates-nodefit.yaml`, `maintenance/drained.yaml`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.scenario.load import load_scenario
from kubeprop.properties.explore.bfs import Bounds
from kubeprop.properties.explore.lasso import find_lasso
from kubeprop.properties.oscillation import select_cycle

DATA = Path(__file__).resolve().parents[1] / "tests" / "model" / "data"
SCENARIOS = ("hpa/queueing.yaml", "descheduler/duplicates.yaml", "maintenance/blocked.yaml",
             "livelock/fighting.yaml", "hpa/linear.yaml", "descheduler/duplicates-nodefit.yaml",
             "maintenance/drained.yaml")


def row(name: str, strategy: str, seconds: float) -> str:
    """One table row for a scenario and strategy."""
    scenario_path = DATA / name
    sys.path.insert(0, str(scenario_path.parent))
    model = build_model(load_scenario(scenario_path))
    start = initial_state(model)
    began = time.perf_counter()
    report = find_lasso(model, start, select_cycle(), Bounds(budget_seconds=seconds), strategy=strategy)  # type: ignore[arg-type]
    took = time.perf_counter() - began
    s = report.stats
    if report.lasso is None:
        return (f"| {name} | {strategy} | none ({report.exit_reason}) | {took:.1f} | – | – | – | {s.seeds} | "
                f"{s.steps} / {s.keys} |")
    state = start
    for act in report.lasso.stem:
        state = step(model, state, act)
    begin_clock = state.clock
    for act in report.lasso.cycle:
        state = step(model, state, act)
    assert report.violation is not None
    return (f"| {name} | {strategy} | {report.violation.property} | {took:.1f} | {len(report.lasso.stem)} | "
            f"{len(report.lasso.cycle)} | {state.clock - begin_clock} | {s.seeds} | {s.steps} / {s.keys} |")


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--strategy", choices=("fair", "exhaustive", "both"), default="both")
    parser.add_argument("--seconds", type=float, default=600.0, help="budget per search")
    parser.add_argument("--scenario", action="append", choices=SCENARIOS, help="only these (repeatable)")
    args = parser.parse_args()
    strategies = ("fair", "exhaustive") if args.strategy == "both" else (args.strategy,)
    print("| scenario | strategy | lasso of | seconds | stem | cycle | cycle (model s) | seeds | steps / keys |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in args.scenario or SCENARIOS:
        for strategy in strategies:
            print(row(name, strategy, args.seconds), flush=True)


if __name__ == "__main__":
    main()
