"""The seed's time claims checked by urgent exhaustive search (docs/claims.md, docs/metrics.md).

Run: `python benchmarks/bench_claims.py [--lag] [--max-states N] [--seconds S]` (after
`pip install -e .`). From `tests/model/data/variants/node-loss.yaml` after `CrashNode(worker-1)`
(worker-1 runs the only web pod; it stays down), it checks `within("pod-replacement-time", 360)`
on every urgent run (`kubeprop.properties.explore.urgent`), then finds the worst replacement time
and a shortest trace to it. Without `--lag` components read the store directly (instant caches,
about 4,000 states); with `--lag` every watch event is delivered as its own step, and the search is
much larger.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import CrashNode, RestartNode
from kubeprop.properties.explore.bfs import Bounds
from kubeprop.properties.explore.urgent import bound_holds, worst_open
from kubeprop.properties.metrics_within import within

DATA = Path(__file__).resolve().parents[1] / "tests" / "model" / "data" / "variants" / "node-loss.yaml"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lag", action="store_true", help="informer lag (instantCaches=false)")
    parser.add_argument("--max-states", type=int, default=2_000_000)
    parser.add_argument("--seconds", type=float, default=3600.0)
    parser.add_argument("--bound", type=int, default=360)
    args = parser.parse_args()
    model = build_model(load_scenario(DATA), parameters={"instantCaches": not args.lag})
    crashed = step(model, settle(model, initial_state(model)).state, CrashNode("worker-1"))
    bounds = Bounds(max_states=args.max_states, budget_seconds=args.seconds)
    began = time.perf_counter()
    result = bound_holds(model, crashed, within("pod-replacement-time", args.bound), bounds, avoid=(RestartNode,))
    print(f"within {args.bound} s: {'holds' if result.holds else 'VIOLATED'} ({result.exit_reason}, "
          f"{result.distinct:,} states, {time.perf_counter() - began:.0f} s)")
    if result.violation is not None:
        print(f"  {result.violation}")
        for i, act in enumerate(result.trace, 1):
            print(f"  {i}. {act}")
        return 1
    began = time.perf_counter()
    worst = worst_open(model, crashed, "pod-replacement-time", bounds, avoid=(RestartNode,))
    if worst is not None:
        print(f"worst: {worst.seconds} s ({'exhaustive' if worst.exhaustive else 'bounded'}, "
              f"{time.perf_counter() - began:.0f} s): {worst.subject}; trace of {len(worst.trace)} steps")
    return 0


if __name__ == "__main__":
    sys.exit(main())
