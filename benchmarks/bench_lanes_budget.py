"""Does every lane of the portfolio honour the budget on the wall clock? The real members on web.yaml.

Run: `python benchmarks/bench_lanes_budget.py [--budget 3] [--lanes 2 --lanes 3] [--scenario PATH]`.

Moved here from tests/properties/explore/test_lanes.py (nineteenth round): its verdict depended on the
machine's load (it failed at load 6–10 on the wall clock, then needed slacks of 10–15 s). The default
run keeps the deterministic test of the same code path on an injected step clock
(`test_a_clean_run_stops_every_lane_at_its_budget_with_no_worker_left`). For each lane count this runs
`run_portfolio` with the default members, correct model, and reports, against its targets:

- the run stopped on its time bound and found nothing, with every member's figures (none `LATE`);
- each lane's last turn (`LaneReport.ended`, seconds into the portfolio) — target: within `TURN_SLACK`
  of the budget;
- each lane's CPU seconds (`stats.lanes`) — target: within `LANE_SLACK` of the budget;
- the whole call's wall clock — target: within `WALL_SLACK` of the budget;
- no worker process left.

Exit 0 if every row meets its targets, 1 otherwise. Run it on a quiet machine: on the shared 2-core
machine a load of 3–5 delayed a lane's last turn by 2 s, a load of 10 by 4.4 s (the slacks allow it).
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from pathlib import Path
from typing import Any

from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.scenario.load import load_scenario
from kubeprop.properties.explore import lanes as lanes_module
from kubeprop.properties.explore import portfolio as portfolio_module
from kubeprop.properties.explore.engine import EngineConfig, ExitReason
from kubeprop.properties.explore.portfolio import LATE, MEMBERS, run_portfolio

WEB = Path(__file__).resolve().parents[1] / "tests" / "model" / "data" / "catalogue" / "web.yaml"

LANE_SLACK = 1.5
"""CPU seconds past the budget a lane may use: every lane checks the deadline before each turn and stops
within one step of it (a step is milliseconds; a Hypothesis example or a convergence judgement that
cannot pause, a little more)."""

TURN_SLACK = 10.0
"""Seconds past the budget a lane's last turn may begin on the wall clock: a lane process the machine
does not schedule for a while starts that turn late without using more CPU."""

WALL_SLACK = 15.0
"""Seconds past the budget the whole call may take on the wall clock (forking, the lanes' last steps,
stopping the members and the workers' exit; 0.5–1 s on a quiet machine, over 3 at load 6–10)."""


def measure(scenario: Path, lanes: int, budget: float) -> tuple[list[str], str]:
    """(failed targets, the row's line) of one portfolio run on `lanes` lanes."""
    reports: list[Any] = []
    real_run_lanes = portfolio_module.run_lanes

    def recorded(*args: Any, **kwargs: Any) -> Any:
        reports.extend(real_run_lanes(*args, **kwargs))
        return reports

    portfolio_module.run_lanes = recorded  # type: ignore[assignment]
    lanes_module.GRACE, grace = 10.0, lanes_module.GRACE  # a report a busy machine delays is not cut off
    try:
        model = build_model(load_scenario(scenario))
        start = initial_state(model)
        began = time.perf_counter()
        result = run_portfolio(model, start, EngineConfig(workers=lanes, budget_seconds=budget))
        elapsed = time.perf_counter() - began
    finally:
        portfolio_module.run_lanes = real_run_lanes  # type: ignore[assignment]
        lanes_module.GRACE = grace
    failed = []
    if result.violation is not None or result.exit_reason != ExitReason.TIME_BOUND:
        failed.append(f"not a clean time-bound run ({result.exit_reason})")
    if any(p.stats.note == LATE for p in result.stats.parts):
        failed.append("a lane reported late")
    if len(reports) != lanes or not all(r is not None and r.complete for r in reports):
        failed.append("a lane's report is missing")
    ended = [r.ended for r in reports if r is not None]
    if any(e > budget + TURN_SLACK for e in ended):
        failed.append(f"a lane's last turn past budget + {TURN_SLACK}")
    if not all(0 < cpu <= budget + LANE_SLACK for cpu in result.stats.lanes):
        failed.append(f"a lane's CPU past budget + {LANE_SLACK}")
    if elapsed >= budget + WALL_SLACK:
        failed.append(f"the call past budget + {WALL_SLACK}")
    if multiprocessing.active_children():
        failed.append("a worker left")
    line = (f"{lanes} lanes: wall {elapsed:.2f} s, last turns " + ", ".join(f"{e:.2f}" for e in ended)
            + " s, lane CPU " + ", ".join(f"{c:.2f}" for c in result.stats.lanes) + " s")
    return failed, line


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", type=float, default=3.0, help="the budget of every run (default 3)")
    parser.add_argument("--lanes", type=int, action="append", default=[], help="lane count (repeatable; default 2, 3)")
    parser.add_argument("--scenario", type=Path, default=WEB, help="scenario file (default: the catalogue's web.yaml)")
    args = parser.parse_args()
    print(f"{args.scenario.name}, correct model, budget {args.budget} s, members: "
          + ", ".join(m.name for m in MEMBERS))
    ok = True
    for lanes in args.lanes or [2, 3]:
        failed, line = measure(args.scenario, lanes, args.budget)
        print(f"{line}: {'ok' if not failed else 'FAILED: ' + '; '.join(failed)}")
        ok = ok and not failed
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
